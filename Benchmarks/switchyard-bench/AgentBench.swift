import Foundation
import Logging
import Synchronization
import SwitchyardAgent
import SwitchyardConfigDoc
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel
import SwitchyardServer
import SwitchyardServerClient

#if canImport(Glibc)
import Glibc
#endif

/// The edge sync agent's figures of `make bench` (issue 6): change → applied
/// through the WebSocket for one edge and for 1,000 simulated edges, the
/// bytes a change costs on the wire, and the memory of the real
/// `switchyard-edge` with sync on and off (`AgentBench+Memory.swift`).
///
/// Simulated edges are `SyncAgent` instances in this process, each with its
/// own cache file and key, over a `SimulatedApplier`: the agent's whole path
/// runs (WebSocket, delta, signature, hash, cache, probation, heartbeats);
/// only the host is left out. They share the machine's cores with the
/// server, so the fleet's figure includes 1,000 edges' work done on 2 cores.
struct AgentBench {
    struct Options: Sendable {
        var edges = 1000
        var changesOne = 5
        var changesFleet = 3
        /// Modbus devices in the site layer: 100 makes the config about 44 KB, as in the server section.
        var siteDevices = 100
        /// Which figures: one (one edge, with the bytes per change), steps (one version's work, step by step), fleet, memory.
        var parts: Set<String> = ["one", "steps", "fleet", "memory"]
        /// The plugins the real edge loads.
        var plugins = "."
        /// The profiles the real edge loads.
        var profiles = "DeviceProfiles"
    }

    let options: Options

    func runBlocking() throws {
        let options = options
        try SBBlocking.run { try await AgentBench(options: options).run() }
    }

    func run() async throws {
        let started = SBTime.now()
        let files = SBFiles.raiseOpenFilesLimit(to: 65_536)
        print("Edge sync agent — SyncAgent instances and the real switchyard-edge against in-process servers on 127.0.0.1, "
            + "SQLite stores and caches in a temporary folder, release build")
        print("machine: \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores, shared by the server and its edges; open files limit \(files)\n")
        let directory = NSTemporaryDirectory() + "switchyard-bench-agent-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        if options.parts.contains("one") { try await latency(edges: 1, changes: options.changesOne, directory: directory) }
        if options.parts.contains("steps") { try await steps(directory: directory) }
        if options.parts.contains("fleet") { try await latency(edges: options.edges, changes: options.changesFleet, directory: directory) }
        if options.parts.contains("memory") { try await memory(directory: directory) }
        print("agent section: \(SBFormat.seconds(SBTime.since(started))) in all\n")
    }

    // MARK: Change → applied

    /// `count` simulated edges against a fresh server: boot, wait until every
    /// one has confirmed version 1 and has its WebSocket up, then `changes`
    /// PATCHes of the organization layer, each waited out (applied and
    /// confirmed by every edge) before the next, so that no change waits
    /// behind the probation of the one before.
    func latency(edges count: Int, changes: Int, directory: String) async throws {
        let folder = directory + "/latency-\(count)"
        // One edge keeps its cache on disk, fsyncs and all. A thousand edges'
        // fsyncs on this one disk, through 2 threads, would measure the disk:
        // their caches go to tmpfs when there is one.
        let tmpfs = "/dev/shm/switchyard-bench-agent-\(getpid())"
        let caches = count > 1 && FileSystem.isDirectory("/dev/shm") ? tmpfs : folder + "/caches"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: caches, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmpfs) }
        let server = try await SBServer.start(path: folder + "/server.sqlite")
        var fleet: SimulatedFleet?
        do {
            try await latency(server: server, count: count, changes: changes, folder: folder, caches: caches, fleet: &fleet)
        } catch {
            _ = await fleet?.stop()
            await server.stop()
            throw error
        }
        let stopped = await fleet?.stop() ?? true
        await server.stop()
        if !stopped { print("  (some agents' tasks had not ended 10 s after they were cancelled)") }
        print("")
    }

    private func latency(server: SBServer, count: Int, changes: Int, folder: String, caches: String,
                         fleet: inout SimulatedFleet?) async throws {
        let one = count == 1
        let org = try await SBOrganization.build(core: server.core, id: one ? "one" : "fleet", sites: max(1, count / 100), edges: count,
                                                 siteDevices: options.siteDevices, keys: true)
        let trust = folder + "/signing-keys.json"
        try await server.root.get("/api/v1/signing-keys").text.write(toFile: trust, atomically: true, encoding: .utf8)
        let verifier = try TrustedKeys.verifier(file: trust, pairs: [])
        let sample = try await server.client(org.keys[0]).get("/api/v1/edges/\(org.edgeIds[0])/config")
        guard sample.status == 200 else { throw SBError("GET config of \(org.edgeIds[0]): \(sample.errorText)") }
        let configBytes = sample.text.utf8.count

        print(one
            ? "change → applied through the WebSocket, 1 edge (a SyncAgent in this process, its own AgentCache file and key; a "
                + "SimulatedApplier: validation is the agent's parse, applying does nothing, cycles advance every 100 ms so that probation "
                + "ends; onApplied records the time), \(changes) PATCHes of the organization layer, one controller parameter each:"
            : "change → applied through the WebSocket, \(SBFormat.thousands(count)) simulated edges (SyncAgent instances in this process, "
                + "each with its own AgentCache file and key, the same SimulatedApplier), \(changes) PATCHes of the organization layer:")
        print("  config \(SBFormat.thousands(configBytes)) bytes (organization layer with \(SBWorkload.controllers) controllers and "
            + "\(SBWorkload.alarms) alarms, site layer with \(options.siteDevices) devices; 1 edge in 100 with an edge layer); "
            + "setup \(SBFormat.seconds(org.setupSeconds + org.firstVersionSeconds)), all edges at version \(org.version); "
            + "agent caches in \(caches.hasPrefix("/dev/shm") ? "tmpfs (/dev/shm)" : "the temporary folder, on disk")")

        let log = AgentLog()
        let cacheStart = SBTime.now()
        let made = try await SimulatedFleet(serverURL: server.baseURL, edgeIds: org.edgeIds, keys: org.keys, verifier: verifier,
                                            folder: caches, logger: log.logger)
        fleet = made
        let cacheSeconds = SBTime.since(cacheStart)
        let bootStart = SBTime.now()
        made.start()
        let (ready, readySeconds) = await made.wait(seconds: 120) { s in
            s["last_confirmed"]?.numberValue == Double(org.version) && s["websocket"]?.stringValue == "up"
        }
        print("  caches opened and booted in \(SBFormat.seconds(cacheSeconds)); \(SBFormat.thousands(ready)) of \(SBFormat.thousands(count)) "
            + "fetched, confirmed version \(org.version) and had the WebSocket up \(SBFormat.seconds(readySeconds)) after start")
        guard ready == count else {
            print("  not every edge got ready: \(made.firstStatus { $0["last_confirmed"]?.numberValue != Double(org.version) }?.canonicalText ?? "?")")
            log.printSummary()
            return
        }
        // Let the server take every hello, and the agents send their first
        // metrics heartbeat (5 s after start), before the quiet measurement.
        try await Task.sleep(for: .milliseconds(Int64(max(1, 6.5 - SBTime.since(bootStart)) * 1000)))
        let idleProfiler = await SBProfiler("agent-\(org.id)-idle")
        let idleStart = SBTime.now()
        let idleCPU = SBCPU.processSeconds()
        try await Task.sleep(for: .seconds(3))
        let idleShare = (SBCPU.processSeconds() - idleCPU) / SBTime.since(idleStart) * 100
        await idleProfiler.stop()
        print("  this process's CPU with the \(SBFormat.thousands(count)) agent\(one ? "" : "s") connected and nothing to do: "
            + "\(SBFormat.fixed(idleShare, 1)) % of one core (server included), over 3 s")

        var fromSent: [Double] = []
        var fromCommit: [Double] = []
        var missing = 0
        var perChange: [String] = []
        var cpuSeconds: [Double] = []
        var deltaBytes: [Int] = []
        var fullFetchesDuringChanges = 0
        var deltasDuringChanges = 0
        for change in 0..<changes {
            let version = org.version + 1 + change
            let trafficBefore = made.totalTraffic()
            let oneBefore = made.agents[0].traffic
            let (committedAt, listener) = SBBlocking.commitListener(server.store, org: org.id)
            let profiler = await SBProfiler("agent-\(org.id)-\(version)")
            let cpuBefore = SBCPU.processSeconds()
            let sent = SBTime.now()
            let answer = try await server.root.send("PATCH", "/api/v1/orgs/\(org.id)/layers/organization/\(org.id)",
                                                    json: SBWorkload.change(value: 60_000 + 100 * change))
            let answered = SBTime.now()
            guard answer.status == 200 else { throw SBError("PATCH of the organization layer: \(answer.errorText)") }
            let deadline = sent + 30_000_000_000
            while made.applied.count(version: version) < count, SBTime.now() < deadline { try await Task.sleep(for: .milliseconds(2)) }
            let cpu = SBCPU.processSeconds() - cpuBefore
            cpuSeconds.append(cpu)
            await profiler.stop()
            listener.cancel()
            let committed = committedAt.value
            let times = made.applied.times(version: version)
            missing += count - times.count
            let sentTimes = times.map { Double($0 - min($0, sent)) / 1e9 }.sorted()
            fromSent += sentTimes
            if committed > 0 { fromCommit += times.map { (Double($0) - Double(committed)) / 1e9 } }
            let trafficAfter = made.totalTraffic()
            let fullFetches = trafficAfter.fullConfigs - trafficBefore.fullConfigs
            fullFetchesDuringChanges += fullFetches
            deltasDuringChanges += trafficAfter.deltas - trafficBefore.deltas
            let oneAfter = made.agents[0].traffic
            if oneAfter.deltas == oneBefore.deltas + 1, oneAfter.fullConfigs == oneBefore.fullConfigs {
                deltaBytes.append(oneAfter.deltaBytes - oneBefore.deltaBytes)
            }
            let commitNote = committed > sent ? "commit heard at \(SBFormat.seconds(Double(committed - sent) / 1e9))" : "no commit event seen"
            if one {
                perChange.append("    version \(version): applied \(sentTimes.first.map(SBFormat.seconds) ?? "never") after the PATCH was sent "
                    + "(200 at \(SBFormat.seconds(Double(answered - sent) / 1e9)), \(commitNote))")
            } else {
                perChange.append("    version \(version): \(SBFormat.thousands(times.count)) applied   p50 \(SBFormat.seconds(SBStats.percentile(sentTimes, 0.5)))"
                    + "   p99 \(SBFormat.seconds(SBStats.percentile(sentTimes, 0.99)))   max \(sentTimes.last.map(SBFormat.seconds) ?? "-")   "
                    + "(200 at \(SBFormat.seconds(Double(answered - sent) / 1e9)), \(commitNote); this process's CPU until the last "
                    + "was applied \(SBFormat.seconds(cpu)), \(SBFormat.fixed(cpu / Double(max(times.count, 1)) * 1000, 2)) ms per edge; "
                    + "full configs fetched meanwhile: \(fullFetches))")
            }
            // Every edge ends its probation before the next change.
            let (confirmed, _) = await made.wait(seconds: 30) { $0["last_confirmed"]?.numberValue == Double(version) }
            if confirmed < count {
                perChange.append("      only \(confirmed) of \(count) confirmed version \(version) within 30 s: "
                    + "\(made.firstStatus { $0["last_confirmed"]?.numberValue != Double(version) }?.canonicalText ?? "?")")
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        for line in perChange { print(line) }

        fromSent.sort()
        fromCommit.sort()
        func line(_ label: String, _ values: [Double]) -> String {
            guard let last = values.last else { return "  \(label)  (none)" }
            return "  \(label)  p50 \(SBFormat.seconds(SBStats.percentile(values, 0.5)))   p99 \(SBFormat.seconds(SBStats.percentile(values, 0.99)))   "
                + "max \(SBFormat.seconds(last))"
        }
        let expected = count * changes
        print("  all \(changes) changes, \(SBFormat.thousands(fromSent.count)) of \(SBFormat.thousands(expected)) applications:")
        print(line("  from the PATCH sent          ", fromSent) + "   (includes planning and committing the change)")
        if !fromCommit.isEmpty { print(line("  from the commit (store event)", fromCommit)) }
        let p99 = SBStats.percentile(fromSent, 0.99)
        print("    target p99 <= 1 s from the operator's change to applied, every edge: \(SBFormat.met(p99 <= 1 && missing == 0))"
            + (missing > 0 ? " (\(missing) applications missing after 30 s)" : ""))
        print("    the changes arrived as \(SBFormat.thousands(deltasDuringChanges)) deltas and \(fullFetchesDuringChanges) full configs")
        if !one, let median = cpuSeconds.sorted().dropFirst(cpuSeconds.count / 2).first {
            let cores = Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
            print("    (the agents work on the same \(Int(cores)) cores as the server: a change cost this process \(SBFormat.seconds(median)) of CPU "
                + "(median), so the last edge could not have it before about \(SBFormat.seconds(median / cores)))")
        }

        if one {
            // The full config as the edge fetches it (its envelope travels in a header, not counted).
            let full = try await server.client(org.keys[0]).get("/api/v1/edges/\(org.edgeIds[0])/config")
            let fullBytes = full.text.utf8.count
            if deltaBytes.isEmpty {
                print("  bytes per change: no change came as exactly one delta; the agent's traffic: \(made.agents[0].traffic)")
            } else {
                let mean = Double(deltaBytes.reduce(0, +)) / Double(deltaBytes.count)
                print("  bytes per change (the agent's count: the WebSocket message's text, i.e. patch, sha256 and signed envelope; no framing):")
                print("    delta \(SBFormat.fixed(mean, 0)) bytes (mean of \(deltaBytes.count); \(deltaBytes.min()!)–\(deltaBytes.max()!))   "
                    + "full config GET \(SBFormat.thousands(fullBytes)) bytes (body)   delta / full \(SBFormat.fixed(mean / Double(fullBytes) * 100, 2)) %")
            }
        }
        log.printSummary()
    }
}

// MARK: Simulated edges

/// The host of a simulated edge: validation is the agent's own parse of the
/// document (`EdgeConfig`), nothing more; applying takes nothing (the
/// agent's `onApplied`, called right after, records the time); the cycle
/// count advances with wall time, one cycle per `periodNs`, always healthy,
/// so that probation ends after `probation_cycles` × 100 ms.
struct SimulatedApplier: ConfigApplier {
    let startedAt: UInt64
    let periodNs: UInt64 = 100_000_000

    func validate(_ config: EdgeConfig) throws {}

    func apply(_ config: EdgeConfig, reason: String) -> String? { nil }

    func sample() -> HealthSample {
        HealthSample(cycles: (SBTime.now() - startedAt) / periodNs, overrunAlerts: 0, overruns: 0, controllers: [:], faultedDevices: [:],
                     configVersion: nil, periodMs: Int(periodNs / 1_000_000), workP99Ms: 0.05, cycleRunning: true)
    }
}

/// Sync agents in this process, one per edge, each with its own cache file
/// and key, over a `SimulatedApplier`; when each applied which version.
final class SimulatedFleet: Sendable {
    let agents: [SyncAgent]
    let applied: AppliedTimes
    private let tasks = Mutex<[Task<Void, Never>]>([])

    init(serverURL: String, edgeIds: [String], keys: [String], verifier: EnvelopeVerifier, folder: String, logger: Logger) async throws {
        let applied = AppliedTimes(count: edgeIds.count)
        let started = SBTime.now()
        // Opening 1,000 caches (SQLite, WAL, a migration each) takes a while: a few at a time.
        let made = SBBox<[SyncAgent?]>(Array(repeating: nil, count: edgeIds.count))
        try await SBConcurrent.forEach(edgeIds.indices, width: 4) { i in
            var options = AgentOptions(serverURL: serverURL, edgeId: edgeIds[i], key: keys[i], verifier: verifier)
            options.onApplied = { version in applied.record(agent: i, version: version, at: SBTime.now()) }
            let cache = try AgentCache(path: "\(folder)/\(edgeIds[i]).sqlite")
            let agent = SyncAgent(cache: cache, applier: SimulatedApplier(startedAt: started), options: options,
                                  logger: logger)
            guard try agent.boot(seed: nil) == .waiting else { throw SBError("\(edgeIds[i]): a fresh cache did not boot waiting") }
            made.update { $0[i] = agent }
        }
        agents = made.value.map { $0! }
        self.applied = applied
    }

    func start() {
        tasks.withLock { tasks in tasks = agents.map { agent in Task { await agent.run() } } }
    }

    /// Cancels every agent; false if some had not ended 10 s later.
    func stop() async -> Bool {
        let running = tasks.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in running { task.cancel() }
        let finished = SBFlag()
        Task {
            for task in running { await task.value }
            finished.set()
        }
        let deadline = SBTime.now() + 10_000_000_000
        while !finished.isSet, SBTime.now() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return finished.isSet
    }

    /// Waits until every agent's status satisfies `condition`, or `seconds`
    /// pass; returns how many do and the time it took.
    func wait(seconds: Double, until condition: (JSONValue) -> Bool) async -> (Int, Double) {
        let started = SBTime.now()
        let deadline = started + UInt64(seconds * 1e9)
        var pending = Array(agents.indices)
        while true {
            pending = pending.filter { !condition(agents[$0].status()) }
            if pending.isEmpty || SBTime.now() >= deadline { break }
            try? await Task.sleep(for: .milliseconds(pending.count > 10 ? 100 : 5))
        }
        return (agents.count - pending.count, SBTime.since(started))
    }

    func firstStatus(where condition: (JSONValue) -> Bool) -> JSONValue? {
        agents.lazy.map { $0.status() }.first(where: condition)
    }

    /// Full configs and deltas received, over all agents.
    func totalTraffic() -> (fullConfigs: Int, deltas: Int) {
        agents.reduce(into: (0, 0)) { sum, agent in
            let t = agent.traffic
            sum.0 += t.fullConfigs
            sum.1 += t.deltas
        }
    }
}

/// When each agent applied each version (SBTime), from `onApplied`.
final class AppliedTimes: Sendable {
    private struct State {
        var times: [Int: [UInt64]] = [:]
        var counts: [Int: Int] = [:]
    }

    private let state = Mutex(State())
    let count: Int

    init(count: Int) { self.count = count }

    func record(agent: Int, version: Int, at time: UInt64) {
        state.withLock { s in
            guard s.times[version]?[agent] ?? 0 == 0 else { return }
            s.times[version, default: Array(repeating: 0, count: count)][agent] = time
            s.counts[version, default: 0] += 1
        }
    }

    func count(version: Int) -> Int { state.withLock { $0.counts[version] ?? 0 } }

    /// The times of the agents that applied `version`.
    func times(version: Int) -> [UInt64] { state.withLock { ($0.times[version] ?? []).filter { $0 != 0 } } }
}

/// The agents' warnings and errors, counted (1,000 agents would flood the
/// terminal); a few are kept to print.
final class AgentLog: Sendable {
    private struct State {
        var warnings = 0
        var errors = 0
        var samples: [String] = []
    }

    private let state = Mutex(State())

    var logger: Logger {
        var logger = Logger(label: "switchyard-bench-agent") { _ in Handler(log: self) }
        logger.logLevel = .warning
        return logger
    }

    func printSummary() {
        let s = state.withLock { $0 }
        guard s.warnings + s.errors > 0 else {
            print("  agents' log: no warnings, no errors")
            return
        }
        print("  agents' log: \(SBFormat.thousands(s.warnings)) warnings, \(SBFormat.thousands(s.errors)) errors; first:")
        for sample in s.samples { print("    \(sample)") }
    }

    fileprivate func note(_ level: Logger.Level, _ message: String) {
        state.withLock { s in
            if level >= .error { s.errors += 1 } else { s.warnings += 1 }
            if s.samples.count < 4 { s.samples.append("\(level): \(message.prefix(300))") }
        }
    }

    private struct Handler: LogHandler {
        let log: AgentLog
        var logLevel: Logger.Level = .warning
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.note(event.level, event.message.description)
        }
    }
}

enum SBCPU {
    /// User and system CPU seconds of this process so far.
    static func processSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
