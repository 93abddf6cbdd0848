import Foundation
import Testing
import SwitchyardHost
import SwitchyardJSON
import SwitchyardTestSupport

/// The Modbus driver passes the driver conformance suite (`switchyard
/// plugin test`) against a pymodbus server holding the fixture's registers:
/// every poll group, every writable point, 20 reconnects.
@Suite struct ModbusConformanceTests {
    @Test func theModbusDriverPasses() throws {
        let server = try PymodbusServer(units: [1: DriverFixture.unit])
        let folder = try DriverFixture.folder()
        let profile = try DriverConformance.loadProfile(folder + "/test_modbus_device.json")
        let deviceFile = folder + "/device.json"
        try DriverFixture.tcpDevice("d", port: server.port).write(toFile: deviceFile, atomically: true, encoding: .utf8)
        let device = try DriverConformance.deviceConfig(file: deviceFile, parameters: nil, profile: profile)
        let report = try DriverConformance.run(library: TestPaths.plugin("ModbusDriver"), profile: profile, device: device, source: deviceFile)
        #expect(report.passed, "\(report.table)")
        for name in ["poll fast", "poll info", "write Setpoint", "write Setpoint32", "write Limited", "stop while polling", "start/stop ×20"] {
            #expect(report.check(named: name)?.outcome == .pass, "\(name): \(report.table)")
        }
        // No parameters of its own: the connection is tried out of range instead.
        #expect(report.check(named: "refuses out-of-range connection.port")?.reason
            == #"refused: connection "port" must be >= 1, got 0 (invalid)"#, "\(report.table)")
    }

    /// What an integrator does before shipping a pack: every shipped Modbus
    /// profile passes against `switchyard sim modbus` serving it.
    @Test(arguments: ShippedProfilesTests.catalog.profiles.values.filter { $0.driver == "modbus" }.compactMap(\.file).sorted())
    func everyShippedModbusProfilePassesAgainstTheSimulator(_ file: String) throws {
        let profile = try DriverConformance.loadProfile(file, profileDirectories: [TestPaths.profileDirectory])
        let sim = try PeerProcess([TestPaths.executable("switchyard"), "sim", "modbus", "--profile", file, "--port", "0",
                                   "--profiles", TestPaths.profileDirectory], what: "switchyard sim modbus")
        defer { sim.stop() }
        let port = try #require(try ShippedProfilesTests.port(of: sim))
        let device: JSONValue = ["device_id": "d", "profile": .string(profile.id),
                                 "connection": ["host": "127.0.0.1", "port": .number(Double(port))]]
        let report = try DriverConformance.run(library: TestPaths.plugin("ModbusDriver"), profile: profile, device: device, source: file)
        #expect(report.passed, "\(report.table)")
        #expect(report.checks.filter { $0.name.hasPrefix("poll ") }.allSatisfy { $0.outcome == .pass }, "\(report.table)")
    }
}
