import Foundation
import Testing
import SwitchyardHost
import SwitchyardTestSupport

/// The Modbus driver plugin, loaded by the host, against a pymodbus server.
@Suite(.serialized) struct ModbusDriverTests {
    @Test func everyTypeAndLayoutReadsAsTheProfileSays() throws {
        let server = try PymodbusServer(units: [1: DriverFixture.unit])
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: server.port)]),
                                   extraProfiles: [try DriverFixture.folder()])
        site.run(cycles: 3)
        #expect(site.value("d/I16") == 123.4)
        #expect(site.value("d/U32Swapped") == 74565)
        #expect(abs((site.value("d/F32ByteSwapped") ?? 0) - 123.456) < 1e-4)
        #expect(site.value("d/I64") == -5)
        #expect(site.value("d/F64") == 1.5)
        #expect(site.value("d/Status") == 307)
        #expect(site.value("d/Flags") == 5)
        #expect(site.value("d/Bit3") == 1)
        #expect(site.quality("d/Missing") == .notAvailable)
        #expect(site.quality("d/Percent") == .fault)
        #expect(site.value("d/BatteryPower") == -100)  // the device counts charge as positive
        #expect(site.value("d/Voltage") == 230.1)
        #expect(site.value("d/Relay") == 1)
        #expect(site.value("d/Door") == 1)
        #expect(site.value("d/Setpoint") == 0)
        // The standard name and its short form reach the same channel.
        #expect(site.value("d/ess.ActivePower") == -100)
        #expect(site.value("d/ActivePower") == -100)
    }

    @Test func holesAreLearnedAndAMissingPointIsDisabledNotFatal() throws {
        let server = try PymodbusServer(units: [1: DriverFixture.unit])
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: server.port)]),
                                   extraProfiles: [try DriverFixture.folder()])
        site.run(cycles: 2)
        #expect(site.value("d/GapA") == 7)
        #expect(site.value("d/GapB") == 9)
        #expect(site.quality("d/Absent") == .notAvailable)
        #expect(site.host.status().devices.first?.state == .running)
        // After learning, a poll never asks for the hole or the absent point again.
        let before = server.requests.count
        site.run(cycles: 3)
        let later = server.requests.dropFirst(before).filter { $0.function == 3 }
        #expect(!later.isEmpty)
        #expect(!later.contains { $0.address <= 31 && 31 <= $0.address + $0.count - 1 })
        #expect(!later.contains { $0.address <= 40 && 40 <= $0.address + $0.count - 1 })
        // And the fast group's reads per poll stay the same from poll to poll.
        let perPoll = later.count / 3
        #expect(later.count == perPoll * 3)
    }

    @Test func setpointsHonourLimitsStepAndFunctionCode() throws {
        let server = try PymodbusServer(units: [1: DriverFixture.unit])
        let profiles = try DriverFixture.folder()
        let config = { (gain: Double, gain32: Double) in
            DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: server.port)],
                                 controllers: [DriverFixture.probe("p", output: "d/Setpoint", gain: gain),
                                               DriverFixture.probe("q", output: "d/Setpoint32", gain: gain32)])
        }
        let site = try SiteHarness(config: config(1234, -70000), extraProfiles: [profiles])
        site.run(cycles: 4)
        #expect(site.value("d/Setpoint") == 1230)  // rounded to the step of 10, then read back
        let writes = server.requests.filter { $0.function == 6 || $0.function == 16 }
        #expect(writes.contains { $0.function == 6 && $0.address == 50 })
        #expect(writes.contains { $0.function == 16 && $0.address == 52 && $0.count == 2 })
        #expect(site.host.status().devices[0].lastWriteError == nil)

        try site.apply(config(9999, -70000))
        site.run(cycles: 3)
        let status = site.host.status().devices[0]
        #expect(status.writesRefused > 0)
        #expect(status.writeFailures == 0)
        #expect(status.lastWriteError?.contains("Setpoint: 10000 is above the maximum 5000") == true)
        #expect(site.value("d/Setpoint") == 1230)  // the refused value never reached the device
    }

    @Test func aWriteWithinTheMinimumIntervalIsHeldNotDropped() throws {
        let server = try PymodbusServer(units: [1: DriverFixture.unit])
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: server.port)],
                                                                controllers: [DriverFixture.probe("p", output: "d/Limited", gain: 5)]),
                                   extraProfiles: [try DriverFixture.folder()])
        site.run(cycles: 5)
        // on_change_only: the same value every cycle is written once.
        #expect(server.requests.filter { $0.function == 6 && $0.address == 54 }.count == 1)
        try site.apply(DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: server.port)],
                                            controllers: [DriverFixture.probe("p", output: "d/Limited", gain: 6)]))
        site.run(cycles: 5)
        // Within the 60 s interval the new value waits…
        #expect(server.requests.filter { $0.function == 6 && $0.address == 54 }.count == 1)
        // …and is written once the interval has passed.
        site.run(cycles: 60)
        #expect(server.requests.filter { $0.function == 6 && $0.address == 54 }.count == 2)
    }

    @Test func aDeviceThatGoesAwayIsFaultedAndComesBack() throws {
        var server = try PymodbusServer(units: [1: DriverFixture.unit])
        let port = server.port
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: port)]),
                                   extraProfiles: [try DriverFixture.folder()])
        site.run(cycles: 2)
        #expect(site.value("d/I16") == 123.4)
        #expect(site.host.status().devices[0].state == .running)
        server.stop()
        site.run(cycles: 1)
        // One failure: the values are fault at once, the device is no longer
        // running, but not yet faulted (fault_after_failures is 3).
        #expect(site.quality("d/I16") == .fault)
        #expect(site.host.status().devices[0].state == .connecting)
        site.run(cycles: 6)
        var status = site.host.status().devices[0]
        #expect(status.state == .faulted)
        #expect(status.consecutiveFailures >= 3)
        #expect(status.lastError != nil)
        server = try PymodbusServer(units: [1: DriverFixture.unit], port: port)
        site.run(cycles: 70)  // backoff is at most 60 s
        #expect(site.value("d/I16") == 123.4)
        status = site.host.status().devices[0]
        #expect(status.state == .running)
        #expect(status.reconnects >= 1)
        // Healthy again: no current error, the last failure kept with its time.
        #expect(status.lastError == nil)
        #expect(status.lastFailure != nil)
        #expect((status.lastFailure?.wallClockNs ?? 0) > 0)
        #expect(status.consecutiveFailures == 0)
    }

    @Test func malformedAnswersFaultTheDeviceAndNothingElse() throws {
        for mode in ["truncated", "bad_count", "wrong_transaction", "garbage", "close"] {
            let port = PymodbusServer.freePort()
            let peer = try PeerProcess(["python3", TestPaths.packageRoot + "/Tests/Fixtures/modbus/misbehaving.py", String(port), mode],
                                       what: "misbehaving.py")
            let good = try PymodbusServer(units: [1: DriverFixture.unit])
            let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("bad", port: port),
                                                                              DriverFixture.tcpDevice("good", port: good.port)]),
                                       extraProfiles: [try DriverFixture.folder()])
            site.run(cycles: 4)
            #expect(site.quality("bad/I16") != .good, "mode \(mode)")
            #expect(site.host.status().devices.first { $0.deviceId == "bad" }?.lastError != nil, "mode \(mode)")
            #expect(site.value("good/I16") == 123.4, "mode \(mode)")
            peer.stop()
        }
    }

    @Test func rtuUnitsShareOneLine() throws {
        let line = try SerialPair()
        var second = DriverFixture.unit
        second.holding[0] = [4321, 0]
        let server = try PymodbusServer(units: [1: DriverFixture.unit, 2: second], serial: line.b, baud: 19200)
        func rtu(_ id: String, unit: Int) -> String {
            #"{ "device_id": "\#(id)", "profile": "test_modbus_device", "connection": { "protocol": "rtu", "device": "\#(line.a)", "baud": 19200, "unit_id": \#(unit) } }"#
        }
        let site = try SiteHarness(config: DriverFixture.config(devices: [rtu("m1", unit: 1), rtu("m2", unit: 2), rtu("m3", unit: 3)]),
                                   extraProfiles: [try DriverFixture.folder()])
        site.run(cycles: 3)
        #expect(site.value("m1/I16") == 123.4)
        #expect(site.value("m2/I16") == 4321)
        #expect(site.value("m1/Voltage") == 230.1)
        // Unit 3 is not on the line: it fails alone.
        #expect(site.quality("m3/I16") != .good)
        #expect(site.host.status().devices.first { $0.deviceId == "m1" }?.state == .running)
        #expect(Set(server.requests.map(\.unit)).isSuperset(of: [1, 2]))
    }
}

@Suite(.serialized) struct ModbusTimeoutTests {
    @Test func aDeviceSlowerThanItsTimeoutIsFaultedAndTheOtherKeepsGoing() throws {
        var slow = DriverFixture.unit
        slow.delayMs = 800  // the profile's timeout is 300 ms
        let slowServer = try PymodbusServer(units: [1: slow])
        let fastServer = try PymodbusServer(units: [1: DriverFixture.unit])
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("slow", port: slowServer.port),
                                                                          DriverFixture.tcpDevice("fast", port: fastServer.port)]),
                                   extraProfiles: [try DriverFixture.folder()])
        site.run(cycles: 3)
        #expect(site.quality("slow/I16") != .good)
        #expect(site.host.status().devices.first { $0.deviceId == "slow" }?.lastError?.contains("timed out") == true)
        #expect(site.value("fast/I16") == 123.4)
    }
}

@Suite(.serialized) struct ModbusLearningTests {
    @Test func aHoleBetweenAValueAndItsScaleFactorDisablesThatPointOnly() throws {
        let dir = TestPaths.temporaryDirectory()
        try #"""
        { "id": "holey", "driver": "modbus", "source": "tests",
          "poll_groups": { "fast": { "interval_ms": 1000 } },
          "points": [
            { "name": "W", "address": 100, "type": "int16", "scale": { "point": "W_SF" }, "group": "fast" },
            { "name": "W_SF", "address": 102, "type": "int16", "internal": true, "group": "fast" },
            { "name": "Hz", "address": 103, "type": "uint16", "scale": 0.01, "group": "fast" }
          ] }
        """#.write(toFile: dir + "/holey.json", atomically: true, encoding: .utf8)
        // The device has no register 101.
        let server = try PymodbusServer(units: [1: .init(holding: [100: [500], 102: [0xFFFF, 5000]])])
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: server.port, profile: "holey")]),
                                   extraProfiles: [dir])
        site.run(cycles: 4)
        #expect(site.value("d/Hz") == 50)
        #expect(site.quality("d/W") == .notAvailable)
        let status = site.host.status().devices[0]
        #expect(status.state == .running)
        #expect(status.pollFailures == 0)
    }
}

@Suite(.serialized) struct ModbusGatewayTests {
    @Test func aFailingUnitBehindAGatewayDoesNotCutOffItsNeighbours() throws {
        var second = DriverFixture.unit
        second.holding[0] = [4321, 0]
        let gateway = try PymodbusServer(units: [1: DriverFixture.unit, 2: second])
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("u1", port: gateway.port, unit: 1),
                                                                          DriverFixture.tcpDevice("u2", port: gateway.port, unit: 2),
                                                                          DriverFixture.tcpDevice("u3", port: gateway.port, unit: 3)]),
                                   extraProfiles: [try DriverFixture.folder()])
        site.run(cycles: 6)
        #expect(site.value("u1/I16") == 123.4)
        #expect(site.value("u2/I16") == 4321)
        #expect(site.quality("u3/I16") != .good)
        let status = site.host.status().devices
        #expect(status.first { $0.deviceId == "u1" }?.reconnects == 0)
        #expect(status.first { $0.deviceId == "u2" }?.reconnects == 0)
        #expect(status.first { $0.deviceId == "u3" }?.state == .faulted)
    }
}
