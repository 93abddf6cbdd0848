import Foundation
import Testing
import SwitchyardJSON
import SwitchyardTestSupport

/// The operator flow as an operator runs it: a real `switchyard-server`
/// process, driven only through the `switchyard` CLI.
@Suite(.serialized) struct ServerCLITests {
    struct Outcome: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
    }

    /// A switchyard-server on a free port over a fresh data folder.
    final class ServerProcess {
        let process = Process()
        let data: String
        let url: String
        let port: Int
        let log: String

        /// `data` and `port`: those of a server stopped before, to start it again.
        init(data: String? = nil, port: Int? = nil, arguments extra: [String] = []) throws {
            let dir = TestPaths.temporaryDirectory()
            self.data = data ?? dir + "/data"
            log = dir + "/server.log"
            let port = port ?? PymodbusServer.freePort()
            url = "http://127.0.0.1:\(port)"
            self.port = port
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.executableURL = URL(fileURLWithPath: TestPaths.executable("switchyard-server"))
            process.arguments = ["serve", "--data", self.data, "--port", String(port), "--log-level", "warning"] + extra
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            let deadline = Date().addingTimeInterval(30)
            while !Self.healthy(port: port) {
                guard process.isRunning, Date() < deadline else {
                    stop()
                    throw CFixture.FixtureError(message: "switchyard-server did not answer /healthz: \(serverLog)")
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }

        var serverLog: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        var rootToken: String {
            get throws { try String(contentsOfFile: data + "/root-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
        }

        /// SIGTERM, then SIGKILL if it has not stopped within 10 s.
        func stop() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }

        /// `GET /healthz` answers 200.
        static func healthy(port: Int) -> Bool {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard s >= 0 else { return false }
            defer { close(s) }
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            a.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { return false }
            let request = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
            guard send(s, request, request.count, 0) == request.count else { return false }
            var buffer = [UInt8](repeating: 0, count: 512)
            let n = recv(s, &buffer, buffer.count, 0)
            return n > 0 && String(decoding: buffer[0..<n], as: UTF8.self).hasPrefix("HTTP/1.1 200")
        }
    }

    /// Runs `switchyard` with `environment` added; output through files, so neither stream can block.
    static func cli(_ arguments: [String], _ environment: [String: String] = [:], stdin: String? = nil) throws -> Outcome {
        let dir = TestPaths.temporaryDirectory()
        let outPath = dir + "/out", errPath = dir + "/err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestPaths.executable("switchyard"))
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: TestPaths.packageRoot)
        var env = ProcessInfo.processInfo.environment
        for name in ["SWITCHYARD_SERVER", "SWITCHYARD_TOKEN", "SWITCHYARD_TOKEN_FILE"] { env[name] = nil }
        env.merge(environment) { _, new in new }
        p.environment = env
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        if let stdin {
            let pipe = Pipe()
            p.standardInput = pipe
            try p.run()
            pipe.fileHandleForWriting.write(Data(stdin.utf8))
            try pipe.fileHandleForWriting.close()
        } else {
            p.standardInput = FileHandle.nullDevice
            try p.run()
        }
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, stdout: try String(contentsOfFile: outPath, encoding: .utf8),
                       stderr: try String(contentsOfFile: errPath, encoding: .utf8))
    }

    static func write(_ value: JSONValue, in dir: String, _ name: String) throws -> String {
        let path = dir + "/" + name
        try value.prettyText.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let orgLayer: JSONValue = [
        "core_cycle": ["period_ms": 1000, "supervisor": ["overrun_alert_threshold": 2, "auto_recovery": true]],
        "scheduler": ["controllers": [
            ["id": "ctrlBalancing0", "class": "BalancingController", "enabled": true, "execution_order": 1,
             "parameters": ["target_grid_power": 0, "priority": "self_consumption"]],
            ["id": "ctrlPeakShaving0", "class": "PeakShavingController", "enabled": true, "execution_order": 2,
             "parameters": ["threshold_watts": 50000, "recharge_enabled": true]],
        ]],
    ]

    static let siteLayer: JSONValue = [
        "modbus_devices": [
            ["device_id": "bms_main", "profile": "tesla_powerwall_2",
             "connection": ["protocol": "tcp", "host": "192.168.1.100", "port": 502, "unit_id": 1]],
        ],
    ]

    @Test func theOperatorFlowThroughTheCLI() throws {
        let server = try ServerProcess()
        defer { server.stop() }
        let dir = TestPaths.temporaryDirectory()
        // Root: the token file the server wrote, through SWITCHYARD_TOKEN_FILE.
        let root = ["SWITCHYARD_SERVER": server.url, "SWITCHYARD_TOKEN_FILE": server.data + "/root-token"]
        func run(_ arguments: [String], _ env: [String: String], expect status: Int32 = 0, stdin: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> Outcome {
            let outcome = try Self.cli(arguments, env, stdin: stdin)
            #expect(outcome.status == status, "switchyard \(arguments.joined(separator: " ")): \(outcome)", sourceLocation: sourceLocation)
            return outcome
        }

        let created = try run(["org", "create", "acme", "--name", "Acme Energy"], root)
        #expect(created.stdout.contains("created organization acme (Acme Energy)"))
        #expect(try run(["org", "list"], root).stdout.contains("acme"))

        // An admin token, printed once; from here on through SWITCHYARD_TOKEN.
        let tokenAnswer = try run(["token", "create", "acme", "--role", "admin", "--name", "alice"], root)
        #expect(tokenAnswer.stdout.contains("shown this once"))
        let secretLine = try #require(tokenAnswer.stdout.split(separator: "\n").first { $0.hasPrefix("secret: ") })
        let admin = ["SWITCHYARD_SERVER": server.url, "SWITCHYARD_TOKEN": String(secretLine.dropFirst("secret: ".count))]
        #expect(try run(["token", "create", "acme", "--role", "superuser", "--name", "x"], admin, expect: 2).stderr.contains("--role"))

        // Directory.
        #expect(try run(["site", "put", "acme", "s1", "--name", "Site One", "--reason", "commissioning"], admin).stdout.contains("site s1 saved"))
        _ = try run(["site", "put", "acme", "s2"], admin)
        _ = try run(["group", "put", "acme", "eu", "--kind", "region", "--priority", "10"], admin)
        #expect(try run(["group", "put", "acme", "x", "--kind", "planet"], admin, expect: 2).stderr.contains("region, function, hardware"))
        let sites = try run(["site", "list", "acme"], admin).stdout
        #expect(sites.contains("s1") && sites.contains("Site One") && sites.contains("s2"))
        #expect(try run(["group", "list", "acme"], admin).stdout.contains("region"))

        // Catalog: the built plugins and the repository's profiles.
        let pushed = try run(["catalog", "push", "acme", TestPaths.profileDirectory, "--plugins", TestPaths.pluginDirectory,
                              "--reason", "first catalog"], admin)
        #expect(pushed.stdout.contains("switchyard.balancing") && pushed.stdout.contains("switchyard.peak-shaving"), "\(pushed)")
        #expect(pushed.stdout.contains("profiles from"))
        #expect(pushed.stdout.contains("catalog of acme accepted"))
        let catalog = try run(["catalog", "show", "acme"], admin).stdout
        #expect(catalog.contains("PeakShavingController") && catalog.contains("tesla_powerwall_2"))

        // Layers, then edges (each edge gets version 1).
        let orgFile = try Self.write(Self.orgLayer, in: dir, "org.json")
        let siteFile = try Self.write(Self.siteLayer, in: dir, "site.json")
        let orgPut = try run(["layer", "put", "acme", "organization", "acme", orgFile, "--reason", "fleet defaults"], admin)
        #expect(orgPut.stdout.contains("layer organization:acme saved"))
        #expect(orgPut.stdout.contains("now at revision 1"))
        _ = try run(["layer", "put", "acme", "site", "s1", siteFile], admin)
        _ = try run(["layer", "put", "acme", "site", "s2", "-"], admin, stdin: Self.siteLayer.canonicalText)
        for (edge, site) in [("e1", "s1"), ("e2", "s1"), ("e3", "s2")] {
            let put = try run(["edge", "put", "acme", edge, "--site", site, "--group", "eu", "--tag", "pilot"], admin)
            #expect(put.stdout.contains("1 edge with a new version"), "\(put)")
        }
        let edges = try run(["edge", "list", "acme"], admin).stdout
        #expect(edges.contains("HEARTBEAT") && edges.contains("e3") && edges.contains("never"), "\(edges)")
        #expect(try run(["edge", "show", "acme", "e1"], admin).stdout.contains("organization:acme"))

        // An edge key, shown once.
        let key = try run(["key", "create", "acme", "--edge", "e1"], admin)
        #expect(key.stdout.contains("secret: ") && key.stdout.contains("shown this once"))
        let keys = try run(["key", "list", "acme"], admin).stdout
        #expect(keys.contains("edge e1") && keys.contains("role admin"))

        // Bulk by site with --set naming the controller by id.
        let bulk = try run(["bulk", "acme", "--site", "s1", "--set", "/scheduler/controllers/ctrlPeakShaving0/parameters/threshold_watts=48000",
                            "--reason", "summer peak tariff"], admin)
        #expect(bulk.stdout.contains("2 edges with a new version"), "\(bulk)")
        let e1 = try JSONValue(parsing: try run(["config", "get", "acme", "e1"], admin).stdout)
        let e3 = try JSONValue(parsing: try run(["config", "get", "acme", "e3"], admin).stdout)
        let threshold = { (doc: JSONValue) in doc["scheduler"]?["controllers"]?.arrayValue?.first { $0["id"] == "ctrlPeakShaving0" }?["parameters"]?["threshold_watts"] }
        #expect(threshold(e1)?.numberValue == 48000)
        #expect(threshold(e3)?.numberValue == 50000)
        #expect(threshold(try JSONValue(parsing: try run(["config", "get", "acme", "e1", "--version", "1"], admin).stdout))?.numberValue == 50000)

        // Explain: the edge layer set it, overriding the organization's; the site layer set the device.
        let explained = try run(["config", "explain", "acme", "e1", "/scheduler/controllers/ctrlPeakShaving0/parameters/threshold_watts"], admin).stdout
        #expect(explained.contains("48000") && explained.contains("50000"), "\(explained)")
        #expect(explained.contains("set by edge \"e1\" (edge:e1"), "\(explained)")
        #expect(explained.contains("overrode organization \"acme\" (organization:acme"), "\(explained)")
        let device = try run(["config", "explain", "acme", "e1", "/modbus_devices/bms_main/profile"], admin).stdout
        #expect(device.contains("site:s1") && device.contains("tesla_powerwall_2"), "\(device)")

        // History and diff between versions; the offline diff of two files still works.
        let history = try run(["config", "history", "acme", "e1"], admin).stdout
        #expect(history.contains("current version 2"), "\(history)")
        let diff = try run(["config", "diff", "acme", "e1", "--from", "1", "--to", "2"], admin).stdout
        #expect(diff.contains("version 1 → 2"), "\(diff)")
        #expect(diff.contains("/scheduler/controllers/1/parameters/threshold_watts = 48000"), "\(diff)")
        let diffJSON = try JSONValue(parsing: try run(["config", "diff", "acme", "e1", "--from", "1", "--json"], admin).stdout)
        #expect(diffJSON["patch"]?.arrayValue?.isEmpty == false)
        let a = try Self.write(e3, in: dir, "a.json"), b = try Self.write(e1, in: dir, "b.json")
        #expect(try run(["config", "diff", a, b], [:]).stdout.contains("threshold_watts"))
        #expect(try run(["config", "diff", "acme", "e1"], admin, expect: 1).stderr.contains("--from"))

        // The audit log: the bulk change, with its reason and edge count.
        let audit = try run(["audit", "acme", "--limit", "5"], admin).stdout
        let bulkLine = try #require(audit.split(separator: "\n").first { $0.contains("bulk") }, "\(audit)")
        #expect(bulkLine.contains("summer peak tariff") && bulkLine.contains("alice") && bulkLine.contains(" 2 "), "\(bulkLine)")

        // A refused layer: unknown class; every problem with edge, path and reason; nothing stored.
        let bad = try Self.write(["scheduler": ["controllers": [["id": "ctrlPeakShaving0", "class": "PeakShavingControler"]]]], in: dir, "bad.json")
        let refused = try run(["layer", "put", "acme", "edge", "e3", bad, "--reason", "typo"], admin, expect: 1)
        #expect(refused.stderr.contains("HTTP 422"), "\(refused)")
        #expect(refused.stderr.contains("edge e3 /scheduler/controllers/1/class:"), "\(refused)")
        #expect(refused.stderr.contains("PeakShavingController"), "suggests the class: \(refused)")
        _ = try run(["layer", "get", "acme", "edge", "e3"], admin, expect: 1)
        // A broken local file is named with line and column.
        try "{\"scheduler\": }".write(toFile: dir + "/broken.json", atomically: true, encoding: .utf8)
        #expect(try run(["layer", "put", "acme", "edge", "e3", dir + "/broken.json"], admin, expect: 1).stderr.contains("line 1"))

        // Patch with the current ETag works; with a stale one: 412, said plainly, nothing stored.
        let read = try run(["layer", "get", "acme", "site", "s1", "--etag"], admin)
        let etag = try #require(read.stderr.split(separator: "\n").first { $0.hasPrefix("ETag: ") }).dropFirst("ETag: ".count)
        #expect(try JSONValue(parsing: read.stdout) == Self.siteLayer)
        let addAlarm = try Self.write([["op": "add", "path": "/alarms", "value": [
            ["id": "alarm_soc_low", "channel": "bms_main/Soc", "condition": "<", "threshold": 20, "severity": "warning"]]]], in: dir, "p1.json")
        let patched = try run(["layer", "patch", "acme", "site", "s1", addAlarm, "--reason", "low SoC alarm"], admin)
        #expect(patched.stdout.contains("layer site:s1 patched") && patched.stdout.contains("revision 2"), "\(patched)")
        let port = try Self.write([["op": "replace", "path": "/modbus_devices/0/connection/port", "value": 1502]], in: dir, "p2.json")
        let stale = try run(["layer", "patch", "acme", "site", "s1", port, "--if-match", String(etag)], admin, expect: 1)
        #expect(stale.stderr.contains("HTTP 412"), "\(stale)")
        #expect(stale.stderr.contains("has changed since the ETag you sent was read"), "\(stale)")
        let history1 = try run(["layer", "history", "acme", "site", "s1"], admin).stdout
        #expect(history1.contains("revision 2") && history1.contains("(current)") && history1.contains("/alarms"), "\(history1)")

        // Rollback pins, unpin releases.
        #expect(try run(["config", "rollback", "acme", "e2", "--version", "1", "--reason", "test"], admin).stdout.contains("pinned"))
        #expect(try run(["edge", "list", "acme"], admin).stdout.contains("(pinned)"))
        _ = try run(["config", "unpin", "acme", "e2"], admin)

        // JSON output is the server's JSON.
        let orgJSON = try JSONValue(parsing: try run(["org", "show", "acme", "--json"], admin).stdout)
        #expect(orgJSON["edges"]?.numberValue == 3)

        // Usage errors exit 2; an unreachable server exits 3 naming the URL; no token says how to give one.
        #expect(try run(["bulk", "acme", "--set", "/core_cycle/period_ms=500"], admin, expect: 2).stderr.contains("--site"))
        #expect(try run(["bulk", "acme", "--all", "--set", "nothing"], admin, expect: 2).stderr.contains("/json/pointer=VALUE"))
        #expect(try run(["layer", "get", "acme", "planet", "x"], admin, expect: 2).stderr.contains("SCOPE"))
        let closed = "http://127.0.0.1:\(PymodbusServer.freePort())"
        let unreachable = try run(["org", "list", "--server", closed], [:], expect: 3)
        #expect(unreachable.stderr.contains(closed), "\(unreachable)")
        #expect(try run(["org", "list"], ["SWITCHYARD_SERVER": server.url], expect: 1).stderr.contains("SWITCHYARD_TOKEN"))
    }

    @Test func layerCheckAndRepairThroughTheCLI() throws {
        let server = try ServerProcess()
        defer { server.stop() }
        let dir = TestPaths.temporaryDirectory()
        let root = ["SWITCHYARD_SERVER": server.url, "SWITCHYARD_TOKEN_FILE": server.data + "/root-token"]
        #expect(try Self.cli(["org", "create", "acme"], root).status == 0)
        #expect(try Self.cli(["site", "put", "acme", "s1"], root).status == 0)
        // A member invalid on its own is refused, naming the layer and the path.
        let bad = try Self.write(["alarms": [["id": "a", "channel": -1e19]]], in: dir, "bad.json")
        let refused = try Self.cli(["layer", "put", "acme", "site", "s1", bad], root)
        #expect(refused.status == 1 && refused.stderr.contains("site:s1") && refused.stderr.contains("/alarms/0/channel"), "\(refused)")
        let check = try Self.cli(["layer", "check", "acme"], root)
        #expect(check.status == 0 && check.stdout.contains("every layer of acme is valid on its own"), "\(check)")
        let json = try Self.cli(["layer", "check", "acme", "--json"], root)
        #expect(try JSONValue(parsing: json.stdout)["layers"] == .array([]), "\(json)")
        let good = try Self.write(["alarms": [["id": "a", "channel": "d/Soc"]]], in: dir, "good.json")
        #expect(try Self.cli(["layer", "put", "acme", "site", "s1", good], root).status == 0)
        let repair = try Self.cli(["layer", "repair", "acme", "site", "s1", "--reason", "tidy"], root)
        #expect(repair.status == 1 && repair.stderr.contains("nothing to repair"), "\(repair)")
    }

    @Test func setBuildsKeyedFragments() throws {
        let outcome = try Self.cli(["bulk", "acme", "--all", "--dry-run",
                                    "--set", "/scheduler/controllers/ctrlPeakShaving0/parameters/threshold_watts=48000",
                                    "--set", "/scheduler/controllers/ctrlPeakShaving0/enabled=false",
                                    "--set", "/modbus_devices/bms_main/connection/host=10.0.0.7",
                                    "--set", "/alarms/old_alarm=null"])
        #expect(outcome.status == 0, "\(outcome)")
        let sent = try JSONValue(parsing: outcome.stdout)
        let expected: JSONValue = [
            "selector": ["all": true],
            "merge": [
                "scheduler": ["controllers": [["id": "ctrlPeakShaving0", "enabled": false, "parameters": ["threshold_watts": 48000]]]],
                "modbus_devices": [["device_id": "bms_main", "connection": ["host": "10.0.0.7"]]],
                "alarms": [["id": "old_alarm", "$delete": true]],
            ],
        ]
        #expect(sent == expected, "\(outcome.stdout)")
        let index = try Self.cli(["bulk", "acme", "--all", "--dry-run", "--set", "/scheduler/controllers/1/enabled=false"])
        #expect(index.status == 2 && index.stderr.contains("by its id"), "\(index)")
    }
}
