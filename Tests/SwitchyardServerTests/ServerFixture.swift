import Logging
import ServiceLifecycle
import Synchronization
import SwitchyardConfigDoc
import SwitchyardHost
import SwitchyardJSON
import SwitchyardServer
import SwitchyardServerClient
import SwitchyardTestSupport

/// The stores every server test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres

    var description: String { rawValue }

    func make() async throws -> any ConfigStore {
        let store: any ConfigStore
        switch self {
        case .sqlite:
            store = try SQLiteStore(path: TestPaths.temporaryDirectory() + "/server.sqlite")
        case .postgres:
            store = try PostgresStore(url: try TestPostgres.freshDatabase(), logger: Logger(label: "test-postgres"))
        }
        try await store.migrate()
        return store
    }
}

/// A real server on a free loopback port, over a fresh store, with a root
/// client; `stop()` shuts it down.
final class ServerFixture: Sendable {
    let core: ServerCore
    let store: any ConfigStore
    let port: Int
    let root: ServerClient
    let signer: EnvelopeSigner
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    static func start(_ kind: StoreKind, options: ServerOptions = ServerFixture.testOptions, store given: (any ConfigStore)? = nil) async throws -> ServerFixture {
        let store: any ConfigStore
        if let given { store = given } else { store = try await kind.make() }
        let signer = try EnvelopeSigner(keyId: "test-key", privateKeyText: ServerFiles.newKeyText())
        var logger = Logger(label: "server-test")
        logger.logLevel = .warning
        let core = ServerCore(store: store, signer: signer, options: options, logger: logger)
        core.start()
        let rootSecret = try await core.createRootToken(name: "test-root")
        let portBox = PortBox()
        let app = ServerAPI.application(core, host: "127.0.0.1", port: 0, logger: logger) { port in await portBox.set(port) }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task { try await group.run() }
        let port = await portBox.wait()
        return ServerFixture(core: core, store: store, port: port, root: ServerClient(baseURL: "http://127.0.0.1:\(port)", token: rootSecret),
                             signer: signer, group: group, task: task)
    }

    static var testOptions: ServerOptions {
        var options = ServerOptions()
        options.edgeRateLimit = RateLimiter.Limit(rate: 1000, burst: 1000)
        options.operatorRateLimit = RateLimiter.Limit(rate: 1000, burst: 1000)
        options.maxBodyBytes = 1 << 20
        return options
    }

    private init(core: ServerCore, store: any ConfigStore, port: Int, root: ServerClient, signer: EnvelopeSigner, group: ServiceGroup,
                 task: Task<Void, any Error>) {
        self.core = core
        self.store = store
        self.port = port
        self.root = root
        self.signer = signer
        self.group = group
        self.task = task
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func client(_ token: String?) -> ServerClient { ServerClient(baseURL: baseURL, token: token) }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        _ = await task.result
        core.stop()
        try await store.close()
    }
}

actor PortBox {
    private var port: Int?
    private var waiters: [CheckedContinuation<Int, Never>] = []

    func set(_ port: Int) {
        self.port = port
        for waiter in waiters { waiter.resume(returning: port) }
        waiters.removeAll()
    }

    func wait() async -> Int {
        if let port { return port }
        return await withCheckedContinuation { waiters.append($0) }
    }
}

/// The organization most tests use: `acme` with two sites, a region group,
/// three edges, a catalog built from this repo's plugins and profiles, and
/// layers at every scope. Returns the operator token and the edge keys.
struct DemoOrg {
    var admin: String
    var viewer: String
    var edgeKeys: [String: String]

    static let orgLayer: JSONValue = [
        "core_cycle": ["period_ms": 1000, "supervisor": ["overrun_alert_threshold": 2, "auto_recovery": true]],
        "scheduler": ["controllers": [
            ["id": "ctrlBalancing0", "class": "BalancingController", "enabled": true, "execution_order": 1,
             "parameters": ["target_grid_power": 0]],
            ["id": "ctrlPeakShaving0", "class": "PeakShavingController", "enabled": true, "execution_order": 2,
             "parameters": ["threshold_watts": 50000]],
        ]],
    ]

    static let siteLayer: JSONValue = [
        "modbus_devices": [
            ["device_id": "bms_main", "profile": "tesla_powerwall_2",
             "connection": ["protocol": "tcp", "host": "192.168.1.100", "port": 502, "unit_id": 1]],
        ],
    ]

    static func catalog() -> JSONValue {
        CatalogDocument.build(pluginDirectories: TestPaths.pluginDirectories, profileDirectories: [TestPaths.profileDirectory]).document
    }

    @discardableResult
    static func create(on fixture: ServerFixture, withCatalog: Bool = true) async throws -> DemoOrg {
        let root = fixture.root
        try expectStatus(201, try await root.send("POST", "/api/v1/orgs", json: ["id": "acme", "name": "Acme Energy"]))
        let adminAnswer = try await root.send("POST", "/api/v1/orgs/acme/credentials", json: ["kind": "operator", "role": "admin", "name": "alice"])
        try expectStatus(201, adminAnswer)
        let admin = adminAnswer.json!["secret"]!.stringValue!
        let viewerAnswer = try await root.send("POST", "/api/v1/orgs/acme/credentials", json: ["kind": "operator", "role": "viewer", "name": "vic"])
        let viewer = viewerAnswer.json!["secret"]!.stringValue!
        let ops = fixture.client(admin)
        if withCatalog {
            try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/catalog", json: catalog()))
        }
        try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/sites/s1", json: ["name": "Site One"]))
        try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/sites/s2", json: ["name": "Site Two"]))
        try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/groups/eu", json: ["kind": "region", "priority": 10]))
        try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/layers/organization/acme", json: orgLayer))
        try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/layers/site/s1", json: siteLayer))
        try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/layers/site/s2", json: siteLayer))
        var keys: [String: String] = [:]
        for (edge, site) in [("e1", "s1"), ("e2", "s1"), ("e3", "s2")] {
            try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/edges/\(edge)",
                                                     json: ["site": .string(site), "groups": ["eu"], "tags": ["pilot"]]))
            let key = try await ops.send("POST", "/api/v1/orgs/acme/credentials", json: ["kind": "edge", "edge": .string(edge)])
            try expectStatus(201, key)
            keys[edge] = key.json!["secret"]!.stringValue!
        }
        return DemoOrg(admin: admin, viewer: viewer, edgeKeys: keys)
    }
}

struct UnexpectedAnswer: Error, CustomStringConvertible {
    var expected: Int
    var answer: ServerClient.Answer
    var description: String { "expected HTTP \(expected), got \(answer.status): \(answer.text)" }
}

func expectStatus(_ status: Int, _ answer: ServerClient.Answer) throws {
    if answer.status != status { throw UnexpectedAnswer(expected: status, answer: answer) }
}

/// A value shared with tasks, behind a lock.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<T>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
