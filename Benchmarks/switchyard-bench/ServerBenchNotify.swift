import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import Synchronization
import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardServer
import SwitchyardServerClient

extension ServerBench {
    /// 10,000 edges connected to `/ws/edges/{id}/notify`, each having said
    /// hello with its version; one change to the organization layer; the
    /// time from the PATCH (and from the commit) to each socket's receipt.
    ///
    /// The clients run in a child process (this executable again, with
    /// `--server-notify-clients`): client and server ends of 10,000 sockets
    /// in one process would need more than the 20,000 open files this
    /// machine's hard limit allows. Both use CLOCK_MONOTONIC, so their times compare.
    func notifyFanOut(directory: String) async throws {
        let count = options.sockets
        print("notify fan-out to \(SBFormat.thousands(count)) open WebSockets (one per edge with its own key; HummingbirdWSClient clients in a "
            + "child process, on the same 2 cores as the server), each having said hello with its version; then one PATCH of the organization layer:")
        let server = try await SBServer.start(path: directory + "/notify.sqlite")
        var child: Process?
        do {
            try await notifyFanOut(server: server, directory: directory, child: &child)
        } catch {
            if let child, child.isRunning { child.terminate() }
            await server.stop()
            throw error
        }
        if let child, child.isRunning { child.terminate() }
        await server.stop()
        print("")
    }

    private func notifyFanOut(server: SBServer, directory: String, child: inout Process?) async throws {
        let count = options.sockets
        let org = try await SBOrganization.build(core: server.core, id: "ws", sites: max(1, count / 100), edges: count,
                                                 siteDevices: options.siteDevices, keys: true)
        print("  setup \(SBFormat.seconds(org.setupSeconds + org.firstVersionSeconds)): \(SBFormat.thousands(count)) edges over "
            + "\(SBFormat.thousands(max(1, count / 100))) sites (site layers with \(options.siteDevices) devices), all at version \(org.version)")

        let spec = SBNotifyClients.Spec(directory: directory + "/notify-clients")
        try FileManager.default.createDirectory(atPath: spec.directory, withIntermediateDirectories: true)
        var lines = "ws://127.0.0.1:\(server.port)\n\(org.version)\n"
        for i in 0..<count { lines += "\(org.edgeIds[i]) \(org.keys[i])\n" }
        try lines.write(toFile: spec.sockets, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: SBProcess.executable())
        process.arguments = ["--server-notify-clients", spec.directory]
        _ = FileManager.default.createFile(atPath: spec.log, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: spec.log))
        process.standardOutput = log
        process.standardError = log
        let connectStart = SBTime.now()
        try process.run()
        child = process
        let connectDeadline = connectStart + 240_000_000_000
        while !FileManager.default.fileExists(atPath: spec.ready), process.isRunning, SBTime.now() < connectDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        guard let ready = SBNotifyClients.readJSON(spec.ready) else {
            throw SBError("the WebSocket clients did not get ready: \((try? String(contentsOfFile: spec.log, encoding: .utf8)) ?? "")")
        }
        let connected = Int(ready["connected"]?.numberValue ?? 0)
        let failed = Int(ready["failed"]?.numberValue ?? 0)
        print("  \(SBFormat.thousands(connected)) of \(SBFormat.thousands(count)) connected and said hello in \(SBFormat.seconds(SBTime.since(connectStart)))"
            + (failed > 0 ? "; \(failed) failed (first: \(ready["first_error"]?.stringValue ?? "?"))" : ""))
        // Let the server take every hello before the change.
        try await Task.sleep(for: .seconds(2))

        let (committedAt, eventListener) = SBBlocking.commitListener(server.store, org: org.id)
        let newValue = 71_234
        let profiler = await SBProfiler("notify")
        let sent = SBTime.now()
        let answer = try await server.root.send("PATCH", "/api/v1/orgs/\(org.id)/layers/organization/\(org.id)",
                                                json: SBWorkload.change(value: newValue))
        let answered = SBTime.now()
        guard answer.status == 200 else { throw SBError("PATCH of the organization layer: \(answer.errorText)") }
        // The clients exit once every connected socket has a message; past the deadline they are told to stop.
        let deadline = sent + 60_000_000_000
        while process.isRunning, SBTime.now() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning {
            _ = FileManager.default.createFile(atPath: spec.stop, contents: nil)
            let stopDeadline = SBTime.now() + 20_000_000_000
            while process.isRunning, SBTime.now() < stopDeadline { try await Task.sleep(for: .milliseconds(10)) }
        }
        eventListener.cancel()
        await profiler.stop()
        let committed = committedAt.value

        var times: [UInt64] = []
        var early = 0
        var withDelta = 0
        var wrong: [String] = []
        var sampleMessages: [(Int, String)] = []
        let results = (try? String(contentsOfFile: spec.results, encoding: .utf8)) ?? ""
        for line in results.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 2)
            guard parts.count == 3, let i = Int(parts[0]), let at = UInt64(parts[1]) else { continue }
            if at < sent {
                early += 1
                continue
            }
            times.append(at)
            let text = String(parts[2])
            guard let message = try? JSONValue(parsing: text), message["type"]?.stringValue == "config",
                  message["version"]?.numberValue == Double(org.version + 1) else {
                if wrong.count < 3 { wrong.append("\(org.edgeIds[i]): \(text.prefix(160))") }
                continue
            }
            if message["patch"] != nil, message["base_version"]?.numberValue == Double(org.version) { withDelta += 1 }
            if i % max(1, count / 20) == 0, let sha = message["sha256"]?.stringValue { sampleMessages.append((i, sha)) }
        }
        times.sort()

        let fromSent = times.map { Double($0 - sent) / 1e9 }
        let fromCommit = committed > 0 ? times.map { (Double($0) - Double(committed)) / 1e9 } : []
        let fromAnswer = times.map { (Double($0) - Double(answered)) / 1e9 }
        // The target is from commit to delivery (issue 5); without a change event, from the PATCH sent.
        let p99 = SBStats.percentile(fromCommit.isEmpty ? fromSent : fromCommit, 0.99)
        let all = times.count == count
        print("  PATCH request → 200 \(SBFormat.seconds(Double(answered - sent) / 1e9)); commit heard "
            + (committed > sent ? "\(SBFormat.seconds(Double(committed - sent) / 1e9)) after the PATCH was sent" : "(no change event seen)"))
        print("  received the new version: \(SBFormat.thousands(times.count)) of \(SBFormat.thousands(count))"
            + (early > 0 ? " (and \(early) sockets got a message before the change)" : ""))
        func line(_ label: String, _ values: [Double]) -> String {
            guard !values.isEmpty else { return "    \(label)  (none)" }
            return "    \(label)  p50 \(SBFormat.seconds(SBStats.percentile(values, 0.5)))   p99 \(SBFormat.seconds(SBStats.percentile(values, 0.99)))   "
                + "max \(SBFormat.seconds(values.last!))"
        }
        print(line("from the PATCH sent          ", fromSent) + "   (includes planning and committing the change)")
        if !fromCommit.isEmpty { print(line("from the commit (store event)", fromCommit)) }
        print("    target p99 <= 1 s from commit to delivery, all \(SBFormat.thousands(count)): \(SBFormat.met(p99 <= 1 && all))")
        print(line("from the PATCH's 200         ", fromAnswer) + "   (negative: delivered before the 200 reached the client)")

        var matching = 0
        for (i, sha) in sampleMessages {
            let full = try await server.client(org.keys[i]).get("/api/v1/edges/\(org.edgeIds[i])/config")
            if full.header("ETag") == "\"\(sha)\"", let config = full.json, SBWorkload.changedValue(in: config) == newValue { matching += 1 }
        }
        print("    messages: \(SBFormat.thousands(withDelta)) with the delta from version \(org.version) inline; sha256 of \(matching) of "
            + "\(sampleMessages.count) sampled messages matches the edge's full GET")
        for problem in wrong { print("      unexpected: \(problem)") }
    }
}

/// The child process of the notify figure: connects the WebSockets listed in
/// its folder, says hello on each, reports when all are connected, records
/// the first message each gets (CLOCK_MONOTONIC and text), and exits once
/// every socket has one (or when told to stop).
enum SBNotifyClients {
    struct Spec {
        var directory: String
        var sockets: String { directory + "/sockets.txt" }
        var ready: String { directory + "/ready.json" }
        var results: String { directory + "/results.txt" }
        var stop: String { directory + "/stop" }
        var log: String { directory + "/clients.log" }
    }

    static func readJSON(_ path: String) -> JSONValue? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return try? JSONValue(parsing: text)
    }

    static func runBlocking(directory: String) throws {
        try SBBlocking.run { try await run(Spec(directory: directory)) }
        // 10,000 sockets close with the process.
        exit(0)
    }

    static func run(_ spec: Spec) async throws {
        _ = SBFiles.raiseOpenFilesLimit(to: 65_536)
        let text = try String(contentsOfFile: spec.sockets, encoding: .utf8)
        let lines = text.split(separator: "\n")
        guard lines.count >= 2, let hello = Int(lines[1]) else { throw SBError("bad socket list \(spec.sockets)") }
        let base = String(lines[0])
        let sockets = lines.dropFirst(2).map { $0.split(separator: " ").map(String.init) }
        let listeners = SBListeners(count: sockets.count)
        listeners.arm(at: 0)
        let started = SBTime.now()
        var tasks: [Task<Void, Never>] = []
        for (i, socket) in sockets.enumerated() {
            while listeners.handshaking >= 128 { try await Task.sleep(for: .milliseconds(1)) }
            listeners.launch()
            let url = "\(base)/ws/edges/\(socket[0])/notify"
            tasks.append(Task { await listeners.listen(index: i, url: url, key: socket[1], hello: hello) })
        }
        while listeners.handshaking > 0 { try await Task.sleep(for: .milliseconds(10)) }
        let ready: JSONValue = [
            "connected": .number(Double(listeners.connected)), "failed": .number(Double(listeners.failed)),
            "first_error": listeners.firstError.map(JSONValue.string) ?? .null, "seconds": .number(SBTime.since(started)),
        ]
        try ready.canonicalText.write(toFile: spec.ready, atomically: true, encoding: .utf8)
        let deadline = SBTime.now() + 300_000_000_000
        while listeners.receivedCount < listeners.connected, SBTime.now() < deadline, !FileManager.default.fileExists(atPath: spec.stop) {
            try await Task.sleep(for: .milliseconds(5))
        }
        let times = listeners.allReceiptTimes()
        var out = ""
        for (i, text) in listeners.texts() { out += "\(i) \(times[i]) \(text)\n" }
        try out.write(toFile: spec.results, atomically: true, encoding: .utf8)
    }
}

/// The WebSocket clients: connection state, and the first message each got after the change.
final class SBListeners: Sendable {
    private struct State {
        var launched = 0
        var connected = 0
        var failed = 0
        var closed = 0
        var firstError: String?
        var armedAt: UInt64 = .max
        var times: [UInt64]
        var texts: [String?]
        var received = 0
        var early = 0
    }

    private let state: Mutex<State>
    private let logger: Logger

    init(count: Int) {
        state = Mutex(State(times: Array(repeating: 0, count: count), texts: Array(repeating: nil, count: count)))
        var logger = Logger(label: "switchyard-bench-ws")
        logger.logLevel = .critical
        self.logger = logger
    }

    var handshaking: Int { state.withLock { $0.launched - $0.connected - $0.failed } }
    var connected: Int { state.withLock { $0.connected } }
    var failed: Int { state.withLock { $0.failed } }
    var firstError: String? { state.withLock { $0.firstError } }
    var open: Int { state.withLock { $0.connected - $0.closed } }
    var receivedCount: Int { state.withLock { $0.received } }
    var earlyCount: Int { state.withLock { $0.early } }

    func launch() { state.withLock { $0.launched += 1 } }
    func arm(at time: UInt64) { state.withLock { $0.armedAt = time } }

    func allReceiptTimes() -> [UInt64] { state.withLock { $0.times } }
    func texts() -> [(Int, String)] {
        state.withLock { $0.texts.enumerated().compactMap { i, text in text.map { (i, $0) } } }
    }

    func listen(index: Int, url: String, key: String, hello: Int) async {
        var configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 22, closeTimeout: .seconds(1))
        configuration.additionalHeaders = [.authorization: "Bearer \(key)"]
        let helloText = JSONValue.object(["type": "hello", "version": .number(Double(hello))]).canonicalText
        let didConnect = SBFlag()
        do {
            try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
                try await outbound.write(.text(helloText))
                didConnect.set()
                self.state.withLock { $0.connected += 1 }
                for try await message in inbound.messages(maxSize: 1 << 22) {
                    let at = SBTime.now()
                    guard case .text(let text) = message else { continue }
                    self.state.withLock { state in
                        if at < state.armedAt {
                            state.early += 1
                        } else if state.times[index] == 0 {
                            state.times[index] = at
                            state.texts[index] = text
                            state.received += 1
                        }
                    }
                }
            }
        } catch {
            if !didConnect.isSet {
                state.withLock { state in
                    state.failed += 1
                    if state.firstError == nil { state.firstError = "\(error)" }
                }
                return
            }
        }
        if didConnect.isSet { state.withLock { $0.closed += 1 } }
    }
}
