import Foundation
import GRDB
import SwitchyardJSON

/// Where a config version stands on this edge (ARCHITECTURE section 7).
public enum VersionState: String, Sendable, CaseIterable {
    /// Verified (signature, edge, hash) and stored; not yet checked against the plugins.
    case received
    /// Checked against the local plugins and profiles.
    case validated
    /// About to be handed to the host.
    case staged
    /// Handed to the host; the swap at a cycle boundary is under way.
    case applying
    /// Running; confirmed after `sync.probation_cycles` healthy cycles.
    case probation
    /// Ran its probation healthy: a version the edge may boot.
    case confirmed
    /// Refused before it ran (it did not validate, or it is for another edge).
    case rejected
    /// The host could not apply it (a controller or device failed to start),
    /// or the edge restarted while it was applying or in probation.
    case failed
    /// It ran, failed its probation, and the last confirmed version runs again.
    case rolledBack = "rolled_back"
    /// A config given on the command line, run only until the server's first arrives.
    case local

    /// States a version leaves only by a new version arriving.
    public var isFinal: Bool { [.confirmed, .rejected, .failed, .rolledBack, .local].contains(self) }
}

/// One version as the cache holds it.
public struct CachedVersion: Sendable {
    public var version: Int
    public var state: VersionState
    /// The canonical text of the document.
    public var documentText: String
    public var sha256: String
    /// The signed envelope (JSON), nil for a local config.
    public var envelope: String?
    public var error: String?
    /// The boot during which the state last changed.
    public var boot: Int

    public var document: JSONValue {
        get throws { try JSONValue(parsing: documentText) }
    }
}

/// What a start found in the cache.
public struct BootRecord: Sendable {
    /// This start's number, counting from 1.
    public var boot: Int
    /// Versions that were applying or in probation when the process stopped:
    /// they are marked failed now.
    public var failedAtBoot: [Int]
}

/// The edge's sync state in SQLite (GRDB, WAL, synchronous FULL): every
/// version with its state, the boot counter, and the heartbeat outbox.
///
/// Every change is one transaction, so a power cut leaves either the state
/// before or the state after. The last confirmed version is the highest
/// version in state `confirmed`; it is never deleted.
public final class AgentCache: Sendable {
    private let queue: DatabaseQueue
    public let path: String
    /// Versions kept besides the last two confirmed and anything newer.
    public static let keptVersions = 20

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
        }
        try queue.write { db in try Self.migrate(db, path: path) }
    }

    /// The schema's steps, in order; `PRAGMA user_version` counts those taken.
    /// (Not GRDB's `DatabaseMigrator`: its query interface was a third of
    /// the GRDB code an edge had in memory for the sake of two steps.)
    static let schemaSteps = [
        """
        CREATE TABLE versions (
            version INTEGER PRIMARY KEY,
            state TEXT NOT NULL,
            document TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            envelope TEXT,
            error TEXT,
            boot INTEGER NOT NULL,
            received_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, created_at REAL NOT NULL);
        """,
        // The document moves to its own table. A state change rewrites its
        // whole row, and with the document inside, every transition of a
        // version rewrote about 44 KB (once to the WAL, once more at the
        // checkpoint).
        """
        CREATE TABLE documents (
            version INTEGER PRIMARY KEY REFERENCES versions (version) ON DELETE CASCADE,
            document TEXT NOT NULL
        );
        INSERT INTO documents (version, document) SELECT version, document FROM versions;
        ALTER TABLE versions DROP COLUMN document;
        """,
    ]

    /// Takes the schema steps this file has not taken, in the caller's
    /// transaction. A file of a newer edge (more steps than these) is
    /// refused rather than guessed at.
    private static func migrate(_ db: Database, path: String) throws {
        var taken = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        // Caches written before user_version counted: GRDB's migrator recorded the first step by name.
        if taken == 0, try db.tableExists("grdb_migrations") {
            taken = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM grdb_migrations WHERE identifier IN ('v1', 'v2: documents apart')") ?? 0
        }
        guard taken <= schemaSteps.count else {
            throw AgentError("\(path): the sync cache has schema step \(taken), this edge knows \(schemaSteps.count) "
                + "(written by a newer switchyard-edge); move the file away to start with an empty cache")
        }
        for step in schemaSteps.dropFirst(taken) { try db.execute(sql: step) }
        try db.execute(sql: "PRAGMA user_version = \(schemaSteps.count)")
    }

    /// Counts this start, marks a version the process died applying or in
    /// probation as failed, and forgets versions that had not reached the
    /// host yet.
    public func beginBoot() throws -> BootRecord {
        try queue.write { db in
            let boot = (try Int.fetchOne(db, sql: "SELECT value FROM counters WHERE name = 'boots'") ?? 0) + 1
            try db.execute(sql: "INSERT INTO counters (name, value) VALUES ('boots', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                           arguments: [boot])
            let interrupted = try Row.fetchAll(db, sql: "SELECT version, state FROM versions WHERE state IN ('applying', 'probation') ORDER BY version")
            for row in interrupted {
                let version: Int = row["version"]
                let state: String = row["state"]
                try db.execute(sql: "UPDATE versions SET state = 'failed', error = ?, boot = ?, updated_at = ? WHERE version = ?",
                               arguments: ["the edge restarted while version \(version) was \(state == "probation" ? "in probation" : "being applied") (boot \(boot)); the last confirmed version runs instead",
                                           boot, Date().timeIntervalSince1970, version])
            }
            // A version still `received` was being read and validated when the
            // process stopped: a plugin's `validate` may have crashed it. Taken
            // again, it would crash the edge again, so it fails here as a
            // version that stopped the edge while applying does.
            let unvalidated = try Int.fetchAll(db, sql: "SELECT version FROM versions WHERE state = 'received' ORDER BY version")
            for version in unvalidated {
                try db.execute(sql: "UPDATE versions SET state = 'failed', error = ?, boot = ?, updated_at = ? WHERE version = ?",
                               arguments: ["the edge stopped while validating version \(version) (boot \(boot)): a plugin's validate may have "
                                   + "crashed it; it is not taken again, and the last confirmed version runs instead",
                                           boot, Date().timeIntervalSince1970, version])
            }
            // A version stopped after it validated, before it reached the host,
            // is offered again by the server: forget it, so that the ETag and
            // the hello name the newest version this edge has decided on.
            try db.execute(sql: "DELETE FROM versions WHERE state IN ('validated', 'staged')")
            let failed: [Int] = interrupted.map { $0["version"] } + unvalidated
            return BootRecord(boot: boot, failedAtBoot: failed.sorted())
        }
    }

    public func lastConfirmed() throws -> CachedVersion? {
        try queue.read { db in try Self.fetch(db, "WHERE state = 'confirmed' ORDER BY version DESC LIMIT 1") }
    }

    /// The confirmed versions the cache keeps, newest first.
    public func confirmed() throws -> [CachedVersion] {
        try queue.read { db in try Row.fetchAll(db, sql: Self.select + "WHERE state = 'confirmed' ORDER BY version DESC").map(Self.cached) }
    }

    /// The newest version the cache holds, whatever its state: the base the
    /// server's next delta starts from.
    public func newest() throws -> CachedVersion? {
        try queue.read { db in try Self.fetch(db, "WHERE state != 'local' ORDER BY version DESC LIMIT 1") }
    }

    public func local() throws -> CachedVersion? {
        try queue.read { db in try Self.fetch(db, "WHERE state = 'local' ORDER BY updated_at DESC LIMIT 1") }
    }

    public func version(_ version: Int) throws -> CachedVersion? {
        try queue.read { db in try Self.fetch(db, "WHERE version = ? AND state != 'local'", [version]) }
    }

    /// A version's state alone (without reading its document).
    public func state(of version: Int) throws -> VersionState? {
        try queue.read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT state FROM versions WHERE version = ? AND state != 'local'"), arguments: [version])
                .map { VersionState(rawValue: $0) ?? .failed }
        }
    }

    public func all() throws -> [CachedVersion] {
        try queue.read { db in try Row.fetchAll(db, sql: Self.select + "ORDER BY version").map(Self.cached) }
    }

    /// Stores a verified version as `received` (or `local`).
    public func store(version: Int, documentText: String, sha256: String, envelope: String?, state: VersionState = .received, boot: Int) throws {
        try queue.write { db in
            let now = Date().timeIntervalSince1970
            if state == .local { try db.execute(sql: "DELETE FROM versions WHERE state = 'local'") }
            let key = state == .local ? -1 : version
            try db.cachedStatement(sql: """
                INSERT INTO versions (version, state, sha256, envelope, error, boot, received_at, updated_at)
                VALUES (?, ?, ?, ?, NULL, ?, ?, ?)
                ON CONFLICT (version) DO UPDATE SET state = excluded.state, sha256 = excluded.sha256,
                    envelope = excluded.envelope, error = NULL, boot = excluded.boot, updated_at = excluded.updated_at
                """).execute(arguments: [key, state.rawValue, sha256, envelope, boot, now, now])
            try db.cachedStatement(sql: """
                INSERT INTO documents (version, document) VALUES (?, ?)
                ON CONFLICT (version) DO UPDATE SET document = excluded.document
                """).execute(arguments: [key, documentText])
        }
    }

    /// Moves a version to `state`; a confirmed version also prunes old ones.
    /// A `heartbeat` that reports the change goes into the outbox in the
    /// same transaction: the state and the news of it are never apart.
    public func setState(_ version: Int, _ state: VersionState, error: String? = nil, boot: Int, heartbeat: String? = nil) throws {
        func update(_ db: Database) throws {
            try db.cachedStatement(sql: "UPDATE versions SET state = ?, error = ?, boot = ?, updated_at = ? WHERE version = ?")
                .execute(arguments: [state.rawValue, error, boot, Date().timeIntervalSince1970, version])
        }
        guard state == .confirmed || heartbeat != nil else {
            // One statement is its own transaction: no BEGIN and COMMIT to parse and run.
            return try queue.writeWithoutTransaction(update)
        }
        try queue.write { db in
            try update(db)
            if state == .confirmed { try Self.prune(db) }
            if let heartbeat { try Self.enqueue(db, heartbeat) }
        }
    }

    /// Keeps the last two confirmed versions, everything newer, and the
    /// newest `keptVersions` of the rest.
    private static func prune(_ db: Database) throws {
        let confirmed = try Int.fetchAll(
            db.cachedStatement(sql: "SELECT version FROM versions WHERE state = 'confirmed' ORDER BY version DESC LIMIT 2"))
        guard let oldestKept = confirmed.last else { return }
        try db.cachedStatement(sql: """
            DELETE FROM versions WHERE version < ? AND version >= 0 AND version NOT IN (
                SELECT version FROM versions WHERE version < ? AND version >= 0 ORDER BY version DESC LIMIT ?)
            """).execute(arguments: [oldestKept, oldestKept, keptVersions])
        // A local config is only for the time before the first confirmed one.
        try db.cachedStatement(sql: "DELETE FROM versions WHERE state = 'local'").execute()
    }

    // MARK: Heartbeat outbox

    public func enqueueHeartbeat(_ body: String) throws {
        try queue.write { db in try Self.enqueue(db, body) }
    }

    private static func enqueue(_ db: Database, _ body: String) throws {
        try db.cachedStatement(sql: "INSERT INTO outbox (body, created_at) VALUES (?, ?)").execute(arguments: [body, Date().timeIntervalSince1970])
        // Only the newest matters to the server; keep a short history.
        try db.cachedStatement(sql: "DELETE FROM outbox WHERE id <= ?").execute(arguments: [db.lastInsertedRowID - 50])
    }

    /// The newest heartbeat not yet sent.
    public func newestHeartbeat() throws -> (id: Int64, body: String)? {
        try queue.read { db in
            try Row.fetchOne(db, sql: "SELECT id, body FROM outbox ORDER BY id DESC LIMIT 1").map { ($0["id"], $0["body"]) }
        }
    }

    public func pendingHeartbeats() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0 }
    }

    /// Removes a sent heartbeat and every older one (the server keeps only the latest).
    public func heartbeatsSent(through id: Int64) throws {
        try queue.write { db in try db.execute(sql: "DELETE FROM outbox WHERE id <= ?", arguments: [id]) }
    }

    public func boots() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT value FROM counters WHERE name = 'boots'") ?? 0 }
    }

    /// SQLite's own check: "ok" when the file is intact.
    public func integrityCheck() throws -> String {
        try queue.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer" }
    }

    private static func fetch(_ db: Database, _ clause: String, _ arguments: StatementArguments = []) throws -> CachedVersion? {
        try Row.fetchOne(db, sql: select + clause, arguments: arguments).map(cached)
    }

    private static let select = "SELECT versions.*, documents.document FROM versions JOIN documents USING (version) "

    private static func cached(_ row: Row) -> CachedVersion {
        CachedVersion(version: row["version"], state: VersionState(rawValue: row["state"]) ?? .failed, documentText: row["document"],
                      sha256: row["sha256"], envelope: row["envelope"], error: row["error"], boot: row["boot"])
    }
}
