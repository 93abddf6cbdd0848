import Foundation
import Testing
import SwitchyardHost
import SwitchyardJSON
import SwitchyardTestSupport

/// The driver conformance suite (`switchyard plugin test`): every shipped
/// driver passes it, and a driver that breaks a rule fails the check for
/// that rule (and only that one).
@Suite struct DriverConformanceTests {
    static let simulated = TestPaths.profileDirectory + "/simulated"

    func run(_ library: String, profile: String, parameters: String? = nil, timeoutMs: Int = 5_000) throws -> ConformanceReport {
        let document = try DriverConformance.loadProfile(profile)
        let device = try DriverConformance.deviceConfig(file: nil, parameters: parameters, profile: document)
        var options = DriverConformance.Options()
        options.callTimeoutMs = timeoutMs
        return try DriverConformance.run(library: library, profile: document, device: device, source: "--parameters", options: options)
    }

    func failed(_ report: ConformanceReport) -> [String] { report.checks.filter { $0.outcome == .fail }.map(\.name) }

    @Test func theCDriverPasses() throws {
        let report = try run(TestPaths.plugin("ExampleCDriver"), profile: Self.simulated + "/example_c_sensor.json")
        #expect(report.passed, "\(report.table)")
        #expect(report.check(named: "configure (hot amplitude)")?.outcome == .pass)
        #expect(report.check(named: "refuses out-of-range amplitude")?.reason == "refused: amplitude must be >= 0 (invalid)")
        #expect(report.check(named: "write Setpoint")?.outcome == .pass)
        #expect(report.check(named: "start/stop ×20")?.outcome == .pass)
    }

    /// Each class of SimulatedDevices with its profile; each on a simulated
    /// world of its own, as other tests in this process run sites too.
    @Test(arguments: ["simulated_battery", "simulated_grid_meter", "simulated_load", "simulated_pv"])
    func everySimulatedDevicePasses(_ profile: String) throws {
        let report = try run(TestPaths.plugin("SimulatedDevices"), profile: Self.simulated + "/\(profile).json",
                             parameters: #"{"site": "conformance-\#(UUID().uuidString)"}"#)
        #expect(report.passed, "\(report.table)")
        // Every one of them declares ranges: the kit refuses values beyond them.
        #expect(report.checks.contains { $0.name.hasPrefix("refuses out-of-range ") && $0.outcome == .pass }, "\(report.table)")
        #expect(report.check(named: "thread rules")?.outcome == .pass)
    }

    @Test func theGenericSimulatedDevicePasses() throws {
        let report = try run(TestPaths.plugin("SimulatedDevices"), profile: TestPaths.packageRoot + "/Tests/Fixtures/profiles/test_generic.json")
        #expect(report.passed, "\(report.table)")
        #expect(report.check(named: "write Setpoint")?.outcome == .pass)
        #expect(report.check(named: "write Counter")?.outcome == .pass)
    }

    // MARK: a driver that breaks one rule at a time

    static let fixtureProfile = #"""
    {"id": "conformance_sensor", "driver": "ConformanceSensor",
     "channels": [{"name": "Value"}, {"name": "Target", "access": "write"}]}
    """#

    /// Builds Tests/Fixtures/plugins/conformance_driver.c with `flags` and
    /// runs the suite on it.
    func fixture(_ flags: [String] = [], timeoutMs: Int = 5_000) throws -> ConformanceReport {
        let dir = TestPaths.temporaryDirectory()
        let source = try String(contentsOfFile: TestPaths.packageRoot + "/Tests/Fixtures/plugins/conformance_driver.c", encoding: .utf8)
        let library = try CFixture.build(source, name: "ConformanceDriver", in: dir, extraFlags: flags.map { "-D" + $0 } + ["-lpthread"])
        try Self.fixtureProfile.write(toFile: dir + "/conformance_sensor.json", atomically: true, encoding: .utf8)
        return try run(library, profile: dir + "/conformance_sensor.json", parameters: #"{"unit_id": 7}"#, timeoutMs: timeoutMs)
    }

    @Test func theFixtureKeepingEveryRulePasses() throws {
        let report = try fixture()
        #expect(report.passed, "\(report.table)")
        #expect(report.check(named: "configure (hot gain)")?.outcome == .pass)
        #expect(report.check(named: "refuses out-of-range gain")?.outcome == .pass)
        #expect(report.check(named: "refuses missing unit_id")?.reason == "refused: unit_id is required (invalid)")
    }

    @Test func aDriverRunningWithoutARequiredParameterFails() throws {
        let report = try fixture(["ACCEPT_MISSING"])
        #expect(failed(report) == ["refuses missing unit_id"], "\(report.table)")
        #expect(report.check(named: "refuses missing unit_id")?.reason == "create accepted parameters without the required unit_id")
    }

    @Test func aDriverAcceptingOutOfRangeParametersFails() throws {
        let report = try fixture(["ACCEPT_OUT_OF_RANGE"])
        #expect(failed(report) == ["refuses out-of-range gain"], "\(report.table)")
        #expect(report.check(named: "refuses out-of-range gain")?.reason == "create accepted gain = -1, outside its declared range")
    }

    @Test func aDriverPublishingFromItsOwnThreadFails() throws {
        let report = try fixture(["PUBLISH_FROM_THREAD"])
        #expect(failed(report) == ["thread rules"], "\(report.table)")
        #expect(report.check(named: "thread rules")?.reason.contains("publish [io] called from another thread than the one running poll") == true)
    }

    @Test func aDriverPublishingValuesOfNoChannelOfItsFails() throws {
        let report = try fixture(["PUBLISH_FOREIGN"])
        #expect(failed(report) == ["published values"], "\(report.table)")
        let reason = report.check(named: "published values")?.reason ?? ""
        #expect(reason.contains("publish to channel handle 4242, not one of device dut's channels"), "\(reason)")
        #expect(reason.contains("Value: quality 9 is none of SY_QUALITY_*"), "\(reason)")
    }

    @Test func aDriverLookingUpChannelsWhilePollingFails() throws {
        let report = try fixture(["RESOLVE_IN_POLL"])
        #expect(failed(report) == ["thread rules"], "\(report.table)")
        #expect(report.check(named: "thread rules")?.reason.contains("channel [control] called during poll (allowed only during create/configure)") == true)
    }

    @Test func aDriverPublishingAfterStopFails() throws {
        let report = try fixture(["PUBLISH_AFTER_STOP"])
        #expect(failed(report).contains("stop while polling"), "\(report.table)")
        #expect(failed(report).contains("thread rules"), "\(report.table)")
        #expect(report.check(named: "thread rules")?.reason.contains("publish [io] called") == true)
    }

    /// A call that never returns in time fails its check, and the tool goes
    /// on (and ends) instead of hanging.
    @Test func aDriverHangingInStopFailsWithoutHangingTheSuite() throws {
        let started = Date()
        let report = try fixture(["HANG_IN_STOP"], timeoutMs: 500)
        #expect(Date().timeIntervalSince(started) < 2.9, "the suite waited for the 3 s stop")
        #expect(failed(report) == ["stop while polling"], "\(report.table)")
        #expect(report.check(named: "destroy")?.outcome == .skip)
        #expect(report.check(named: "destroy")?.reason == "not run: stop did not return within 500 ms")
    }

    // MARK: the command

    @Test func theCommandPrintsATableAndExitsZeroOnlyIfAllPass() throws {
        let good = try command(["plugin", "test", TestPaths.plugin("ExampleCDriver"), "--profile", Self.simulated + "/example_c_sensor.json"])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("PASS: 13 checks passed, 1 skipped"), "\(good.output)")

        let dir = TestPaths.temporaryDirectory()
        let source = try String(contentsOfFile: TestPaths.packageRoot + "/Tests/Fixtures/plugins/conformance_driver.c", encoding: .utf8)
        let library = try CFixture.build(source, name: "ConformanceDriver", in: dir, extraFlags: ["-DACCEPT_OUT_OF_RANGE"])
        try Self.fixtureProfile.write(toFile: dir + "/conformance_sensor.json", atomically: true, encoding: .utf8)
        let bad = try command(["plugin", "test", library, "--profile", dir + "/conformance_sensor.json", "--parameters", #"{"unit_id": 1}"#, "--json"])
        #expect(bad.status == 1, "\(bad.output)")
        let json = try JSONValue(parsing: bad.output)
        #expect(json["passed"] == .bool(false))
        let row = json["checks"]?.arrayValue?.first { $0["check"]?.stringValue == "refuses out-of-range gain" }
        #expect(row?["result"] == .string("fail"))
    }

    @Test func badInputIsRefusedNamingTheFileAndField() throws {
        let out = try command(["plugin", "test", TestPaths.plugin("ExampleCDriver"), "--profile", Self.simulated + "/example_c_sensor.json",
                               "--parameters", #"{"amplitude": -3}"#])
        #expect(out.status == 1)
        #expect(out.output.contains("--parameters: parameters.amplitude: must be >= 0, got -3"), "\(out.output)")
        let missing = try command(["plugin", "test", TestPaths.plugin("ExampleCDriver"), "--profile", "nowhere.json"])
        #expect(missing.status == 1)
        #expect(missing.output.contains("nowhere.json: no such profile file"), "\(missing.output)")
        // A profile extending one in another folder needs --profiles.
        let fronius = TestPaths.profileDirectory + "/fronius/fronius_symo.json"
        let alone = try command(["plugin", "test", TestPaths.plugin("ModbusDriver"), "--profile", fronius])
        #expect(alone.status == 1)
        #expect(alone.output.contains(#"extends unknown profile "sunspec_inverter""#), "\(alone.output)")
        #expect(alone.output.contains("name the folders with --profiles DIR"), "\(alone.output)")
        let withFolders = try command(["plugin", "test", TestPaths.plugin("ModbusDriver"), "--profile", fronius, "--profiles", TestPaths.profileDirectory])
        // It loads; without a --config naming the device, the driver refuses to create.
        #expect(withFolders.status == 1)
        #expect(withFolders.output.contains("create                             FAIL    refused valid parameters {}: connection.host: is required for protocol tcp (invalid)"),
                "\(withFolders.output)")
    }

    func command(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestPaths.executable("switchyard"))
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
