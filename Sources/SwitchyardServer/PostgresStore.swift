import Logging
import PostgresNIO
import Synchronization
import SwitchyardConfigDoc
import SwitchyardJSON

/// The store on a PostgreSQL server, for several server processes sharing one
/// database. Commits are single transactions ordered by the organization's
/// revision row (`UPDATE … WHERE revision = expected`, which a concurrent
/// commit blocks on and then fails), and announce themselves with `NOTIFY`
/// inside that transaction, so every process hears of a change exactly when
/// it becomes visible.
///
/// The tables are those of `SQLiteStore` (docs/server.md, "Storage"); JSON
/// documents and lists are canonical JSON text in TEXT columns.
public final class PostgresStore: ConfigStore {
    /// The NOTIFY channel. Notifications stay within one database, so stores
    /// on different databases of one server do not hear each other.
    static let channel = "switchyard_changes"
    /// The advisory lock `migrate` holds, so two processes starting at once
    /// do not race on `CREATE TABLE IF NOT EXISTS` (which is not atomic).
    static let migrationLock: Int64 = 0x5357_5943_4D49_4752  // "SWYCMIGR"
    /// How long `waitUntilListening` waits for the LISTEN connection.
    static let listenerWait: Duration = .seconds(2)

    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let listener: PostgresChangeListener
    private let logger: Logger

    /// `url`: `postgres://user:password@host:port/database` (or `postgresql://`);
    /// `?host=/socket/dir` for a Unix socket; `?sslmode=disable|prefer|require|verify-ca|verify-full`.
    /// Connects lazily: a wrong password shows at the first query.
    public init(url: String, logger: Logger) throws {
        let target = try PostgresURL(parsing: url)
        let client = PostgresClient(configuration: target.clientConfiguration(), backgroundLogger: logger)
        let listenConfiguration = try target.connectionConfiguration()
        self.client = client
        self.logger = logger
        listener = PostgresChangeListener(configuration: listenConfiguration, logger: logger)
        // The pool serves no query until run() runs; close() cancels it. Started
        // immediately where possible: a query leasing a connection before run()
        // began would work but log a warning.
        if #available(macOS 26, *) {
            runTask = Task.immediate { await client.run() }
        } else {
            runTask = Task { await client.run() }
        }
    }

    deinit {
        listener.cancel()
        runTask.cancel()
    }

    public func close() async throws {
        await listener.close()
        runTask.cancel()
        await runTask.value
    }

    public func events() -> AsyncStream<ChangeEvent> { listener.subscribe() }

    /// Returns once this store's LISTEN connection is in place (or after a
    /// short wait): a test that expects a commit of another store to reach
    /// this one's `events()` waits here first.
    func waitUntilListening() async {
        await listener.waitUntilListening(atMost: Self.listenerWait)
    }

    /// Whether the LISTEN connection is in place now.
    var isListening: Bool { listener.isListening }

    // MARK: Schema

    public func migrate() async throws {
        try await transaction("migrate the schema") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
            for statement in PostgresSchema.statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
            }
        }
    }

    // MARK: Organizations

    public func organizations() async throws -> [Organization] {
        try await rows("read organizations", "SELECT id, name, revision FROM organizations ORDER BY id", PostgresRows.organization)
    }

    public func organization(_ id: String) async throws -> Organization? {
        try await rows("read organization \(id)", "SELECT id, name, revision FROM organizations WHERE id = \(id)",
                       PostgresRows.organization).first
    }

    /// One REPEATABLE READ transaction, so the rows agree with the revision
    /// read with them; one query per table, whatever the organization's size.
    public func snapshot(org: String) async throws -> OrgSnapshot? {
        try await transaction("read organization \(org)", begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            let log = self.logger
            guard let organization = try await Self.rows(
                "SELECT id, name, revision FROM organizations WHERE id = \(org)", on: connection, log, PostgresRows.organization
            ).first else { return nil }
            var snapshot = OrgSnapshot(organization: organization)
            for site in try await Self.rows("SELECT id, org_id, name FROM sites WHERE org_id = \(org)", on: connection, log, PostgresRows.site) {
                snapshot.sites[site.id] = site
            }
            for group in try await Self.rows(
                "SELECT id, org_id, kind, name, priority FROM edge_groups WHERE org_id = \(org)", on: connection, log, PostgresRows.group
            ) {
                snapshot.groups[group.id] = group
            }
            var reader = PostgresRows.EdgeReader()
            for edges in try await Self.rows(PostgresRows.edgeArrays(org: org), on: connection, log, { try reader.edges($0) }) {
                snapshot.edges.reserveCapacity(edges.count)
                for edge in edges { snapshot.edges[edge.id] = edge }
            }
            let layers = try await Self.rows("""
                SELECT r.key, r.org_id, r.revision, r.document, r.change_id
                FROM layers l JOIN layer_revisions r ON r.key = l.key AND r.revision = l.revision
                WHERE l.org_id = \(org)
                """, on: connection, log, PostgresRows.layerRevision)
            for layer in layers { snapshot.layers[layer.key] = layer }
            snapshot.catalog = try await Self.rows(
                "SELECT org_id, revision, document FROM catalogs WHERE org_id = \(org)", on: connection, log, PostgresRows.catalog
            ).first
            return snapshot
        }
    }

    // MARK: Commit

    /// This process's subscribers hear of the commit before it returns, as
    /// with `SQLiteStore` (callers count on it: a revocation clears caches
    /// before the next request); the NOTIFY echo is then dropped as a repeat.
    public func commit(_ commit: Commit) async throws -> ChangeRecord {
        try CommitCheck.validate(commit)
        let record = try await transaction("commit to organization \(commit.orgId)") { connection in
            try await PostgresCommitWriter(commit: commit, connection: connection, logger: self.logger).write()
        }
        listener.committed(ChangeEvent(orgId: record.orgId, changeId: record.id))
        return record
    }

    // MARK: Edges and layers

    public func edge(_ id: String) async throws -> Edge? {
        try await rows("read edge \(id)", "SELECT \(unescaped: PostgresRows.edgeColumns) FROM edges WHERE id = \(id)", PostgresRows.edge).first
    }

    public func edgeVersion(edge: String, version: Int) async throws -> EdgeVersion? {
        try await rows("read version \(version) of edge \(edge)", """
            SELECT \(unescaped: PostgresRows.edgeVersionColumns) FROM edge_versions WHERE edge_id = \(edge) AND version = \(version)
            """, PostgresRows.edgeVersion).first
    }

    public func edgeVersions(edge: String, before: Int?, limit: Int) async throws -> [EdgeVersion] {
        try await rows("read versions of edge \(edge)", """
            SELECT \(unescaped: PostgresRows.edgeVersionColumns) FROM edge_versions
            WHERE edge_id = \(edge) AND (\(before)::bigint IS NULL OR version < \(before)::bigint)
            ORDER BY version DESC LIMIT \(max(0, limit))
            """, PostgresRows.edgeVersion)
    }

    /// A rollout's versions can number 100,000: read as column arrays.
    public func edgeVersions(change: Int) async throws -> [EdgeVersion] {
        try await rows("read the edge versions of change \(change)", """
            SELECT array_agg(edge_id), array_agg(version), array_agg(stack), array_agg(created_at)
            FROM (SELECT edge_id, version, stack, created_at FROM edge_versions WHERE change_id = \(change) ORDER BY edge_id) v
            """) { try PostgresRows.edgeVersions($0, change: change) }.first ?? []
    }

    public func layerRevision(_ key: LayerKey, revision: Int) async throws -> LayerRevision? {
        try await rows("read layer \(key)@\(revision)", """
            SELECT key, org_id, revision, document, change_id FROM layer_revisions WHERE key = \(key.description) AND revision = \(revision)
            """, PostgresRows.layerRevision).first
    }

    public func layerRevisions(_ key: LayerKey, limit: Int) async throws -> [LayerRevision] {
        try await rows("read revisions of layer \(key)", """
            SELECT key, org_id, revision, document, change_id FROM layer_revisions WHERE key = \(key.description)
            ORDER BY revision DESC LIMIT \(max(0, limit))
            """, PostgresRows.layerRevision)
    }

    // MARK: Changes

    public func changes(org: String, before: Int?, limit: Int) async throws -> [ChangeRecord] {
        try await rows("read changes of organization \(org)", """
            SELECT \(unescaped: PostgresRows.changeColumns) FROM changes
            WHERE org_id = \(org) AND (\(before)::bigint IS NULL OR id < \(before)::bigint)
            ORDER BY id DESC LIMIT \(max(0, limit))
            """, PostgresRows.change)
    }

    public func change(_ id: Int) async throws -> ChangeRecord? {
        try await rows("read change \(id)", "SELECT \(unescaped: PostgresRows.changeColumns) FROM changes WHERE id = \(id)",
                       PostgresRows.change).first
    }

    // MARK: Heartbeats

    public func putHeartbeat(_ heartbeat: Heartbeat) async throws {
        try await execute("store the heartbeat of edge \(heartbeat.edgeId)", """
            INSERT INTO heartbeats (edge_id, org_id, received_at, version, state, errors, metrics)
            VALUES (\(heartbeat.edgeId), \(heartbeat.orgId), \(heartbeat.receivedAt), \(heartbeat.version), \(heartbeat.state),
                    \(heartbeat.errors.canonicalText), \(heartbeat.metrics.canonicalText))
            ON CONFLICT (edge_id) DO UPDATE SET org_id = excluded.org_id, received_at = excluded.received_at,
                version = excluded.version, state = excluded.state, errors = excluded.errors, metrics = excluded.metrics
            """)
    }

    public func heartbeat(edge: String) async throws -> Heartbeat? {
        try await rows("read the heartbeat of edge \(edge)",
                       "SELECT \(unescaped: PostgresRows.heartbeatColumns) FROM heartbeats WHERE edge_id = \(edge)",
                       PostgresRows.heartbeat).first
    }

    public func heartbeats(org: String) async throws -> [Heartbeat] {
        try await rows("read heartbeats of organization \(org)",
                       "SELECT \(unescaped: PostgresRows.heartbeatColumns) FROM heartbeats WHERE org_id = \(org) ORDER BY edge_id",
                       PostgresRows.heartbeat)
    }

    // MARK: Credentials

    public func credential(secretHash: String) async throws -> Credential? {
        try await rows("look up a credential",
                       "SELECT \(unescaped: PostgresRows.credentialColumns) FROM credentials WHERE secret_hash = \(secretHash)",
                       PostgresRows.credential).first
    }

    /// `org` nil: the root tokens, which belong to no organization.
    public func credentials(org: String?) async throws -> [Credential] {
        try await rows("read credentials of \(org.map { "organization \($0)" } ?? "root")", """
            SELECT \(unescaped: PostgresRows.credentialColumns) FROM credentials WHERE org_id IS NOT DISTINCT FROM \(org)
            ORDER BY created_at, id
            """, PostgresRows.credential)
    }

    public func hasCredentials() async throws -> Bool {
        try await rows("count credentials", "SELECT EXISTS (SELECT 1 FROM credentials)") { try $0.decode(Bool.self) }.first ?? false
    }

    public func insertRootCredential(_ credential: Credential) async throws {
        try await execute("store root credential \(credential.id)", PostgresCommitWriter.insert(credential))
    }

    // MARK: Plumbing

    /// Runs `body` inside BEGIN … COMMIT on one pooled connection; rolls
    /// back when it throws. (Not `PostgresClient.withTransaction`: that wraps
    /// every error, and a `StoreError` thrown inside must come out as it is.)
    private func transaction<T: Sendable>(
        _ what: @autoclosure () -> String, begin: PostgresQuery = "BEGIN",
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let logger = self.logger
        return try await PostgresErrors.mapped(what()) {
            try await client.withConnection { connection in
                try await connection.query(begin, logger: logger)
                do {
                    let value = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return value
                } catch {
                    do {
                        try await connection.query("ROLLBACK", logger: logger)
                    } catch {
                        // A connection in an unknown transaction state must not go back to the pool.
                        try? await connection.close()
                    }
                    throw error
                }
            }
        }
    }

    /// Every row of `query` on a pooled connection, read by `read`.
    func rows<T: Sendable>(
        _ what: @autoclosure () -> String, _ query: PostgresQuery, _ read: (PostgresRow) throws -> T
    ) async throws -> [T] {
        try await PostgresErrors.mapped(what()) {
            var out: [T] = []
            for try await row in try await client.query(query, logger: logger) {
                out.append(try read(row))
            }
            return out
        }
    }

    private func execute(_ what: @autoclosure () -> String, _ query: PostgresQuery) async throws {
        let logger = self.logger
        _ = try await PostgresErrors.mapped(what()) {
            try await client.withConnection { connection in
                try await connection.query(query, logger: logger)
            }
        }
    }

    /// Every row of `query`, read by `read`.
    static func rows<T>(
        _ query: PostgresQuery, on connection: PostgresConnection, _ logger: Logger, _ read: (PostgresRow) throws -> T
    ) async throws -> [T] {
        var out: [T] = []
        for try await row in try await connection.query(query, logger: logger) {
            out.append(try read(row))
        }
        return out
    }
}

// MARK: - Schema

/// The tables, as docs/server.md describes them; every statement idempotent.
///
/// `edges` leaves half of each page free: a rollout rewrites the version and
/// stack of every edge at once, and with room on the page PostgreSQL writes
/// the new row versions there without touching the indexes (HOT updates),
/// which halves the time of a 100,000-edge rollout for twice the table size.
enum PostgresSchema {
    static let statements = [
        "CREATE TABLE IF NOT EXISTS organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL, revision BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS sites (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS sites_org_id ON sites (org_id)",
        """
        CREATE TABLE IF NOT EXISTS edge_groups (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
            priority BIGINT NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS edge_groups_org_id ON edge_groups (org_id)",
        """
        CREATE TABLE IF NOT EXISTS edges (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, site_id TEXT NOT NULL, name TEXT NOT NULL,
            tags TEXT NOT NULL, "groups" TEXT NOT NULL, version BIGINT NOT NULL, stack TEXT NOT NULL, pinned BOOLEAN NOT NULL)
            WITH (fillfactor = 50)
        """,
        "CREATE INDEX IF NOT EXISTS edges_org_id ON edges (org_id)",
        "CREATE TABLE IF NOT EXISTS layers (key TEXT PRIMARY KEY, org_id TEXT NOT NULL, revision BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS layers_org_id ON layers (org_id)",
        """
        CREATE TABLE IF NOT EXISTS layer_revisions (key TEXT, revision BIGINT, org_id TEXT NOT NULL, document TEXT NOT NULL,
            change_id BIGINT NOT NULL, PRIMARY KEY (key, revision))
        """,
        """
        CREATE TABLE IF NOT EXISTS edge_versions (edge_id TEXT, version BIGINT, stack TEXT NOT NULL, change_id BIGINT NOT NULL,
            created_at BIGINT NOT NULL, PRIMARY KEY (edge_id, version))
        """,
        "CREATE INDEX IF NOT EXISTS edge_versions_change_id ON edge_versions (change_id)",
        """
        CREATE TABLE IF NOT EXISTS changes (id BIGSERIAL PRIMARY KEY, org_id TEXT NOT NULL, actor TEXT, reason TEXT, kind TEXT,
            at BIGINT, details TEXT, affected_edges BIGINT)
        """,
        "CREATE INDEX IF NOT EXISTS changes_org_id ON changes (org_id, id)",
        """
        CREATE TABLE IF NOT EXISTS heartbeats (edge_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, received_at BIGINT, version BIGINT,
            state TEXT, errors TEXT, metrics TEXT)
        """,
        "CREATE INDEX IF NOT EXISTS heartbeats_org_id ON heartbeats (org_id)",
        """
        CREATE TABLE IF NOT EXISTS credentials (id TEXT PRIMARY KEY, kind TEXT NOT NULL, org_id TEXT NULL, edge_id TEXT NULL,
            role TEXT NULL, name TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, revoked_at BIGINT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS credentials_org_id ON credentials (org_id)",
        "CREATE TABLE IF NOT EXISTS catalogs (org_id TEXT PRIMARY KEY, revision BIGINT NOT NULL, document TEXT NOT NULL)",
    ]
}

// MARK: - Rows

/// How each table's rows become model values: one reader per table, so
/// every query reads a row the same way and names the row it could not read.
enum PostgresRows {
    static let edgeColumns = #"id, org_id, site_id, name, tags, "groups", version, stack, pinned"#
    static let edgeVersionColumns = "edge_id, version, stack, change_id, created_at"
    static let changeColumns = "id, org_id, actor, reason, kind, at, details, affected_edges"
    static let heartbeatColumns = "edge_id, org_id, received_at, version, state, errors, metrics"
    static let credentialColumns = "id, kind, org_id, edge_id, role, name, secret_hash, created_at, revoked_at"

    @Sendable static func organization(_ row: PostgresRow) throws -> Organization {
        let (id, name, revision) = try row.decode((String, String, Int).self)
        return Organization(id: id, name: name, revision: revision)
    }

    @Sendable static func site(_ row: PostgresRow) throws -> Site {
        let (id, org, name) = try row.decode((String, String, String).self)
        return Site(id: id, orgId: org, name: name)
    }

    @Sendable static func group(_ row: PostgresRow) throws -> EdgeGroup {
        let (id, org, kind, name, priority) = try row.decode((String, String, String, String, Int).self)
        return EdgeGroup(id: id, orgId: org, kind: try StoredText.groupKind(kind, "edge_groups row \(id), column kind"),
                         name: name, priority: priority)
    }

    @Sendable static func edge(_ row: PostgresRow) throws -> Edge {
        var reader = EdgeReader()
        return try reader.edge(row)
    }

    /// Reads edge rows, parsing each distinct tags, groups or stack text
    /// once: across an organization's edges they repeat, and parsing is most
    /// of the cost of a large snapshot.
    struct EdgeReader {
        private var lists: [String: [String]] = [:]
        private var stacks: [String: LayerStack] = [:]

        /// The row of `edgeArrays`: every edge of one organization.
        mutating func edges(_ row: PostgresRow) throws -> [Edge] {
            let (ids, orgs, sites, names, tags, groups, versions, stacks, pinned) = try row.decode(
                (PostgresArrayColumn?, PostgresArrayColumn?, PostgresArrayColumn?, PostgresArrayColumn?, PostgresArrayColumn?,
                 PostgresArrayColumn?, PostgresArrayColumn?, PostgresArrayColumn?, PostgresArrayColumn?).self)
            guard let ids else { return [] }  // array_agg of no rows
            let what = "edges"
            let idList = try ids.texts(what, "id")
            let count = idList.count
            let orgList = try PostgresArrayColumn.texts(orgs, count, what, "org_id")
            let siteList = try PostgresArrayColumn.texts(sites, count, what, "site_id")
            let nameList = try PostgresArrayColumn.texts(names, count, what, "name")
            let tagList = try PostgresArrayColumn.texts(tags, count, what, "tags")
            let groupList = try PostgresArrayColumn.texts(groups, count, what, "groups")
            let versionList = try PostgresArrayColumn.integers(versions, count, what, "version")
            let stackList = try PostgresArrayColumn.texts(stacks, count, what, "stack")
            let pinnedList = try PostgresArrayColumn.flags(pinned, count, what, "pinned")
            var out: [Edge] = []
            out.reserveCapacity(count)
            for i in 0..<count {
                let id = idList[i]
                out.append(Edge(id: id, orgId: orgList[i], siteId: siteList[i], name: nameList[i],
                                tags: try list(tagList[i], "edges row \(id), column tags"),
                                groups: try list(groupList[i], "edges row \(id), column groups"),
                                version: versionList[i], stack: try layerStack(stackList[i], "edges row \(id), column stack"),
                                pinned: pinnedList[i]))
            }
            return out
        }

        mutating func edge(_ row: PostgresRow) throws -> Edge {
            let (id, org, site, name, tags, groups, version, stack, pinned) =
                try row.decode((String, String, String, String, String, String, Int, String, Bool).self)
            return Edge(id: id, orgId: org, siteId: site, name: name,
                        tags: try list(tags, "edges row \(id), column tags"),
                        groups: try list(groups, "edges row \(id), column groups"),
                        version: version, stack: try layerStack(stack, "edges row \(id), column stack"), pinned: pinned)
        }

        private mutating func list(_ text: String, _ what: @autoclosure () -> String) throws(StoreError) -> [String] {
            if let known = lists[text] { return known }
            let parsed = try StoredText.strings(text, what())
            lists[text] = parsed
            return parsed
        }

        private mutating func layerStack(_ text: String, _ what: @autoclosure () -> String) throws(StoreError) -> LayerStack {
            if let known = stacks[text] { return known }
            let parsed = try StoredText.stack(text, what())
            stacks[text] = parsed
            return parsed
        }
    }

    /// Every edge of an organization in one row of column arrays: postgres-nio
    /// spends a fixed cost on every row (tens of microseconds in a debug
    /// build), so 100,000 rows take seconds where nine arrays take milliseconds.
    static func edgeArrays(org: String) -> PostgresQuery {
        """
        SELECT array_agg(id), array_agg(org_id), array_agg(site_id), array_agg(name), array_agg(tags), array_agg("groups"),
               array_agg(version), array_agg(stack), array_agg(pinned)
        FROM edges WHERE org_id = \(org)
        """
    }

    /// The row of the column arrays of `edge_versions`: edge_id, version, stack, created_at.
    static func edgeVersions(_ row: PostgresRow, change: Int) throws -> [EdgeVersion] {
        let (edges, versions, stacks, created) = try row.decode(
            (PostgresArrayColumn?, PostgresArrayColumn?, PostgresArrayColumn?, PostgresArrayColumn?).self)
        guard let edges else { return [] }
        let what = "edge_versions"
        let edgeList = try edges.texts(what, "edge_id")
        let count = edgeList.count
        let versionList = try PostgresArrayColumn.integers(versions, count, what, "version")
        let stackList = try PostgresArrayColumn.texts(stacks, count, what, "stack")
        let createdList = try PostgresArrayColumn.integers(created, count, what, "created_at")
        var parsed: [String: LayerStack] = [:]
        var out: [EdgeVersion] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            let text = stackList[i]
            let stack: LayerStack
            if let known = parsed[text] {
                stack = known
            } else {
                stack = try StoredText.stack(text, "edge_versions row \(edgeList[i])@\(versionList[i]), column stack")
                parsed[text] = stack
            }
            out.append(EdgeVersion(edgeId: edgeList[i], version: versionList[i], stack: stack, changeId: change,
                                   createdAt: Int64(createdList[i])))
        }
        return out
    }

    @Sendable static func edgeVersion(_ row: PostgresRow) throws -> EdgeVersion {
        let (edge, version, stack, change, created) = try row.decode((String, Int, String, Int, Int64).self)
        return EdgeVersion(edgeId: edge, version: version,
                           stack: try StoredText.stack(stack, "edge_versions row \(edge)@\(version), column stack"),
                           changeId: change, createdAt: created)
    }

    @Sendable static func layerRevision(_ row: PostgresRow) throws -> LayerRevision {
        let (key, org, revision, document, change) = try row.decode((String, String, Int, String, Int).self)
        let what = "layer_revisions row \(key)@\(revision)"
        return LayerRevision(key: try StoredText.layerKey(key, "\(what), column key"), orgId: org, revision: revision,
                             document: try StoredText.document(document, "\(what), column document"), changeId: change)
    }

    @Sendable static func catalog(_ row: PostgresRow) throws -> CatalogRecord {
        let (org, revision, document) = try row.decode((String, Int, String).self)
        return CatalogRecord(orgId: org, revision: revision,
                             document: try StoredText.document(document, "catalogs row \(org), column document"))
    }

    @Sendable static func change(_ row: PostgresRow) throws -> ChangeRecord {
        let (id, org, actor, reason, kind, at, details, affected) =
            try row.decode((Int, String, String?, String?, String?, Int64?, String?, Int?).self)
        let what = "changes row \(id)"
        return ChangeRecord(id: id, orgId: org, actor: try present(actor, what, "actor"), reason: try present(reason, what, "reason"),
                            kind: try present(kind, what, "kind"), at: try present(at, what, "at"),
                            details: try StoredText.document(try present(details, what, "details"), "\(what), column details"),
                            affectedEdges: try present(affected, what, "affected_edges"))
    }

    @Sendable static func heartbeat(_ row: PostgresRow) throws -> Heartbeat {
        let (edge, org, received, version, state, errors, metrics) =
            try row.decode((String, String, Int64?, Int?, String?, String?, String?).self)
        let what = "heartbeats row \(edge)"
        return Heartbeat(edgeId: edge, orgId: org, receivedAt: try present(received, what, "received_at"),
                         version: try present(version, what, "version"), state: try present(state, what, "state"),
                         errors: try StoredText.document(try present(errors, what, "errors"), "\(what), column errors"),
                         metrics: try StoredText.document(try present(metrics, what, "metrics"), "\(what), column metrics"))
    }

    @Sendable static func credential(_ row: PostgresRow) throws -> Credential {
        let (id, kind, org, edge, role, name, hash, created, revoked) =
            try row.decode((String, String, String?, String?, String?, String, String, Int64, Int64?).self)
        let what = "credentials row \(id)"
        return Credential(id: id, kind: try StoredText.credentialKind(kind, "\(what), column kind"), orgId: org, edgeId: edge,
                          role: try StoredText.role(role, "\(what), column role"), name: name, secretHash: hash,
                          createdAt: created, revokedAt: revoked)
    }

    /// The columns the schema leaves nullable but the model does not.
    private static func present<T>(_ value: T?, _ what: String, _ column: String) throws(StoreError) -> T {
        guard let value else { throw StoreError(.corrupt, "\(what) has no \(column)") }
        return value
    }
}

// MARK: - Commit

/// What the store checks of a commit before touching the database: every
/// row it carries belongs to the organization it is committed to.
enum CommitCheck {
    static func validate(_ commit: Commit) throws(StoreError) {
        let org = commit.orgId
        func refuse(_ problem: String) -> StoreError {
            StoreError(.database, "malformed commit to organization \(org): \(problem)")
        }
        if let organization = commit.organization, organization.id != org {
            throw refuse("it carries organization \(organization.id)")
        }
        if commit.expectedRevision < 0 { throw refuse("expected revision \(commit.expectedRevision)") }
        if let site = commit.sites.first(where: { $0.orgId != org }) { throw refuse("site \(site.id) is of organization \(site.orgId)") }
        if let group = commit.groups.first(where: { $0.orgId != org }) { throw refuse("group \(group.id) is of organization \(group.orgId)") }
        if let edge = commit.edges.first(where: { $0.orgId != org }) { throw refuse("edge \(edge.id) is of organization \(edge.orgId)") }
        if let layer = commit.layerRevisions.first(where: { $0.orgId != org }) {
            throw refuse("layer revision \(layer.key)@\(layer.revision) is of organization \(layer.orgId)")
        }
        if let catalog = commit.catalog, catalog.orgId != org { throw refuse("its catalog is of organization \(catalog.orgId)") }
        if let credential = commit.newCredentials.first(where: { $0.orgId != org }) {
            throw refuse("credential \(credential.id) is of \(credential.orgId.map { "organization \($0)" } ?? "no organization")")
        }
    }
}

/// Writes one commit inside an open transaction, set-based: every list is
/// bound as column arrays and written with one `unnest` statement, so a
/// commit of 100,000 edge versions is a handful of round trips.
struct PostgresCommitWriter {
    let commit: Commit
    let connection: PostgresConnection
    let logger: Logger

    private var org: String { commit.orgId }

    func write() async throws -> ChangeRecord {
        try await advanceRevision()
        let changeId = try await insertChange()
        try await upsertSites()
        try await upsertGroups()
        try await upsertEdges()
        try await writeLayers(changeId: changeId)
        try await writeEdgeVersions(changeId: changeId)
        try await writeCatalog()
        try await writeCredentials()
        let event = ChangeEvent(orgId: org, changeId: changeId)
        // Sent by the server at COMMIT to every listening process (this one drops
        // the echo: `PostgresStore.commit` delivers its own changes itself).
        try await connection.query("SELECT pg_notify(\(PostgresStore.channel), \(ChangeNotification.payload(event)))", logger: logger)
        var record = commit.change
        record.id = changeId
        record.orgId = org
        return record
    }

    /// Creates the organization at revision 1, or moves it from the expected
    /// revision to the next. A concurrent commit to the same organization
    /// waits on the row lock and then finds the revision moved.
    private func advanceRevision() async throws {
        if commit.expectedRevision == 0 {
            let name = commit.organization?.name ?? org
            let created = try await integer("""
                WITH created AS (
                    INSERT INTO organizations (id, name, revision) VALUES (\(org), \(name), 1) ON CONFLICT (id) DO NOTHING RETURNING 1
                ) SELECT count(*) FROM created
                """)
            guard created == 1 else { throw StoreError(.conflict, "organization \(org) exists already") }
            return
        }
        let moved = try await integer("""
            WITH moved AS (
                UPDATE organizations SET revision = revision + 1, name = coalesce(\(commit.organization?.name), name)
                WHERE id = \(org) AND revision = \(commit.expectedRevision) RETURNING 1
            ) SELECT count(*) FROM moved
            """)
        guard moved == 1 else {
            let current = try await PostgresStore.rows("SELECT revision FROM organizations WHERE id = \(org)", on: connection, logger) {
                try $0.decode(Int.self)
            }.first
            guard let current else { throw StoreError(.conflict, "organization \(org) does not exist") }
            throw StoreError(.conflict, "organization \(org) is at revision \(current), not \(commit.expectedRevision)")
        }
    }

    private func insertChange() async throws -> Int {
        let change = commit.change
        return try await integer("""
            INSERT INTO changes (org_id, actor, reason, kind, at, details, affected_edges)
            VALUES (\(org), \(change.actor), \(change.reason), \(change.kind), \(change.at), \(change.details.canonicalText), \(change.affectedEdges))
            RETURNING id
            """)
    }

    private func upsertSites() async throws {
        let sites = lastOfEachId(commit.sites, \.id)
        guard !sites.isEmpty else { return }
        let written = try await integer("""
            WITH written AS (
                INSERT INTO sites (id, org_id, name)
                SELECT u.id, \(org), u.name FROM unnest(\(array: sites.map(\.id))::text[], \(array: sites.map(\.name))::text[]) AS u(id, name)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE sites.org_id = excluded.org_id
                RETURNING 1
            ) SELECT count(*) FROM written
            """)
        try await requireOwnership(written: written, ids: sites.map(\.id), table: "sites", noun: "site")
    }

    private func upsertGroups() async throws {
        let groups = lastOfEachId(commit.groups, \.id)
        guard !groups.isEmpty else { return }
        let written = try await integer("""
            WITH written AS (
                INSERT INTO edge_groups (id, org_id, kind, name, priority)
                SELECT u.id, \(org), u.kind, u.name, u.priority
                FROM unnest(\(array: groups.map(\.id))::text[], \(array: groups.map(\.kind.rawValue))::text[], \(array: groups.map(\.name))::text[],
                            \(array: groups.map(\.priority))::bigint[]) AS u(id, kind, name, priority)
                ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, priority = excluded.priority
                WHERE edge_groups.org_id = excluded.org_id
                RETURNING 1
            ) SELECT count(*) FROM written
            """)
        try await requireOwnership(written: written, ids: groups.map(\.id), table: "edge_groups", noun: "group")
    }

    /// The directory fields only: an existing edge's version and stack move
    /// through edge versions alone.
    private func upsertEdges() async throws {
        let edges = lastOfEachId(commit.edges, \.id)
        guard !edges.isEmpty else { return }
        let written = try await integer("""
            WITH written AS (
                INSERT INTO edges (id, org_id, site_id, name, tags, "groups", version, stack, pinned)
                SELECT u.id, \(org), u.site_id, u.name, u.tags, u.grps, u.version, u.stack, u.pinned
                FROM unnest(\(array: edges.map(\.id))::text[], \(array: edges.map(\.siteId))::text[], \(array: edges.map(\.name))::text[],
                            \(array: edges.map { StoredText.text($0.tags) })::text[], \(array: edges.map { StoredText.text($0.groups) })::text[],
                            \(array: edges.map(\.version))::bigint[], \(array: edges.map(\.stack.text))::text[], \(array: edges.map(\.pinned))::boolean[])
                     AS u(id, site_id, name, tags, grps, version, stack, pinned)
                ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, name = excluded.name, tags = excluded.tags,
                    "groups" = excluded."groups", pinned = excluded.pinned
                WHERE edges.org_id = excluded.org_id
                RETURNING 1
            ) SELECT count(*) FROM written
            """)
        try await requireOwnership(written: written, ids: edges.map(\.id), table: "edges", noun: "edge")
    }

    /// The `layers` rows first, so a layer of another organization is
    /// refused as a duplicate before its revisions could collide.
    private func writeLayers(changeId: Int) async throws {
        let revisions = commit.layerRevisions
        guard !revisions.isEmpty else { return }
        var newest: [String: Int] = [:]
        for revision in revisions { newest[revision.key.description] = max(newest[revision.key.description] ?? .min, revision.revision) }
        let keys = newest.keys.sorted()
        let written = try await integer("""
            WITH written AS (
                INSERT INTO layers (key, org_id, revision)
                SELECT u.key, \(org), u.revision FROM unnest(\(array: keys)::text[], \(array: keys.map { newest[$0]! })::bigint[]) AS u(key, revision)
                ON CONFLICT (key) DO UPDATE SET revision = excluded.revision WHERE layers.org_id = excluded.org_id
                RETURNING 1
            ) SELECT count(*) FROM written
            """)
        if written < keys.count {
            let taken = try await PostgresStore.rows("""
                SELECT key FROM layers WHERE key = ANY(\(keys)::text[]) AND org_id <> \(org) ORDER BY key LIMIT 5
                """, on: connection, logger) { try $0.decode(String.self) }
            throw StoreError(.duplicate, "commit to organization \(org): "
                + taken.map { "layer \($0) is another organization's" }.joined(separator: "; "))
        }
        try await connection.query("""
            INSERT INTO layer_revisions (key, revision, org_id, document, change_id)
            SELECT u.key, u.revision, \(org), u.document, \(changeId)
            FROM unnest(\(array: revisions.map(\.key.description))::text[], \(array: revisions.map(\.revision))::bigint[],
                        \(array: revisions.map(\.document.canonicalText))::text[]) AS u(key, revision, document)
            """, logger: logger)
    }

    /// Two statements whatever the count: the versions inserted, then each
    /// edge moved to its newest one.
    private func writeEdgeVersions(changeId: Int) async throws {
        let versions = commit.edgeVersions
        guard !versions.isEmpty else { return }
        let ids = PostgresArrayBind(versions.map(\.edgeId))
        let numbers = PostgresArrayBind(versions.map(\.version))
        let stackTexts = versions.map(\.stack.text)
        let stacks = PostgresArrayBind(stackTexts)
        try await connection.query("""
            INSERT INTO edge_versions (edge_id, version, stack, change_id, created_at)
            SELECT u.edge_id, u.version, u.stack, \(changeId), u.created_at
            FROM unnest(\(ids)::text[], \(numbers)::bigint[], \(stacks)::text[], \(array: versions.map(\.createdAt))::bigint[])
                 AS u(edge_id, version, stack, created_at)
            """, logger: logger)

        // Usually one version per edge, and the arrays above serve again.
        var newest: [String: Int] = [:]
        newest.reserveCapacity(versions.count)
        for index in versions.indices {
            let edge = versions[index].edgeId
            if let known = newest[edge], versions[known].version >= versions[index].version { continue }
            newest[edge] = index
        }
        let edgeCount = newest.count
        if edgeCount < versions.count {
            let current = Array(newest.values)
            try await moveEdges(ids: PostgresArrayBind(current.map { versions[$0].edgeId }),
                                versions: PostgresArrayBind(current.map { versions[$0].version }),
                                stacks: PostgresArrayBind(current.map { stackTexts[$0] }), count: edgeCount)
        } else {
            try await moveEdges(ids: ids, versions: numbers, stacks: stacks, count: edgeCount)
        }
    }

    private func moveEdges(ids: PostgresArrayBind, versions: PostgresArrayBind, stacks: PostgresArrayBind, count: Int) async throws {
        let moved = try await integer("""
            WITH moved AS (
                UPDATE edges e SET version = u.version, stack = u.stack
                FROM unnest(\(ids)::text[], \(versions)::bigint[], \(stacks)::text[]) AS u(id, version, stack)
                WHERE e.id = u.id AND e.org_id = \(org)
                RETURNING 1
            ) SELECT count(*) FROM moved
            """)
        guard moved < count else { return }
        let missing = try await PostgresStore.rows("""
            SELECT u.id FROM unnest(\(ids)::text[]) AS u(id)
            WHERE NOT EXISTS (SELECT 1 FROM edges e WHERE e.id = u.id AND e.org_id = \(org)) ORDER BY u.id LIMIT 5
            """, on: connection, logger) { try $0.decode(String.self) }
        throw StoreError(.database, "commit to organization \(org) has versions for edges it does not have: "
            + missing.joined(separator: ", "))
    }

    private func writeCatalog() async throws {
        guard let catalog = commit.catalog else { return }
        try await connection.query("""
            INSERT INTO catalogs (org_id, revision, document) VALUES (\(org), \(catalog.revision), \(catalog.document.canonicalText))
            ON CONFLICT (org_id) DO UPDATE SET revision = excluded.revision, document = excluded.document
            """, logger: logger)
    }

    /// Few per commit, so one statement each.
    private func writeCredentials() async throws {
        for credential in commit.newCredentials {
            try await connection.query(Self.insert(credential), logger: logger)
        }
        guard !commit.revokedCredentials.isEmpty else { return }
        try await connection.query("""
            UPDATE credentials SET revoked_at = \(commit.change.at)
            WHERE id = ANY(\(commit.revokedCredentials)::text[]) AND org_id = \(org) AND revoked_at IS NULL
            """, logger: logger)
    }

    static func insert(_ credential: Credential) -> PostgresQuery {
        """
        INSERT INTO credentials (id, kind, org_id, edge_id, role, name, secret_hash, created_at, revoked_at)
        VALUES (\(credential.id), \(credential.kind.rawValue), \(credential.orgId), \(credential.edgeId), \(credential.role?.rawValue),
                \(credential.name), \(credential.secretHash), \(credential.createdAt), \(credential.revokedAt))
        """
    }

    /// An upsert that wrote fewer rows than it was given met ids of another
    /// organization (`ON CONFLICT … WHERE org_id = excluded.org_id` skips them).
    /// The message names the ids, not their owner: it may reach an operator
    /// of this organization, who has no business learning of another.
    private func requireOwnership(written: Int, ids: [String], table: String, noun: String) async throws {
        guard written < ids.count else { return }
        let taken = try await PostgresStore.rows("""
            SELECT id FROM \(unescaped: table) WHERE id = ANY(\(ids)::text[]) AND org_id <> \(org) ORDER BY id LIMIT 5
            """, on: connection, logger) { try $0.decode(String.self) }
        throw StoreError(.duplicate, "commit to organization \(org): "
            + (taken.isEmpty ? "a \(noun) id is another organization's"
                : "\(noun) id \(taken.map { "\"\($0)\"" }.joined(separator: ", ")) is taken by another organization"))
    }

    /// The single integer a statement returns.
    private func integer(_ query: PostgresQuery) async throws -> Int {
        guard let value = try await PostgresStore.rows(query, on: connection, logger, { try $0.decode(Int.self) }).first else {
            throw StoreError(.database, "commit to organization \(org): a statement returned no row")
        }
        return value
    }

    /// `ON CONFLICT DO UPDATE` may not touch a row twice in one statement:
    /// a list naming an id twice keeps its last entry.
    private func lastOfEachId<T>(_ items: [T], _ id: KeyPath<T, String>) -> [T] {
        var index: [String: Int] = [:]
        var out: [T] = []
        for item in items {
            if let at = index[item[keyPath: id]] {
                out[at] = item
            } else {
                index[item[keyPath: id]] = out.count
                out.append(item)
            }
        }
        return out
    }
}

// MARK: - Array binds

/// An array parameter encoded in one pass into contiguous bytes, in the
/// binary format PostgreSQL reads for `text[]`, `bigint[]` and `boolean[]`.
/// postgres-nio's generic array encoding costs microseconds per element in a
/// debug build (1.4 s of a 100,000-version commit); this is one copy.
struct PostgresArrayBind: PostgresDynamicTypeEncodable, Sendable {
    let psqlType: PostgresDataType
    var psqlFormat: PostgresFormat { .binary }
    private let bytes: [UInt8]

    init(_ texts: [String]) {
        var payload = 0
        for text in texts { payload += text.utf8.count }
        psqlType = .textArray
        bytes = Self.encode(elementType: .text, count: texts.count, payload: payload) { writer in
            for var text in texts {
                text.withUTF8 { writer.element($0) }
            }
        }
    }

    init(_ integers: [Int]) {
        psqlType = .int8Array
        bytes = Self.encode(elementType: .int8, count: integers.count, payload: 8 * integers.count) { writer in
            for integer in integers { writer.element(Int64(integer)) }
        }
    }

    init(_ integers: [Int64]) {
        psqlType = .int8Array
        bytes = Self.encode(elementType: .int8, count: integers.count, payload: 8 * integers.count) { writer in
            for integer in integers { writer.element(integer) }
        }
    }

    init(_ flags: [Bool]) {
        psqlType = .boolArray
        bytes = Self.encode(elementType: .bool, count: flags.count, payload: flags.count) { writer in
            for flag in flags { writer.element(flag) }
        }
    }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeBytes(bytes)
    }

    /// Writes big-endian into memory sized beforehand.
    private struct Writer {
        let base: UnsafeMutableRawPointer
        var offset = 0

        mutating func int32(_ value: Int32) {
            base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: Int32.self)
            offset += 4
        }

        mutating func element(_ utf8: UnsafeBufferPointer<UInt8>) {
            int32(Int32(utf8.count))
            if let source = utf8.baseAddress { (base + offset).copyMemory(from: source, byteCount: utf8.count) }
            offset += utf8.count
        }

        mutating func element(_ value: Int64) {
            int32(8)
            base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: Int64.self)
            offset += 8
        }

        mutating func element(_ value: Bool) {
            int32(1)
            base.storeBytes(of: value ? 1 : 0, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }
    }

    /// Header (dimensions, no NULLs, element type, then length and lower
    /// bound when not empty), then each element as its length and bytes.
    private static func encode(elementType: PostgresDataType, count: Int, payload: Int, _ body: (inout Writer) -> Void) -> [UInt8] {
        let size = 12 + (count > 0 ? 8 : 0) + 4 * count + payload
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var writer = Writer(base: UnsafeMutableRawPointer(buffer.baseAddress!))
            writer.int32(count > 0 ? 1 : 0)
            writer.int32(0)
            writer.int32(Int32(bitPattern: elementType.rawValue))
            if count > 0 {
                writer.int32(Int32(count))
                writer.int32(1)
            }
            body(&writer)
            precondition(writer.offset == size, "array bind: wrote \(writer.offset) bytes of \(size)")
            initialized = size
        }
    }
}

/// A `text[]`, `bigint[]` or `boolean[]` result read in one pass over its
/// bytes (the reading twin of `PostgresArrayBind`, for the same reason).
struct PostgresArrayColumn: PostgresDecodable {
    private enum Values {
        case texts([String])
        case integers([Int])
        case flags([Bool])
    }

    private let values: Values

    init<JSONDecoder: PostgresJSONDecoder>(
        from byteBuffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat, context: PostgresDecodingContext<JSONDecoder>
    ) throws {
        guard format == .binary else { throw PostgresDecodingError.Code.typeMismatch }
        values = try byteBuffer.withUnsafeReadableBytes { raw throws -> Values in
            var reader = Reader(raw: raw)
            let dimensions = try reader.int32()
            _ = try reader.int32()  // has NULLs: each element says so itself
            let elementType = PostgresDataType(UInt32(bitPattern: try reader.int32()))
            var count = 0
            if dimensions == 1 {
                count = Int(try reader.int32())
                _ = try reader.int32()  // lower bound
            } else if dimensions != 0 {
                throw PostgresDecodingError.Code.typeMismatch
            }
            switch elementType {
            case .text, .varchar:
                var out: [String] = []
                out.reserveCapacity(count)
                for _ in 0..<count { out.append(String(decoding: try reader.element(), as: UTF8.self)) }
                return .texts(out)
            case .int8:
                var out: [Int] = []
                out.reserveCapacity(count)
                for _ in 0..<count {
                    let bytes = try reader.element()
                    guard bytes.count == 8 else { throw PostgresDecodingError.Code.failure }
                    out.append(Int(Int64(bigEndian: bytes.loadUnaligned(as: Int64.self))))
                }
                return .integers(out)
            case .bool:
                var out: [Bool] = []
                out.reserveCapacity(count)
                for _ in 0..<count {
                    let bytes = try reader.element()
                    guard bytes.count == 1 else { throw PostgresDecodingError.Code.failure }
                    out.append(bytes[0] != 0)
                }
                return .flags(out)
            default:
                throw PostgresDecodingError.Code.typeMismatch
            }
        }
    }

    private struct Reader {
        let raw: UnsafeRawBufferPointer
        var offset = 0

        mutating func int32() throws -> Int32 {
            guard offset + 4 <= raw.count else { throw PostgresDecodingError.Code.failure }
            defer { offset += 4 }
            return Int32(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        }

        /// An element's bytes; NULL elements (length -1) are refused: the columns read this way are NOT NULL.
        mutating func element() throws -> UnsafeRawBufferPointer {
            let length = Int(try int32())
            guard length >= 0, offset + length <= raw.count else { throw PostgresDecodingError.Code.failure }
            defer { offset += length }
            return UnsafeRawBufferPointer(rebasing: raw[offset..<offset + length])
        }
    }

    func texts(_ table: String, _ column: String) throws(StoreError) -> [String] {
        guard case .texts(let texts) = values else { throw StoreError(.corrupt, "\(table), column \(column) is not text") }
        return texts
    }

    /// A column of an aggregate row: present, of the type, as long as the first.
    static func texts(_ column: PostgresArrayColumn?, _ count: Int, _ table: String, _ name: String) throws(StoreError) -> [String] {
        guard case .texts(let texts)? = column?.values, texts.count == count else { throw mismatch(table, name) }
        return texts
    }

    static func integers(_ column: PostgresArrayColumn?, _ count: Int, _ table: String, _ name: String) throws(StoreError) -> [Int] {
        guard case .integers(let integers)? = column?.values, integers.count == count else { throw mismatch(table, name) }
        return integers
    }

    static func flags(_ column: PostgresArrayColumn?, _ count: Int, _ table: String, _ name: String) throws(StoreError) -> [Bool] {
        guard case .flags(let flags)? = column?.values, flags.count == count else { throw mismatch(table, name) }
        return flags
    }

    private static func mismatch(_ table: String, _ column: String) -> StoreError {
        StoreError(.corrupt, "\(table), column \(column): the aggregated column has the wrong type or length")
    }
}

extension PostgresQuery.StringInterpolation {
    mutating func appendInterpolation(array texts: [String]) { appendInterpolation(PostgresArrayBind(texts)) }
    mutating func appendInterpolation(array integers: [Int]) { appendInterpolation(PostgresArrayBind(integers)) }
    mutating func appendInterpolation(array integers: [Int64]) { appendInterpolation(PostgresArrayBind(integers)) }
    mutating func appendInterpolation(array flags: [Bool]) { appendInterpolation(PostgresArrayBind(flags)) }
}

// MARK: - Errors

/// PostgreSQL's errors as `StoreError`s that say what was being done. A
/// unique violation is a duplicate; a serialization failure or deadlock is a
/// conflict (the service recomputes and retries). Never the statement or its
/// binds, which may hold secret hashes.
enum PostgresErrors {
    static func mapped<T>(_ what: @autoclosure () -> String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as PSQLError {
            throw storeError(error, what())
        } catch let error as PostgresDecodingError {
            throw StoreError(.corrupt, "\(what()): column \(error.columnName) does not hold a \(error.targetType)")
        } catch {
            throw StoreError(.database, "\(what()): \(error)")
        }
    }

    static func storeError(_ error: PSQLError, _ what: String) -> StoreError {
        guard let info = error.serverInfo else {
            // Not the server's answer: connecting, authentication, a closed pool.
            let cause = error.underlying.map { ": \($0)" } ?? ""
            return StoreError(.database, "\(what): \(error.code)\(cause)")
        }
        let state = info[.sqlState] ?? "?"
        var text = "\(what): \(info[.message] ?? "error")"
        // The detail of a unique violation quotes the key; not when the key is a secret's hash.
        if let detail = info[.detail], !(info[.constraintName] ?? "").contains("secret") { text += " (\(detail))" }
        switch state {
        case "23505": return StoreError(.duplicate, text)
        case "40001", "40P01": return StoreError(.conflict, text)
        default: return StoreError(.database, "\(text) [SQLSTATE \(state)]")
        }
    }
}

// MARK: - Change events

/// The NOTIFY payload: `{"changeId":N,"orgId":"…"}`, canonical JSON.
enum ChangeNotification {
    static func payload(_ event: ChangeEvent) -> String {
        JSONValue.object(["orgId": .string(event.orgId), "changeId": .number(Double(event.changeId))]).canonicalText
    }

    static func event(_ payload: String) -> ChangeEvent? {
        guard let value = try? JSONValue(parsing: payload), let org = value["orgId"]?.stringValue,
              let id = value["changeId"]?.numberValue, id.rounded() == id, let changeId = Int(exactly: id) else { return nil }
        return ChangeEvent(orgId: org, changeId: changeId)
    }
}

/// The store's one LISTEN connection, opened at the first `events()` call
/// and kept open (reconnecting with backoff when it drops) until `close()`.
/// It is not a pooled connection, so the pool never recycles it and it never
/// takes a connection a query needs.
///
/// After every (re)connect it reads the changes committed since the newest
/// one it heard of and delivers those too, so a dropped connection loses no
/// event (best effort: ids are handed out before commit, so a change with a
/// lower id that commits during the gap can still be missed).
///
/// Each change is delivered once, however it arrived: NOTIFY, catch-up, or
/// this process's own commit.
final class PostgresChangeListener: Sendable {
    private struct State {
        var task: Task<Void, Never>?
        var listening = false
        var closed = false
        /// The newest change id delivered or known to exist when listening began.
        var lastSeen: Int?
        var delivered = RecentIds(capacity: 4_096)
    }

    /// The last `capacity` ids seen, to drop repeats.
    struct RecentIds {
        private var members: Set<Int> = []
        private var order: [Int] = []
        private var next = 0
        let capacity: Int

        init(capacity: Int) { self.capacity = capacity }

        /// false when `id` is among the recent ones.
        mutating func insert(_ id: Int) -> Bool {
            guard members.insert(id).inserted else { return false }
            if order.count < capacity {
                order.append(id)
            } else {
                members.remove(order[next])
                order[next] = id
                next = (next + 1) % capacity
            }
            return true
        }
    }

    /// A connection that only listens never writes, so without this a peer
    /// gone silently would never be noticed.
    static let pingInterval: Duration = .seconds(30)
    static let catchUpLimit = 10_000

    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let broadcaster = EventBroadcaster<ChangeEvent>()
    private let state = Mutex(State())
    private let connectionIds = Atomic<Int>(0)

    /// How the connection shows in `pg_stat_activity`.
    static let applicationName = "switchyard-listen"

    init(configuration: PostgresConnection.Configuration, logger: Logger) {
        var configuration = configuration
        configuration.options.additionalStartupParameters.append(("application_name", Self.applicationName))
        self.configuration = configuration
        self.logger = logger
    }

    func subscribe() -> AsyncStream<ChangeEvent> {
        let stream = broadcaster.subscribe()
        let closed = state.withLock { state in
            if !state.closed && state.task == nil {
                state.task = Task { await self.run() }
            }
            return state.closed
        }
        if closed { broadcaster.finish() }
        return stream
    }

    /// Returns once LISTEN is in place, at once when nobody subscribed, or
    /// after `timeout`.
    func waitUntilListening(atMost timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while !Task.isCancelled && ContinuousClock.now < deadline {
            let (active, listening) = state.withLock { ($0.task != nil && !$0.closed, $0.listening) }
            if !active || listening { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    var isListening: Bool { state.withLock { $0.listening } }

    func close() async {
        let task = state.withLock { state in
            state.closed = true
            return state.task
        }
        task?.cancel()
        await task?.value
        broadcaster.finish()
    }

    /// For deinit, which cannot wait.
    func cancel() {
        state.withLock { $0.closed = true; return $0.task }?.cancel()
        broadcaster.finish()
    }

    private func run() async {
        var failures = 0
        while !Task.isCancelled {
            var failure: (any Error)?
            do {
                let id = connectionIds.add(1, ordering: .relaxed).newValue
                let connection = try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
                do {
                    try await session(on: connection)
                } catch {
                    failure = error
                }
                try? await connection.close()
            } catch {
                failure = error
            }
            let wasListening = state.withLock { state in
                defer { state.listening = false }
                return state.listening
            }
            if Task.isCancelled { break }
            failures = wasListening ? 1 : failures + 1
            let delay = Self.backoff(afterFailures: failures)
            let cause = failure.map { PostgresErrors.mapped(description: $0) } ?? "the server ended it"
            logger.warning("PostgreSQL change events: the LISTEN connection \(wasListening ? "dropped" : "failed") (\(cause)); reconnecting in \(delay)")
            try? await Task.sleep(for: delay)
        }
    }

    /// 0.1 s, doubling to 5 s.
    static func backoff(afterFailures failures: Int) -> Duration {
        .milliseconds(min(5_000, 100 << min(max(failures - 1, 0), 6)))
    }

    /// Listens until the connection fails or the task is cancelled.
    private func session(on connection: PostgresConnection) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await connection.listen(on: PostgresStore.channel) { notifications in
                    // Listening counts from after the catch-up: until then a drop would lose the mark it sets.
                    try await self.catchUp(on: connection)
                    self.state.withLock { $0.listening = true }
                    self.logger.debug("PostgreSQL change events: listening on \(PostgresStore.channel)")
                    for try await notification in notifications {
                        guard let event = ChangeNotification.event(notification.payload) else {
                            self.logger.warning("PostgreSQL change events: ignored a notification that is not a change: \(notification.payload)")
                            continue
                        }
                        self.deliver(event)
                    }
                }
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: Self.pingInterval)
                    try await connection.query("SELECT 1", logger: self.logger)
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Delivers what committed since the newest change heard of, and sets
    /// that mark on the first connect. Throws when the connection fails.
    private func catchUp(on connection: PostgresConnection) async throws {
        let newest: Int
        do {
            newest = try await PostgresStore.rows("SELECT coalesce(max(id), 0) FROM changes", on: connection, logger) {
                try $0.decode(Int.self)
            }.first ?? 0
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P01" {
            // Before the first migrate there is no changes table, so no change to miss: the mark is 0.
            state.withLock { $0.lastSeen = $0.lastSeen ?? 0 }
            return
        }
        if let known = state.withLock({ $0.lastSeen }), newest > known {
            let missed = try await PostgresStore.rows(
                "SELECT id, org_id FROM changes WHERE id > \(known) ORDER BY id LIMIT \(Self.catchUpLimit)", on: connection, logger
            ) { try $0.decode((Int, String).self) }
            logger.info("PostgreSQL change events: \(missed.count) changes committed while reconnecting")
            for (id, org) in missed { deliver(ChangeEvent(orgId: org, changeId: id)) }
        }
        state.withLock { $0.lastSeen = max($0.lastSeen ?? 0, newest) }
    }

    /// A change this process committed. It does not move the catch-up mark:
    /// while the connection is down, other processes' changes below its id
    /// are still to be caught up on.
    func committed(_ event: ChangeEvent) {
        if state.withLock({ $0.delivered.insert(event.changeId) }) { broadcaster.yield(event) }
    }

    /// A change heard of on the connection.
    private func deliver(_ event: ChangeEvent) {
        let fresh = state.withLock { state in
            state.lastSeen = max(state.lastSeen ?? 0, event.changeId)
            return state.delivered.insert(event.changeId)
        }
        if fresh { broadcaster.yield(event) }
    }
}

extension PostgresErrors {
    /// For logs: the server's message, not PSQLError's generic text.
    static func mapped(description error: any Error) -> String {
        if let error = error as? PSQLError { return storeError(error, "PostgreSQL").message }
        return "\(error)"
    }
}

// MARK: - URL

/// A `postgres://` URL that could not be used; names the part that is wrong
/// and shows the URL with its password hidden.
public struct PostgresURLError: Error, Sendable, CustomStringConvertible {
    public var url: String
    public var problem: String

    public var description: String { "invalid PostgreSQL URL \(url): \(problem)" }
}

/// `postgres://user:password@host:port/database?param=value`, taken apart the
/// way libpq does (percent-escapes decoded; the database defaults to the
/// user's name; `host=/dir` in the query means the Unix socket `/dir/.s.PGSQL.<port>`).
struct PostgresURL: Sendable, Equatable {
    enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case socket(path: String)
    }

    /// libpq's sslmode. Without verification, as libpq, unless verify-*.
    enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    var endpoint: Endpoint
    var username: String
    var password: String?
    var database: String
    var tls: TLSMode

    init(parsing text: String) throws(PostgresURLError) {
        let redacted = Self.redacted(text)
        func fail(_ problem: String) -> PostgresURLError { PostgresURLError(url: redacted, problem: problem) }
        func decode(_ part: Substring, _ name: String) throws(PostgresURLError) -> String {
            guard let value = Self.percentDecoded(part) else { throw fail("the \(name) has a malformed %-escape") }
            return value
        }

        guard let schemeEnd = text.range(of: "://") else { throw fail("it should start with postgres:// or postgresql://") }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw fail("the scheme is \"\(scheme)\", not postgres or postgresql")
        }
        var rest = text[schemeEnd.upperBound...]
        if rest.contains("#") { throw fail("it has a #fragment") }
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = slash < rest.endIndex ? rest[rest.index(after: slash)...] : ""

        var user = ""
        var password: String?
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = try decode(userInfo[..<colon], "user name")
                password = try decode(userInfo[userInfo.index(after: colon)...], "password")
            } else {
                user = try decode(userInfo, "user name")
            }
        }

        var host = ""
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw fail("the IPv6 host has no closing ]") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected \"\(after)\" after the IPv6 host") }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = try decode(hostPort[..<colon], "host")
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = try decode(hostPort, "host")
        }
        if path.contains("/") { throw fail("the database name \"\(path)\" contains a /") }
        var database = try decode(path, "database name")
        var socketDirectory: String?
        var tls: TLSMode?

        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let equals = pair.firstIndex(of: "=") ?? pair.endIndex
            let key = pair[..<equals]
            let value = try decode(equals < pair.endIndex ? pair[pair.index(after: equals)...] : "", "parameter \(key)")
            switch key {
            case "host":
                if value.hasPrefix("/") { socketDirectory = value } else { host = value }
            case "port": portText = Substring(value)
            case "user": user = value
            case "password": password = value
            case "dbname": database = value
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw fail("sslmode \"\(value)\" is not one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tls = mode
            default:
                throw fail("unknown parameter \"\(key)\" (known: host, port, user, password, dbname, sslmode)")
            }
        }

        var port = 5432
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw fail("the port \"\(portText)\" is not a number from 1 to 65535")
            }
            port = number
        }
        guard !user.isEmpty else { throw fail("it names no user (postgres://USER@host/database)") }
        if let socketDirectory {
            endpoint = .socket(path: "\(socketDirectory)/.s.PGSQL.\(port)")
        } else {
            guard !host.isEmpty else { throw fail("it names no host (postgres://user@HOST/database, or ?host=/socket/dir)") }
            endpoint = .tcp(host: host, port: port)
        }
        self.username = user
        self.password = password
        self.database = database.isEmpty ? user : database
        // TLS does not apply to Unix sockets; on TCP, libpq's default.
        self.tls = socketDirectory != nil ? .disable : (tls ?? .prefer)
    }

    func clientConfiguration() -> PostgresClient.Configuration {
        switch endpoint {
        case .tcp(let host, let port):
            let tls: PostgresClient.Configuration.TLS = switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(tlsConfiguration)
            case .require, .verifyCA, .verifyFull: .require(tlsConfiguration)
            }
            return .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        case .socket(let path):
            return .init(unixSocketPath: path, username: username, password: password, database: database)
        }
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        switch endpoint {
        case .tcp(let host, let port):
            let tls: PostgresConnection.Configuration.TLS = switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfiguration))
            case .require, .verifyCA, .verifyFull: .require(try NIOSSLContext(configuration: tlsConfiguration))
            }
            return .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        case .socket(let path):
            return .init(unixSocketPath: path, username: username, password: password, database: database)
        }
    }

    private var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = switch tls {
        case .verifyFull: .fullVerification
        case .verifyCA: .noHostnameVerification
        case .disable, .prefer, .require: .none
        }
        return configuration
    }

    /// The URL with its password, in the user info or a `password=` parameter, as `***`.
    static func redacted(_ text: String) -> String {
        var out = text
        if let schemeEnd = out.range(of: "://") {
            let rest = out[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                out.replaceSubrange(out.index(after: colon)..<at, with: "***")
            }
        }
        guard let mark = out.firstIndex(of: "?") else { return out }
        let parameters = out[out.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: false).map { pair in
            pair.hasPrefix("password=") ? "password=***" : String(pair)
        }
        return out[...mark] + parameters.joined(separator: "&")
    }

    /// nil for a malformed escape or bytes that are not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var utf8 = text.utf8.makeIterator()
        while let byte = utf8.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = utf8.next().flatMap(hexValue), let low = utf8.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
