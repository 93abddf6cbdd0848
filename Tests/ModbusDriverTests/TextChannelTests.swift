import Testing
import SwitchyardHost
import SwitchyardModel
import SwitchyardTestSupport

/// Issue 14, item 5: string points are read and carried as text, and enum
/// and bitfield values carry their labels, beside the numbers of the
/// process image.
@Suite(.serialized) struct TextChannelTests {
    @Test func stringsAreReadAsTextAndEnumsAndBitfieldsCarryTheirLabels() throws {
        let server = try PymodbusServer(units: [1: DriverFixture.unit])
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: server.port)]),
                                   extraProfiles: [try DriverFixture.folder()])
        site.run(cycles: 3)
        let label = try #require(site.host.reading("d/Label"), "a string point is no channel")
        #expect(label.text == "AB12")
        #expect(label.quality == .good)
        #expect(label.value == nil)  // controllers see no number
        #expect(site.host.channels.first { $0.address == "d/Label" }?.isText == true)
        let status = try #require(site.host.reading("d/Status"))
        #expect(status.value == 307)
        #expect(status.text == "ok")
        let flags = try #require(site.host.reading("d/Flags"))
        #expect(flags.value == 5)
        #expect(flags.text == "a, c")
        #expect(site.host.reading("d/I16")?.text == nil)
        // The string sits in the "once" group: read at connect.
        #expect(server.requests.contains { $0.function == 3 && $0.address <= 14 && $0.address + $0.count >= 18 })
    }

    @Test func aConfigMayNameAStringPointInItsPollGroups() throws {
        let server = try PymodbusServer(units: [1: DriverFixture.unit])
        let device = #"""
            { "device_id": "d", "profile": "test_modbus_device",
              "connection": { "protocol": "tcp", "host": "127.0.0.1", "port": \#(server.port), "unit_id": 1 },
              "poll_groups": { "info": ["Label"], "fast": ["Status"] } }
            """#
        let site = try SiteHarness(config: DriverFixture.config(devices: [device]), extraProfiles: [try DriverFixture.folder()])
        site.run(cycles: 2)
        #expect(site.host.reading("d/Label")?.text == "AB12")
        #expect(site.host.reading("d/Status")?.text == "ok")
    }

    @Test func aControllerBoundToATextChannelIsToldWhy() throws {
        let config = DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: PymodbusServer.freePort())],
                                          controllers: [DriverFixture.probe("p", output: "d/Label", gain: 1)])
        #expect { try SiteHarness(config: config, extraProfiles: [try DriverFixture.folder()]) } throws: { error in
            "\(error)".contains("d/Label is a text channel: the process image that controllers read carries numbers only")
        }
    }

    @Test func aTextChannelIsReadOnlyAndImplementsNoStandardChannel() {
        let profile = #"""
            {"id": "t", "driver": "SimulatedGeneric", "channels": [
              {"name": "Serial", "type": "text", "access": "read_write"},
              {"name": "Model", "type": "text", "standard": "meter.ActivePower"},
              {"name": "Odd", "type": "blob"}]}
            """#
        #expect(throws: ValidationError.self) { try DeviceProfile(parsing: profile, file: "t.json") }
        do {
            _ = try DeviceProfile(parsing: profile, file: "t.json")
        } catch {
            let text = "\(error)"
            #expect(text.contains("a text channel is read-only"))
            #expect(text.contains("a text channel cannot implement one"))
            #expect(text.contains("must be \"number\" (the default) or \"text\""))
        }
    }
}
