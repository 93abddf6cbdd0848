import Foundation
import GRDB
import Testing
@testable import SwitchyardAgent
import SwitchyardJSON
import SwitchyardModel
import SwitchyardTestSupport

@Suite struct AgentCacheTests {
    func cache() throws -> AgentCache { try AgentCache(path: TestPaths.temporaryDirectory() + "/sync.sqlite") }

    func store(_ cache: AgentCache, _ version: Int, _ state: VersionState, boot: Int = 1) throws {
        let text = #"{"edge_id":"e1","version":\#(version)}"#
        try cache.store(version: version, documentText: text, sha256: "sha\(version)", envelope: "{}", boot: boot)
        try cache.setState(version, state, boot: boot)
    }

    @Test func aRestartMarksWhatWasApplyingOrInProbationAsFailed() throws {
        let c = try cache()
        #expect(try c.beginBoot().boot == 1)
        try store(c, 1, .confirmed)
        try store(c, 2, .probation)
        try store(c, 3, .applying)
        try store(c, 4, .staged)
        try store(c, 5, .received)
        let boot = try c.beginBoot()
        #expect(boot.boot == 2)
        #expect(boot.failedAtBoot == [2, 3, 5])
        let states = Dictionary(try c.all().map { ($0.version, $0.state) }, uniquingKeysWith: { a, _ in a })
        #expect(states == [1: .confirmed, 2: .failed, 3: .failed, 5: .failed],
                "a version validated but not yet handed to the host is forgotten: the server offers it again")
        #expect(try c.version(2)?.error?.contains("restarted while version 2 was in probation (boot 2)") == true)
        #expect(try c.version(3)?.error?.contains("was being applied") == true)
        // Still `received`: the edge stopped while validating it (a plugin's
        // validate crashed?); taken again, it would stop the edge again.
        #expect(try c.version(5)?.error?.contains("the edge stopped while validating version 5 (boot 2)") == true)
        #expect(try c.lastConfirmed()?.version == 1)
        #expect(try c.newest()?.version == 5)
    }

    @Test func confirmingKeepsTheLastTwoConfirmedAndARecentHistory() throws {
        let c = try cache()
        _ = try c.beginBoot()
        for v in 1...40 { try store(c, v, v % 3 == 0 ? .rejected : .confirmed) }
        let versions = try c.all().map(\.version)
        #expect(versions.contains(40) && versions.contains(38), "the last two confirmed")
        #expect(versions.count <= AgentCache.keptVersions + 3, "\(versions)")
        #expect(!versions.contains(1))
        #expect(try c.integrityCheck() == "ok")
    }

    @Test func aLocalConfigIsKeptApartAndDroppedOnceAVersionIsConfirmed() throws {
        let c = try cache()
        _ = try c.beginBoot()
        try c.store(version: 7, documentText: #"{"version":7}"#, sha256: "x", envelope: nil, state: .local, boot: 1)
        #expect(try c.local()?.documentText == #"{"version":7}"#)
        #expect(try c.lastConfirmed() == nil, "a local config is not a confirmed version")
        #expect(try c.newest() == nil, "nor a delta base")
        try store(c, 1, .confirmed)
        #expect(try c.local() == nil)
    }

    @Test func theOutboxSendsTheNewestAndDropsWhatItSuperseded() throws {
        let c = try cache()
        for n in 1...3 { try c.enqueueHeartbeat(#"{"n":\#(n)}"#) }
        let newest = try #require(try c.newestHeartbeat())
        #expect(newest.body == #"{"n":3}"#)
        try c.enqueueHeartbeat(#"{"n":4}"#)
        try c.heartbeatsSent(through: newest.id)
        #expect(try c.pendingHeartbeats() == 1, "one queued after the send stays")
        #expect(try c.newestHeartbeat()?.body == #"{"n":4}"#)
    }

    @Test func theCacheSurvivesReopening() throws {
        let path = TestPaths.temporaryDirectory() + "/sync.sqlite"
        do {
            let c = try AgentCache(path: path)
            _ = try c.beginBoot()
            try store(c, 5, .confirmed)
        }
        let again = try AgentCache(path: path)
        #expect(try again.lastConfirmed()?.version == 5)
        #expect(try again.boots() == 1)
    }

    /// Caches written before the documents moved to their own table (an edge
    /// updated in the field) open with their versions and documents intact.
    @Test func aCacheOfTheFirstLayoutIsMigratedWithItsDocuments() throws {
        let path = TestPaths.temporaryDirectory() + "/sync.sqlite"
        do {
            let old = try DatabaseQueue(path: path)
            try old.write { db in
                try db.execute(sql: """
                    CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                    INSERT INTO grdb_migrations VALUES ('v1');
                    CREATE TABLE versions (version INTEGER PRIMARY KEY, state TEXT NOT NULL, document TEXT NOT NULL, sha256 TEXT NOT NULL,
                        envelope TEXT, error TEXT, boot INTEGER NOT NULL, received_at REAL NOT NULL, updated_at REAL NOT NULL);
                    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                    CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, created_at REAL NOT NULL);
                    INSERT INTO counters VALUES ('boots', 3);
                    INSERT INTO versions VALUES (4, 'confirmed', '{"version":4}', 'sha4', '{}', NULL, 3, 0, 0);
                    INSERT INTO versions VALUES (5, 'rejected', '{"version":5}', 'sha5', '{}', 'bad', 3, 0, 0);
                    """)
            }
        }
        let c = try AgentCache(path: path)
        #expect(try c.boots() == 3)
        #expect(try c.lastConfirmed()?.documentText == #"{"version":4}"#)
        #expect(try c.version(5)?.error == "bad")
        #expect(try c.version(5)?.documentText == #"{"version":5}"#)
        #expect(try c.integrityCheck() == "ok")
    }

    @Test func aCacheOfANewerEdgeIsRefusedNotGuessedAt() throws {
        let path = TestPaths.temporaryDirectory() + "/sync.sqlite"
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "PRAGMA user_version = 9") }
        #expect { try AgentCache(path: path) } throws: { "\($0)".contains("schema step 9, this edge knows 2") && "\($0)".contains(path) }
        let fresh = TestPaths.temporaryDirectory() + "/sync.sqlite"
        _ = try AgentCache(path: fresh)
        _ = try AgentCache(path: fresh)
        #expect(try DatabaseQueue(path: fresh).read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") } == 2, "opened twice, migrated once")
    }

    /// Pruning a version takes its document with it.
    @Test func prunedVersionsLeaveNoDocumentBehind() throws {
        let path = TestPaths.temporaryDirectory() + "/sync.sqlite"
        let c = try AgentCache(path: path)
        _ = try c.beginBoot()
        for v in 1...30 { try store(c, v, .confirmed) }
        let kept = try c.all().map(\.version)
        #expect(kept.count < 30)
        let documents = try DatabaseQueue(path: path).read { db in try Int.fetchAll(db, sql: "SELECT version FROM documents ORDER BY version") }
        #expect(documents == kept)
    }
}

@Suite struct ProbationTests {
    func sample(cycles: UInt64, alerts: UInt64 = 0, failures: [String: Int] = ["c": 0], disabled: Set<String> = [],
                faulted: [String: String] = [:]) -> HealthSample {
        HealthSample(cycles: cycles, overrunAlerts: alerts, overruns: 0,
                     controllers: failures.mapValues { HealthSample.Controller(totalFailures: $0, disabled: false, lastError: "boom") }
                        .merging(disabled.map { ($0, HealthSample.Controller(totalFailures: 9, disabled: true, lastError: "boom")) }) { _, new in new },
                     faultedDevices: faulted, configVersion: 2, periodMs: 100, workP99Ms: 0.1, cycleRunning: true)
    }

    @Test func confirmsAfterTheCyclesAndNotBefore() {
        // The baseline is taken before the swap; the cycle that swapped ran the old config.
        let p = Probation(version: 2, cycles: 5, baseline: sample(cycles: 100), changedDevices: [])
        #expect(p.judge(sample(cycles: 101)) == .pending(healthyCycles: 0))
        #expect(p.judge(sample(cycles: 104)) == .pending(healthyCycles: 3))
        #expect(p.judge(sample(cycles: 106)) == .healthy)
    }

    @Test func failsOnNewControllerFailuresOverrunAlertsAndFaultsOfChangedDevices() {
        let p = Probation(version: 2, cycles: 5, baseline: sample(cycles: 100, failures: ["c": 4], faulted: ["old": "unreachable"]),
                          changedDevices: ["new", "old"])
        if case .failed(let why) = p.judge(sample(cycles: 101, failures: ["c": 5])) { #expect(why.contains("controller c failed 1")) } else { Issue.record("a new failure") }
        if case .failed(let why) = p.judge(sample(cycles: 101, failures: ["d": 1])) { #expect(why.contains("controller d")) } else { Issue.record("a new controller failing") }
        if case .failed = p.judge(sample(cycles: 101, disabled: ["c"])) {} else { Issue.record("a disabled controller") }
        if case .failed(let why) = p.judge(sample(cycles: 101, alerts: 1)) { #expect(why.contains("overran")) } else { Issue.record("an overrun alert") }
        if case .failed(let why) = p.judge(sample(cycles: 101, failures: ["c": 4], faulted: ["new": "no answer"])) {
            #expect(why.contains("device new") && why.contains("no answer"))
        } else { Issue.record("a changed device in fault") }
        #expect(p.judge(sample(cycles: 106, failures: ["c": 4], faulted: ["old": "unreachable", "other": "x"])) == .healthy,
                "faults that were there before, or of devices the change did not touch, do not count")
    }

    @Test func changedDevicesAreThoseAddedOrDifferent() throws {
        func config(_ devices: String) throws -> EdgeConfig {
            try EdgeConfig(parsing: #"{"version": 1, "edge_id": "e", "devices": \#(devices)}"#, file: nil)
        }
        let old = try config(#"[{"device_id": "a", "profile": "p"}, {"device_id": "b", "profile": "p"}]"#)
        let new = try config(#"[{"device_id": "b", "profile": "p"}, {"device_id": "a", "profile": "q"}, {"device_id": "c", "profile": "p"}]"#)
        #expect(Probation.changedDevices(from: old, to: new) == ["a", "c"], "b only moved in the list")
    }
}

@Suite struct BackoffTests {
    struct Fixed: RandomNumberGenerator {
        var value: UInt64
        mutating func next() -> UInt64 { value }
    }

    @Test func theCeilingDoublesUpToTheCapAndResets() {
        var b = Backoff(baseSeconds: 0.5, capSeconds: 30)
        var ceilings: [Double] = []
        var g = Fixed(value: .max)
        for _ in 0..<9 {
            ceilings.append(b.ceiling)
            let wait = b.next(using: &g)
            #expect(wait >= 0 && wait <= ceilings.last!)
        }
        #expect(ceilings == [0.5, 1, 2, 4, 8, 16, 30, 30, 30])
        b.reset()
        #expect(b.ceiling == 0.5)
    }

    @Test func fullJitterSpreadsTheWaits() {
        var b = Backoff(baseSeconds: 8, capSeconds: 8)
        var g = SystemRandomNumberGenerator()
        let waits = (0..<200).map { _ in b.next(using: &g) }
        #expect(waits.min()! < 2 && waits.max()! > 6, "uniform over 0…8 s")
    }
}

@Suite struct TrustedKeysTests {
    @Test func readsTheSigningKeysAnswerAndNamesWhatIsWrong() throws {
        let dir = TestPaths.temporaryDirectory()
        let good = #"{"keys": [{"algorithm": "Ed25519", "key_id": "k1", "public_key": "0BH6wafv8ORUKQ/Cyz3UpGuUXKP+H6FJ7VMeWZrU2nw="}]}"#
        try good.write(toFile: dir + "/good.json", atomically: true, encoding: .utf8)
        #expect(try TrustedKeys.verifier(file: dir + "/good.json", pairs: []).keys.keys.sorted() == ["k1"])
        try #"{"keys": [{"key_id": "k2", "public_key": "short"}]}"#.write(toFile: dir + "/bad.json", atomically: true, encoding: .utf8)
        #expect { try TrustedKeys.verifier(file: dir + "/bad.json", pairs: []) } throws: { "\($0)".contains("bad.json: keys[0] (k2)") }
        #expect { try TrustedKeys.verifier(file: dir + "/missing.json", pairs: []) } throws: { "\($0)".contains("missing.json: cannot read") }
        #expect { try TrustedKeys.verifier(file: nil, pairs: []) } throws: { "\($0)".contains("no trusted signing key") }
        #expect { try TrustedKeys.verifier(file: nil, pairs: ["k3"]) } throws: { "\($0)".contains("KEY_ID=PUBLIC_KEY") }
        #expect(try TrustedKeys.verifier(file: nil, pairs: ["k4=0BH6wafv8ORUKQ/Cyz3UpGuUXKP+H6FJ7VMeWZrU2nw="]).keys.keys.sorted() == ["k4"])
    }
}
