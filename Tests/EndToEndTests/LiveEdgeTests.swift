import Foundation
import Testing
import SwitchyardEdgeService
import SwitchyardJSON
import SwitchyardTestSupport

/// A running `switchyard-edge` with its own config file, profile folder,
/// data folder and status port.
final class LiveEdge {
    let dir = TestPaths.temporaryDirectory()
    let port = Int.random(in: 20_000...40_000)
    var configFile: String { dir + "/site.json" }
    var profiles: String { dir + "/profiles" }
    private(set) var program: Program!

    init(config: String, periodMs: Int = 200, extraProfiles: [String] = []) throws {
        try FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: true)
        for name in ["simulated_battery", "simulated_pv", "simulated_load", "simulated_grid_meter"] {
            try FileManager.default.copyItem(atPath: TestPaths.profileDirectory + "/simulated/\(name).json", toPath: profiles + "/\(name).json")
        }
        for file in extraProfiles {
            try FileManager.default.copyItem(atPath: file, toPath: profiles + "/" + URL(fileURLWithPath: file).lastPathComponent)
        }
        try config.write(toFile: configFile, atomically: true, encoding: .utf8)
        program = try Program("switchyard-edge", ["run", "--config", configFile, "--profiles", profiles, "--plugins", TestPaths.pluginDirectory,
                                                  "--status-port", "\(port)", "--data", dir + "/data", "--quiet"])
        try waitFor("the status port") { (try? status()) != nil }
    }


    func status() throws -> JSONValue {
        try JSONValue(parsing: CFixture.run(TestPaths.executable("switchyard-edge"), ["status", "--json", "--status-port", "\(port)"]))
    }

    func http(_ method: String, _ path: String, body: String = "") throws -> (Int, String) {
        try LocalClient.request(method, path, port: port, body: body, timeoutSeconds: 30)
    }

    func waitFor(_ what: String, timeout: Double = 15, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw CFixture.FixtureError(message: "timed out waiting for \(what)")
    }

    func stop() -> (status: Int32, stdout: String, stderr: String) {
        kill(program.process.processIdentifier, SIGTERM)
        return program.finish(timeout: 20)
    }
}

func demoSite(version: Int, threshold: Int, period: Int = 200) throws -> String {
    try String(contentsOfFile: TestPaths.packageRoot + "/examples/simulated-site.json", encoding: .utf8)
        .replacingOccurrences(of: "\"version\": 1,", with: "\"version\": \(version),")
        .replacingOccurrences(of: "\"threshold_watts\": 6000", with: "\"threshold_watts\": \(threshold)")
        .replacingOccurrences(of: "\"period_ms\": 1000", with: "\"period_ms\": \(period)")
}

@Suite(.serialized) struct LiveEdgeTests {
    /// Issue 14, items 2, 3 and 6 through the real executable: other files
    /// beside the config do not throw away a posted config; a hand write
    /// with and without --force; status with a table of values.
    @Test func aPostedConfigSurvivesOtherFilesAndHandWritesAreAudited() throws {
        let edge = try LiveEdge(config: demoSite(version: 1, threshold: 6000))
        var finished = false
        defer { if !finished { _ = edge.stop() } }
        let (code, body) = try edge.http("POST", "/config", body: demoSite(version: 7, threshold: 6000))
        #expect(code == 200, "\(body)")
        // Files an operator or an editor leaves beside the config.
        try "notes".write(toFile: edge.dir + "/notes.txt", atomically: true, encoding: .utf8)
        try "swap".write(toFile: edge.dir + "/.site.json.swp", atomically: false, encoding: .utf8)
        try "{}".write(toFile: edge.profiles + "/README.md", atomically: true, encoding: .utf8)
        Thread.sleep(forTimeInterval: 1.5)  // debounce 300 ms, generously
        #expect(try edge.status()["config_version"] == 7, "an unrelated file reloaded the config file")

        let edgeTool = TestPaths.executable("switchyard-edge")
        let port = "\(edge.port)"
        // The demo's controllers set the battery's setpoint every cycle.
        let polite = try Program.run("switchyard-edge", ["write", "battery/SetActivePower", "1500", "--status-port", port])
        #expect(polite.status != 0)
        #expect(polite.stderr.contains("not written: controller ctrl"), "\(polite)")
        #expect(polite.stderr.contains("set battery/SetActivePower in this cycle; force to write anyway"), "\(polite)")
        let forced = try CFixture.run(edgeTool, ["write", "battery/SetActivePower", "1500", "--force", "--status-port", port])
        #expect(forced.contains("battery/SetActivePower = 1500: written"), "\(forced)")
        let unknown = try Program.run("switchyard-edge", ["write", "battery/Nope", "1", "--status-port", port])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no channel \"battery/Nope\""), "\(unknown)")

        let text = try CFixture.run(edgeTool, ["status", "--status-port", port])
        let lines = text.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("device     battery ") && $0.contains("writes ") }, "\(text)")
        // Quality aside: on a busy machine a value may have turned stale.
        #expect(lines.contains { $0.hasPrefix("             Soc ") && $0.contains("%") }, "\(text)")

        let r = edge.stop()
        finished = true
        #expect(r.stderr.contains("battery/SetActivePower = 1500 asked by POST /write (switchyard-edge write, user "), "\(r.stderr)")
        #expect(r.stderr.contains(") (forced): written as asked"))
        #expect(r.stderr.contains(": refused: controller ctrl"))
    }

    @Test func takesChangesFromItsFileSignalsAndPort() throws {
        let edge = try LiveEdge(config: demoSite(version: 1, threshold: 6000))
        var finished = false
        defer { if !finished { _ = edge.stop() } }
        let first = try edge.status()
        #expect(first["config_version"] == 1)
        #expect(first["period_ms"] == 200)

        // A hot parameter edited in the file: applied at a boundary, no instance recreated.
        try demoSite(version: 2, threshold: 7000).write(toFile: edge.configFile, atomically: true, encoding: .utf8)
        try edge.waitFor("version 2") { try edge.status()["config_version"] == 2 }

        // A broken edit is refused; version 2 keeps running and the reason is reported.
        try demoSite(version: 3, threshold: -5).write(toFile: edge.configFile, atomically: true, encoding: .utf8)
        try edge.waitFor("the refusal") { try edge.status()["last_apply_error"]?.stringValue?.contains("threshold_watts: must be >= 0, got -5") == true }
        #expect(try edge.status()["config_version"] == 2)

        // Fixed, then SIGHUP: applied.
        try demoSite(version: 4, threshold: 6500).write(toFile: edge.configFile, atomically: true, encoding: .utf8)
        try edge.waitFor("version 4") { try edge.status()["config_version"] == 4 }
        let generation = try edge.status()["generation"]?.numberValue ?? 0
        kill(edge.program.process.processIdentifier, SIGHUP)
        try edge.waitFor("the SIGHUP reload") { (try edge.status()["generation"]?.numberValue ?? 0) > generation }

        // A period change over the port, and metrics.
        let (code, body) = try edge.http("POST", "/config", body: demoSite(version: 5, threshold: 6500, period: 100))
        #expect(code == 200, "\(body)")
        #expect(try edge.status()["period_ms"] == 100)
        let (bad, reason) = try edge.http("POST", "/config", body: "{\"version\": 6}")
        #expect(bad == 422)
        #expect(reason.contains("edge_id: is required"))
        #expect(try edge.status()["last_apply_error"]?.stringValue?.contains("edge_id: is required") == true)
        let (_, metrics) = try edge.http("GET", "/metrics")
        #expect(metrics.contains("switchyard_cycles_total "))
        #expect(metrics.contains("switchyard_config_version{edge_id=\"demo_edge\"} 5"))
        #expect(metrics.contains("switchyard_device_up{device=\"battery\",profile=\"simulated_battery\"} 1"))

        let r = edge.stop()
        finished = true
        #expect(r.status == 0)
        #expect(r.stderr.contains("stopped after"))
        // Every device kept running through all of it: only parameters and the period changed.
        for version in [2, 4, 5] {
            let line = r.stderr.split(separator: "\n").first { $0.contains("applied config version \(version) ") }
            #expect(line?.contains("4 devices (4 kept running)") == true, "version \(version): \(line ?? "no line")")
        }
        #expect(r.stderr.split(separator: "\n").contains { $0.contains("applied config version 2 ") && $0.contains("(1 reconfigured hot, 0 new)") })
    }

    @Test func anEditedProfileRestartsOnlyItsDevice() throws {
        let edge = try LiveEdge(config: demoSite(version: 1, threshold: 6000))
        defer { _ = edge.stop() }
        try edge.waitFor("polls") { (try edge.status()["devices"]?.arrayValue?.first?["polls"]?.numberValue ?? 0) > 5 }
        let path = edge.profiles + "/simulated_load.json"
        let profile = try String(contentsOfFile: path, encoding: .utf8)
        try profile.replacingOccurrences(of: "\"model\": \"Simulated load\"", with: "\"model\": \"Simulated load, revised\"")
            .write(toFile: path, atomically: true, encoding: .utf8)
        try edge.waitFor("the profile reload") { (try edge.status()["generation"]?.numberValue ?? 0) >= 2 }
        let polls = Dictionary(uniqueKeysWithValues: (try edge.status()["devices"]?.arrayValue ?? []).map { ($0["device_id"]!.stringValue!, $0["polls"]!.numberValue!) })
        #expect(polls["house"]! < polls["battery"]!, "house restarted, the others kept polling: \(polls)")
        #expect(polls["battery"]! > 5)
    }

    @Test func aDeviceThatAcceptsAndNeverAnswersIsFaultedEverywhereAndDoesNotHoldUpTheStop() throws {
        let hostile = try HostileModbus([.init("hang"), .init("trickle:300")])
        let config = """
            {"version": 1, "edge_id": "e", "core_cycle": {"period_ms": 200},
             "modbus_devices": [
               {"device_id": "hung", "profile": "eastron_sdm630", "connection": {"host": "127.0.0.1", "port": \(hostile.ports[0]), "timeout_ms": 300}},
               {"device_id": "slow", "profile": "eastron_sdm630", "connection": {"host": "127.0.0.1", "port": \(hostile.ports[1]), "timeout_ms": 300}}]}
            """
        let edge = try LiveEdge(config: config, extraProfiles: [TestPaths.profileDirectory + "/eastron/eastron_sdm630.json"])
        var finished = false
        defer { if !finished { _ = edge.stop() } }
        func device(_ id: String) throws -> JSONValue? { try edge.status()["devices"]?.arrayValue?.first { $0["device_id"]?.stringValue == id } }
        try edge.waitFor("the hung device to be faulted") { try device("hung")?["state"]?.stringValue == "faulted" }
        let hung = try #require(try device("hung"))
        #expect(hung["last_error"]?.stringValue?.contains("timed out: no answer within 300 ms") == true)
        #expect((hung["consecutive_failures"]?.numberValue ?? 0) >= 3)
        #expect(hung["backoff_ms"]?.numberValue != nil)

        let (code, metrics) = try edge.http("GET", "/metrics")
        #expect(code == 200)
        #expect(metrics.contains(#"switchyard_device_up{device="hung",profile="eastron_sdm630"} 0"#), "\(metrics.prefix(2000))")
        let (_, channels) = try edge.http("GET", "/channels")
        let hungChannels = try JSONValue(parsing: channels).arrayValue?.filter { $0["address"]?.stringValue?.hasPrefix("hung/") == true } ?? []
        #expect(!hungChannels.isEmpty)
        #expect(hungChannels.allSatisfy { $0["device_state"]?.stringValue == "faulted" && $0["quality"]?.stringValue != "good" })

        // SIGTERM while the trickling device holds a request: the stop waits
        // out at most that request (300 ms), not the trickle.
        let started = Date()
        let result = edge.stop()
        finished = true
        #expect(result.status == 0)
        #expect(Date().timeIntervalSince(started) < 5, "the edge took \(Date().timeIntervalSince(started)) s to stop")
    }
}
