import Logging
import Synchronization
import SwitchyardConfigDoc
import SwitchyardJSON

/// A full config as served: the document's canonical bytes, its digest (the
/// ETag) and the signed envelope.
public struct ServedConfig: Sendable {
    public var edgeId: String
    public var version: Int
    public var body: String
    public var digest: ConfigDigest
    public var envelope: SignedEnvelope
}

/// A delta as served: the patch from `since` to `version`.
public struct ServedDelta: Sendable {
    public var edgeId: String
    public var version: Int
    public var baseVersion: Int
    public var patch: JSONPatch
    public var digest: ConfigDigest
    public var envelope: SignedEnvelope
    public var fullSize: Int

    public var json: JSONValue {
        [
            "edge_id": .string(edgeId), "version": .number(Double(version)), "base_version": .number(Double(baseVersion)),
            "sha256": .string(digest.hex), "patch": patch.jsonValue, "envelope": envelope.jsonValue,
        ]
    }
}

/// The edge side of the API: current versions (cached, kept current by
/// change events), full configs and deltas, signed; heartbeats.
public final class SyncService: Sendable {
    struct Head: Sendable {
        var orgId: String
        var version: Int
        var stack: LayerStack
        var createdAt: Int64
        var digest: ConfigDigest?
        /// The version before, when this process saw the edge move on from it (the base of most deltas).
        var previous: EdgeVersion?
    }

    let store: any ConfigStore
    let documents: DocumentCache
    let signer: EnvelopeSigner
    let envelopeLifetime: Int64
    /// How far back a delta may start; older bases get "fetch the full config".
    let deltaWindow: Int
    let clock: @Sendable () -> Int64
    private let heads = Mutex<[String: Head]>([:])
    private let patches = Mutex(TwoGenerationCache<String, JSONPatch>(capacity: 10_000))

    init(store: any ConfigStore, documents: DocumentCache, signer: EnvelopeSigner, envelopeLifetime: Int64, deltaWindow: Int,
         clock: @escaping @Sendable () -> Int64) {
        self.store = store
        self.documents = documents
        self.signer = signer
        self.envelopeLifetime = envelopeLifetime
        self.deltaWindow = deltaWindow
        self.clock = clock
    }

    // MARK: Heads

    /// The edge's current version, from the cache or the store.
    func head(_ edgeId: String) async throws -> Head {
        if let head = heads.withLock({ $0[edgeId] }) { return head }
        guard let edge = try await store.edge(edgeId) else { throw ServiceError.notFound("edge \"\(edgeId)\"") }
        guard edge.version > 0, let version = try await store.edgeVersion(edge: edgeId, version: edge.version) else {
            throw ServiceError(.notFound, "edge \"\(edgeId)\" has no config yet: no layer applies to it")
        }
        let head = Head(orgId: edge.orgId, version: edge.version, stack: edge.stack, createdAt: version.createdAt)
        heads.withLock { heads in
            if (heads[edgeId]?.version ?? 0) < head.version { heads[edgeId] = head }
        }
        return head
    }

    /// Moves heads forward after a commit (never back: events may arrive late).
    func advance(_ versions: [EdgeVersion], orgId: String) {
        heads.withLock { heads in
            for v in versions where (heads[v.edgeId]?.version ?? 0) < v.version {
                let previous = heads[v.edgeId].map {
                    EdgeVersion(edgeId: v.edgeId, version: $0.version, stack: $0.stack, changeId: 0, createdAt: $0.createdAt)
                }
                heads[v.edgeId] = Head(orgId: orgId, version: v.version, stack: v.stack, createdAt: v.createdAt, previous: previous)
            }
        }
    }

    /// A version of an edge: from the cached head (current or previous) when it is one of those, else from the store.
    func version(edgeId: String, _ version: Int) async throws -> EdgeVersion? {
        if let head = heads.withLock({ $0[edgeId] }) {
            if head.version == version {
                return EdgeVersion(edgeId: edgeId, version: version, stack: head.stack, changeId: 0, createdAt: head.createdAt)
            }
            if let previous = head.previous, previous.version == version { return previous }
        }
        return try await store.edgeVersion(edge: edgeId, version: version)
    }

    /// Forgets cached heads of an organization another process changed.
    func forget(org: String) {
        heads.withLock { heads in heads = heads.filter { $0.value.orgId != org } }
    }

    // MARK: Documents

    func document(edgeId: String, version: Int, stack: LayerStack, createdAt: Int64) async throws -> JSONValue {
        EdgeDocument.make(content: try await documents.content(of: stack), edgeId: edgeId, version: version, createdAt: createdAt)
    }

    /// The canonical bytes of that document, assembled from the stack's encoded content.
    func documentBytes(edgeId: String, version: Int, stack: LayerStack, createdAt: Int64) async throws -> [UInt8] {
        try await documents.encoded(stack).document(edgeId: edgeId, version: version, createdAt: createdAt)
    }

    /// The current ETag of an edge's config (for `If-None-Match`), computed once per version.
    public func etag(edgeId: String) async throws -> (version: Int, digest: ConfigDigest) {
        let head = try await head(edgeId)
        if let digest = head.digest { return (head.version, digest) }
        let bytes = try await documentBytes(edgeId: edgeId, version: head.version, stack: head.stack, createdAt: head.createdAt)
        let digest = ConfigDigest(canonicalBytes: bytes)
        heads.withLock { heads in
            if heads[edgeId]?.version == head.version { heads[edgeId]?.digest = digest }
        }
        return (head.version, digest)
    }

    public func config(edgeId: String) async throws -> ServedConfig {
        let head = try await head(edgeId)
        let bytes = try await documentBytes(edgeId: edgeId, version: head.version, stack: head.stack, createdAt: head.createdAt)
        let body = String(decoding: bytes, as: UTF8.self)
        let digest = ConfigDigest(canonicalBytes: bytes)
        heads.withLock { heads in
            if heads[edgeId]?.version == head.version { heads[edgeId]?.digest = digest }
        }
        return ServedConfig(edgeId: edgeId, version: head.version, body: body, digest: digest,
                            envelope: try sign(edgeId: edgeId, version: head.version, base: nil, digest: digest))
    }

    /// The patch from version `since` to the current version. Refused with
    /// `delta_unavailable` (410) when `since` is unknown, ahead, or further
    /// back than the delta window: the edge then fetches the full config.
    public func delta(edgeId: String, since: Int) async throws -> ServedDelta {
        let head = try await head(edgeId)
        guard since <= head.version else {
            throw ServiceError(.deltaUnavailable, "version \(since) is newer than the current version \(head.version); fetch the full config")
        }
        guard head.version - since <= deltaWindow else {
            throw ServiceError(.deltaUnavailable, "version \(since) is \(head.version - since) versions old, more than the delta window "
                + "(\(deltaWindow)); fetch the full config")
        }
        guard let base = try await store.edgeVersion(edge: edgeId, version: since) else {
            throw ServiceError(.deltaUnavailable, "version \(since) of \(edgeId) does not exist; fetch the full config")
        }
        return try await delta(edgeId: edgeId, from: base, to: head)
    }

    func delta(edgeId: String, from base: EdgeVersion, to head: Head) async throws -> ServedDelta {
        let bytes = try await documentBytes(edgeId: edgeId, version: head.version, stack: head.stack, createdAt: head.createdAt)
        let cacheKey = "\(base.stack.text)>\(head.stack.text)"
        let content: JSONPatch
        if let cached = patches.withLock({ $0.get(cacheKey) }) {
            content = cached
        } else {
            content = JSONDiff.patch(from: try await documents.content(of: base.stack), to: try await documents.content(of: head.stack))
            patches.withLock { $0.put(cacheKey, content) }
        }
        let patch: JSONPatch
        if content.operations.contains(where: { $0.path.isRoot }) {
            // The whole content changed: the patch is the whole document.
            patch = JSONPatch([.replace(path: .root, value: try await document(edgeId: edgeId, version: head.version, stack: head.stack,
                                                                                createdAt: head.createdAt))])
        } else {
            patch = Self.stamped(content, version: head.version, createdAt: head.createdAt)
        }
        let digest = ConfigDigest(canonicalBytes: bytes)
        return ServedDelta(edgeId: edgeId, version: head.version, baseVersion: base.version, patch: patch, digest: digest,
                           envelope: try sign(edgeId: edgeId, version: head.version, base: base.version, digest: digest),
                           fullSize: bytes.count)
    }

    /// A content patch (shared by every edge going from one stack to
    /// another) with the per-edge fields that change between versions.
    static func stamped(_ content: JSONPatch, version: Int, createdAt: Int64) -> JSONPatch {
        JSONPatch(content.operations + [
            .replace(path: JSONPointer(tokens: ["timestamp"]), value: .string(UTCTime.iso8601(createdAt))),
            .replace(path: JSONPointer(tokens: ["version"]), value: .number(Double(version))),
        ])
    }

    func sign(edgeId: String, version: Int, base: Int?, digest: ConfigDigest) throws -> SignedEnvelope {
        let now = clock()
        do {
            return try signer.sign(ConfigEnvelope(edgeId: edgeId, version: version, baseVersion: base, contentSHA256: digest,
                                                  issuedAt: now, expiresAt: now + envelopeLifetime, keyId: signer.keyId))
        } catch {
            throw ServiceError(.internal, "signing failed: \(error)")
        }
    }

    // MARK: Heartbeats

    /// Reads and stores a heartbeat: `{"version": N, "state": "...",
    /// "errors": [...], "metrics": {...}}`; unknown members are refused.
    /// `errors` or `metrics` left out keep their values from the edge's
    /// previous heartbeat.
    public func heartbeat(edgeId: String, body: JSONValue) async throws -> Heartbeat {
        let head = try? await head(edgeId)
        let orgId: String
        if let head { orgId = head.orgId } else {
            guard let edge = try await store.edge(edgeId) else { throw ServiceError.notFound("edge \"\(edgeId)\"") }
            orgId = edge.orgId
        }
        guard case .object(let members) = body else { throw ServiceError(.badRequest, "a heartbeat is a JSON object") }
        let allowed: Set<String> = ["version", "state", "errors", "metrics"]
        let unknown = members.keys.filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw ServiceError(.badRequest, "unknown heartbeat member(s) \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")); "
                + "a heartbeat has version, state, errors and metrics")
        }
        guard let versionValue = members["version"], let version = versionValue.numberValue, version == version.rounded(), version >= 0, version < 1e15 else {
            throw ServiceError(.badRequest, "heartbeat \"version\" is required: the whole number of the config version the edge runs")
        }
        guard let state = members["state"]?.stringValue, !state.isEmpty, state.utf8.count <= 64 else {
            throw ServiceError(.badRequest, "heartbeat \"state\" is required: a short string (e.g. \"confirmed\", \"probation\", \"rolled_back\")")
        }
        if let errors = members["errors"], errors.arrayValue == nil { throw ServiceError(.badRequest, "heartbeat \"errors\" is an array") }
        if let metrics = members["metrics"], metrics.objectValue == nil { throw ServiceError(.badRequest, "heartbeat \"metrics\" is an object") }
        // A member left out is unchanged since the edge's last heartbeat: edges do not resend what did not change.
        let previous = members["errors"] == nil || members["metrics"] == nil ? try await store.heartbeat(edge: edgeId) : nil
        let errors = members["errors"] ?? previous?.errors ?? .array([])
        let metrics = members["metrics"] ?? previous?.metrics ?? .object([:])
        let heartbeat = Heartbeat(edgeId: edgeId, orgId: orgId, receivedAt: clock(), version: Int(version), state: state,
                                  errors: errors, metrics: metrics)
        try await store.putHeartbeat(heartbeat)
        return heartbeat
    }
}
