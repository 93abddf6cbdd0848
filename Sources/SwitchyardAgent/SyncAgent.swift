import Foundation
import HTTPTypes
import Logging
import Synchronization
import SwitchyardConfigDoc
import SwitchyardEdgeService
import SwitchyardJSON
import SwitchyardModel
import SwitchyardServerClient
import HummingbirdWSClient

/// Where the agent syncs from, and whom it trusts.
public struct AgentOptions: Sendable {
    public var serverURL: String
    public var edgeId: String
    /// The edge's API key (`sye_…`).
    public var key: String
    /// The server's public signing keys.
    public var verifier: EnvelopeVerifier
    public var requestTimeoutSeconds: Int64 = 10
    /// The longest wait between two attempts to reach the server.
    public var backoffCapSeconds: Double = 30
    /// Unix seconds, for envelope expiry.
    public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    /// Called when a version has been applied (before its probation); for benchmarks.
    public var onApplied: (@Sendable (Int) -> Void)?

    public init(serverURL: String, edgeId: String, key: String, verifier: EnvelopeVerifier) {
        self.serverURL = serverURL.hasSuffix("/") ? String(serverURL.dropLast()) : serverURL
        self.edgeId = edgeId
        self.key = key
        self.verifier = verifier
    }
}

/// The edge's sync agent (spec 000, "Edge Sync Agent"; ARCHITECTURE section 7).
///
/// One worker takes every new version through the same steps, one version
/// at a time: verify (signature, edge, hash, newer than the last confirmed),
/// store, validate against the local plugins and profiles, apply at a cycle
/// boundary through the host's hot-reload path, then probation; a version
/// that fails is rolled back to the last confirmed one. Every step is a state
/// in `AgentCache` before it is taken, so a crash or a power cut at any
/// moment boots into a confirmed version.
///
/// Versions arrive three ways, all feeding the worker: the WebSocket (the
/// delta inline), polls every `sync.interval_s` with `If-None-Match`, and a
/// fetch after every (re)connection of the WebSocket. A version at or below
/// the newest one the cache holds is ignored, so the three never race.
public final class SyncAgent: Sendable {
    public let cache: AgentCache
    public let options: AgentOptions
    let applier: any ConfigApplier
    let client: ServerClient
    let logger: Logger
    let state = Mutex(State())
    let workerWake: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)
    /// Signalled by `report()` and by changes of reachability: the heartbeat sender looks.
    let heartbeatWanted = Wakeup()
    private let running = Atomic<Bool>(false)
    /// Turns of the heartbeat sender's loop (a test checks it sleeps while the server is away).
    let heartbeatTurns = Atomic<Int>(0)

    /// True while `run()` runs (until its tasks have finished after a cancel).
    public var isRunning: Bool { running.load(ordering: .acquiring) }

    /// An offered version, not yet verified.
    enum Offer: Sendable {
        /// A full config: the body and its `Switchyard-Envelope` header.
        case full(text: String, envelope: String?)
        /// A delta message (the WebSocket's or the delta endpoint's).
        case delta(JSONValue, version: Int)
    }

    /// A verified version.
    struct Candidate {
        var version: Int
        var document: JSONValue
        var encoded: CanonicalMembers?
        var text: String
        var sha256: String
        var envelope: SignedEnvelope
        /// For a delta: the base's config and the top-level members the patch changed.
        var previous: (config: EdgeConfig, changed: Set<String>)?

        var asBase: Base { Base(version: version, sha256: sha256, document: document, encoded: encoded) }

        /// The config model of the document; after a delta, what the patch
        /// did not touch is taken from the base's.
        func config() throws(ValidationError) -> EdgeConfig {
            guard let previous else { return try EdgeConfig(json: document) }
            return try EdgeConfig(json: document, previous: previous.config, changed: previous.changed)
        }
    }

    /// The newest version the cache holds: the base of the server's next
    /// delta, the ETag sent.
    struct Base {
        var version: Int
        var sha256: String
        /// Kept once this process has had the version in hand: parsed, and
        /// encoded member by member (a delta re-encodes only what it changed).
        var document: JSONValue?
        var encoded: CanonicalMembers?
        /// Its config model, once it has been read without an issue.
        var config: EdgeConfig?
    }

    struct State {
        var boot = 0
        var running: (version: Int, config: EdgeConfig)?
        var lastConfirmed: Int?
        var newest: Base?
        var probation: Int?
        var pending: Offer?
        var pendingVersion = -1
        var fetchWanted = false
        var deltaWanted = false
        var reachable: Bool?
        var websocketUp = false
        var webSocketConnects = 0
        var lastError: String?
        /// Recent errors, newest last, as heartbeats send them.
        var errors: [JSONValue] = []
        /// What heartbeats say: the state of the last version handled.
        var reportState = "starting"
        var lastContactAt: Int64?
        /// When the last full fetch was sent.
        var lastFetchAt: ContinuousClock.Instant?
        var alarms: Set<String> = []
        var bytes = Traffic()
    }

    /// Bytes received from the server for configs, by way.
    public struct Traffic: Sendable {
        public var fullConfigs = 0
        public var fullBytes = 0
        public var deltas = 0
        public var deltaBytes = 0

        public init() {}
    }

    public init(cache: AgentCache, applier: any ConfigApplier, options: AgentOptions, logger: Logger) {
        self.cache = cache
        self.applier = applier
        self.options = options
        self.logger = logger
        client = ServerClient(baseURL: options.serverURL, token: options.key)
        workerWake = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: Boot

    public enum BootOutcome: Sendable, Equatable {
        /// The last confirmed version runs.
        case confirmed(Int)
        /// No version was ever confirmed: the local config runs until the server's first.
        case local(Int)
        /// Nothing to run until the server answers.
        case waiting
    }

    /// Counts the start, marks a version a crash interrupted as failed, and
    /// runs the last confirmed version from the cache (or `seed`, a local
    /// config, when none was ever confirmed). Never touches the network.
    public func boot(seed: (() throws -> EdgeConfig)?) throws -> BootOutcome {
        let record = try cache.beginBoot()
        state.withLock { $0.boot = record.boot }
        if let newest = try cache.newest() { state.withLock { $0.newest = Base(version: newest.version, sha256: newest.sha256) } }
        let confirmed = try cache.confirmed()
        // What went wrong since the last confirmed version is still wrong:
        // heartbeats keep saying so after a restart.
        for version in try cache.all() where version.version > (confirmed.first?.version ?? -1) {
            guard let error = version.error, version.state.isFinal else { continue }
            if record.failedAtBoot.contains(version.version) { logger.error("version \(version.version) failed: \(error)") }
            noteError(version: version.version, state: version.state, error, at: nil)
        }
        // The last confirmed version; if it no longer starts (a plugin or
        // profile changed under it), the one confirmed before it.
        for candidate in confirmed {
            let config = try EdgeConfig(json: try candidate.document)
            if let refused = applier.apply(config, reason: "boot: confirmed version \(candidate.version) from the cache") {
                noteError(version: candidate.version, state: nil, "confirmed version \(candidate.version) did not start: \(refused)")
                continue
            }
            state.withLock { s in
                s.running = (candidate.version, config)
                s.lastConfirmed = confirmed.first?.version
                if s.errors.isEmpty { s.reportState = VersionState.confirmed.rawValue }
            }
            logger.info(candidate.version == confirmed.first?.version
                ? "running the last confirmed version \(candidate.version) from the cache"
                : "running confirmed version \(candidate.version) from the cache (the last confirmed, \(confirmed.first?.version ?? 0), did not start)")
            report()
            return .confirmed(candidate.version)
        }
        state.withLock { $0.lastConfirmed = confirmed.first?.version }
        if let seed {
            let config = try seed()
            let text = config.document.canonicalText
            try cache.store(version: config.version, documentText: text, sha256: ConfigDigest(canonicalText: text).hex, envelope: nil,
                            state: .local, boot: record.boot)
            if let refused = applier.apply(config, reason: "boot: local config (no version confirmed yet)") {
                noteError(version: config.version, state: .failed, "the local config did not start: \(refused)")
                report()
                return .waiting
            }
            state.withLock { s in
                s.running = (config.version, config)
                s.reportState = VersionState.local.rawValue
            }
            report()
            return .local(config.version)
        }
        report()
        return .waiting
    }

    // MARK: Running

    /// Runs the worker, the poller, the WebSocket listener and the heartbeat
    /// sender until the task is cancelled.
    public func run() async {
        running.store(true, ordering: .releasing)
        defer { running.store(false, ordering: .releasing) }
        requestFetch()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.work() }
            group.addTask { await self.poll() }
            group.addTask { await self.listen() }
            group.addTask { await self.sendHeartbeats() }
            await group.waitForAll()
        }
    }

    /// Asks the worker for a full conditional fetch.
    public func requestFetch() {
        state.withLock { $0.fetchWanted = true }
        workerWake.continuation.yield()
    }

    func requestDelta() {
        state.withLock { $0.deltaWanted = true }
        workerWake.continuation.yield()
    }

    /// Keeps the newest offer only: the worker goes straight to the latest version.
    func deposit(_ offer: Offer, version: Int) {
        let taken = state.withLock { s -> Bool in
            guard version > (s.newest?.version ?? -1), version > s.pendingVersion else { return false }
            s.pending = offer
            s.pendingVersion = version
            return true
        }
        if taken { workerWake.continuation.yield() }
    }

    private enum Step {
        case offer(Offer), fetch, delta
    }

    private func work() async {
        for await _ in workerWake.stream {
            // An offer in hand first, then a full fetch (which makes a delta
            // fetch pointless), then a delta fetch.
            while !Task.isCancelled, let step = state.withLock({ s -> Step? in
                if let offer = s.pending {
                    s.pending = nil
                    s.pendingVersion = -1
                    return .offer(offer)
                }
                if s.fetchWanted {
                    s.fetchWanted = false
                    s.deltaWanted = false
                    return .fetch
                }
                if s.deltaWanted {
                    s.deltaWanted = false
                    return .delta
                }
                return nil
            }) {
                switch step {
                case .offer(let offer): await process(offer)
                case .fetch: await fetchFull()
                case .delta: await fetchDelta()
                }
            }
        }
    }

    // MARK: Fetching

    func fetchFull() async {
        let etag = state.withLock { s in
            s.lastFetchAt = .now
            return s.newest.map { "\"\($0.sha256)\"" }
        }
        do {
            let answer = try await client.get("/api/v1/edges/\(options.edgeId)/config", headers: etag.map { [("If-None-Match", $0)] } ?? [],
                                              timeoutSeconds: options.requestTimeoutSeconds)
            switch answer.status {
            case 200:
                contact(ok: true)
                state.withLock { s in
                    s.bytes.fullConfigs += 1
                    s.bytes.fullBytes += answer.text.utf8.count
                }
                await process(.full(text: answer.text, envelope: answer.header("Switchyard-Envelope")))
            case 304:
                contact(ok: true)
            default:
                contact(ok: true)
                refusedByServer(answer)
            }
        } catch {
            contact(ok: false, "the server \(options.serverURL) could not be reached: \(error)")
        }
    }

    private func fetchDelta() async {
        guard let since = state.withLock({ $0.newest?.version }) else { return await fetchFull() }
        do {
            let answer = try await client.get("/api/v1/edges/\(options.edgeId)/config/delta?since=\(since)",
                                              timeoutSeconds: options.requestTimeoutSeconds)
            contact(ok: true)
            switch answer.status {
            case 200:
                state.withLock { s in
                    s.bytes.deltas += 1
                    s.bytes.deltaBytes += answer.text.utf8.count
                }
                guard let json = answer.json, let version = json["version"]?.numberValue.map(Int.init) else {
                    return await fetchFull()
                }
                await process(.delta(json, version: version))
            case 304:
                break
            case 410:
                await fetchFull()
            default:
                refusedByServer(answer)
            }
        } catch {
            contact(ok: false, "the server \(options.serverURL) could not be reached: \(error)")
        }
    }

    private func refusedByServer(_ answer: ServerClient.Answer) {
        let why = switch answer.status {
        case 401, 403: "the server refused this edge's key (\(answer.status)): \(answer.errorText)"
        case 404: "the server has no edge \"\(options.edgeId)\", or no config for it yet: \(answer.errorText)"
        case 429: "the server is rate-limiting this edge: \(answer.errorText)"
        default: "the server answered \(answer.status): \(answer.errorText)"
        }
        setLastError(why)
    }

    func contact(ok: Bool, _ error: String? = nil) {
        let changed = state.withLock { s -> Bool in
            let was = s.reachable
            s.reachable = ok
            if ok { s.lastContactAt = options.now() }
            if let error { s.lastError = error }
            return was != ok
        }
        if changed {
            if ok { logger.info("server \(options.serverURL) reachable") } else { logger.warning("\(error ?? "server unreachable")") }
            heartbeatWanted.signal()
        }
    }

    // MARK: Processing a version

    func process(_ offer: Offer) async {
        guard let candidate = verify(offer) else { return }
        let boot = state.withLock { $0.boot }
        do {
            if let known = try cache.state(of: candidate.version), known.isFinal || known == .probation {
                // Already handled (the server still serves a version this edge refused).
                state.withLock { s in if candidate.version > (s.newest?.version ?? -1) { s.newest = candidate.asBase } }
                return
            }
            try cache.store(version: candidate.version, documentText: candidate.text, sha256: candidate.sha256,
                            envelope: candidate.envelope.jsonValue.canonicalText, boot: boot)
        } catch {
            setLastError("the cache could not store version \(candidate.version): \(error)")
            return
        }
        state.withLock { s in
            s.newest = candidate.asBase
        }

        // Validate: the document, then against the local plugins and profiles.
        let config: EdgeConfig
        do {
            config = try candidate.config()
            state.withLock { s in if s.newest?.version == candidate.version { s.newest?.config = config } }
            guard config.edgeId == options.edgeId else {
                throw AgentError("edge_id is \"\(config.edgeId)\", but this edge is \"\(options.edgeId)\"")
            }
            guard config.version == candidate.version else {
                throw AgentError("version is \(config.version), but the envelope signs version \(candidate.version)")
            }
            try applier.validate(config)
        } catch {
            return finish(candidate.version, .rejected, "version \(candidate.version) rejected, \(keepsRunning): \(error)")
        }
        transition(candidate.version, .validated)
        transition(candidate.version, .staged)

        // Apply at a cycle boundary through the hot-reload path.
        let previous = state.withLock { $0.running }
        let before = applier.sample()
        transition(candidate.version, .applying)
        let applier = self.applier
        if let refused = await EdgeService.offPool({ applier.apply(config, reason: "sync: version \(candidate.version)") }) {
            return finish(candidate.version, .failed, "version \(candidate.version) could not be applied, \(keepsRunning): \(refused)")
        }
        options.onApplied?(candidate.version)
        state.withLock { s in
            s.running = (candidate.version, config)
            s.probation = candidate.version
            s.reportState = VersionState.probation.rawValue
        }
        transition(candidate.version, .probation, report: true)

        // Probation.
        let probation = Probation(version: candidate.version, cycles: config.sync.probationCycles, baseline: before,
                                  changedDevices: Probation.changedDevices(from: previous?.config, to: config))
        let verdict = await watch(probation, periodMs: config.coreCycle.periodMs)
        state.withLock { $0.probation = nil }
        switch verdict {
        case nil:
            // Stopping: back to staged, which the next start forgets; the
            // server offers the version again and it gets a full probation.
            transition(candidate.version, .staged)
        case .healthy, .pending:
            finish(candidate.version, .confirmed, nil)
        case .failed(let reason):
            await rollBack(candidate.version, reason: reason)
        }
    }

    /// Checks an offer's envelope and content; nil (with the reason
    /// recorded) when it cannot be trusted or is not newer.
    private func verify(_ offer: Offer) -> Candidate? {
        let (lastConfirmed, newest) = state.withLock { ($0.lastConfirmed, $0.newest) }
        let now = options.now()
        do {
            var document: JSONValue
            // The canonical text is encoded once: hashed, checked, stored.
            let canonical: String
            let encoded: CanonicalMembers?
            var previous: (config: EdgeConfig, changed: Set<String>)?
            let signed: SignedEnvelope
            let envelope: ConfigEnvelope
            switch offer {
            case .full(let text, let header):
                document = try JSONValue(parsing: text)
                guard let header else { throw AgentError("the server sent a config without its Switchyard-Envelope") }
                signed = try SignedEnvelope(header: header)
                encoded = document.objectValue.map(CanonicalMembers.init)
                canonical = encoded?.text ?? document.canonicalText
                envelope = try options.verifier.verify(signed, contentDigest: ConfigDigest(canonicalText: canonical), edgeId: options.edgeId,
                                                       currentVersion: nil, now: now)
            case .delta(let message, let version):
                guard version > (newest?.version ?? -1) else { return nil }
                guard let base = message["base_version"]?.numberValue.map(Int.init), let patchValue = message["patch"],
                      let sha = message["sha256"]?.stringValue, let envelopeValue = message["envelope"] else {
                    requestFetch()
                    return nil
                }
                // The newest version is kept in hand: it is nearly always the base.
                let kept = newest?.version == base ? newest : nil
                let baseDocument: JSONValue
                if let document = kept?.document {
                    baseDocument = document
                } else if let cached = try cache.version(base) {
                    baseDocument = try cached.document
                } else {
                    // Not a base this edge holds: the full config it is.
                    requestFetch()
                    return nil
                }
                let patch: JSONPatch
                do {
                    patch = try JSONPatch(decoding: patchValue)
                    document = try patch.apply(to: baseDocument)
                } catch {
                    logger.warning("the delta to version \(version) does not apply to version \(base) (\(error)); fetching the full config")
                    requestFetch()
                    return nil
                }
                // Only the members the patch changed are encoded again; the
                // hash check below catches anything this got wrong.
                if let members = kept?.encoded, case .object(let object) = document, let changed = patch.changedTopLevelMembers {
                    encoded = members.updated(to: object, changed: changed)
                    previous = kept?.config.map { ($0, changed) }
                } else {
                    encoded = document.objectValue.map(CanonicalMembers.init)
                }
                canonical = encoded?.text ?? document.canonicalText
                let digest = ConfigDigest(canonicalText: canonical)
                guard digest.hex == sha else {
                    logger.warning("the delta to version \(version) gave a document whose SHA-256 is not the announced one; fetching the full config")
                    requestFetch()
                    return nil
                }
                signed = try SignedEnvelope(decoding: envelopeValue)
                envelope = try options.verifier.verify(signed, contentDigest: digest, edgeId: options.edgeId, currentVersion: base, now: now)
            }
            if let lastConfirmed, envelope.version <= lastConfirmed {
                throw AgentError("version \(envelope.version) is not newer than the last confirmed version \(lastConfirmed); a replayed or stale config is refused")
            }
            if let newest, envelope.version < newest.version { return nil }
            if state.withLock({ $0.alarms.remove("sync.envelope_expired") }) != nil { heartbeatWanted.signal() }
            return Candidate(version: envelope.version, document: document, encoded: encoded, text: canonical, sha256: envelope.contentSHA256.hex,
                             envelope: signed, previous: previous)
        } catch let error as EnvelopeError where error.code == .expired {
            // The running config keeps running; this needs a person (a clock, a replay).
            _ = state.withLock { $0.alarms.insert("sync.envelope_expired") }
            logger.error("alarm sync.envelope_expired: a config was refused: \(error.message)")
            noteError(version: nil, state: nil, "config refused, envelope expired: \(error.message)")
            report()
            return nil
        } catch {
            logger.error("a config from the server was refused, \(keepsRunning): \(error)")
            noteError(version: nil, state: nil, "config refused: \(error)")
            report()
            return nil
        }
    }

    /// The verdict, or nil when the edge is stopping: a clean stop is not the version's fault.
    private func watch(_ probation: Probation, periodMs: Int) async -> Probation.Verdict? {
        // Generous: a slow cycle is judged by the supervisor's own counters.
        let deadline = ContinuousClock.now + .milliseconds(Int64(probation.cycles + 2) * Int64(periodMs) * 3) + .seconds(15)
        let step = Duration.milliseconds(min(max(periodMs / 4, 5), 250))
        while ContinuousClock.now < deadline {
            let verdict = probation.judge(applier.sample())
            if case .pending = verdict {
                try? await Task.sleep(for: step)
                if Task.isCancelled { return nil }
                continue
            }
            return verdict
        }
        return .failed("the cycle did not run \(probation.cycles) cycles within the probation's time limit")
    }

    private func rollBack(_ version: Int, reason: String) async {
        logger.error("version \(version) failed its probation: \(reason)")
        guard let confirmed = try? cache.lastConfirmed(), let config = try? EdgeConfig(json: try confirmed.document) else {
            finish(version, .failed, "version \(version) failed its probation and no confirmed version exists to roll back to; it keeps running: \(reason)")
            return
        }
        let applier = self.applier
        if let refused = await EdgeService.offPool({ applier.apply(config, reason: "rollback to version \(confirmed.version)") }) {
            finish(version, .failed, "version \(version) failed its probation (\(reason)); the rollback to version \(confirmed.version) was refused too: \(refused)")
            return
        }
        state.withLock { $0.running = (confirmed.version, config) }
        finish(version, .rolledBack, "version \(version) rolled back to version \(confirmed.version): \(reason)")
    }

    /// Records a version's new state; with `report`, the heartbeat that
    /// tells the server goes into the outbox in the same transaction.
    private func transition(_ version: Int, _ newState: VersionState, error: String? = nil, report: Bool = false) {
        let boot = state.withLock { $0.boot }
        do {
            try cache.setState(version, newState, error: error, boot: boot, heartbeat: report ? heartbeatBody() : nil)
        } catch {
            setLastError("the cache could not record version \(version) as \(newState.rawValue): \(error)")
        }
        if report { heartbeatWanted.signal() }
    }

    /// Records a version's final state and reports it.
    private func finish(_ version: Int, _ final: VersionState, _ error: String?) {
        if let error {
            logger.error("\(error)")
            noteError(version: version, state: final, error)
        } else {
            logger.info("version \(version) \(final.rawValue)")
            state.withLock { s in
                s.reportState = final.rawValue
                // Heartbeat errors say what is wrong now: a confirmed version clears them.
                // The status shows the last confirmed version and its state together.
                if final == .confirmed {
                    s.lastConfirmed = version
                    s.errors.removeAll()
                    s.lastError = nil
                }
            }
        }
        transition(version, final, error: error, report: true)
    }

    private func noteError(version: Int?, state versionState: VersionState?, _ message: String, at: Int64? = -1) {
        state.withLock { s in
            var entry: [String: JSONValue] = ["message": .string(message)]
            if let at { entry["at"] = .number(Double(at == -1 ? options.now() : at)) }
            if let version { entry["version"] = .number(Double(version)) }
            if let versionState {
                entry["state"] = .string(versionState.rawValue)
                s.reportState = versionState.rawValue
            }
            s.errors.append(.object(entry))
            if s.errors.count > 5 { s.errors.removeFirst(s.errors.count - 5) }
            s.lastError = message
        }
    }

    private var keepsRunning: String {
        state.withLock { $0.running.map { "version \($0.version) keeps running" } ?? "nothing runs yet" }
    }

    private func setLastError(_ message: String) {
        logger.warning("\(message)")
        state.withLock { $0.lastError = message }
    }

    // MARK: Polling and the WebSocket

    private func poll() async {
        var backoff = Backoff(capSeconds: options.backoffCapSeconds)
        while !Task.isCancelled {
            let (interval, reachable, running) = state.withLock { s in
                (Double(s.running?.config.sync.intervalS ?? SyncSettings().intervalS), s.reachable, s.running != nil)
            }
            var wait = interval * Double.random(in: 0.9...1.1)
            if reachable != true || !running {
                wait = min(wait, max(backoff.next(), 0.2))
            } else {
                backoff.reset()
            }
            try? await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
            if Task.isCancelled { return }
            // A fetch made meanwhile (after a WebSocket reconnection, say) counts as this poll.
            let recent = state.withLock { s in
                s.reachable == true && s.running != nil && s.lastFetchAt.map { ContinuousClock.now - $0 < .milliseconds(Int64(interval * 500)) } == true
            }
            if !recent { requestFetch() }
        }
    }

    var webSocketURL: String {
        var url = options.serverURL
        if url.hasPrefix("https://") { url = "wss://" + url.dropFirst(8) } else if url.hasPrefix("http://") { url = "ws://" + url.dropFirst(7) }
        return url + "/ws/edges/\(options.edgeId)/notify"
    }

    private func listen() async {
        var backoff = Backoff(capSeconds: options.backoffCapSeconds)
        var configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 22, closeTimeout: .seconds(1))
        configuration.additionalHeaders = [.authorization: "Bearer \(options.key)"]
        var wsLogger = logger
        wsLogger.logLevel = .critical
        while !Task.isCancelled {
            let connectsBefore = state.withLock { $0.webSocketConnects }
            do {
                try await WebSocketClient.connect(url: webSocketURL, configuration: configuration, logger: wsLogger) { inbound, outbound, _ in
                    // Subscribe first, then fetch: nothing made in between is missed.
                    let known = self.state.withLock { $0.newest?.version ?? 0 }
                    try await outbound.write(.text(JSONValue.object(["type": "hello", "version": .number(Double(known))]).canonicalText))
                    self.webSocket(up: true)
                    self.contact(ok: true)
                    self.requestFetch()
                    for try await message in inbound.messages(maxSize: 1 << 22) {
                        guard case .text(let text) = message, let json = try? JSONValue(parsing: text) else { continue }
                        self.received(json, bytes: text.utf8.count)
                    }
                }
            } catch {
                logger.debug("notify WebSocket: \(error)")
            }
            webSocket(up: false)
            if Task.isCancelled { return }
            if state.withLock({ $0.webSocketConnects }) != connectsBefore { backoff.reset() }
            try? await Task.sleep(for: .milliseconds(Int64(max(backoff.next(), 0.05) * 1000)))
        }
    }

    private func received(_ message: JSONValue, bytes: Int) {
        switch message["type"]?.stringValue {
        case "config":
            guard let version = message["version"]?.numberValue.map(Int.init) else { return }
            guard version > (state.withLock { $0.newest?.version ?? -1 }) else { return }
            if case .none = message["patch"] {
                requestDelta()
            } else {
                state.withLock { s in
                    s.bytes.deltas += 1
                    s.bytes.deltaBytes += bytes
                }
                deposit(.delta(message, version: version), version: version)
            }
        case "error":
            logger.warning("the server's notify channel says: \(message["message"]?.stringValue ?? message.canonicalText)")
        default:
            break
        }
    }

    private func webSocket(up: Bool) {
        let changed = state.withLock { s -> Bool in
            defer {
                s.websocketUp = up
                if up { s.webSocketConnects += 1 }
            }
            return s.websocketUp != up
        }
        if changed { logger.info("notify WebSocket \(up ? "up" : "down")") }
    }

    // MARK: Status

    /// The agent's part of the status document (`GET /status`, `switchyard-edge status`).
    public func status() -> JSONValue {
        let s = state.withLock { $0 }
        func number(_ v: Int?) -> JSONValue { v.map { .number(Double($0)) } ?? .null }
        return [
            "server": .string(options.serverURL),
            "edge_id": .string(options.edgeId),
            "reachable": s.reachable.map(JSONValue.bool) ?? .null,
            "websocket": .string(s.websocketUp ? "up" : "down"),
            "running_version": number(s.running?.version),
            "last_confirmed": number(s.lastConfirmed),
            "probation_version": number(s.probation),
            "newest_known": number(s.newest?.version),
            "state": .string(s.reportState),
            "last_error": s.lastError.map(JSONValue.string) ?? .null,
            "last_contact_at": s.lastContactAt.map { .number(Double($0)) } ?? .null,
            "alarms": .array(s.alarms.sorted().map(JSONValue.string)),
            "boot": .number(Double(s.boot)),
            "pending_heartbeats": .number(Double((try? cache.pendingHeartbeats()) ?? 0)),
            "traffic": [
                "full_configs": .number(Double(s.bytes.fullConfigs)), "full_bytes": .number(Double(s.bytes.fullBytes)),
                "deltas": .number(Double(s.bytes.deltas)), "delta_bytes": .number(Double(s.bytes.deltaBytes)),
            ],
        ]
    }

    public var traffic: Traffic { state.withLock { $0.bytes } }
}

/// A refusal the agent itself makes.
public struct AgentError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
