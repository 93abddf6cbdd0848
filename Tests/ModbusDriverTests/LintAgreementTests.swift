import Testing
import SwitchyardHost
import SwitchyardModbusProfile
import SwitchyardModel
import SwitchyardTestSupport

/// Issue 14, item 7, as a class: what `profile lint` says one poll of every
/// group costs is what the driver asks a device for, for profiles whose
/// groups hold numbers only, a string only, and internal points.
@Suite(.serialized) struct LintAgreementTests {
    static let profile = #"""
        {"id": "lint_agreement", "driver": "modbus", "source": "tests",
         "poll_groups": {"fast": {"interval_ms": 1000}, "ids": {"interval_ms": "once"}, "spare": {"interval_ms": 1000}},
         "points": [
           {"name": "Power", "address": 0, "type": "int16", "scale": {"point": "Power_SF"}, "group": "fast"},
           {"name": "Power_SF", "address": 1, "type": "int16", "internal": true},
           {"name": "State", "address": 2, "type": "enum", "values": {"1": "on"}, "group": "fast"},
           {"name": "Serial", "address": 20, "type": "string", "length": 4, "group": "ids"},
           {"name": "Reserved", "address": 200, "type": "uint16", "internal": true, "group": "spare"}]}
        """#

    @Test func lintCountsTheRequestsTheDriverMakesAndNamesPointsNeverRead() throws {
        let dir = TestPaths.temporaryDirectory()
        try Self.profile.write(toFile: dir + "/lint_agreement.json", atomically: true, encoding: .utf8)
        let document = try DeviceProfile(parsing: Self.profile, file: "lint_agreement.json").document
        let modbus = try ModbusProfile(json: document, file: nil)
        let planned = try modbus.fullPollPlan()
        let lintRequests = planned.values.reduce(0) { $0 + $1.count }

        let server = try PymodbusServer(units: [1: .init(holding: [0: [100, 0, 1], 20: [0x4142, 0x4344, 0, 0], 200: [7]])])
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: server.port, profile: "lint_agreement")]),
                                   extraProfiles: [dir])
        site.run(cycles: 1)  // connect, then one poll of every group
        let reads = server.requests.filter { [1, 2, 3, 4].contains($0.function) }
        #expect(reads.count == lintRequests, "lint says \(lintRequests) (\(planned)), the driver read \(reads)")
        #expect(planned["ids"]?.count == 1, "the group holding only a string is read")
        #expect(planned["spare"] == nil, "a group holding only an internal point is never read")
        #expect(site.host.reading("d/Serial")?.text == "ABCD")

        let never = modbus.neverRead().map(\.point.name)
        #expect(never == ["Reserved"])
    }
}
