import Foundation
import SwitchyardJSON
import SwitchyardServerClient

#if canImport(Glibc)
import Glibc
#endif

extension AgentBench {
    /// The real `switchyard-edge` (the one built beside this bench) running
    /// the embedded demo site twice, started together and read together:
    /// (a) synced with an in-process server that serves the demo site as its
    /// organization layer, after version 1 was confirmed and one change was
    /// applied through the WebSocket; (b) with sync off, the same config from
    /// a file. Memory is VmRSS and VmHWM of `/proc/PID/status`; the agent's
    /// share is (a) − (b).
    func memory(directory: String) async throws {
        let edgeBinary = (SBProcess.executable() as NSString).deletingLastPathComponent + "/switchyard-edge"
        guard FileManager.default.isExecutableFile(atPath: edgeBinary) else {
            print("memory of the real switchyard-edge: skipped, \(edgeBinary) is not built "
                + "(swift build -c release --product switchyard-edge with the same build folder)\n")
            return
        }
        let folder = directory + "/memory"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let example = try await SBProcess.run(edgeBinary, ["example-config"])
        guard example.status == 0, case .object(var layer)? = try? JSONValue(parsing: example.output) else {
            throw SBError("switchyard-edge example-config failed (exit \(example.status)): \(example.output.prefix(500))")
        }
        let configFile = folder + "/demo-site.json"
        try example.output.write(toFile: configFile, atomically: true, encoding: .utf8)
        for key in ["edge_id", "version", "timestamp"] { layer[key] = nil }

        print("memory of the real switchyard-edge (\(edgeBinary); the embedded demo site: 4 simulated devices, 2 controllers, 1000 ms period; "
            + "plugins from \(options.plugins), profiles from \(options.profiles)), two processes started together and read together:")
        let server = try await SBServer.start(path: folder + "/server.sqlite")
        var edges: [SBEdgeProcess] = []
        do {
            try await memory(server: server, edgeBinary: edgeBinary, layer: .object(layer), configFile: configFile, folder: folder,
                             edges: &edges)
        } catch {
            for edge in edges { edge.stop() }
            await server.stop()
            throw error
        }
        for edge in edges { edge.stop() }
        await server.stop()
        print("")
    }

    private func memory(server: SBServer, edgeBinary: String, layer: JSONValue, configFile: String, folder: String,
                        edges: inout [SBEdgeProcess]) async throws {
        let root = server.root
        let org = "/api/v1/orgs/demo"
        try expectStatus(201, try await root.send("POST", "/api/v1/orgs", json: ["id": "demo", "name": "Demo"]), "create organization")
        try expectStatus(200, try await root.send("PUT", "\(org)/sites/s1", json: ["name": "Site 1"]), "put site")
        try expectStatus(200, try await root.send("PUT", "\(org)/layers/organization/demo", json: layer), "organization layer")
        try expectStatus(200, try await root.send("PUT", "\(org)/edges/demo_edge", json: ["site": "s1"]), "put edge")
        let keyAnswer = try await root.send("POST", "\(org)/credentials", json: ["kind": "edge", "edge": "demo_edge"])
        try expectStatus(201, keyAnswer, "edge key")
        guard let key = keyAnswer.json?["secret"]?.stringValue else { throw SBError("no edge key in \(keyAnswer.text)") }
        let keyFile = folder + "/edge-key"
        let trustFile = folder + "/signing-keys.json"
        try key.write(toFile: keyFile, atomically: true, encoding: .utf8)
        try await root.get("/api/v1/signing-keys").text.write(toFile: trustFile, atomically: true, encoding: .utf8)

        let common = ["--plugins", options.plugins, "--profiles", options.profiles, "--quiet"]
        let synced = try SBEdgeProcess(edgeBinary, name: "synced", folder: folder,
                                       arguments: ["--server", server.baseURL, "--edge-id", "demo_edge", "--key-file", keyFile, "--trust", trustFile]
                                           + common)
        edges.append(synced)
        let local = try SBEdgeProcess(edgeBinary, name: "local", folder: folder, arguments: ["--config", configFile] + common)
        edges.append(local)
        let started = SBTime.now()

        func sync(_ status: JSONValue?) -> JSONValue { status?["sync"] ?? .null }
        guard let first = await synced.wait(seconds: 60, until: { sync($0)["last_confirmed"] == 1 && sync($0)["websocket"] == "up" }) else {
            throw SBError("the synced edge did not confirm version 1 with its WebSocket up within 60 s: "
                + "\(sync(await synced.status()).canonicalText)\n\(synced.output.suffix(2000))")
        }
        let confirmedAt = SBTime.since(started)
        guard await local.wait(seconds: 30, until: { $0["config_version"] == 1 }) != nil else {
            throw SBError("the edge with sync off did not run its config within 30 s:\n\(local.output.suffix(2000))")
        }

        // One change: the peak-shaving threshold, through a PUT of the organization layer.
        var changed = layer
        if case .object(var document) = changed, case .object(var scheduler)? = document["scheduler"],
           case .array(var controllers)? = scheduler["controllers"], case .object(var controller)? = controllers.first,
           case .object(var parameters)? = controller["parameters"] {
            parameters["threshold_watts"] = 6500
            controller["parameters"] = .object(parameters)
            controllers[0] = .object(controller)
            scheduler["controllers"] = .array(controllers)
            document["scheduler"] = .object(scheduler)
            changed = .object(document)
        }
        let sent = SBTime.now()
        try expectStatus(200, try await root.send("PUT", "\(org)/layers/organization/demo", json: changed), "changed organization layer")
        guard let applied = await synced.wait(seconds: 30, until: { $0["config_version"] == 2 }) else {
            throw SBError("the synced edge did not apply version 2 within 30 s: \(sync(await synced.status()).canonicalText)")
        }
        let appliedAfter = SBTime.since(sent)
        let viaDelta = (sync(applied)["traffic"]?["deltas"]?.numberValue ?? 0) >= 1
        // (b) takes the same change through its own POST /config, so that
        // both have run the host's hot reload and the share is the agent's.
        var local2 = changed
        if case .object(var document) = local2 {
            document["edge_id"] = "demo_edge"
            document["version"] = 2
            local2 = .object(document)
        }
        let posted = try await local.post("/config", json: local2)
        guard posted.status == 200 else { throw SBError("POST /config to the edge with sync off: \(posted.status) \(posted.text.prefix(300))") }
        guard await local.wait(seconds: 30, until: { $0["config_version"] == 2 }) != nil else {
            throw SBError("the edge with sync off did not run version 2 within 30 s:\n\(local.output.suffix(2000))")
        }

        // Read both at the same moment, at least 5 s after the start and 1 s after the change.
        try await Task.sleep(for: .seconds(1))
        let wait = 5 - SBTime.since(started)
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
        // Five reads of both, a second apart; the median of each figure (one
        // read may catch a heartbeat's or a cycle's passing allocations).
        var readsA: [SBProcMemory] = []
        var readsB: [SBProcMemory] = []
        for read in 0..<5 {
            if read > 0 { try await Task.sleep(for: .seconds(1)) }
            guard let a = SBProcMemory(pid: synced.pid), let b = SBProcMemory(pid: local.pid) else {
                throw SBError("could not read /proc/PID/status of the edges (exited?):\n\(synced.output.suffix(1000))\n\(local.output.suffix(1000))")
            }
            readsA.append(a)
            readsB.append(b)
        }
        let age = SBTime.since(started)
        let a = SBProcMemory.median(readsA)
        let b = SBProcMemory.median(readsB)
        let afterStatus = await synced.status()
        let mappingsA = SBProcMemory.byMapping(pid: synced.pid) ?? [:]
        let mappingsB = SBProcMemory.byMapping(pid: local.pid) ?? [:]

        print("  (a) sync on:  --server (this process, 127.0.0.1) --edge-id --key-file --trust; version \(sync(first)["last_confirmed"]?.canonicalText ?? "?") "
            + "fetched and confirmed (10 probation cycles of 1000 ms) with the WebSocket up \(SBFormat.seconds(confirmedAt)) after start; a PUT of the organization layer applied as version 2 "
            + "\(SBFormat.seconds(appliedAfter)) after it was sent (\(viaDelta ? "as a delta" : "NOT as a delta"); status polled every 50 ms; "
            + "includes the wait for a cycle boundary, up to one 1000 ms period)")
        print("  (b) sync off: --config with the same document (the output of switchyard-edge example-config), no --server; "
            + "the same change as version 2 through its POST /config (both have run the host's hot reload)")
        print("  both read 5 times, 1 s apart, until \(SBFormat.fixed(age, 1)) s after start; the medians:")
        print("                                   VmRSS      VmHWM    RssAnon    RssFile")
        func row(_ label: String, _ m: SBProcMemory) -> String {
            "    \(label)\(SBProcMemory.mb(m.rssKB))  \(SBProcMemory.mb(m.hwmKB))  \(SBProcMemory.mb(m.anonKB))  \(SBProcMemory.mb(m.fileKB))"
        }
        print(row("(a) sync on              ", a))
        print(row("(b) sync off             ", b))
        // The floor, in the same run: this binary starting, loading its
        // libraries (the Swift runtime, Foundation with ICU, NIO, SQLite),
        // printing its example config and exiting. GNU time reads the peak
        // (wait4 from this process would report this process's own size: a
        // spawned child's ru_maxrss starts from its parent's).
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/time"),
           let timed = try? await SBProcess.run("/bin/sh", ["-c", "/usr/bin/time -f %M '\(edgeBinary)' example-config 2>&1 >/dev/null"]),
           let floorKB = Int(timed.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last ?? "") {
            print("    floor: the same binary starting and printing its example config, nothing else: peak "
                + "\(SBProcMemory.mb(floorKB).trimmingCharacters(in: .whitespaces)) (GNU time, %M)")
        }
        let share = SBProcMemory(rssKB: a.rssKB - b.rssKB, hwmKB: a.hwmKB - b.hwmKB, anonKB: a.anonKB - b.anonKB, fileKB: a.fileKB - b.fileKB)
        print(row("the agent's share (a − b)", share))
        let rssTarget = 24_000_000.0
        let shareTarget = 5_000_000.0
        print("    target (a) VmRSS <= 24 MB: \(SBFormat.met(Double(a.rssKB) * 1024 <= rssTarget))   "
            + "target the agent's share <= 5 MB: \(SBFormat.met(Double(share.rssKB) * 1024 <= shareTarget))   (MB = 10^6 bytes)")
        // Where the share lies: the mappings that grew most with sync on.
        let grown = Set(mappingsA.keys).union(mappingsB.keys)
            .map { ($0, (mappingsA[$0] ?? 0) - (mappingsB[$0] ?? 0)) }
            .filter { $0.1 >= 64 }
            .sorted { $0.1 > $1.1 }
        if !grown.isEmpty {
            print("    the share by mapping (resident kB with sync on − off, /proc/PID/smaps; 64 kB and more): "
                + grown.prefix(10).map { "\($0.0) \($0.1)" }.joined(separator: ", "))
        }
        let largest = mappingsA.sorted { $0.value > $1.value }.prefix(8)
        print("    (a)'s largest mappings (resident kB): " + largest.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        // To look closer (pmap, /proc/PID/smaps): SWITCHYARD_BENCH_HOLD_S keeps both edges running that long.
        if let hold = ProcessInfo.processInfo.environment["SWITCHYARD_BENCH_HOLD_S"].flatMap(Double.init), hold > 0 {
            print("    holding the edges for \(hold) s: (a) pid \(synced.pid), (b) pid \(local.pid)")
            try await Task.sleep(for: .milliseconds(Int64(hold * 1000)))
        }
        if sync(afterStatus)["state"]?.stringValue != "probation" && sync(afterStatus)["state"]?.stringValue != "confirmed" {
            print("    note: the synced edge's sync state when read: \(sync(afterStatus).canonicalText)")
        }
    }
}

/// A `switchyard-edge run` process with its own data folder, status port and log.
final class SBEdgeProcess: @unchecked Sendable {
    // @unchecked: `process` is only started in init and then read (pid, isRunning)
    // or signalled; Foundation's Process is not marked Sendable.
    let process = Process()
    let statusPort: Int
    let log: String
    private let client: ServerClient

    init(_ binary: String, name: String, folder: String, arguments: [String]) throws {
        statusPort = try SBEdgeProcess.freePort()
        log = "\(folder)/edge-\(name).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--data", "\(folder)/edge-\(name)", "--status-port", String(statusPort)] + arguments
        process.standardOutput = handle
        process.standardError = handle
        client = ServerClient(baseURL: "http://127.0.0.1:\(statusPort)", token: nil, failFast: true)
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }
    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func post(_ path: String, json body: JSONValue) async throws -> ServerClient.Answer {
        try await client.send("POST", path, json: body)
    }

    /// The status document, or nil while the port does not answer.
    func status() async -> JSONValue? {
        guard let answer = try? await client.get("/status", timeoutSeconds: 2), answer.status == 200 else { return nil }
        return answer.json
    }

    /// Polls the status every 50 ms until `condition` holds; nil after `seconds`.
    func wait(seconds: Double, until condition: (JSONValue) -> Bool) async -> JSONValue? {
        let deadline = SBTime.now() + UInt64(seconds * 1e9)
        while SBTime.now() < deadline, process.isRunning {
            if let status = await status(), condition(status) { return status }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// SIGTERM, then SIGKILL if it has not stopped within 10 s.
    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = SBTime.now() + 10_000_000_000
        while process.isRunning, SBTime.now() < deadline { usleep(20_000) }
        if process.isRunning { kill(pid, SIGKILL) }
    }

    /// A port that was free a moment ago (bound to 0 and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SBError("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw SBError("bind: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Resident memory of a process, from `/proc/PID/status` (kB as the kernel counts them: KiB).
struct SBProcMemory {
    var rssKB: Int
    var hwmKB: Int
    var anonKB: Int
    var fileKB: Int

    init(rssKB: Int, hwmKB: Int, anonKB: Int, fileKB: Int) {
        self.rssKB = rssKB
        self.hwmKB = hwmKB
        self.anonKB = anonKB
        self.fileKB = fileKB
    }

    init?(pid: pid_t) {
        guard let text = SBProcMemory.procText("/proc/\(pid)/status") else { return nil }
        var values: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let fields = parts[1].split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count == 2, fields[1] == "kB", let value = Int(fields[0]) { values[String(parts[0])] = value }
        }
        guard let rss = values["VmRSS"], let hwm = values["VmHWM"] else { return nil }
        self.init(rssKB: rss, hwmKB: hwm, anonKB: values["RssAnon"] ?? 0, fileKB: values["RssFile"] ?? 0)
    }

    /// Resident kB by what is mapped (a file's name, `[heap]`, `[anon]`,
    /// `[stack]`), from `/proc/PID/smaps`; nil if it cannot be read.
    static func byMapping(pid: pid_t) -> [String: Int]? {
        guard let text = procText("/proc/\(pid)/smaps") else { return nil }
        var sizes: [String: Int] = [:]
        var current = "[anon]"
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.contains("-"), fields.count >= 5, first.first?.isHexDigit == true {
                // A mapping's header: address range, permissions, offset, device, inode, [name].
                current = fields.count >= 6 ? (String(fields[5]) as NSString).lastPathComponent : "[anon]"
                if fields.count >= 6, fields[5].contains("/plugin-versions/"), let dash = current.firstIndex(of: "-") {
                    // A plugin's loaded copy (libName-<inode>-<time>.so): its name.
                    current = String(current[..<dash]) + ".so"
                }
            } else if first == "Rss:", fields.count >= 2, let kB = Int(fields[1]) {
                sizes[current, default: 0] += kB
            }
        }
        return sizes
    }

    /// A /proc file read to its end: /proc files have no size, and a read
    /// sized from it stops short (smaps came back cut at a few mappings).
    static func procText(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Each figure's median over `reads`.
    static func median(_ reads: [SBProcMemory]) -> SBProcMemory {
        func middle(_ values: [Int]) -> Int { values.sorted()[values.count / 2] }
        return SBProcMemory(rssKB: middle(reads.map(\.rssKB)), hwmKB: middle(reads.map(\.hwmKB)), anonKB: middle(reads.map(\.anonKB)),
                            fileKB: middle(reads.map(\.fileKB)))
    }

    /// MB of 10^6 bytes, right-aligned.
    static func mb(_ kB: Int) -> String {
        let text = SBFormat.fixed(Double(kB) * 1024 / 1e6, 1) + " MB"
        return String(repeating: " ", count: max(0, 9 - text.count)) + text
    }
}
