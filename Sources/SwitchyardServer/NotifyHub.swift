import Logging
import Synchronization
import SwitchyardConfigDoc
import SwitchyardJSON

/// The edges connected to `/ws/edges/{id}/notify` on this process, and what
/// each was last told. A change reaches them as one message per edge:
/// `{"type": "config", "version": N, "base_version": M, "sha256", "patch", "envelope"}`
/// with the delta from the version the connection last knew (the one the
/// edge said in its `hello`, or the one pushed last), or
/// `{"type": "config", "version": N, "sha256"}` without a patch when no delta
/// can be made; the edge then fetches.
final class NotifyHub: Sendable {
    struct Connection: Sendable {
        let id: Int
        let orgId: String
        var knownVersion: Int?
        let send: @Sendable (String) async -> Void
    }

    private let connections = Mutex<[String: [Int: Connection]]>([:])
    private let nextId = Atomic<Int>(0)
    private let sync: SyncService
    private let logger: Logger

    init(sync: SyncService, logger: Logger) {
        self.sync = sync
        self.logger = logger
    }

    func connect(edgeId: String, orgId: String, send: @escaping @Sendable (String) async -> Void) -> Int {
        let id = nextId.add(1, ordering: .relaxed).newValue
        connections.withLock { $0[edgeId, default: [:]][id] = Connection(id: id, orgId: orgId, knownVersion: nil, send: send) }
        return id
    }

    func disconnect(edgeId: String, id: Int) {
        connections.withLock { all in
            all[edgeId]?[id] = nil
            if all[edgeId]?.isEmpty == true { all[edgeId] = nil }
        }
    }

    func setKnownVersion(edgeId: String, id: Int, version: Int) {
        connections.withLock { $0[edgeId]?[id]?.knownVersion = version }
    }

    var count: Int { connections.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    func hasConnections(org: String) -> Bool {
        connections.withLock { all in all.values.contains { $0.values.contains { $0.orgId == org } } }
    }

    /// Pushes the new versions to the edges connected here; the messages are
    /// built concurrently (the delta and signature per edge) and sent as each is ready.
    func announce(_ versions: [EdgeVersion], only connectionId: Int? = nil) async {
        // Each connection is claimed for the version inside the lock: one already told of it
        // (by this process's commit and again by its change event) is not told twice. The copy
        // keeps the version it knew before, the base of its delta.
        let targets: [(EdgeVersion, [Connection])] = connections.withLock { all in
            var out: [(EdgeVersion, [Connection])] = []
            for v in versions {
                guard let byId = all[v.edgeId] else { continue }
                var claimed: [Connection] = []
                for (id, connection) in byId where (connectionId == nil || id == connectionId) && (connection.knownVersion ?? 0) < v.version {
                    claimed.append(connection)
                    all[v.edgeId]?[id]?.knownVersion = v.version
                }
                if !claimed.isEmpty { out.append((v, claimed)) }
            }
            return out
        }
        guard !targets.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            let width = 64
            var index = 0
            for (version, connections) in targets {
                if index >= width { await group.next() }
                index += 1
                group.addTask {
                    for connection in connections {
                        let message = await self.message(for: version, connection: connection)
                        await connection.send(message)
                    }
                }
            }
        }
    }

    private func message(for version: EdgeVersion, connection: Connection) async -> String {
        let head = SyncService.Head(orgId: connection.orgId, version: version.version, stack: version.stack, createdAt: version.createdAt)
        let base = connection.knownVersion ?? (version.version - 1)
        do {
            if base >= 1, base < version.version, version.version - base <= sync.deltaWindow,
               let baseVersion = try await sync.version(edgeId: version.edgeId, base) {
                var message = try await sync.delta(edgeId: version.edgeId, from: baseVersion, to: head).json.objectValue ?? [:]
                message["type"] = "config"
                return JSONValue.object(message).canonicalText
            }
            let document = try await sync.document(edgeId: version.edgeId, version: version.version, stack: version.stack,
                                                   createdAt: version.createdAt)
            return JSONValue.object([
                "type": "config", "edge_id": .string(version.edgeId), "version": .number(Double(version.version)),
                "sha256": .string(ConfigDigest(of: document).hex),
            ]).canonicalText
        } catch {
            logger.warning("could not build the notification for \(version.edgeId) v\(version.version): \(error)")
            return JSONValue.object(["type": "config", "edge_id": .string(version.edgeId), "version": .number(Double(version.version))])
                .canonicalText
        }
    }
}
