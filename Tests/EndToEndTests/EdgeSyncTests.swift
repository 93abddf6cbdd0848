import Foundation
import Testing
import SwitchyardAgent
import SwitchyardEdgeService
import SwitchyardJSON
import SwitchyardServerClient
import SwitchyardTestSupport

/// The sync agent end to end: a real `switchyard-server` process, real
/// `switchyard-edge` processes, the real plugins (TestProbe misbehaves on
/// request), talking HTTP and WebSocket on loopback.
@Suite(.serialized) struct EdgeSyncTests {
    /// A server with organization acme, site s1 and edge e1, its key and the
    /// server's public keys in a file, as an installer would leave them.
    final class Fleet: @unchecked Sendable {
        var server: ServerCLITests.ServerProcess
        let operatorClient: ServerClient
        let dir: String
        let keyFile: String
        let trustFile: String

        init(organization layer: JSONValue) async throws {
            dir = TestPaths.temporaryDirectory()
            // Edges restart many times in these tests: no rate limit on their keys.
            server = try ServerCLITests.ServerProcess(arguments: ["--edge-rate-limit", "off"])
            operatorClient = ServerClient(baseURL: server.url, token: try server.rootToken)
            keyFile = dir + "/edge-key"
            trustFile = dir + "/signing-keys.json"
            try await expectOK(operatorClient.send("POST", "/api/v1/orgs", json: ["id": "acme"]))
            try await expectOK(operatorClient.send("PUT", "/api/v1/orgs/acme/sites/s1", json: [:]))
            try await expectOK(operatorClient.send("PUT", "/api/v1/orgs/acme/layers/organization/acme", json: layer))
            try await expectOK(operatorClient.send("PUT", "/api/v1/orgs/acme/edges/e1", json: ["site": "s1"]))
            let key = try await operatorClient.send("POST", "/api/v1/orgs/acme/credentials", json: ["kind": "edge", "edge": "e1"])
            try #require(key.status == 201, "\(key.text)")
            try #require(key.json?["secret"]?.stringValue).write(toFile: keyFile, atomically: true, encoding: .utf8)
            try await operatorClient.get("/api/v1/signing-keys").text.write(toFile: trustFile, atomically: true, encoding: .utf8)
        }

        func expectOK(_ answer: ServerClient.Answer, sourceLocation: SourceLocation = #_sourceLocation) throws {
            try #require((200..<300).contains(answer.status), "\(answer.status): \(answer.text)", sourceLocation: sourceLocation)
        }

        /// Writes the organization layer; returns the edge's new version (nil if it got none).
        @discardableResult
        func putOrganization(_ layer: JSONValue) async throws -> ServerClient.Answer {
            try await operatorClient.send("PUT", "/api/v1/orgs/acme/layers/organization/acme", json: layer)
        }

        /// The edge as operators see it: its version and latest heartbeat.
        func edge() async throws -> JSONValue {
            try #require(try await operatorClient.get("/api/v1/orgs/acme/edges/e1").json)
        }

        func restartServer() throws {
            server.stop()
            server = try ServerCLITests.ServerProcess(data: server.data, port: server.port, arguments: ["--edge-rate-limit", "off"])
        }
    }

    /// A `switchyard-edge run --server …` process with its own data folder and status port.
    final class EdgeProcess {
        let process = Process()
        let data: String
        let statusPort: Int
        let log: String

        init(_ fleet: Fleet, data: String? = nil, supervise: Bool = false) throws {
            self.data = data ?? TestPaths.temporaryDirectory() + "/edge"
            statusPort = PymodbusServer.freePort()
            log = TestPaths.temporaryDirectory() + "/edge.log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.executableURL = URL(fileURLWithPath: TestPaths.executable("switchyard-edge"))
            process.arguments = ["run", "--data", self.data, "--plugins", TestPaths.pluginDirectory, "--plugins", TestPaths.testPluginDirectory, "--profiles", TestPaths.profileDirectory,
                                 "--server", fleet.server.url, "--edge-id", "e1", "--key-file", fleet.keyFile, "--trust", fleet.trustFile,
                                 "--status-port", String(statusPort), "--quiet", "--no-watch"] + (supervise ? ["--supervise"] : [])
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        /// The status document, or nil while the port does not answer.
        func status() -> JSONValue? {
            guard let (code, body) = try? LocalClient.request("GET", "/status", port: statusPort, timeoutSeconds: 2), code == 200 else { return nil }
            return try? JSONValue(parsing: body)
        }

        /// Polls the status until `condition` holds; fails the test with the log after `timeout` seconds.
        @discardableResult
        func wait(_ what: String, timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation,
                  until condition: (JSONValue) -> Bool) -> JSONValue? {
            let deadline = Date().addingTimeInterval(timeout)
            var last: JSONValue?
            while Date() < deadline {
                if let status = status() {
                    last = status
                    if condition(status) { return status }
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            Issue.record("timed out waiting for \(what); last status sync: \(last?["sync"]?.canonicalText ?? "none")\n\(output)", sourceLocation: sourceLocation)
            return nil
        }

        func signal(_ signal: Int32) {
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
        }

        func stop() {
            guard process.isRunning else { return }
            signal(SIGTERM)
        }
    }

    /// An organization layer: one probe controller, a fast cycle and a short probation.
    static func layer(gain: Double = 1, mode: String = "ok", extra: [String: JSONValue] = [:]) -> JSONValue {
        var parameters: [String: JSONValue] = ["gain": .number(gain), "mode": .string(mode)]
        parameters.merge(extra) { _, new in new }
        return [
            "core_cycle": ["period_ms": 50],
            "sync": ["interval_s": 5, "probation_cycles": 10, "state_report_min_s": 0, "metrics_interval_s": 60],
            "scheduler": ["controllers": [["id": "probe", "class": "ProbeController", "parameters": .object(parameters)]]],
        ]
    }

    static func sync(_ status: JSONValue) -> JSONValue { status["sync"] ?? .null }

    /// The edge's heartbeat as the server shows it, once `until` holds (or the last one after 10 s).
    static func heartbeat(_ fleet: Fleet, until: (JSONValue?) -> Bool) async throws -> JSONValue? {
        var heartbeat: JSONValue?
        for _ in 0..<100 {
            heartbeat = try await fleet.edge()["heartbeat"]
            if until(heartbeat) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return heartbeat
    }
    static func int(_ value: JSONValue?) -> Int? { value?.numberValue.map { Int($0) } }

    @Test func aChangeOnTheServerIsAppliedAndShowsUpInTheHeartbeat() async throws {
        let fleet = try await Fleet(organization: Self.layer())
        defer { fleet.server.stop() }
        let edge = try EdgeProcess(fleet)
        defer { edge.stop() }

        // First boot: nothing in the cache, so the server's version 1 is fetched, applied and confirmed.
        let first = edge.wait("version 1 confirmed") { Self.int(Self.sync($0)["last_confirmed"]) == 1 }
        #expect(first?["config_version"] == 1)
        #expect(Self.sync(first ?? .null)["reachable"] == true)
        edge.wait("the WebSocket up") { Self.sync($0)["websocket"] == "up" }

        // A parameter changed on the server arrives through the WebSocket, inline delta, and is applied hot.
        let changedAt = Date()
        let put = try await fleet.putOrganization(Self.layer(gain: 7))
        #expect(put.status == 200, "\(put.text)")
        let applied = edge.wait("version 2 running", timeout: 10) { $0["config_version"] == 2 }
        let latency = Date().timeIntervalSince(changedAt)
        // The spec's 5 s is a figure of `make bench` (change → applied, p99,
        // beside its floor); here only a bound a loaded CI machine keeps: a
        // measured 5.3 s once failed a 5 s assertion while other suites ran.
        #expect(latency < 30, "the change took \(latency) s to be applied")
        #expect(Self.sync(applied ?? .null)["traffic"]?["deltas"]?.numberValue ?? 0 >= 1, "the change came as a delta")
        edge.wait("version 2 confirmed") { Self.int(Self.sync($0)["last_confirmed"]) == 2 }
        #expect(edge.output.contains("1 reconfigured hot"), "the gain is a hot parameter: the controller kept its instance")

        // The heartbeat tells the server.
        let heartbeat = try await Self.heartbeat(fleet) { $0?["version"] == 2 && $0?["state"] == "confirmed" }
        #expect(heartbeat?["version"] == 2 && heartbeat?["state"] == "confirmed", "\(heartbeat?.canonicalText ?? "no heartbeat")")

        // The cache holds both versions, the newest confirmed.
        edge.stop()
        let cache = try AgentCache(path: edge.data + "/sync.sqlite")
        #expect(try cache.integrityCheck() == "ok")
        #expect(try cache.lastConfirmed()?.version == 2)
        #expect(try cache.all().map(\.version) == [1, 2])
    }

    @Test func aConfigTheEdgeCannotRunIsRejectedAndReported() async throws {
        let fleet = try await Fleet(organization: Self.layer())
        defer { fleet.server.stop() }
        let edge = try EdgeProcess(fleet)
        defer { edge.stop() }
        edge.wait("version 1 confirmed") { Self.int(Self.sync($0)["last_confirmed"]) == 1 }

        // The server has no catalog, so it cannot know this class; the edge can.
        var bad = Self.layer()
        bad = try JSONPatchHelper.replace(bad, "/scheduler/controllers/0/class", "ProbeControler")
        #expect(try await fleet.putOrganization(bad).status == 200)
        let rejected = edge.wait("version 2 rejected") { Self.sync($0)["state"] == "rejected" }
        let error = Self.sync(rejected ?? .null)["last_error"]?.stringValue ?? ""
        #expect(error.contains("scheduler.controllers[0].class") || error.contains("/scheduler/controllers/0/class"), "\(error)")
        #expect(error.contains("ProbeControler"), "\(error)")
        #expect(rejected?["config_version"] == 1, "the running version keeps running")

        let heartbeat = try await Self.heartbeat(fleet) { $0?["state"] == "rejected" }
        #expect(heartbeat?["state"] == "rejected" && heartbeat?["version"] == 1, "\(heartbeat?.canonicalText ?? "none")")
        #expect(heartbeat?["errors"]?[0]?["message"]?.stringValue?.contains("ProbeControler") == true)

        // The next good version is taken as usual.
        #expect(try await fleet.putOrganization(Self.layer(gain: 3)).status == 200)
        edge.wait("version 3 confirmed") { Self.int(Self.sync($0)["last_confirmed"]) == 3 }
    }

    /// A version whose parameters a plugin refuses (an empty SoC window) is
    /// rejected at validation, before anything is created, with the
    /// plugin's message, and the running version keeps running.
    @Test func aVersionAPluginRefusesIsRejectedAtValidation() async throws {
        let fleet = try await Fleet(organization: Self.layer())
        defer { fleet.server.stop() }
        let edge = try EdgeProcess(fleet)
        defer { edge.stop() }
        edge.wait("version 1 confirmed") { Self.int(Self.sync($0)["last_confirmed"]) == 1 }

        func withBattery(minSoc: Double, maxSoc: Double) -> JSONValue {
            var layer = Self.layer().objectValue ?? [:]
            layer["devices"] = [["device_id": "battery", "profile": "simulated_battery"], ["device_id": "grid", "profile": "simulated_grid_meter"]]
            layer["scheduler"] = ["controllers": [
                ["id": "probe", "class": "ProbeController", "parameters": ["gain": 1, "mode": "ok"]],
                ["id": "balance", "class": "BalancingController", "parameters": ["min_soc": .number(minSoc), "max_soc": .number(maxSoc)]],
            ]]
            return .object(layer)
        }
        // The server has no catalog, and no plugin binaries: it cannot know.
        #expect(try await fleet.putOrganization(withBattery(minSoc: 90, maxSoc: 50)).status == 200)
        let rejected = edge.wait("version 2 rejected") { Self.sync($0)["state"] == "rejected" }
        let error = Self.sync(rejected ?? .null)["last_error"]?.stringValue ?? ""
        #expect(error.contains("scheduler.controllers[1].parameters: (controller balance) BalancingController"), "\(error)")
        #expect(error.contains("min_soc (90.0) must be below max_soc (50.0)"), "\(error)")
        #expect(rejected?["config_version"] == 1, "the running version keeps running")
        #expect(!edge.output.contains("could not be applied"), "refused before any apply")

        let heartbeat = try await Self.heartbeat(fleet) { $0?["state"] == "rejected" }
        #expect(heartbeat?["state"] == "rejected" && heartbeat?["version"] == 1, "\(heartbeat?.canonicalText ?? "none")")
        #expect(heartbeat?["errors"]?[0]?["message"]?.stringValue?.contains("min_soc (90.0) must be below max_soc (50.0)") == true,
                "\(heartbeat?.canonicalText ?? "none")")

        #expect(try await fleet.putOrganization(withBattery(minSoc: 10, maxSoc: 90)).status == 200)
        edge.wait("version 3 confirmed") { Self.int(Self.sync($0)["last_confirmed"]) == 3 }
    }

    @Test func aControllerThatFailsIsRolledBack() async throws {
        let fleet = try await Fleet(organization: Self.layer())
        defer { fleet.server.stop() }
        let edge = try EdgeProcess(fleet)
        defer { edge.stop() }
        edge.wait("version 1 confirmed") { Self.int(Self.sync($0)["last_confirmed"]) == 1 }

        // A controller that refuses to start: the apply fails, nothing changes.
        var refusing = Self.layer(mode: "refuse_create")
        refusing = try JSONPatchHelper.replace(refusing, "/scheduler/controllers/0/parameters/label", "new-instance")
        #expect(try await fleet.putOrganization(refusing).status == 200)
        let failed = edge.wait("version 2 failed") { Self.sync($0)["state"] == "failed" }
        #expect(Self.sync(failed ?? .null)["last_error"]?.stringValue?.contains("refusing to start") == true)
        #expect(failed?["config_version"] == 1)

        // A controller that starts, then fails every cycle: probation fails, version 1 runs again.
        #expect(try await fleet.putOrganization(Self.layer(mode: "fail")).status == 200)
        let rolledBack = edge.wait("version 3 rolled back") { Self.sync($0)["state"] == "rolled_back" }
        let error = Self.sync(rolledBack ?? .null)["last_error"]?.stringValue ?? ""
        #expect(error.contains("rolled back to version 1") && error.contains("controller probe"), "\(error)")
        #expect(rolledBack?["config_version"] == 1)
        #expect(Self.int(Self.sync(rolledBack ?? .null)["last_confirmed"]) == 1)

        edge.stop()
        let states = Dictionary(try AgentCache(path: edge.data + "/sync.sqlite").all().map { ($0.version, $0.state) }, uniquingKeysWith: { a, _ in a })
        #expect(states == [1: .confirmed, 2: .failed, 3: .rolledBack])
    }

    @Test func aParameterThatCrashesThePluginIsRolledBackAfterTheRestart() async throws {
        let fleet = try await Fleet(organization: Self.layer())
        defer { fleet.server.stop() }
        let edge = try EdgeProcess(fleet, supervise: true)
        defer { edge.stop() }
        edge.wait("version 1 confirmed") { Self.int(Self.sync($0)["last_confirmed"]) == 1 }
        let firstBoot = Self.int(Self.sync(edge.status() ?? .null)["boot"])

        // The probe calls fatalError in its first cycle with mode crash: the process dies in probation.
        #expect(try await fleet.putOrganization(Self.layer(mode: "crash")).status == 200)
        let after = edge.wait("the restarted edge", timeout: 60) { s in
            Self.int(Self.sync(s)["boot"]) != firstBoot && Self.sync(s)["state"] == "failed"
        }
        #expect(after?["config_version"] == 1, "the last confirmed version runs after the restart")
        #expect(Self.sync(after ?? .null)["last_error"]?.stringValue?.contains("restarted while version 2 was") == true)
        #expect(edge.output.contains("restarting"), "the supervisor said it restarted the edge")
        let heartbeat = try await Self.heartbeat(fleet) { $0?["state"] == "failed" }
        #expect(heartbeat?["state"] == "failed" && heartbeat?["version"] == 1, "\(heartbeat?.canonicalText ?? "none")")
        // The server still serves version 2; the edge does not take it again.
        try await Task.sleep(for: .seconds(1))
        #expect(edge.status()?["config_version"] == 1)
    }

    @Test func withTheServerDownTheEdgeRunsOnItsCacheAndCatchesUp() async throws {
        let fleet = try await Fleet(organization: Self.layer())
        defer { fleet.server.stop() }
        var edge = try EdgeProcess(fleet)
        defer { edge.stop() }
        edge.wait("version 1 confirmed") { Self.int(Self.sync($0)["last_confirmed"]) == 1 }

        fleet.server.stop()
        edge.wait("the server seen unreachable", timeout: 20) { Self.sync($0)["reachable"] == false || Self.sync($0)["websocket"] == "down" }
        // A restart with the server down boots the cached version at once.
        let data = edge.data
        edge.stop()
        edge = try EdgeProcess(fleet, data: data)
        let booted = edge.wait("the cached version running", timeout: 10) { $0["config_version"] == 1 && ($0["cycle"]?["cycles"]?.numberValue ?? 0) > 5 }
        #expect(Self.sync(booted ?? .null)["reachable"] != true)

        try fleet.restartServer()
        #expect(try await fleet.putOrganization(Self.layer(gain: 5)).status == 200)
        // Polling every 5 s and the WebSocket's reconnection both catch up.
        edge.wait("version 2 confirmed after the server came back", timeout: 45) { Self.int(Self.sync($0)["last_confirmed"]) == 2 }
    }

    /// A clean stop in the middle of a probation is not the version's fault:
    /// after the restart the server offers it again and it gets a whole probation.
    @Test func aVersionStoppedInProbationIsTakenAgainAfterTheRestart() async throws {
        let fleet = try await Fleet(organization: Self.layer())
        defer { fleet.server.stop() }
        var edge = try EdgeProcess(fleet)
        defer { edge.stop() }
        edge.wait("version 1 confirmed") { Self.int(Self.sync($0)["last_confirmed"]) == 1 }
        var long = Self.layer(gain: 2)
        long = try JSONPatchHelper.replace(long, "/sync/probation_cycles", 60)
        #expect(try await fleet.putOrganization(long).status == 200)
        edge.wait("version 2 in probation") { Self.int(Self.sync($0)["probation_version"]) == 2 }
        edge.stop()
        #expect(try AgentCache(path: edge.data + "/sync.sqlite").version(2)?.state == .staged)
        #expect(!edge.output.contains("rolled back"))

        edge = try EdgeProcess(fleet, data: edge.data)
        let after = edge.wait("version 2 confirmed after the restart") { Self.int(Self.sync($0)["last_confirmed"]) == 2 }
        #expect(Self.sync(after ?? .null)["state"] == "confirmed")
    }

    /// SIGKILL at random moments while versions keep arriving (good ones, one
    /// that fails its probation, one the edge rejects): after every kill the
    /// cache is intact and the next start runs the last confirmed version.
    @Test func killedAtRandomMomentsItAlwaysBootsAConfirmedConfig() async throws {
        let fleet = try await Fleet(organization: Self.layer())
        defer { fleet.server.stop() }
        let data = TestPaths.temporaryDirectory() + "/edge"
        var first: EdgeProcess? = try EdgeProcess(fleet, data: data)
        first?.wait("version 1 confirmed") { Self.int(Self.sync($0)["last_confirmed"]) == 1 }
        first?.stop()
        first = nil

        // Operators at work: a new version every 150 ms or so.
        let changes = Task {
            var n = 0
            while !Task.isCancelled {
                n += 1
                let layer = switch n % 10 {
                case 3: Self.layer(gain: Double(n), mode: "fail")
                case 7: try JSONPatchHelper.replace(Self.layer(gain: Double(n)), "/scheduler/controllers/0/class", "NoSuchController")
                default: Self.layer(gain: Double(n))
                }
                _ = try? await fleet.putOrganization(layer)
                try? await Task.sleep(for: .milliseconds(150))
            }
        }
        defer { changes.cancel() }

        var generator = SystemRandomNumberGenerator()
        let kills = 200
        var bootedVersions: [Int] = []
        for round in 0..<kills {
            let cache = try AgentCache(path: data + "/sync.sqlite")
            #expect(try cache.integrityCheck() == "ok", "round \(round): the cache is damaged")
            let confirmed = try #require(try cache.lastConfirmed()?.version, "round \(round): no confirmed version in the cache")
            let edge = try EdgeProcess(fleet, data: data)
            // The boot line names the version it runs; it must be the last confirmed one.
            let deadline = Date().addingTimeInterval(20)
            var bootLine: Substring?
            while bootLine == nil && Date() < deadline && edge.process.isRunning {
                bootLine = edge.output.split(separator: "\n").first { $0.contains("running the last confirmed version") }
                if bootLine == nil { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(bootLine?.contains("running the last confirmed version \(confirmed) from the cache") == true,
                    "round \(round): expected to boot version \(confirmed)\n\(edge.output)")
            bootedVersions.append(confirmed)
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...700, using: &generator)))
            edge.signal(SIGKILL)
        }
        changes.cancel()
        // The runs made progress: later boots ran later confirmed versions.
        #expect(bootedVersions.last! > bootedVersions.first!, "\(bootedVersions)")
        let states = try AgentCache(path: data + "/sync.sqlite").all().map(\.state)
        #expect(states.contains(.confirmed))
        print("SIGKILL test: \(kills) kills; booted versions from \(bootedVersions.first!) to \(bootedVersions.last!); final states: \(Dictionary(states.map { ($0.rawValue, 1) }, uniquingKeysWith: +))")
    }
}

/// A JSON Pointer replace for building test layers.
enum JSONPatchHelper {
    static func replace(_ document: JSONValue, _ pointer: String, _ value: JSONValue) throws -> JSONValue {
        let parts = pointer.split(separator: "/").map(String.init)
        func set(_ node: JSONValue, _ rest: ArraySlice<String>) -> JSONValue {
            guard let head = rest.first else { return value }
            switch node {
            case .object(var members):
                members[head] = set(members[head] ?? .object([:]), rest.dropFirst())
                return .object(members)
            case .array(var items):
                let i = Int(head)!
                items[i] = set(items[i], rest.dropFirst())
                return .array(items)
            default:
                return node
            }
        }
        return set(document, parts[...])
    }
}

extension JSONValue {
    /// Array elements in tests: `doc["errors"]?[0]`.
    subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }
}
