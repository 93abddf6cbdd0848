import Foundation
import Testing
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModbusProfile
import SwitchyardModel
import SwitchyardTestSupport

/// The profiles in DeviceProfiles/, the spec's example config, and the
/// simulator, end to end.
@Suite(.serialized) struct ShippedProfilesTests {
    static let catalog = ProfileCatalog.load(directories: [TestPaths.profileDirectory])

    @Test func everyShippedProfileLoadsAndPassesItsGoldenVectors() throws {
        #expect(Self.catalog.errors.isEmpty, "\(Self.catalog.errors)")
        let modbus = Self.catalog.profiles.values.filter { $0.driver == ModbusProfile.driverClass }
        #expect(modbus.count >= 8)
        for profile in modbus {
            let m = try ModbusProfile(json: profile.document, file: profile.file)
            #expect(!m.tests.isEmpty, "\(profile.id) has no golden vectors")
            #expect(profile.source != nil, "\(profile.id) does not say where its register map comes from")
            for v in m.tests { #expect(v.run(on: m).isEmpty, "\(profile.id): \(v.run(on: m))") }
        }
    }

    @Test func theSpecExampleLoadsAsWritten() throws {
        let path = TestPaths.packageRoot + "/Tests/Fixtures/configs/spec-000-example.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        // Kept equal to the spec's example where the spec is at hand.
        if let spec = try? String(contentsOfFile: TestPaths.packageRoot + "/../shared/spec/000_e4bce86950730710.txt", encoding: .utf8) {
            #expect(spec.contains(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let plugins = PluginCatalog.load(directories: [TestPaths.pluginDirectory])
        let config = try EdgeConfig(parsing: text, file: path)
        let resolved = try ConfigValidator(classes: plugins.classes, profiles: Self.catalog.profiles).resolve(config)
        #expect(resolved.devices.map(\.profile.id).sorted() == ["sma_sunny_tripower", "tesla_powerwall_2"])
        // The controllers were bound to the one battery; there is no meter.
        #expect(resolved.controllers.allSatisfy { $0.parameters["battery"] == .string("bms_main") })
        // Poll groups name channels by their short standard names; drivers see channel names.
        let bms = try #require(resolved.devices.first { $0.id == "bms_main" })
        #expect(bms.pollGroups.first { $0.name == "fast" }?.channels == ["battery.W", "battery.SoC"])
    }

    @Test func theModbusExampleSiteValidates() throws {
        let path = TestPaths.packageRoot + "/examples/modbus-site.json"
        let plugins = PluginCatalog.load(directories: [TestPaths.pluginDirectory])
        let config = try EdgeConfig(parsing: try String(contentsOfFile: path, encoding: .utf8), file: path)
        let resolved = try ConfigValidator(classes: plugins.classes, profiles: Self.catalog.profiles).resolve(config)
        #expect(resolved.devices.count == 3)
    }

    @Test func aSunSpecDeviceServedByPymodbusIsDiscoveredAndRead() throws {
        let profile = try #require(Self.catalog.profiles["sunspec_inverter"])
        let m = try ModbusProfile(json: profile.document, file: profile.file)
        let vector = try #require(m.tests.first)
        var holding: [Int: [UInt16]] = [:]
        for (address, word) in vector.registers[.holding_register] ?? [:] { holding[address] = [word] }
        let server = try PymodbusServer(units: [1: .init(holding: holding)])
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("inv", port: server.port, profile: "sunspec_inverter")]))
        site.run(cycles: 3)
        var checked = 0
        for (name, expected, _) in vector.expect {
            guard case .number(let n) = expected, let c = profile.channel(named: name), c.standard != nil || !name.hasSuffix("_SF") else { continue }
            let got = site.host.reading("inv/" + name)
            if let v = got?.value, got?.quality == .good {
                #expect(abs(v - n) <= max(1e-6, abs(n) * 1e-6), "\(name)")
                checked += 1
            }
        }
        #expect(checked >= 3, "too few SunSpec values were read: \(checked)")
        #expect(site.host.reading("inv/inverter.W")?.quality == .good)
    }

    @Test func aDiscoveredSunSpecMapIsCachedAndReusedAfterARestart() throws {
        let profile = try #require(Self.catalog.profiles["sunspec_inverter"])
        let m = try ModbusProfile(json: profile.document, file: profile.file)
        // The device's chain starts at 50000: a scan tries 40000 and 0 first.
        var holding: [Int: [UInt16]] = [:]
        for (address, word) in try #require(m.tests.first).registers[.holding_register] ?? [:] { holding[address + 10000] = [word] }
        let server = try PymodbusServer(units: [1: .init(holding: holding)])
        let data = TestPaths.temporaryDirectory()
        let config = DriverFixture.config(devices: [DriverFixture.tcpDevice("inv", port: server.port, profile: "sunspec_inverter")])
        func probes() -> Int { server.requests.filter { $0.function == 3 && ($0.address == 40000 || $0.address == 0) }.count }

        let first = try SiteHarness(config: config, dataDirectory: data)
        first.run(cycles: 2)
        #expect(first.host.reading("inv/inverter.W")?.quality == .good)
        first.host.stop()
        #expect(probes() == 2)  // 40000 and 0 tried before 50000
        #expect(FileManager.default.fileExists(atPath: data + "/devices/inv/sunspec-chain.json"))

        // After a restart the cached chain is checked where it is (every
        // header), without probing the other bases.
        let second = try SiteHarness(config: config, dataDirectory: data)
        second.run(cycles: 2)
        #expect(second.host.reading("inv/inverter.W")?.quality == .good)
        #expect(probes() == 2)

        // A corrupt cache is no cache: scanned again, nothing traps.
        try #"{"endpoint": "x", "base": 1e300, "models": [[70000, -1, 1e300]]}"#.write(toFile: data + "/devices/inv/sunspec-chain.json", atomically: true, encoding: .utf8)
        let third = try SiteHarness(config: config, dataDirectory: data)
        third.run(cycles: 2)
        #expect(third.host.reading("inv/inverter.W")?.quality == .good)
    }

    @Test func theSimulatorServesAProfileAndTakesWrites() throws {
        let profiles = try DriverFixture.folder()
        let sim = try PeerProcess([TestPaths.executable("switchyard"), "sim", "modbus", "--profile", profiles + "/test_modbus_device.json",
                                   "--port", "0", "--profiles", TestPaths.profileDirectory], what: "switchyard sim modbus")
        let port = try #require(try Self.port(of: sim))
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: port)],
                                                                controllers: [DriverFixture.probe("p", output: "d/Setpoint", gain: 420)]),
                                   extraProfiles: [profiles])
        site.run(cycles: 4)
        #expect(site.value("d/Setpoint") == 420)
        #expect(site.value("d/Voltage") != nil)
        #expect(site.quality("d/Percent") == .good)
        #expect(site.host.status().devices[0].lastWriteError == nil)
    }

    @Test func theSimulatorIsASunSpecDeviceForDiscovery() throws {
        let sim = try PeerProcess([TestPaths.executable("switchyard"), "sim", "modbus", "--profile", "sunspec_battery", "--port", "0",
                                   "--profiles", TestPaths.profileDirectory], what: "switchyard sim modbus")
        let port = try #require(try Self.port(of: sim))
        let out = try CFixture.run(TestPaths.executable("switchyard"), ["profile", "discover", "--host", "127.0.0.1", "--port", String(port),
                                                                      "--profiles", TestPaths.profileDirectory])
        #expect(out.contains("model 802"))
        #expect(out.contains("sunspec_battery"))
        #expect(out.contains("manufacturer Switchyard"))
    }

    /// The port from "serving … on 127.0.0.1:PORT (…".
    static func port(of sim: PeerProcess) throws -> Int? {
        guard let r = sim.banner.range(of: "127.0.0.1:") else { return nil }
        return Int(sim.banner[r.upperBound...].prefix { $0.isNumber })
    }
}
