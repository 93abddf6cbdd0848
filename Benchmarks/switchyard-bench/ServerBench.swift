import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardServer
import SwitchyardServerClient

#if canImport(Glibc)
import Glibc
#endif

/// The config sync server's figures of `make bench` (issue 5): conditional
/// GETs under wrk, resolution of a ~50 KB config, delta size, a change to
/// an organization of 100,000 edges, notify fan-out to 10,000 WebSockets.
/// Servers run in this process on loopback ports, over SQLite stores in a
/// temporary folder; clients (wrk, WebSockets) share the machine's cores.
struct ServerBench {
    struct Options: Sendable {
        var wrkSeconds = 10
        var wrkConnections = 64
        var wrkThreads = 2
        var wrkEdges = 1000
        var resolveRuns = 2000
        var largeEdges = 100_000
        var largeSites = 1000
        var sampleFetches = 1000
        var sockets = 10_000
        /// Modbus devices in each site layer: 100 makes the merged config about 50 KB.
        var siteDevices = 100
        /// Which figures: resolve, http (conditional GETs and delta size), large, notify.
        var parts: Set<String> = ["resolve", "http", "large", "notify"]
    }

    let options: Options

    /// Runs the section from synchronous code (the bench's `run`): the main
    /// thread waits, the work runs on the concurrency pool and NIO's threads.
    func runBlocking() throws {
        let options = options
        try SBBlocking.run { try await ServerBench(options: options).run() }
    }

    func run() async throws {
        let started = SBTime.now()
        let files = SBFiles.raiseOpenFilesLimit(to: 65_536)
        print("Config sync server — in-process servers on 127.0.0.1, SQLite stores in a temporary folder, release build")
        print("machine: \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores, shared by the server and its load (wrk, HTTP and WebSocket clients); "
            + "open files limit \(files)\n")
        let directory = try SBFiles.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        if options.parts.contains("resolve") { try await resolution() }
        if options.parts.contains("http") { try await http(directory: directory) }
        if options.parts.contains("large") { try await largeOrganization(directory: directory) }
        if options.parts.contains("notify") { try await notifyFanOut(directory: directory) }
        print("server section: \(SBFormat.seconds(SBTime.since(started))) in all\n")
    }
}

// MARK: A server in this process

/// A server over a fresh SQLite store on a free port, like the tests' fixture.
final class SBServer: Sendable {
    let core: ServerCore
    let store: any ConfigStore
    let port: Int
    let rootSecret: String
    let root: ServerClient
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    static func start(path: String) async throws -> SBServer {
        let store = try SQLiteStore(path: path)
        try await store.migrate()
        return try await start(store: store)
    }

    static func start(store: any ConfigStore) async throws -> SBServer {
        let signer = try EnvelopeSigner(keyId: "bench-key", privateKeyText: ServerFiles.newKeyText())
        var logger = Logger(label: "switchyard-bench-server")
        logger.logLevel = .warning
        var options = ServerOptions()
        options.edgeRateLimit = RateLimiter.Limit(rate: 0, burst: 0)
        options.operatorRateLimit = RateLimiter.Limit(rate: 0, burst: 0)
        let core = ServerCore(store: store, signer: signer, options: options, logger: logger)
        core.start()
        let rootSecret = try await core.createRootToken(name: "bench-root")
        let port = SBPort()
        let app = ServerAPI.application(core, host: "127.0.0.1", port: 0, logger: logger) { bound in port.set(bound) }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task { try await group.run() }
        let bound = try await port.wait(seconds: 30)
        return SBServer(core: core, store: store, port: bound, rootSecret: rootSecret, group: group, task: task)
    }

    private init(core: ServerCore, store: any ConfigStore, port: Int, rootSecret: String, group: ServiceGroup, task: Task<Void, any Error>) {
        self.core = core
        self.store = store
        self.port = port
        self.rootSecret = rootSecret
        root = ServerClient(baseURL: "http://127.0.0.1:\(port)", token: rootSecret)
        self.group = group
        self.task = task
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func client(_ token: String?) -> ServerClient { ServerClient(baseURL: baseURL, token: token) }

    /// Shuts the server down; gives up waiting after a while (open WebSockets
    /// can hold a graceful shutdown), then closes the store.
    func stop() async {
        await group.triggerGracefulShutdown()
        let finished = SBFlag()
        let task = task
        Task {
            _ = await task.result
            finished.set()
        }
        let deadline = SBTime.now() + 15_000_000_000
        while !finished.isSet, SBTime.now() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if !finished.isSet { task.cancel() }
        core.stop()
        try? await store.close()
    }
}

/// The principal of a root token, for setup through `ConfigService` directly.
let benchRoot = Principal(Credential(id: "bench-root", kind: .operatorToken, orgId: nil, edgeId: nil, role: .root, name: "bench",
                                     secretHash: "", createdAt: 0))

// MARK: Layers the server accepts

/// A layered config the server's validator accepts (ConfigDocWorkload's
/// documents have members an edge config does not: `site`, device `points`,
/// alarm `source`), of the same shape and size: with 100 devices a site's
/// edges get an effective config of about 50 KB.
enum SBWorkload {
    static let controllers = 20
    static let alarms = 40
    /// The controller whose parameter the benchmarks change (no group layer overrides it).
    static let changedController = 3

    static func organization() -> JSONValue {
        .object([
            "core_cycle": ["period_ms": 1000, "supervisor": ["overrun_alert_threshold": 2, "auto_recovery": true]],
            "scheduler": .object(["controllers": .array((0..<controllers).map(controller))]),
            "alarms": .array((0..<alarms).map(alarm)),
            "sync": ["interval_s": 300, "probation_cycles": 10],
            "metadata": ["owner": "Acme Energy", "contract": "fleet-2026", "support": "ops-team@example.com"],
        ])
    }

    static func controller(_ index: Int) -> JSONValue {
        .object([
            "id": .string("ctrl\(index)"),
            "class": index % 2 == 0 ? "PeakShavingController" : "BalancingController",
            "enabled": true,
            "execution_order": .number(Double(index + 1)),
            "parameters": [
                "threshold_watts": .number(Double(50_000 + 100 * index)),
                "recharge_enabled": true,
                "ramp_watts_per_s": 2000,
                "priority": "self_consumption",
                "battery": .string("dev\(index % 10)"),
                "meter": "dev1",
            ],
        ])
    }

    static func alarm(_ index: Int) -> JSONValue {
        .object([
            "id": .string("alarm\(index)"),
            "channel": .string("dev\(index % 10)/Temperature"),
            "condition": ">",
            "threshold": .number(Double(60 + index % 15)),
            "severity": "warning",
            "notification": ["ops-team", "site-manager"],
            "hysteresis": 2,
        ])
    }

    static func group() -> JSONValue {
        .object([
            "scheduler": .object(["controllers": .array(stride(from: 0, to: controllers, by: 4).map { index in
                .object(["id": .string("ctrl\(index)"), "parameters": ["threshold_watts": .number(Double(48_000 + index))]])
            })]),
            "alarms": .array(stride(from: 0, to: alarms, by: 5).map { index in
                .object(["id": .string("alarm\(index)"), "severity": "critical"])
            }),
        ])
    }

    static func site(_ site: Int, devices: Int) -> JSONValue {
        .object([
            "modbus_devices": .array((0..<devices).map { device(site: site, index: $0) }),
            "metadata": ["site_name": .string("Site \(site)"), "timezone": "Europe/Berlin", "grid_limit_watts": 120_000],
        ])
    }

    static func device(site: Int, index: Int) -> JSONValue {
        .object([
            "device_id": .string("dev\(index)"),
            "profile": index % 3 == 0 ? "tesla_powerwall_2" : "sma_sunny_tripower_10",
            "enabled": true,
            "connection": [
                "protocol": "tcp",
                "host": .string("10.\(site / 250 % 250).\(site % 250).\(index % 250 + 1)"),
                "port": 502,
                "unit_id": .number(Double(index % 247 + 1)),
                "timeout_ms": 1000,
                "retries": 3,
            ],
            "parameters": ["nominal_power_w": .number(Double(10_000 + 500 * (index % 7))), "phase": "L1"],
            "poll_groups": ["fast": ["ActivePower", "Soc"], "slow": ["EnergyTotal", "Temperature"]],
            "poll_interval_ms": index % 4 == 0 ? 500 : 1000,
        ])
    }

    static func edge(_ index: Int) -> JSONValue {
        .object([
            "core_cycle": ["period_ms": 500],
            "modbus_devices": [["device_id": "dev0", "connection": ["host": .string("192.168.7.\(index % 250 + 1)")]]],
            "alarms": [["id": "alarm1", "$delete": true]],
        ])
    }

    /// The JSON Patch of the organization layer the benchmarks send.
    static func change(value: Int) -> JSONValue {
        [["op": "replace", "path": .string("/scheduler/controllers/\(changedController)/parameters/threshold_watts"),
          "value": .number(Double(value))]]
    }

    /// The changed parameter in an edge's effective config.
    static func changedValue(in config: JSONValue) -> Int? {
        guard let controllers = config["scheduler"]?["controllers"]?.arrayValue,
              let controller = controllers.first(where: { $0["id"]?.stringValue == "ctrl\(changedController)" }),
              let value = controller["parameters"]?["threshold_watts"]?.numberValue else { return nil }
        return Int(value)
    }
}

// MARK: An organization built in bulk

/// An organization with many edges: the organization and its sites, site
/// layers, edges (1 in `edgeLayerEvery` with a layer of its own) and edge
/// keys are written with the store's `commit` in large batches (setup time
/// is not a figure); then the organization layer is written through
/// `ConfigService`, so that the planner gives every edge its first version.
struct SBOrganization {
    var id: String
    var edgeIds: [String]
    /// Edge keys, aligned with `edgeIds` (empty without keys).
    var keys: [String]
    var version: Int
    var setupSeconds: Double
    var firstVersionSeconds: Double
    var firstVersions: Int

    static func build(core: ServerCore, id: String, sites: Int, edges: Int, siteDevices: Int, edgeLayerEvery: Int = 100,
                      keys withKeys: Bool) async throws -> SBOrganization {
        let started = SBTime.now()
        let store = core.store
        _ = try await core.config.createOrganization(id: id, name: id, actor: benchRoot)
        let now = Int64(Date().timeIntervalSince1970)

        func commit(_ fill: (inout Commit) -> Void) async throws {
            guard let organization = try await store.organization(id) else { throw SBError("organization \(id) vanished") }
            var commit = Commit(orgId: id, expectedRevision: organization.revision,
                                change: ChangeRecord(orgId: id, actor: "bench-setup", reason: "bench setup", kind: "bench.setup", at: now,
                                                     details: [:]))
            fill(&commit)
            _ = try await store.commit(commit)
        }

        let siteBatch = 250
        for start in stride(from: 0, to: sites, by: siteBatch) {
            try await commit { commit in
                for s in start..<min(sites, start + siteBatch) {
                    commit.sites.append(Site(id: "s\(s)", orgId: id, name: "Site \(s)"))
                    commit.layerRevisions.append(LayerRevision(key: LayerKey(scope: .site, target: "s\(s)"), orgId: id, revision: 1,
                                                               document: SBWorkload.site(s, devices: siteDevices)))
                }
            }
        }
        let width = max(6, String(edges - 1).count)
        let edgeIds = (0..<edges).map { "\(id)-e" + String(repeating: "0", count: width - String($0).count) + String($0) }
        var keys: [String] = []
        let edgeBatch = 10_000
        for start in stride(from: 0, to: edges, by: edgeBatch) {
            var secrets: [String] = []
            try await commit { commit in
                for e in start..<min(edges, start + edgeBatch) {
                    let edgeId = edgeIds[e]
                    commit.edges.append(Edge(id: edgeId, orgId: id, siteId: "s\(e % sites)", name: edgeId))
                    if e % edgeLayerEvery == 0 {
                        commit.layerRevisions.append(LayerRevision(key: LayerKey(scope: .edge, target: edgeId), orgId: id, revision: 1,
                                                                   document: SBWorkload.edge(e)))
                    }
                    if withKeys {
                        let secret = Secrets.make(kind: .edge)
                        secrets.append(secret)
                        commit.newCredentials.append(Credential(id: Secrets.identifier(), kind: .edge, orgId: id, edgeId: edgeId, role: nil,
                                                                name: "key-\(edgeId)", secretHash: Secrets.hash(secret), createdAt: now))
                    }
                }
            }
            keys += secrets
        }
        // The server hears of these commits as another process's changes and
        // drops what it cached of the organization; let it, before the first
        // change through the service.
        try await Task.sleep(for: .milliseconds(500))
        let setup = SBTime.since(started)

        let profiler = await SBProfiler("first-versions-\(id)")
        let first = SBTime.now()
        let result = try await core.config.putLayer(org: id, key: LayerKey(scope: .organization, target: id),
                                                    document: SBWorkload.organization(), ifMatch: nil, actor: benchRoot,
                                                    reason: "bench: first organization layer")
        let firstSeconds = SBTime.since(first)
        await profiler.stop()
        guard result.versions.count == edges else {
            throw SBError("the first organization layer gave \(result.versions.count) of \(edges) edges a version")
        }
        return SBOrganization(id: id, edgeIds: edgeIds, keys: keys, version: 1, setupSeconds: setup, firstVersionSeconds: firstSeconds,
                              firstVersions: result.versions.count)
    }
}

// MARK: Small helpers

/// Setup through the API: an answer other than `status` stops the bench, naming what was asked.
func expectStatus(_ status: Int, _ answer: ServerClient.Answer, _ what: String) throws {
    if answer.status != status { throw SBError("\(what): \(answer.errorText)") }
}

struct SBError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A value shared between tasks and threads, behind a lock.
final class SBBox<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value {
        get { mutex.withLock { $0 } }
        set { mutex.withLock { $0 = newValue } }
    }
    func update<T>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}

final class SBFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}

/// The port the server bound, once it is running.
final class SBPort: Sendable {
    private let port = Atomic<Int>(0)
    func set(_ value: Int) { port.store(value, ordering: .releasing) }
    func wait(seconds: Double) async throws -> Int {
        let deadline = SBTime.now() + UInt64(seconds * 1e9)
        while SBTime.now() < deadline {
            let value = port.load(ordering: .acquiring)
            if value != 0 { return value }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw SBError("the server did not start listening within \(seconds) s")
    }
}

enum SBTime {
    /// Monotonic nanoseconds.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func since(_ start: UInt64) -> Double { Double(now() - start) / 1e9 }
}

enum SBStats {
    /// The value at `fraction` of the sorted values (nearest rank).
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}

enum SBFormat {
    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    static func seconds(_ value: Double) -> String { value < 1 ? "\(fixed(value * 1000, 1)) ms" : "\(fixed(value, 2)) s" }
    static func ms(_ value: Double) -> String { "\(fixed(value * 1000, value < 0.01 ? 3 : 1)) ms" }
    static func thousands(_ value: Int) -> String {
        let digits = Array(String(abs(value)))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return (value < 0 ? "-" : "") + out
    }
    static func kb(_ bytes: Int) -> String { "\(fixed(Double(bytes) / 1000, 1)) KB" }
    static func met(_ ok: Bool) -> String { ok ? "met" : "MISSED" }
}

enum SBFiles {
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "switchyard-bench-server-\(getpid())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Raises RLIMIT_NOFILE (the hard limit too when allowed); returns the soft limit in force.
    static func raiseOpenFilesLimit(to wanted: UInt64) -> UInt64 {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        if limit.rlim_cur >= wanted { return UInt64(limit.rlim_cur) }
        var raised = limit
        raised.rlim_cur = rlim_t(wanted)
        if raised.rlim_max < raised.rlim_cur { raised.rlim_max = raised.rlim_cur }
        if setrlimit(resource, &raised) != 0 {
            raised = limit
            raised.rlim_cur = limit.rlim_max
            _ = setrlimit(resource, &raised)
        }
        _ = getrlimit(resource, &limit)
        return UInt64(limit.rlim_cur)
    }
}

/// Deterministic pseudo-random numbers (SplitMix64), for samples that are the same in every run.
struct SBRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Runs async work from the synchronous bench main: the calling thread
/// waits, the work runs on the concurrency pool and NIO's threads.
enum SBBlocking {
    static func run(_ body: @escaping @Sendable () async throws -> Void) throws {
        let outcome = SBBox<Result<Void, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                try await body()
                outcome.value = .success(())
            } catch {
                outcome.value = .failure(error)
            }
            done.signal()
        }
        done.wait()
        try outcome.value?.get()
    }

    /// When a change of `org` is committed: the time (SBTime) a subscriber of the store's events
    /// in this process hears of it. Cancel the task when done.
    static func commitListener(_ store: any ConfigStore, org: String) -> (heardAt: SBBox<UInt64>, task: Task<Void, Never>) {
        let events = store.events()
        let heardAt = SBBox<UInt64>(0)
        let task = Task {
            for await event in events where event.orgId == org {
                heardAt.value = SBTime.now()
                break
            }
        }
        return (heardAt, task)
    }
}
