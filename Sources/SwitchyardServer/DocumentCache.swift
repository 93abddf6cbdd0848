import Synchronization
import SwitchyardConfigDoc
import SwitchyardJSON

/// A bounded map for immutable values: two generations, the older dropped
/// whole when the newer fills up. Values found in the older generation are
/// promoted, so what is in use stays.
struct TwoGenerationCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private var young: [Key: Value] = [:]
    private var old: [Key: Value] = [:]
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    mutating func get(_ key: Key) -> Value? {
        if let value = young[key] { return value }
        guard let value = old[key] else { return nil }
        put(key, value)
        return value
    }

    mutating func put(_ key: Key, _ value: Value) {
        if young.count >= capacity {
            old = young
            young = [:]
        }
        young[key] = value
    }
}

/// Layer revisions and merged stacks. Both are immutable once committed,
/// so they are cached without invalidation; the caches are bounded.
public final class DocumentCache: Sendable {
    private let store: any ConfigStore
    private let merge = LayerMerge()
    private let layers = Mutex(TwoGenerationCache<String, LayerRevision>(capacity: 20_000))
    private let contents = Mutex(TwoGenerationCache<String, JSONValue>(capacity: 5_000))
    private let encodings = Mutex(TwoGenerationCache<String, EncodedContent>(capacity: 2_000))

    public init(store: any ConfigStore) {
        self.store = store
    }

    /// Remembers committed revisions the caller already holds (a snapshot's
    /// layers, a commit's new revisions once the store accepted them).
    func remember(_ revisions: some Sequence<LayerRevision>) {
        layers.withLock { cache in
            for revision in revisions { cache.put("\(revision.key)@\(revision.revision)", revision) }
        }
    }

    func layer(_ key: LayerKey, revision: Int) async throws -> LayerRevision {
        let id = "\(key)@\(revision)"
        if let cached = layers.withLock({ $0.get(id) }) { return cached }
        guard let loaded = try await store.layerRevision(key, revision: revision) else {
            throw ServiceError(.internal, "layer revision \(id) is referenced but missing from the store")
        }
        layers.withLock { $0.put(id, loaded) }
        return loaded
    }

    /// The layers of `stack` as `LayerMerge` takes them. `pending`: revisions
    /// of a change being planned, not committed yet.
    func configLayers(of stack: LayerStack, pending: [LayerKey: LayerRevision] = [:]) async throws -> [ConfigLayer] {
        var out: [ConfigLayer] = []
        out.reserveCapacity(stack.entries.count)
        for entry in stack.entries {
            let revision: LayerRevision
            if let candidate = pending[entry.key], candidate.revision == entry.revision {
                revision = candidate
            } else {
                revision = try await layer(entry.key, revision: entry.revision)
            }
            out.append(ConfigLayer(scope: entry.key.scope, id: entry.key.target, name: entry.key.target, version: entry.revision,
                                   document: revision.document))
        }
        return out
    }

    /// The merged content of a stack: the effective config without the
    /// fields the server sets per edge and version.
    ///
    /// A stack that uses a pending revision is merged but not cached: if
    /// the change is refused, the same revision number will later hold
    /// another document.
    ///
    /// `scratch` holds what one plan merged with its pending revisions, so
    /// the edges' own layers of that plan are merged onto their site's
    /// content once; it dies with the plan.
    func content(of stack: LayerStack, pending: [LayerKey: LayerRevision] = [:], scratch: PlanScratch? = nil) async throws -> JSONValue {
        let id = stack.text
        let usesPending = stack.entries.contains { pending[$0.key]?.revision == $0.revision }
        if !usesPending, let cached = contents.withLock({ $0.get(id) }) { return cached }
        if usesPending, let cached = scratch?.contents.withLock({ $0[id] }) { return cached }
        let document: JSONValue
        do {
            if stack.entries.count > 1, let last = stack.entries.last, last.key.scope == .edge {
                // An edge's own layer onto its site's merged content (cached,
                // and shared with the site's other edges): one small merge.
                let base = try await content(of: LayerStack(Array(stack.entries.dropLast())), pending: pending, scratch: scratch)
                document = try merge.effectiveDocument(of: try await configLayers(of: LayerStack([last]), pending: pending), onto: base)
            } else {
                document = try merge.effectiveDocument(of: try await configLayers(of: stack, pending: pending))
            }
        } catch let error as ConfigLayerError {
            throw ServiceError(.invalidConfig, "the layers do not merge: \(error)",
                               problems: [ServiceError.Problem(edge: nil, path: error.path?.description ?? "", message: error.message)])
        }
        if !usesPending {
            contents.withLock { $0.put(id, document) }
        } else {
            scratch?.contents.withLock { $0[id] = document }
        }
        return document
    }

    /// The content's canonical members, encoded once per stack, from which
    /// each edge's document is assembled (`EncodedContent.document`).
    func encoded(_ stack: LayerStack) async throws -> EncodedContent {
        if let cached = encodings.withLock({ $0.get(stack.text) }) { return cached }
        let encoded = EncodedContent(try await content(of: stack))
        encodings.withLock { $0.put(stack.text, encoded) }
        return encoded
    }

    /// The merge with provenance, for `explain`.
    func effective(of stack: LayerStack) async throws -> EffectiveConfig {
        let layers = try await configLayers(of: stack)
        do {
            return try merge.merge(layers)
        } catch {
            throw ServiceError(.internal, "stored layers do not merge: \(error)")
        }
    }
}

/// Contents one plan merged with its pending revisions (see `DocumentCache.content`).
final class PlanScratch: Sendable {
    let contents = Mutex<[String: JSONValue]>([:])
}

/// The document an edge receives: the merged content plus what the server
/// sets for each edge and version. Layers may not set these fields.
enum EdgeDocument {
    static let serverFields: Set<String> = ["edge_id", "version", "timestamp"]

    static func make(content: JSONValue, edgeId: String, version: Int, createdAt: Int64) -> JSONValue {
        var members = content.objectValue ?? [:]
        members["edge_id"] = .string(edgeId)
        members["version"] = .number(Double(version))
        members["timestamp"] = .string(UTCTime.iso8601(createdAt))
        return .object(members)
    }
}

/// A stack's content as canonical bytes, member by member, so an edge's
/// document (the content plus `edge_id`, `version`, `timestamp`) is
/// assembled by copying instead of encoding 50 KB again for every edge.
/// The result is byte for byte `EdgeDocument.make(...).canonicalBytes`.
struct EncodedContent: Sendable {
    /// (raw key, `"key":value` bytes), in canonical key order, without the server's fields.
    private let members: [(key: String, bytes: [UInt8])]
    private let size: Int

    init(_ content: JSONValue) {
        let object = content.objectValue ?? [:]
        var members: [(key: String, bytes: [UInt8])] = []
        for key in JSONValue.sortedKeys(object) where !EdgeDocument.serverFields.contains(key) {
            var bytes: [UInt8] = []
            JSONValue.writeString(key, to: &bytes)
            bytes.append(0x3A)
            object[key]!.writeCanonical(to: &bytes)
            members.append((key, bytes))
        }
        self.members = members
        size = members.reduce(0) { $0 + $1.bytes.count + 1 }
    }

    func document(edgeId: String, version: Int, createdAt: Int64) -> [UInt8] {
        var extra: [(key: String, bytes: [UInt8])] = []
        for (key, value) in [("edge_id", JSONValue.string(edgeId)), ("timestamp", .string(UTCTime.iso8601(createdAt))),
                             ("version", .number(Double(version)))] {
            var bytes: [UInt8] = []
            JSONValue.writeString(key, to: &bytes)
            bytes.append(0x3A)
            value.writeCanonical(to: &bytes)
            extra.append((key, bytes))
        }
        var out: [UInt8] = []
        out.reserveCapacity(size + 128)
        out.append(0x7B)
        var i = 0
        var j = 0
        func add(_ bytes: [UInt8]) {
            if out.count > 1 { out.append(0x2C) }
            out.append(contentsOf: bytes)
        }
        while i < members.count || j < extra.count {
            if j == extra.count || (i < members.count && members[i].key.utf8.lexicographicallyPrecedes(extra[j].key.utf8)) {
                add(members[i].bytes)
                i += 1
            } else {
                add(extra[j].bytes)
                j += 1
            }
        }
        out.append(0x7D)
        return out
    }
}
