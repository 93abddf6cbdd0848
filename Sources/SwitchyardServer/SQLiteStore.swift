import GRDB
import SwitchyardJSON

/// The embedded store: one SQLite file in WAL mode through GRDB. Nothing to
/// install; one server process per file (change events are delivered within
/// the process only; several processes need `PostgresStore`).
public final class SQLiteStore: ConfigStore {
    private let pool: DatabasePool
    private let broadcaster = EventBroadcaster<ChangeEvent>()
    public let path: String

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError(.database, "cannot open the SQLite database \(path): \(error)")
        }
    }

    public func migrate() async throws {
        try await pool.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL, revision INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS sites (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS sites_org ON sites(org_id);
                CREATE TABLE IF NOT EXISTS edge_groups (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, kind TEXT NOT NULL,
                    name TEXT NOT NULL, priority INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS edge_groups_org ON edge_groups(org_id);
                CREATE TABLE IF NOT EXISTS edges (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, site_id TEXT NOT NULL,
                    name TEXT NOT NULL, tags TEXT NOT NULL, groups TEXT NOT NULL, version INTEGER NOT NULL,
                    stack TEXT NOT NULL, pinned INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS edges_org ON edges(org_id);
                CREATE TABLE IF NOT EXISTS layers (key TEXT PRIMARY KEY, org_id TEXT NOT NULL, revision INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS layers_org ON layers(org_id);
                CREATE TABLE IF NOT EXISTS layer_revisions (key TEXT NOT NULL, revision INTEGER NOT NULL, org_id TEXT NOT NULL,
                    document TEXT NOT NULL, change_id INTEGER NOT NULL, PRIMARY KEY (key, revision));
                CREATE TABLE IF NOT EXISTS edge_versions (edge_id TEXT NOT NULL, version INTEGER NOT NULL, stack TEXT NOT NULL,
                    change_id INTEGER NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (edge_id, version));
                CREATE INDEX IF NOT EXISTS edge_versions_change ON edge_versions(change_id);
                CREATE TABLE IF NOT EXISTS changes (id INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, actor TEXT NOT NULL,
                    reason TEXT NOT NULL, kind TEXT NOT NULL, at INTEGER NOT NULL, details TEXT NOT NULL,
                    affected_edges INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS changes_org ON changes(org_id, id);
                CREATE TABLE IF NOT EXISTS heartbeats (edge_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, received_at INTEGER NOT NULL,
                    version INTEGER NOT NULL, state TEXT NOT NULL, errors TEXT NOT NULL, metrics TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS heartbeats_org ON heartbeats(org_id);
                CREATE TABLE IF NOT EXISTS credentials (id TEXT PRIMARY KEY, kind TEXT NOT NULL, org_id TEXT, edge_id TEXT, role TEXT,
                    name TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, revoked_at INTEGER);
                CREATE TABLE IF NOT EXISTS catalogs (org_id TEXT PRIMARY KEY, revision INTEGER NOT NULL, document TEXT NOT NULL);
                """)
        }
    }

    // MARK: Organizations

    public func organizations() async throws -> [Organization] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, name, revision FROM organizations ORDER BY id").map(Self.organization)
        }
    }

    public func organization(_ id: String) async throws -> Organization? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, name, revision FROM organizations WHERE id = ?", arguments: [id]).map(Self.organization)
        }
    }

    public func snapshot(org: String) async throws -> OrgSnapshot? {
        try await pool.read { db in
            guard let orgRow = try Row.fetchOne(db, sql: "SELECT id, name, revision FROM organizations WHERE id = ?", arguments: [org]) else {
                return nil
            }
            var snapshot = OrgSnapshot(organization: Self.organization(orgRow))
            for row in try Row.fetchAll(db, sql: "SELECT id, org_id, name FROM sites WHERE org_id = ?", arguments: [org]) {
                let site = Site(id: row["id"], orgId: row["org_id"], name: row["name"])
                snapshot.sites[site.id] = site
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM edge_groups WHERE org_id = ?", arguments: [org]) {
                let group = try Self.group(row)
                snapshot.groups[group.id] = group
            }
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM edges WHERE org_id = ?", arguments: [org])
            while let row = try cursor.next() {
                let edge = try Self.edge(row)
                snapshot.edges[edge.id] = edge
            }
            let layerRows = try Row.fetchAll(db, sql: """
                SELECT r.* FROM layers l JOIN layer_revisions r ON r.key = l.key AND r.revision = l.revision WHERE l.org_id = ?
                """, arguments: [org])
            for row in layerRows {
                let layer = try Self.layerRevision(row)
                snapshot.layers[layer.key] = layer
            }
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM catalogs WHERE org_id = ?", arguments: [org]) {
                snapshot.catalog = CatalogRecord(orgId: org, revision: row["revision"],
                                                 document: try StoredText.document(row["document"], "catalog of \(org)"))
            }
            return snapshot
        }
    }

    // MARK: Commit

    public func commit(_ commit: Commit) async throws -> ChangeRecord {
        let record = try await pool.write { db -> ChangeRecord in
            try Self.checkRevision(db, commit)
            var change = commit.change
            try db.execute(sql: """
                INSERT INTO changes (org_id, actor, reason, kind, at, details, affected_edges) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [commit.orgId, change.actor, change.reason, change.kind, change.at,
                                 change.details.canonicalText, change.affectedEdges])
            change.id = Int(db.lastInsertedRowID)
            change.orgId = commit.orgId
            try Self.writeDirectory(db, commit)
            for layer in commit.layerRevisions {
                try db.execute(sql: "INSERT INTO layer_revisions (key, revision, org_id, document, change_id) VALUES (?, ?, ?, ?, ?)",
                               arguments: [layer.key.description, layer.revision, commit.orgId, layer.document.canonicalText, change.id])
                try db.execute(sql: """
                    INSERT INTO layers (key, org_id, revision) VALUES (?, ?, ?)
                    ON CONFLICT (key) DO UPDATE SET revision = excluded.revision
                    """, arguments: [layer.key.description, commit.orgId, layer.revision])
            }
            let insertVersion = try db.makeStatement(sql: """
                INSERT INTO edge_versions (edge_id, version, stack, change_id, created_at) VALUES (?, ?, ?, ?, ?)
                """)
            let moveEdge = try db.makeStatement(sql: "UPDATE edges SET version = ?, stack = ? WHERE id = ? AND org_id = ?")
            for version in commit.edgeVersions {
                let stack = version.stack.text
                try insertVersion.execute(arguments: [version.edgeId, version.version, stack, change.id, version.createdAt])
                try moveEdge.execute(arguments: [version.version, stack, version.edgeId, commit.orgId])
                if db.changesCount == 0 {
                    throw StoreError(.database, "malformed commit: edge \"\(version.edgeId)\" is not an edge of \(commit.orgId)")
                }
            }
            if let catalog = commit.catalog {
                try db.execute(sql: """
                    INSERT INTO catalogs (org_id, revision, document) VALUES (?, ?, ?)
                    ON CONFLICT (org_id) DO UPDATE SET revision = excluded.revision, document = excluded.document
                    """, arguments: [commit.orgId, catalog.revision, catalog.document.canonicalText])
            }
            for credential in commit.newCredentials {
                try Self.insert(db, credential)
            }
            for id in commit.revokedCredentials {
                try db.execute(sql: "UPDATE credentials SET revoked_at = ? WHERE id = ? AND org_id = ? AND revoked_at IS NULL",
                               arguments: [change.at, id, commit.orgId])
            }
            return change
        }
        broadcaster.yield(ChangeEvent(orgId: record.orgId, changeId: record.id))
        return record
    }

    private static func checkRevision(_ db: Database, _ commit: Commit) throws {
        if commit.expectedRevision == 0 {
            let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM organizations WHERE id = ?", arguments: [commit.orgId]) ?? false
            if exists { throw StoreError(.conflict, "organization \"\(commit.orgId)\" exists already") }
            try db.execute(sql: "INSERT INTO organizations (id, name, revision) VALUES (?, ?, 1)",
                           arguments: [commit.orgId, commit.organization?.name ?? commit.orgId])
            return
        }
        try db.execute(sql: "UPDATE organizations SET revision = revision + 1, name = COALESCE(?, name) WHERE id = ? AND revision = ?",
                       arguments: [commit.organization?.name, commit.orgId, commit.expectedRevision])
        if db.changesCount == 0 {
            throw StoreError(.conflict, "organization \"\(commit.orgId)\" is no longer at revision \(commit.expectedRevision)")
        }
    }

    /// Upserts sites, groups and edges, refusing ids another organization uses.
    private static func writeDirectory(_ db: Database, _ commit: Commit) throws {
        func claim(_ table: String, _ id: String) throws {
            if let owner = try String.fetchOne(db, sql: "SELECT org_id FROM \(table) WHERE id = ?", arguments: [id]), owner != commit.orgId {
                throw StoreError(.duplicate, "the id \"\(id)\" is taken (\(table))")
            }
        }
        for site in commit.sites {
            try claim("sites", site.id)
            try db.execute(sql: "INSERT INTO sites (id, org_id, name) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                           arguments: [site.id, commit.orgId, site.name])
        }
        for group in commit.groups {
            try claim("edge_groups", group.id)
            try db.execute(sql: """
                INSERT INTO edge_groups (id, org_id, kind, name, priority) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, priority = excluded.priority
                """, arguments: [group.id, commit.orgId, group.kind.rawValue, group.name, group.priority])
        }
        for edge in commit.edges {
            try claim("edges", edge.id)
            try db.execute(sql: """
                INSERT INTO edges (id, org_id, site_id, name, tags, groups, version, stack, pinned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, name = excluded.name, tags = excluded.tags,
                    groups = excluded.groups, pinned = excluded.pinned
                """, arguments: [edge.id, commit.orgId, edge.siteId, edge.name, StoredText.text(edge.tags), StoredText.text(edge.groups),
                                 edge.version, edge.stack.text, edge.pinned])
        }
    }

    // MARK: Edges and layers

    public func edge(_ id: String) async throws -> Edge? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM edges WHERE id = ?", arguments: [id]).map(Self.edge) }
    }

    public func edgeVersion(edge: String, version: Int) async throws -> EdgeVersion? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM edge_versions WHERE edge_id = ? AND version = ?", arguments: [edge, version])
                .map(Self.edgeVersion)
        }
    }

    public func edgeVersions(edge: String, before: Int?, limit: Int) async throws -> [EdgeVersion] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM edge_versions WHERE edge_id = ? AND version < ? ORDER BY version DESC LIMIT ?",
                             arguments: [edge, before ?? Int.max, limit]).map(Self.edgeVersion)
        }
    }

    public func edgeVersions(change: Int) async throws -> [EdgeVersion] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM edge_versions WHERE change_id = ? ORDER BY edge_id", arguments: [change]).map(Self.edgeVersion)
        }
    }

    public func layerRevision(_ key: LayerKey, revision: Int) async throws -> LayerRevision? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM layer_revisions WHERE key = ? AND revision = ?", arguments: [key.description, revision])
                .map(Self.layerRevision)
        }
    }

    public func layerRevisions(_ key: LayerKey, limit: Int) async throws -> [LayerRevision] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM layer_revisions WHERE key = ? ORDER BY revision DESC LIMIT ?",
                             arguments: [key.description, limit]).map(Self.layerRevision)
        }
    }

    // MARK: Audit

    public func changes(org: String, before: Int?, limit: Int) async throws -> [ChangeRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM changes WHERE org_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
                             arguments: [org, before ?? Int.max, limit]).map(Self.change)
        }
    }

    public func change(_ id: Int) async throws -> ChangeRecord? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM changes WHERE id = ?", arguments: [id]).map(Self.change) }
    }

    // MARK: Heartbeats

    public func putHeartbeat(_ heartbeat: Heartbeat) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO heartbeats (edge_id, org_id, received_at, version, state, errors, metrics) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (edge_id) DO UPDATE SET received_at = excluded.received_at, version = excluded.version,
                    state = excluded.state, errors = excluded.errors, metrics = excluded.metrics
                """, arguments: [heartbeat.edgeId, heartbeat.orgId, heartbeat.receivedAt, heartbeat.version, heartbeat.state,
                                 heartbeat.errors.canonicalText, heartbeat.metrics.canonicalText])
        }
    }

    public func heartbeat(edge: String) async throws -> Heartbeat? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM heartbeats WHERE edge_id = ?", arguments: [edge]).map(Self.heartbeat)
        }
    }

    public func heartbeats(org: String) async throws -> [Heartbeat] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM heartbeats WHERE org_id = ? ORDER BY edge_id", arguments: [org]).map(Self.heartbeat)
        }
    }

    // MARK: Credentials

    public func credential(secretHash: String) async throws -> Credential? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM credentials WHERE secret_hash = ?", arguments: [secretHash]).map(Self.credential)
        }
    }

    public func credentials(org: String?) async throws -> [Credential] {
        try await pool.read { db in
            let rows = if let org {
                try Row.fetchAll(db, sql: "SELECT * FROM credentials WHERE org_id = ? ORDER BY created_at, id", arguments: [org])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM credentials WHERE org_id IS NULL ORDER BY created_at, id")
            }
            return try rows.map(Self.credential)
        }
    }

    public func hasCredentials() async throws -> Bool {
        try await pool.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM credentials)") ?? false }
    }

    public func insertRootCredential(_ credential: Credential) async throws {
        try await pool.write { db in try Self.insert(db, credential) }
    }

    private static func insert(_ db: Database, _ c: Credential) throws {
        try db.execute(sql: """
            INSERT INTO credentials (id, kind, org_id, edge_id, role, name, secret_hash, created_at, revoked_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [c.id, c.kind.rawValue, c.orgId, c.edgeId, c.role?.rawValue, c.name, c.secretHash, c.createdAt, c.revokedAt])
    }

    public func events() -> AsyncStream<ChangeEvent> { broadcaster.subscribe() }

    public func close() async throws {
        broadcaster.finish()
        try pool.close()
    }

    // MARK: Rows

    private static func organization(_ row: Row) -> Organization {
        Organization(id: row["id"], name: row["name"], revision: row["revision"])
    }

    private static func group(_ row: Row) throws -> EdgeGroup {
        let id: String = row["id"]
        return EdgeGroup(id: id, orgId: row["org_id"], kind: try StoredText.groupKind(row["kind"], "edge_groups row \(id)"),
                         name: row["name"], priority: row["priority"])
    }

    private static func edge(_ row: Row) throws -> Edge {
        let id: String = row["id"]
        let what = "edges row \(id)"
        return Edge(id: id, orgId: row["org_id"], siteId: row["site_id"], name: row["name"],
                    tags: try StoredText.strings(row["tags"], what), groups: try StoredText.strings(row["groups"], what),
                    version: row["version"], stack: try StoredText.stack(row["stack"], what), pinned: row["pinned"])
    }

    private static func edgeVersion(_ row: Row) throws -> EdgeVersion {
        let id: String = row["edge_id"]
        let version: Int = row["version"]
        return EdgeVersion(edgeId: id, version: version, stack: try StoredText.stack(row["stack"], "edge_versions row \(id) v\(version)"),
                           changeId: row["change_id"], createdAt: row["created_at"])
    }

    private static func layerRevision(_ row: Row) throws -> LayerRevision {
        let keyText: String = row["key"]
        let revision: Int = row["revision"]
        let what = "layer_revisions row \(keyText)@\(revision)"
        return LayerRevision(key: try StoredText.layerKey(keyText, what), orgId: row["org_id"], revision: revision,
                             document: try StoredText.document(row["document"], what), changeId: row["change_id"])
    }

    private static func change(_ row: Row) throws -> ChangeRecord {
        let id: Int = row["id"]
        return ChangeRecord(id: id, orgId: row["org_id"], actor: row["actor"], reason: row["reason"], kind: row["kind"], at: row["at"],
                            details: try StoredText.document(row["details"], "changes row \(id)"), affectedEdges: row["affected_edges"])
    }

    private static func heartbeat(_ row: Row) throws -> Heartbeat {
        let id: String = row["edge_id"]
        return Heartbeat(edgeId: id, orgId: row["org_id"], receivedAt: row["received_at"], version: row["version"], state: row["state"],
                         errors: try StoredText.document(row["errors"], "heartbeats row \(id)"),
                         metrics: try StoredText.document(row["metrics"], "heartbeats row \(id)"))
    }

    private static func credential(_ row: Row) throws -> Credential {
        let id: String = row["id"]
        let what = "credentials row \(id)"
        return Credential(id: id, kind: try StoredText.credentialKind(row["kind"], what), orgId: row["org_id"], edgeId: row["edge_id"],
                          role: try StoredText.role(row["role"], what), name: row["name"], secretHash: row["secret_hash"],
                          createdAt: row["created_at"], revokedAt: row["revoked_at"])
    }
}
