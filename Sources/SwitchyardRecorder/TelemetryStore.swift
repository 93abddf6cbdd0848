import Foundation
import GRDB
import Synchronization
import SwitchyardTelemetry

/// The edge's recorded telemetry in one SQLite file (GRDB, WAL): compressed
/// raw chunks per channel and the closed aggregates of every level. Every
/// write is one transaction, so a power cut leaves the store as it was
/// before or after that write, never half of it.
public final class TelemetryStore: Sendable {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// How long each level is kept, and the most disk the store may use.
    public struct Retention: Sendable, Equatable {
        public var rawMs: Int64 = 7 * 86_400_000
        public var minuteMs: Int64 = 30 * 86_400_000
        public var quarterHourMs: Int64 = 400 * 86_400_000
        public var dayMs: Int64 = 3_650 * 86_400_000
        /// Bytes of the database's pages in use.
        public var diskBudgetBytes: Int64 = 256 << 20

        public init() {}
    }

    /// A chunk as stored.
    public struct StoredChunk: Sendable {
        public var channel: String
        public var firstMs: Int64
        public var lastMs: Int64
        public var count: Int
        public var bytes: [UInt8]
    }

    private let queue: DatabaseQueue
    public let path: String
    /// Channel ids by name, as committed (a round does not look them up again).
    private let channelIds = Mutex<[String: Int64]>([:])

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // NORMAL in WAL mode: a power cut may lose the last transactions,
            // never corrupt the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
        }
        try queue.write { db in try Self.migrate(db, path: path) }
    }

    static let schemaSteps = [
        """
        CREATE TABLE channels (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE chunks (
            channel INTEGER NOT NULL REFERENCES channels (id),
            first_ms INTEGER NOT NULL,
            last_ms INTEGER NOT NULL,
            count INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE INDEX chunks_by_channel ON chunks (channel, first_ms);
        CREATE INDEX chunks_by_age ON chunks (last_ms);
        CREATE TABLE aggregates (
            channel INTEGER NOT NULL REFERENCES channels (id),
            level TEXT NOT NULL,
            start_ms INTEGER NOT NULL,
            count INTEGER NOT NULL,
            min REAL, max REAL, sum REAL NOT NULL, mean REAL NOT NULL, stddev REAL NOT NULL, energy_wh REAL NOT NULL,
            PRIMARY KEY (channel, level, start_ms)
        ) WITHOUT ROWID;
        CREATE INDEX aggregates_by_age ON aggregates (level, start_ms);
        """,
    ]

    private static func migrate(_ db: Database, path: String) throws {
        let taken = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        guard taken <= schemaSteps.count else {
            throw Failure(description: "\(path): the telemetry store has schema step \(taken), this edge knows \(schemaSteps.count) "
                + "(written by a newer switchyard-edge); move the file away to start an empty store")
        }
        for step in schemaSteps.dropFirst(taken) { try db.execute(sql: step) }
        try db.execute(sql: "PRAGMA user_version = \(schemaSteps.count)")
    }

    /// Writes sealed chunks and closed aggregates in one transaction.
    public func write(chunks: [(channel: String, samples: [Sample])], aggregates: [(channel: String, closed: ChannelAggregator.Closed)]) throws {
        guard !chunks.isEmpty || !aggregates.isEmpty else { return }
        var ids = channelIds.withLock { $0 }
        try queue.write { db in
            func id(_ name: String) throws -> Int64 {
                if let known = ids[name] { return known }
                try db.execute(sql: "INSERT OR IGNORE INTO channels (name) VALUES (?)", arguments: [name])
                let found = try Int64.fetchOne(db, sql: "SELECT id FROM channels WHERE name = ?", arguments: [name]) ?? -1
                ids[name] = found
                return found
            }
            for (channel, samples) in chunks where !samples.isEmpty {
                let bytes = SampleChunk.encode(samples)
                try db.execute(sql: "INSERT INTO chunks (channel, first_ms, last_ms, count, data) VALUES (?, ?, ?, ?, ?)",
                               arguments: [try id(channel), samples.first!.timeMs, samples.map(\.timeMs).max()!, samples.count,
                                           Data(bytes)])
            }
            for (channel, closed) in aggregates {
                let a = closed.aggregate
                try db.execute(sql: """
                    INSERT OR REPLACE INTO aggregates (channel, level, start_ms, count, min, max, sum, mean, stddev, energy_wh)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [try id(channel), closed.level.rawValue, a.startMs, a.count,
                                     a.count > 0 ? a.min : nil, a.count > 0 ? a.max : nil, a.sum, a.mean, a.stddev, a.energyWh])
            }
        }
        // Only once committed: a rolled-back insert must not leave an id behind.
        channelIds.withLock { $0 = ids }
    }

    /// The raw samples of `channel` in `[fromMs, toMs)`, in time order. A
    /// chunk that does not decode is skipped and named in `corrupt`.
    public func samples(_ channel: String, fromMs: Int64, toMs: Int64) throws -> (samples: [Sample], corrupt: [String]) {
        let rows = try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.rowid, c.data FROM chunks c JOIN channels n ON n.id = c.channel
                WHERE n.name = ? AND c.last_ms >= ? AND c.first_ms < ? ORDER BY c.first_ms, c.rowid
                """, arguments: [channel, fromMs, toMs])
        }
        var samples: [Sample] = []
        var corrupt: [String] = []
        for row in rows {
            let data: Data = row[1]
            do {
                samples += try SampleChunk.decode([UInt8](data)).filter { $0.timeMs >= fromMs && $0.timeMs < toMs }
            } catch {
                corrupt.append("chunk \(row[0] as Int64) of \(channel): \(error)")
            }
        }
        return (samples, corrupt)
    }

    /// The closed aggregates of `channel` at `level` whose buckets start in `[fromMs, toMs)`.
    public func aggregates(_ channel: String, level: AggregateLevel, fromMs: Int64, toMs: Int64) throws -> [StoredAggregate] {
        try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT a.start_ms, a.count, a.min, a.max, a.sum, a.mean, a.stddev, a.energy_wh
                FROM aggregates a JOIN channels n ON n.id = a.channel
                WHERE n.name = ? AND a.level = ? AND a.start_ms >= ? AND a.start_ms < ? ORDER BY a.start_ms
                """, arguments: [channel, level.rawValue, fromMs, toMs]).map { row in
                StoredAggregate(startMs: row[0], count: row[1], min: row[2], max: row[3], sum: row[4], mean: row[5], stddev: row[6],
                                energyWh: row[7])
            }
        }
    }

    /// Bytes of the database's pages in use (the WAL, at most a few MB
    /// between checkpoints, comes on top).
    public func sizeBytes() throws -> Int64 {
        try queue.read { db in
            let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            let size = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            return (pages - free) * size
        }
    }

    /// Drops what is older than each level's retention, then, while the
    /// store is above its budget, the oldest raw chunks, then the oldest
    /// minute aggregates, then quarter hours. Returns the rows removed.
    @discardableResult
    public func enforce(_ retention: Retention, nowMs: Int64) throws -> Int {
        var removed = 0
        try queue.write { db in
            try db.execute(sql: "DELETE FROM chunks WHERE last_ms < ?", arguments: [nowMs &- retention.rawMs])
            removed += db.changesCount
            for (level, keep) in [(AggregateLevel.minute, retention.minuteMs), (.quarterHour, retention.quarterHourMs), (.day, retention.dayMs)] {
                try db.execute(sql: "DELETE FROM aggregates WHERE level = ? AND start_ms < ?", arguments: [level.rawValue, nowMs &- keep])
                removed += db.changesCount
            }
        }
        // Over budget: the oldest first, a slice at a time.
        var steps = 0
        while try sizeBytes() > retention.diskBudgetBytes, steps < 10_000 {
            steps += 1
            let deleted = try queue.write { db -> Int in
                try db.execute(sql: "DELETE FROM chunks WHERE rowid IN (SELECT rowid FROM chunks ORDER BY last_ms LIMIT 64)")
                if db.changesCount > 0 { return db.changesCount }
                for level in [AggregateLevel.minute, .quarterHour, .day] {
                    try db.execute(sql: """
                        DELETE FROM aggregates WHERE level = ?1 AND start_ms IN
                            (SELECT start_ms FROM aggregates WHERE level = ?1 ORDER BY start_ms LIMIT 256)
                        """, arguments: [level.rawValue])
                    if db.changesCount > 0 { return db.changesCount }
                }
                return 0
            }
            removed += deleted
            if deleted == 0 { break }
        }
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA incremental_vacuum") }
        return removed
    }
}

/// An aggregate as read back.
public struct StoredAggregate: Sendable, Equatable {
    public var startMs: Int64
    public var count: Int
    public var min: Double?
    public var max: Double?
    public var sum: Double
    public var mean: Double
    public var stddev: Double
    public var energyWh: Double
}
