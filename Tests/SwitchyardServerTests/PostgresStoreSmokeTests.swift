import Foundation
import Logging
import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardTestSupport
import Testing
@testable import SwitchyardServer

/// `PostgresStore` alone, each test on a fresh database of the test cluster
/// (scripts/test-postgres.sh). The behaviour both stores share is checked by
/// the conformance suite; these check what is PostgreSQL's own: migrations
/// under a lock, set-based commits, NOTIFY, URL parsing.
@Suite struct PostgresStoreSmokeTests {
    @Test func migrateTwiceAndConcurrently() async throws {
        let url = try TestPostgres.freshDatabase()
        try await withStore(url: url) { store in
            try await store.migrate()
            try await store.migrate()
            // Two "processes" migrating one database at once.
            try await withStore(url: url) { other in
                async let first: Void = store.migrate()
                async let second: Void = other.migrate()
                _ = try await (first, second)
            }
            #expect(try await store.organizations().isEmpty)
            #expect(try await store.hasCredentials() == false)
        }
    }

    @Test func commitReadsBackEqual() async throws {
        try await withStore { store in
            let fixture = Fixture(org: "acme")
            let record = try await store.commit(fixture.creation)
            #expect(record.id > 0)
            #expect(record.orgId == "acme")

            let organization = try #require(try await store.organization("acme"))
            #expect(organization == Organization(id: "acme", name: "Acme", revision: 1))
            #expect(try await store.organizations() == [organization])

            let snapshot = try #require(try await store.snapshot(org: "acme"))
            #expect(snapshot.organization == organization)
            #expect(snapshot.sites == ["s1": fixture.site])
            #expect(snapshot.groups == ["g1": fixture.group])
            let expectedEdges = fixture.edgesAfterCreation(changeId: record.id)
            #expect(snapshot.edges == Dictionary(uniqueKeysWithValues: expectedEdges.map { ($0.id, $0) }))
            let expectedLayers = fixture.layers.map { layer -> LayerRevision in
                var stored = layer
                stored.changeId = record.id
                return stored
            }
            #expect(snapshot.layers == Dictionary(uniqueKeysWithValues: expectedLayers.map { ($0.key, $0) }))
            #expect(snapshot.catalog == fixture.catalog)
            #expect(try await store.snapshot(org: "nobody") == nil)

            #expect(try await store.edge("e1") == expectedEdges[0])
            #expect(try await store.edge("nope") == nil)
            let versions = fixture.versions.map { version -> EdgeVersion in
                var stored = version
                stored.changeId = record.id
                return stored
            }
            #expect(try await store.edgeVersion(edge: "e1", version: 1) == versions[0])
            #expect(try await store.edgeVersions(change: record.id) == versions)
            #expect(try await store.layerRevision(fixture.orgLayer, revision: 1) == expectedLayers[0])
            #expect(try await store.layerRevisions(fixture.orgLayer, limit: 10) == [expectedLayers[0]])
            #expect(try await store.change(record.id) == record)
            #expect(try await store.changes(org: "acme", before: nil, limit: 10) == [record])
            #expect(try await store.credential(secretHash: "hash-e1") == fixture.edgeKey)
            #expect(try await store.credentials(org: "acme") == [fixture.edgeKey])
            #expect(try await store.hasCredentials())

            // A second commit: a rename, a new layer revision, directory edits, a new version, a revocation.
            var change = Commit(orgId: "acme", expectedRevision: 1, change: fixture.change(kind: "layer.put", at: 1_700_000_100))
            change.organization = Organization(id: "acme", name: "Acme Corp")
            let layer2 = LayerRevision(key: fixture.orgLayer, orgId: "acme", revision: 2, document: ["core": ["period_ms": 250]])
            change.layerRevisions = [layer2]
            var renamed = expectedEdges[1]
            renamed.name = "Edge Two"
            renamed.tags = ["lab"]
            renamed.version = 99  // not a directory field: ignored
            change.edges = [renamed]
            let stack2 = LayerStack([.init(key: fixture.orgLayer, revision: 2)])
            change.edgeVersions = [EdgeVersion(edgeId: "e1", version: 2, stack: stack2, changeId: 0, createdAt: 1_700_000_100)]
            change.revokedCredentials = ["k-e1"]
            let second = try await store.commit(change)
            #expect(second.id > record.id)

            let after = try #require(try await store.snapshot(org: "acme"))
            #expect(after.organization == Organization(id: "acme", name: "Acme Corp", revision: 2))
            #expect(after.layers[fixture.orgLayer]?.revision == 2)
            #expect(after.layers[fixture.orgLayer]?.changeId == second.id)
            #expect(after.edges["e1"]?.version == 2)
            #expect(after.edges["e1"]?.stack == stack2)
            #expect(after.edges["e2"]?.name == "Edge Two")
            #expect(after.edges["e2"]?.tags == ["lab"])
            #expect(after.edges["e2"]?.version == 1)
            #expect(try await store.edgeVersions(edge: "e1", before: nil, limit: 10).map(\.version) == [2, 1])
            #expect(try await store.edgeVersions(edge: "e1", before: 2, limit: 10).map(\.version) == [1])
            #expect(try await store.layerRevisions(fixture.orgLayer, limit: 1).map(\.revision) == [2])
            #expect(try await store.changes(org: "acme", before: nil, limit: 10).map(\.id) == [second.id, record.id])
            #expect(try await store.changes(org: "acme", before: second.id, limit: 10).map(\.id) == [record.id])
            #expect(try await store.credential(secretHash: "hash-e1")?.revokedAt == 1_700_000_100)

            // Heartbeats and root credentials live outside commits.
            let beat = Heartbeat(edgeId: "e1", orgId: "acme", receivedAt: 5, version: 2, state: "running",
                                 errors: [], metrics: ["cycles": 10])
            try await store.putHeartbeat(beat)
            var later = beat
            later.receivedAt = 6
            try await store.putHeartbeat(later)
            #expect(try await store.heartbeat(edge: "e1") == later)
            #expect(try await store.heartbeats(org: "acme") == [later])
            let root = Credential(id: "root1", kind: .operatorToken, orgId: nil, edgeId: nil, role: .root, name: "root",
                                  secretHash: "hash-root", createdAt: 1)
            try await store.insertRootCredential(root)
            #expect(try await store.credentials(org: nil) == [root])

            // An organization with nothing in it reads back empty, not as an error.
            var empty = Commit(orgId: "empty", expectedRevision: 0, change: Fixture(org: "empty").change(kind: "org.create", at: 1))
            empty.organization = Organization(id: "empty", name: "Empty")
            let emptyRecord = try await store.commit(empty)
            let emptySnapshot = try #require(try await store.snapshot(org: "empty"))
            #expect(emptySnapshot.edges.isEmpty && emptySnapshot.sites.isEmpty && emptySnapshot.layers.isEmpty && emptySnapshot.catalog == nil)
            #expect(try await store.edgeVersions(change: emptyRecord.id).isEmpty)
        }
    }

    @Test func staleRevisionWritesNothing() async throws {
        try await withStore { store in
            let fixture = Fixture(org: "acme")
            let first = try await store.commit(fixture.creation)

            // Creating it again, and committing from a revision that is not current.
            await #expect(throws: StoreError.self) { try await store.commit(fixture.creation) }
            var stale = Commit(orgId: "acme", expectedRevision: 7, change: fixture.change(kind: "site.put", at: 2))
            stale.sites = [Site(id: "s9", orgId: "acme", name: "Nine")]
            stale.layerRevisions = [LayerRevision(key: fixture.orgLayer, orgId: "acme", revision: 2, document: [:])]
            do {
                _ = try await store.commit(stale)
                Issue.record("a stale commit was accepted")
            } catch let error as StoreError {
                #expect(error.code == .conflict)
                #expect(error.message.contains("revision 1"))
            }
            var missing = stale
            missing.orgId = "ghost"
            missing.sites = []
            missing.layerRevisions = []
            await #expect(throws: StoreError.self) { try await store.commit(missing) }

            let snapshot = try #require(try await store.snapshot(org: "acme"))
            #expect(snapshot.organization.revision == 1)
            #expect(snapshot.sites["s9"] == nil)
            #expect(snapshot.layers[fixture.orgLayer]?.revision == 1)
            #expect(try await store.changes(org: "acme", before: nil, limit: 10).map(\.id) == [first.id])
            #expect(try await store.organization("ghost") == nil)
        }
    }

    @Test func idsOfAnotherOrganizationAreRefused() async throws {
        try await withStore { store in
            _ = try await store.commit(Fixture(org: "acme").creation)
            let other = Fixture(org: "globex", siteId: "s2", edgeIds: ["x1", "x2"], credentialId: "k-x1")
            let globex = try await store.commit(other.creation)

            func refused(_ id: String, _ edit: (inout Commit) -> Void) async throws {
                var commit = Commit(orgId: "globex", expectedRevision: 1, change: other.change(kind: "edit", at: 3))
                edit(&commit)
                do {
                    _ = try await store.commit(commit)
                    Issue.record("a commit taking another organization's id was accepted")
                } catch let error as StoreError {
                    #expect(error.code == .duplicate, "\(error)")
                    #expect(error.message.contains(id), "\(error)")
                    #expect(!error.message.contains("acme"), "names the other organization: \(error)")
                }
            }
            try await refused("s1") { $0.sites = [Site(id: "s1", orgId: "globex", name: "Taken")] }
            try await refused("g1") { $0.groups = [EdgeGroup(id: "g1", orgId: "globex", kind: .region, name: "Taken", priority: 1)] }
            try await refused("e1") {
                // A new edge first, so the refusal must undo a row already written.
                $0.edges = [Edge(id: "x3", orgId: "globex", siteId: "s2", name: "New"), Edge(id: "e1", orgId: "globex", siteId: "s2", name: "Taken")]
            }
            try await refused("site:s1") {
                $0.layerRevisions = [LayerRevision(key: LayerKey(scope: .site, target: "s1"), orgId: "globex", revision: 2, document: [:])]
            }

            let snapshot = try #require(try await store.snapshot(org: "globex"))
            #expect(snapshot.organization.revision == 1)
            #expect(snapshot.edges["x3"] == nil)
            #expect(try await store.changes(org: "globex", before: nil, limit: 10).map(\.id) == [globex.id])
            #expect(try await store.edge("e1")?.orgId == "acme")
            #expect(try await store.snapshot(org: "acme")?.sites["s1"]?.name == "Site One")
        }
    }

    @Test func eventsReachEverySubscriberAfterCommit() async throws {
        let url = try TestPostgres.freshDatabase()
        try await withStore(url: url) { store in
            try await withStore(url: url) { otherProcess in
                let first = store.events()
                let second = store.events()
                let remote = otherProcess.events()
                let fixture = Fixture(org: "acme")
                // The other store must be listening before the commit; its own commits wait for that, a peer's cannot.
                await otherProcess.waitUntilListening()

                let created = try await store.commit(fixture.creation)
                let expected = ChangeEvent(orgId: "acme", changeId: created.id)
                #expect(await Self.events(first, count: 1) == [expected])
                #expect(await Self.events(second, count: 1) == [expected])
                #expect(await Self.events(remote, count: 1) == [expected])

                // A refused commit says nothing: the next event is the next accepted commit.
                let third = store.events()
                await #expect(throws: StoreError.self) { try await store.commit(fixture.creation) }
                let next = try await store.commit(Commit(orgId: "acme", expectedRevision: 1, change: fixture.change(kind: "noop", at: 9)))
                #expect(await Self.events(third, count: 1) == [ChangeEvent(orgId: "acme", changeId: next.id)])
                // Each once: this store's own commits are delivered at commit and their NOTIFY echo is dropped.
                #expect(await Self.events(first, count: 1) == [ChangeEvent(orgId: "acme", changeId: next.id)])
                #expect(await Self.events(remote, count: 1) == [ChangeEvent(orgId: "acme", changeId: next.id)])
            }
        }
    }

    @Test func eventsSurviveADroppedListenConnection() async throws {
        let url = try TestPostgres.freshDatabase()
        try await withStore(url: url) { store in
            try await withStore(url: url) { other in
                let events = store.events()
                await store.waitUntilListening()
                let fixture = Fixture(org: "acme")
                // The server ends the LISTEN connection; a commit lands while it is down or reconnecting.
                let killed = try await other.terminateListeners()
                #expect(killed == 1)
                // Committed while it is down, this change reaches it through the catch-up after the reconnect.
                let deadline = ContinuousClock.now + .seconds(5)
                while store.isListening && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
                let created = try await other.commit(fixture.creation)
                #expect(await Self.events(events, count: 1, within: .seconds(10)) == [ChangeEvent(orgId: "acme", changeId: created.id)])
                // And it listens again.
                let next = try await store.commit(Commit(orgId: "acme", expectedRevision: 1, change: fixture.change(kind: "noop", at: 2)))
                #expect(await Self.events(events, count: 1) == [ChangeEvent(orgId: "acme", changeId: next.id)])
            }
        }
    }

    @Test func hundredThousandEdgeVersionsInOneCommit() async throws {
        try await withStore { store in
            let count = 100_000
            let fixture = Fixture(org: "big", edgeIds: [])
            var creation = fixture.creation
            creation.edges = (0..<count).map { Edge(id: "edge-\($0)", orgId: "big", siteId: "s1", name: "Edge \($0)", tags: ["t"], groups: ["g1"]) }
            var clock = ContinuousClock.now
            _ = try await store.commit(creation)
            let createSeconds = (ContinuousClock.now - clock)

            let stack = LayerStack([.init(key: fixture.orgLayer, revision: 1), .init(key: LayerKey(scope: .site, target: "s1"), revision: 1)])
            var rollout = Commit(orgId: "big", expectedRevision: 1, change: fixture.change(kind: "rollout", at: 10))
            rollout.edgeVersions = (0..<count).map { EdgeVersion(edgeId: "edge-\($0)", version: 1, stack: stack, changeId: 0, createdAt: 10) }
            clock = ContinuousClock.now
            let record = try await store.commit(rollout)
            let commitSeconds = ContinuousClock.now - clock

            clock = ContinuousClock.now
            let snapshot = try #require(try await store.snapshot(org: "big"))
            let snapshotSeconds = ContinuousClock.now - clock
            print("PostgresStore, \(count) edges: creating commit \(createSeconds), edge-version commit \(commitSeconds), snapshot \(snapshotSeconds)")

            #expect(snapshot.edges.count == count)
            #expect(snapshot.edges.values.allSatisfy { $0.version == 1 && $0.stack == stack })
            #expect(try await store.edgeVersions(change: record.id).count == count)
        }
    }

    @Test func urlParsing() throws {
        let plain = try PostgresURL(parsing: "postgres://sy:p%40ss@db.example:6543/config")
        #expect(plain.endpoint == .tcp(host: "db.example", port: 6543))
        #expect(plain.username == "sy")
        #expect(plain.password == "p@ss")
        #expect(plain.database == "config")
        #expect(plain.tls == .prefer)

        let socket = try PostgresURL(parsing: "postgresql://sy@/config?host=/run/pg&sslmode=require")
        #expect(socket.endpoint == .socket(path: "/run/pg/.s.PGSQL.5432"))
        #expect(socket.tls == .disable)
        #expect(try PostgresURL(parsing: "postgres://sy@[::1]/").endpoint == .tcp(host: "::1", port: 5432))
        #expect(try PostgresURL(parsing: "postgres://sy@[::1]/").database == "sy")

        func problem(_ url: String) -> String {
            do {
                _ = try PostgresURL(parsing: url)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(problem("mysql://u@h/d").contains("scheme"))
        #expect(problem("postgres://u:secret@h:99999/d").contains("port \"99999\""))
        #expect(!problem("postgres://u:secret@h:99999/d").contains("secret"))
        #expect(problem("postgres://h/d").contains("no user"))
        #expect(problem("postgres://u@h/d?sslmode=maybe").contains("sslmode"))
        #expect(!problem("postgres://u@h/d?password=secret&bogus=1").contains("secret"))
        #expect(problem("postgres://u:%zz@h/d").contains("password"))
    }

    // MARK: Helpers

    /// A store on `url` (a fresh database by default), migrated, closed after `body`.
    private func withStore(url: String? = nil, _ body: (PostgresStore) async throws -> Void) async throws {
        let store = try PostgresStore(url: try url ?? TestPostgres.freshDatabase(), logger: Logger(label: "test.postgres-store"))
        do {
            try await store.migrate()
            try await body(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    /// The first `count` events of `stream`, or fewer after `within`.
    private static func events(_ stream: AsyncStream<ChangeEvent>, count: Int, within: Duration = .seconds(2)) async -> [ChangeEvent] {
        await withTaskGroup(of: [ChangeEvent]?.self) { group in
            group.addTask {
                var out: [ChangeEvent] = []
                for await event in stream {
                    out.append(event)
                    if out.count == count { break }
                }
                return out
            }
            group.addTask {
                try? await Task.sleep(for: within)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? []
        }
    }
}

/// One organization's worth of rows, named so tests can build on them.
private struct Fixture {
    let org: String
    let site: Site
    let group: EdgeGroup
    let edges: [Edge]
    let layers: [LayerRevision]
    let versions: [EdgeVersion]
    let catalog: CatalogRecord
    let edgeKey: Credential

    var orgLayer: LayerKey { LayerKey(scope: .organization, target: org) }

    init(org: String, siteId: String = "s1", edgeIds: [String] = ["e1", "e2"], credentialId: String = "k-e1") {
        self.org = org
        site = Site(id: siteId, orgId: org, name: siteId == "s1" ? "Site One" : "Site \(siteId)")
        group = EdgeGroup(id: siteId == "s1" ? "g1" : "g-\(siteId)", orgId: org, kind: .region, name: "North", priority: 10)
        edges = edgeIds.map { Edge(id: $0, orgId: org, siteId: siteId, name: "Edge \($0)", tags: ["prod", "v2"], groups: [siteId == "s1" ? "g1" : "g-\(siteId)"]) }
        let orgLayer = LayerKey(scope: .organization, target: org)
        let siteLayer = LayerKey(scope: .site, target: siteId)
        layers = [
            LayerRevision(key: orgLayer, orgId: org, revision: 1, document: ["core": ["period_ms": 100], "name": "ünïcode \"quoted\""]),
            LayerRevision(key: siteLayer, orgId: org, revision: 1, document: ["devices": [["id": "m1", "enabled": true]]]),
        ]
        let stack = LayerStack([.init(key: orgLayer, revision: 1), .init(key: siteLayer, revision: 1)])
        versions = edgeIds.map { EdgeVersion(edgeId: $0, version: 1, stack: stack, changeId: 0, createdAt: 1_700_000_000) }
        catalog = CatalogRecord(orgId: org, revision: 1, document: ["plugins": [], "profiles": ["x": 1.5]])
        edgeKey = Credential(id: credentialId, kind: .edge, orgId: org, edgeId: edgeIds.first, role: nil, name: "edge key",
                             secretHash: "hash-\(edgeIds.first ?? credentialId)", createdAt: 1_700_000_000)
    }

    func change(kind: String, at: Int64) -> ChangeRecord {
        ChangeRecord(orgId: org, actor: "alice", reason: "test", kind: kind, at: at, details: ["kind": .string(kind)])
    }

    var creation: Commit {
        var commit = Commit(orgId: org, expectedRevision: 0, change: change(kind: "org.create", at: 1_700_000_000))
        commit.change.affectedEdges = edges.count
        commit.organization = Organization(id: org, name: org == "acme" ? "Acme" : org.capitalized)
        commit.sites = [site]
        commit.groups = [group]
        commit.edges = edges
        commit.layerRevisions = layers
        commit.edgeVersions = versions
        commit.catalog = catalog
        commit.newCredentials = edges.isEmpty ? [] : [edgeKey]
        return commit
    }

    func edgesAfterCreation(changeId: Int) -> [Edge] {
        edges.map { edge in
            var stored = edge
            stored.version = 1
            stored.stack = versions[0].stack
            return stored
        }
    }
}

extension PostgresStore {
    /// Ends every LISTEN connection of the database, as a server restart or a
    /// network failure would; returns how many there were.
    func terminateListeners() async throws -> Int {
        try await rows("end listen connections", """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = \(PostgresChangeListener.applicationName) AND datname = current_database()
            """) { try $0.decode(Bool.self) }.count
    }
}
