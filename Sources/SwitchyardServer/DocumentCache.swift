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
    func content(of stack: LayerStack, pending: [LayerKey: LayerRevision] = [:]) async throws -> JSONValue {
        let id = stack.text
        let usesPending = stack.entries.contains { pending[$0.key]?.revision == $0.revision }
        if !usesPending, let cached = contents.withLock({ $0.get(id) }) { return cached }
        let layers = try await configLayers(of: stack, pending: pending)
        let document: JSONValue
        do {
            document = try merge.effectiveDocument(of: layers)
        } catch {
            throw ServiceError(.invalidConfig, "the layers do not merge: \(error)",
                               problems: [ServiceError.Problem(edge: nil, path: error.path?.description ?? "", message: error.message)])
        }
        if !usesPending { contents.withLock { $0.put(id, document) } }
        return document
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

/// RFC 3339 UTC timestamps from Unix seconds, without Foundation.
enum UTCTime {
    static func iso8601(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60)):\(two(secondOfDay % 60))Z"
    }
}
