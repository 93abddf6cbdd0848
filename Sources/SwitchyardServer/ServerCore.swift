import Logging
import SwitchyardHTTPGuard
import Synchronization
import SwitchyardConfigDoc
import SwitchyardJSON

/// Settings of one server process.
public struct ServerOptions: Sendable {
    public var maxBodyBytes = 4 << 20
    public var edgeRateLimit = RateLimiter.Limit(rate: 5, burst: 20)
    public var operatorRateLimit = RateLimiter.Limit(rate: 50, burst: 200)
    /// Seconds a signed envelope stays valid.
    public var envelopeLifetime: Int64 = 7 * 86_400
    public var deltaWindow = 100
    /// `Switchyard-Reason`: longer is refused (400) before the change is made.
    public var maxReasonBytes = 1024
    /// Request framing and read timeouts (docs/operations.md, "Server HTTP").
    /// The body limit is raised to the largest any route takes (a catalog,
    /// `maxBodyBytes`); each route then applies its own.
    public var framingLimits: HTTPFramingLimits = {
        var limits = HTTPFramingLimits()
        limits.maxBodyBytes = ServerOptions.maxCatalogBytes
        limits.bodyTimeoutSeconds = 120
        return limits
    }()

    var framing: HTTPFramingLimits {
        var limits = framingLimits
        limits.maxBodyBytes = max(limits.maxBodyBytes, maxBodyBytes)
        return limits
    }

    static let maxCatalogBytes = 64 << 20

    public init() {}
}

/// One server process's services over one store: the operator side
/// (`config`), the edge side (`sync`), the connected WebSockets (`hub`),
/// and the loop that hears of every change, this process's or another's.
public final class ServerCore: Sendable {
    public let store: any ConfigStore
    public let config: ConfigService
    public let sync: SyncService
    let hub: NotifyHub
    let limiter: RateLimiter
    let options: ServerOptions
    let signer: EnvelopeSigner
    let logger: Logger
    private let credentials = Mutex(TwoGenerationCache<String, CachedCredential>(capacity: 50_000))
    private let listener = Mutex<Task<Void, Never>?>(nil)

    struct CachedCredential: Sendable {
        var credential: Credential?
        var loadedAt: Double
    }

    public init(store: any ConfigStore, signer: EnvelopeSigner, options: ServerOptions = ServerOptions(), logger: Logger) {
        self.store = store
        self.signer = signer
        self.options = options
        self.logger = logger
        let clock: @Sendable () -> Int64 = { Int64(MonotonicTime.wallSeconds()) }
        let documents = DocumentCache(store: store)
        let sync = SyncService(store: store, documents: documents, signer: signer, envelopeLifetime: options.envelopeLifetime,
                               deltaWindow: options.deltaWindow, clock: clock)
        let hub = NotifyHub(sync: sync, logger: logger)
        self.sync = sync
        self.hub = hub
        limiter = RateLimiter(clock: { MonotonicTime.seconds() })
        config = ConfigService(store: store, documents: documents, clock: clock, logger: logger) { record, versions in
            sync.advance(versions, orgId: record.orgId)
            if !versions.isEmpty { Task { await hub.announce(versions) } }
        }
    }

    /// Starts listening for change events (call once, after `store.migrate()`).
    public func start() {
        let events = store.events()
        let task = Task { [weak self] in
            for await event in events {
                guard let self else { return }
                await self.handle(event)
            }
        }
        listener.withLock { $0 = task }
    }

    public func stop() {
        listener.withLock { $0?.cancel() }
    }

    /// A change committed somewhere: forget what is cached of the
    /// organization unless this process made it, and push new versions to
    /// the edges connected here.
    func handle(_ event: ChangeEvent) async {
        forgetCredentials(org: event.orgId)
        if config.madeHere(event.changeId) { return }
        config.forget(org: event.orgId)
        sync.forget(org: event.orgId)
        guard hub.hasConnections(org: event.orgId) else { return }
        do {
            let versions = try await store.edgeVersions(change: event.changeId)
            await hub.announce(versions)
        } catch {
            logger.warning("could not read the versions of change \(event.changeId): \(error)")
        }
    }

    // MARK: Credentials

    /// The principal for a bearer secret, or why not. Lookups are cached
    /// for a few seconds; revocations in this organization clear the cache at once.
    func authenticate(_ secret: String) async throws -> Principal {
        let hash = Secrets.hash(secret)
        let now = MonotonicTime.seconds()
        let cached = credentials.withLock { $0.get(hash) }
        let credential: Credential?
        if let cached, now - cached.loadedAt < 10 {
            credential = cached.credential
        } else {
            credential = try await store.credential(secretHash: hash)
            credentials.withLock { $0.put(hash, CachedCredential(credential: credential, loadedAt: now)) }
        }
        guard let credential else { throw ServiceError(.unauthorized, "the key or token is not known") }
        guard credential.revokedAt == nil else { throw ServiceError(.unauthorized, "the key or token was revoked") }
        return Principal(credential)
    }

    func forgetCredentials(org: String) {
        credentials.withLock { $0 = TwoGenerationCache(capacity: 50_000) }
    }

    /// Creates a root token when the store has no credential at all (a new
    /// server). Returns the secret, to be shown once.
    public func bootstrapRootToken(name: String = "bootstrap") async throws -> String? {
        guard try await !store.hasCredentials() else { return nil }
        return try await createRootToken(name: name)
    }

    public func createRootToken(name: String) async throws -> String {
        let secret = Secrets.make(kind: .operatorToken)
        try await store.insertRootCredential(Credential(id: Secrets.identifier(), kind: .operatorToken, orgId: nil, edgeId: nil, role: .root,
                                                        name: name, secretHash: Secrets.hash(secret),
                                                        createdAt: Int64(MonotonicTime.wallSeconds())))
        return secret
    }
}
