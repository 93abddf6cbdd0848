import Foundation
import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardServer
import SwitchyardServerClient

extension ServerBench {
    /// Conditional GETs under wrk and the size of a delta, on one server.
    func http(directory: String) async throws {
        let server = try await SBServer.start(path: directory + "/http.sqlite")
        do {
            try await conditionalGets(server, directory: directory)
            try await deltaSize(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    // MARK: Conditional GETs

    /// wrk rotating over the edges' config paths, keys and current ETags
    /// (`If-None-Match`): every answer should be 304. Baseline in the same
    /// run: wrk on `/healthz` (no authentication, no ETag).
    func conditionalGets(_ server: SBServer, directory: String) async throws {
        let edges = options.wrkEdges
        let shape = "wrk -t\(options.wrkThreads) -c\(options.wrkConnections) -d\(options.wrkSeconds)s"
        print("conditional GETs answered 304: \(SBFormat.thousands(edges)) edges, each with its own key, rotating over their paths, keys "
            + "and current ETags (If-None-Match); \(shape)")
        guard let wrk = SBProcess.find("wrk") else {
            print("  skipped: wrk is not installed (scripts/install-deps.sh bench installs it)\n")
            return
        }
        let org = try await SBOrganization.build(core: server.core, id: "wrk", sites: 10, edges: edges, siteDevices: options.siteDevices,
                                                 keys: true)
        // The current ETags, as the edges would have them: from a full GET each.
        let etags = SBBox<[String?]>(Array(repeating: nil, count: edges))
        let base = server.baseURL
        try await SBConcurrent.forEach(0..<edges, width: 16) { i in
            let answer = try await ServerClient(baseURL: base, token: org.keys[i]).get("/api/v1/edges/\(org.edgeIds[i])/config")
            guard answer.status == 200, let etag = answer.header("ETag") else {
                throw SBError("GET config of \(org.edgeIds[i]): \(answer.errorText)")
            }
            etags.update { $0[i] = etag }
        }
        var lua = "local edges = {\n"
        for (i, etag) in etags.value.enumerated() {
            lua += "  {'/api/v1/edges/\(org.edgeIds[i])/config', 'Bearer \(org.keys[i])', '\(etag ?? "")'},\n"
        }
        lua += "}\n" + Self.luaRotation
        let script = directory + "/conditional-get.lua"
        try lua.write(toFile: script, atomically: true, encoding: .utf8)

        let common = ["-t\(options.wrkThreads)", "-c\(options.wrkConnections)", "--latency"]
        _ = try await SBProcess.run(wrk, common + ["-d2s", "-s", script, base])  // warm-up
        let conditional = try SBWrk(try await SBProcess.run(wrk, common + ["-d\(options.wrkSeconds)s", "-s", script, base]))
        let health = try SBWrk(try await SBProcess.run(wrk, common + ["-d\(options.wrkSeconds)s", base + "/healthz"]))

        let valid = conditional.non304 == 0 && conditional.socketErrors == nil && conditional.requests > 0
        print("  (wrk and the server share the machine's cores: the figure is the pair's, not the server's alone)")
        print("  GET …/config, If-None-Match → 304  \(SBFormat.thousands(Int(conditional.rate))) req/s   latency p50 \(conditional.p50) "
            + "p99 \(conditional.p99)   \(SBFormat.thousands(conditional.requests)) requests, not 304: \(conditional.non304)"
            + (conditional.firstBadStatus != 0 ? " (first: HTTP \(conditional.firstBadStatus))" : "")
            + (conditional.socketErrors.map { ", socket errors: \($0)" } ?? "")
            + "   target >= 20,000/s: \(valid ? SBFormat.met(conditional.rate >= 20_000) : "INVALID (answers other than 304)")")
        print("  baseline GET /healthz               \(SBFormat.thousands(Int(health.rate))) req/s   latency p50 \(health.p50) p99 \(health.p99)"
            + (health.socketErrors.map { "   socket errors: \($0)" } ?? "")
            + "   conditional / healthz \(SBFormat.fixed(conditional.rate / health.rate * 100, 1)) % (what authentication and the ETag check cost)")
        print("")
    }

    /// The rest of the wrk script: each thread starts at its own offset,
    /// counts answers other than 304 and reports them in `done`.
    static let luaRotation = """
        local n = #edges
        local threads = {}
        function setup(thread)
          thread:set("offset", #threads * 397)
          table.insert(threads, thread)
        end
        function init(args)
          i = offset or 0
          non304 = 0
          firstbad = 0
        end
        function request()
          i = i + 1
          local e = edges[(i % n) + 1]
          return wrk.format("GET", e[1], {["Authorization"] = e[2], ["If-None-Match"] = e[3]})
        end
        function response(status, headers, body)
          if status ~= 304 then
            non304 = non304 + 1
            if firstbad == 0 then firstbad = status end
          end
        end
        function done(summary, latency, requests)
          local bad, first = 0, 0
          for _, t in ipairs(threads) do
            bad = bad + t:get("non304")
            local f = t:get("firstbad")
            if first == 0 and f ~= 0 then first = f end
          end
          io.write(string.format("SWITCHYARD non304=%d first=%d\\n", bad, first))
        end

        """

    // MARK: Delta size

    /// A one-parameter change to the organization layer of an edge with four
    /// layers (about 50 KB merged), and the delta the edge then fetches.
    func deltaSize(_ server: SBServer) async throws {
        let root = server.root
        let org = "/api/v1/orgs/delta"
        try expectStatus(201, try await root.send("POST", "/api/v1/orgs", json: ["id": "delta", "name": "Delta"]), "create organization")
        try expectStatus(200, try await root.send("PUT", "\(org)/sites/site-a", json: ["name": "Site A"]), "put site")
        try expectStatus(200, try await root.send("PUT", "\(org)/groups/grp-eu", json: ["kind": "region", "priority": 10]), "put group")
        try expectStatus(200, try await root.send("PUT", "\(org)/layers/organization/delta", json: SBWorkload.organization()), "organization layer")
        try expectStatus(200, try await root.send("PUT", "\(org)/layers/group/grp-eu", json: SBWorkload.group()), "group layer")
        try expectStatus(200, try await root.send("PUT", "\(org)/layers/site/site-a", json: SBWorkload.site(0, devices: options.siteDevices)),
                   "site layer")
        try expectStatus(200, try await root.send("PUT", "\(org)/edges/edge-a1", json: ["site": "site-a", "groups": ["grp-eu"]]), "put edge")
        try expectStatus(200, try await root.send("PUT", "\(org)/layers/edge/edge-a1", json: SBWorkload.edge(1)), "edge layer")
        let keyAnswer = try await root.send("POST", "\(org)/credentials", json: ["kind": "edge", "edge": "edge-a1"])
        try expectStatus(201, keyAnswer, "edge key")
        guard let key = keyAnswer.json?["secret"]?.stringValue else { throw SBError("no edge key in \(keyAnswer.text)") }
        let edge = server.client(key)

        let full = try await edge.get("/api/v1/edges/edge-a1/config")
        try expectStatus(200, full, "GET config")
        guard let before = full.json, let version = full.header("Switchyard-Config-Version").flatMap({ Int($0) }) else {
            throw SBError("the config answer has no version")
        }
        let newValue = 51_234
        try expectStatus(200, try await root.send("PATCH", "\(org)/layers/organization/delta", json: SBWorkload.change(value: newValue)),
                   "PATCH organization layer")
        let deltaAnswer = try await edge.get("/api/v1/edges/edge-a1/config/delta?since=\(version)")
        try expectStatus(200, deltaAnswer, "GET delta")
        guard let delta = deltaAnswer.json, let patchValue = delta["patch"], let fullSize = delta["full_size"]?.numberValue else {
            throw SBError("the delta answer lacks patch or full_size: \(deltaAnswer.text.prefix(300))")
        }
        let patch = try JSONPatch(decoding: patchValue)
        let after = try patch.apply(to: before)
        let consistent = ConfigDigest(of: after).hex == delta["sha256"]?.stringValue && SBWorkload.changedValue(in: after) == newValue
        let patchBytes = patchValue.canonicalText.utf8.count
        let share = Double(patchBytes) / fullSize * 100
        let answerBytes = deltaAnswer.text.utf8.count
        print("delta for a one-parameter change (a controller parameter PATCHed in the organization layer; the edge has 4 layers: "
            + "organization, group, site with \(options.siteDevices) devices, edge), GET …/config/delta?since=\(version):")
        print("  full config \(SBFormat.thousands(Int(fullSize))) bytes (canonical)   patch \(patchBytes) bytes (\(patch.operations.count) operations, "
            + "canonical) = \(SBFormat.fixed(share, 2)) % of the full config   target <= 1 %: \(SBFormat.met(share <= 1))")
        print("  the whole answer (patch, sha256, signed envelope; pretty-printed) \(SBFormat.thousands(answerBytes)) bytes = "
            + "\(SBFormat.fixed(Double(answerBytes) / fullSize * 100, 2)) %;   patch applied to the previous config gives the new value "
            + "and the announced sha256: \(consistent ? "yes" : "NO")")
        print("")
    }
}

/// What wrk printed.
struct SBWrk {
    var rate: Double = 0
    var requests = 0
    var p50 = "?"
    var p99 = "?"
    var non304 = 0
    var firstBadStatus = 0
    var socketErrors: String?
    var non2xx3xx = 0

    init(_ run: (status: Int32, output: String)) throws {
        guard run.status == 0 else { throw SBError("wrk failed (exit \(run.status)): \(run.output)") }
        var sawRate = false
        for raw in run.output.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.hasPrefix("Requests/sec:"), fields.count >= 2, let value = Double(fields[1]) {
                rate = value
                sawRate = true
            } else if line.contains(" requests in "), let value = Int(fields[0]) {
                requests = value
            } else if line.hasPrefix("50%"), fields.count >= 2 {
                p50 = String(fields[1])
            } else if line.hasPrefix("99%"), fields.count >= 2 {
                p99 = String(fields[1])
            } else if line.hasPrefix("Socket errors:") {
                socketErrors = String(line.dropFirst("Socket errors:".count)).trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("Non-2xx or 3xx responses:"), let value = Int(fields.last ?? "") {
                non2xx3xx = value
            } else if line.hasPrefix("SWITCHYARD") {
                for field in fields.dropFirst() {
                    let parts = field.split(separator: "=")
                    guard parts.count == 2, let value = Int(parts[1]) else { continue }
                    if parts[0] == "non304" { non304 = value }
                    if parts[0] == "first" { firstBadStatus = value }
                }
            }
        }
        guard sawRate else { throw SBError("could not read wrk's output: \(run.output)") }
    }
}

enum SBProcess {
    static func find(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// This program's own path (to start it again as a helper process).
    static func executable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }

    /// Runs a program to its end without holding a thread of the concurrency pool.
    static func run(_ path: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let outputPath = NSTemporaryDirectory() + "switchyard-bench-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).out"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        try handle.close()
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, output)
    }
}

enum SBConcurrent {
    /// Runs `body` for every element, at most `width` at a time; the first error stops the rest.
    static func forEach<S: Sequence & Sendable>(_ items: S, width: Int, _ body: @escaping @Sendable (S.Element) async throws -> Void) async throws
        where S.Element: Sendable {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for item in items {
                if running >= width {
                    try await group.next()
                    running -= 1
                }
                group.addTask { try await body(item) }
                running += 1
            }
            try await group.waitForAll()
        }
    }
}

/// `perf record` of this process around one phase, when SWITCHYARD_BENCH_PERF
/// names a folder (for finding where a missed target's time goes).
final class SBProfiler: Sendable {
    private let pid: pid_t

    init(_ label: String) async {
        guard let folder = ProcessInfo.processInfo.environment["SWITCHYARD_BENCH_PERF"], let perf = SBProcess.find("perf") else {
            pid = 0
            return
        }
        let arguments = [perf, "record", "--no-buildid", "--no-buildid-cache", "-F", "999", "-g", "-p", String(getpid()),
                         "-o", "\(folder)/\(label).perf.data", "--quiet"]
        pid = SBProcess.spawnWithSignalsUnblocked(arguments)
        try? await Task.sleep(for: .milliseconds(500))
    }

    func stop() async {
        guard pid > 0 else { return }
        kill(pid, SIGINT)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 { try? await Task.sleep(for: .milliseconds(20)) }
    }
}

extension SBProcess {
    /// posix_spawn with an empty signal mask: this process blocks SIGINT and
    /// SIGCHLD on its threads, and a child started by Foundation's `Process`
    /// inherits that (perf then never hears its SIGINT). Returns the pid, 0 on failure.
    static func spawnWithSignalsUnblocked(_ arguments: [String]) -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGCHLD)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], nil, &attributes, &argv, environ)
        return result == 0 ? pid : 0
    }
}
