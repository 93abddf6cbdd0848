import Testing
import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardServer
import SwitchyardServerClient

/// Tenancy, roles, keys, rate limits, and bad input: each refused with a
/// clear 4xx and nothing changed.
@Suite("auth and bad input", .serialized)
struct AuthAndInputTests {
    @Test("an edge key reads only its own edge; operators see only their organization", arguments: StoreKind.allCases)
    func tenancy(kind: StoreKind) async throws {
        let fixture = try await ServerFixture.start(kind)
        let acme = try await DemoOrg.create(on: fixture)
        // A second organization with its own admin and edge.
        try expectStatus(201, try await fixture.root.send("POST", "/api/v1/orgs", json: ["id": "globex"]))
        let globexAdmin = try #require(try await fixture.root.send("POST", "/api/v1/orgs/globex/credentials",
                                                                   json: ["kind": "operator", "role": "admin", "name": "hank"]).json?["secret"]?.stringValue)
        let globex = fixture.client(globexAdmin)
        try expectStatus(200, try await globex.send("PUT", "/api/v1/orgs/globex/sites/g1", json: ["name": "G"]))
        try expectStatus(200, try await globex.send("PUT", "/api/v1/orgs/globex/edges/x1", json: ["site": "g1"]))

        let e1 = fixture.client(acme.edgeKeys["e1"])
        #expect(try await e1.get("/api/v1/edges/e2/config").status == 403, "another edge of the same organization")
        #expect(try await e1.get("/api/v1/edges/x1/config").status == 403, "an edge of another organization")
        #expect(try await e1.send("POST", "/api/v1/edges/e2/heartbeat", json: ["version": 1, "state": "x"]).status == 403)
        #expect(try await e1.get("/api/v1/orgs/acme/edges").status == 403, "an edge key is not an operator token")

        // Globex's admin cannot see or touch Acme: 404, as if it did not exist.
        #expect(try await globex.get("/api/v1/orgs/acme").status == 404)
        #expect(try await globex.get("/api/v1/orgs/acme/edges").status == 404)
        #expect(try await globex.get("/api/v1/orgs/acme/layers/organization/acme").status == 404)
        #expect(try await globex.send("PUT", "/api/v1/orgs/acme/layers/edge/e1", json: ["alarms": []]).status == 404)
        #expect(try await globex.send("PUT", "/api/v1/orgs/globex/edges/e1", json: ["site": "g1"]).status == 409,
                "edge ids are global: taking another organization's id is refused")
        let listed = try #require(try await globex.get("/api/v1/orgs").json?["organizations"]?.arrayValue)
        #expect(listed.map { $0["id"] } == ["globex"])

        // Roles: a viewer reads but cannot write; an operator cannot make keys.
        let viewer = fixture.client(acme.viewer)
        #expect(try await viewer.get("/api/v1/orgs/acme/edges").status == 200)
        #expect(try await viewer.send("PUT", "/api/v1/orgs/acme/sites/s9", json: ["name": "x"]).status == 403)
        #expect(try await viewer.send("POST", "/api/v1/orgs/acme/credentials", json: ["kind": "edge", "edge": "e1"]).status == 403)
        #expect(try await viewer.send("POST", "/api/v1/orgs", json: ["id": "mine"]).status == 403, "only root creates organizations")

        // Keys are stored hashed and revocable.
        let credentials = try #require(try await fixture.client(acme.admin).get("/api/v1/orgs/acme/credentials").json?["credentials"]?.arrayValue)
        #expect(!credentials.contains { $0.canonicalText.contains(acme.edgeKeys["e1"]!) })
        let stored = try await fixture.store.credentials(org: "acme")
        #expect(stored.allSatisfy { !$0.secretHash.contains("sye_") && $0.secretHash.utf8.count == 64 })
        let e1Credential = try #require(stored.first { $0.edgeId == "e1" })
        try expectStatus(200, try await fixture.client(acme.admin).send("DELETE", "/api/v1/orgs/acme/credentials/\(e1Credential.id)"))
        let revoked = try await e1.get("/api/v1/edges/e1/config")
        #expect(revoked.status == 401)

        // No or unknown credentials.
        let anonymous = fixture.client(nil)
        #expect(try await anonymous.get("/api/v1/edges/e1/config").status == 401)
        #expect(try await anonymous.get("/api/v1/orgs").status == 401)
        #expect(try await anonymous.get("/api/v1/orgs/acme/edges", headers: [("Authorization", "Basic abc")]).status == 401)
        #expect(try await fixture.client("sye_forged").get("/api/v1/edges/e1/config").status == 401)
        let bigAnonymous = try await anonymous.send("PUT", "/api/v1/orgs/acme/catalog", raw: "{\"plugins\": [" + String(repeating: "1,", count: 100_000) + "1]}")
        #expect(bigAnonymous.status == 401, "credentials are checked before a body is read")
        #expect(try await anonymous.get("/healthz").status == 200)
        #expect(try await fixture.client(acme.edgeKeys["e2"]).get("/api/v1/orgs").status == 403, "an edge key lists no organizations")
        try await fixture.stop()
    }

    @Test("per-key rate limit: 429 with Retry-After, other keys unaffected", arguments: [StoreKind.sqlite])
    func rateLimit(kind: StoreKind) async throws {
        var options = ServerFixture.testOptions
        options.edgeRateLimit = RateLimiter.Limit(rate: 1, burst: 3)
        let fixture = try await ServerFixture.start(kind, options: options)
        let org = try await DemoOrg.create(on: fixture)
        let e1 = fixture.client(org.edgeKeys["e1"])
        var statuses: [Int] = []
        var retryAfter: String?
        for _ in 0..<6 {
            let answer = try await e1.get("/api/v1/edges/e1/config")
            statuses.append(answer.status)
            if answer.status == 429 { retryAfter = answer.header("Retry-After") }
        }
        #expect(statuses.prefix(3).allSatisfy { $0 == 200 })
        #expect(statuses.contains(429))
        #expect(retryAfter.flatMap { Int($0) }.map { $0 >= 1 } == true)
        #expect(try await fixture.client(org.edgeKeys["e2"]).get("/api/v1/edges/e2/config").status == 200)
        try await fixture.stop()
    }

    @Test("bad input gets a clear 4xx and changes nothing", arguments: StoreKind.allCases)
    func badInput(kind: StoreKind) async throws {
        let fixture = try await ServerFixture.start(kind)
        let org = try await DemoOrg.create(on: fixture)
        let ops = fixture.client(org.admin)
        let revision = try await fixture.store.organization("acme")?.revision
        let layerPath = "/api/v1/orgs/acme/layers/site/s1"
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        let cases: [(String, String, String?, String, Int)] = [
            ("malformed JSON", "PUT", "{\"alarms\": [", layerPath, 400),
            ("not an object", "PUT", "[1, 2]", layerPath, 400),
            ("unknown top-level member", "PUT", "{\"alarmz\": []}", layerPath, 400),
            ("server-owned field", "PUT", "{\"version\": 7}", layerPath, 400),
            ("wrong type", "PUT", "{\"core_cycle\": {\"period_ms\": \"fast\"}}", "/api/v1/orgs/acme/layers/organization/acme", 422),
            ("deep nesting", "PUT", deep, layerPath, 400),
            ("huge body", "PUT", "{\"alarms\": [\"" + String(repeating: "x", count: 2 << 20) + "\"]}", layerPath, 413),
            ("bad patch op", "PATCH", "[{\"op\": \"frobnicate\", \"path\": \"/a\"}]", layerPath, 400),
            ("patch to missing path", "PATCH", "[{\"op\": \"replace\", \"path\": \"/nope/x\", \"value\": 1}]", layerPath, 400),
            ("malformed keyed array", "PUT", "{\"alarms\": [{\"severity\": \"warning\"}]}", layerPath, 400),
            ("unknown field in edge", "PUT", "{\"site\": \"s1\", \"colour\": \"red\"}", "/api/v1/orgs/acme/edges/e1", 400),
            ("wrong type in group", "PUT", "{\"kind\": \"region\", \"priority\": \"high\"}", "/api/v1/orgs/acme/groups/eu", 400),
            ("unknown group kind", "PUT", "{\"kind\": \"galaxy\"}", "/api/v1/orgs/acme/groups/g2", 400),
            ("bad id", "PUT", "{\"name\": \"x\"}", "/api/v1/orgs/acme/sites/..%2Fetc", 400),
            ("bad selector", "POST", "{\"selector\": {\"planet\": \"mars\"}, \"merge\": {}}", "/api/v1/orgs/acme/bulk", 400),
            ("empty body", "PUT", "", layerPath, 400),
            ("negative limit", "GET", nil, "/api/v1/orgs/acme/changes?limit=-1", 400),
            ("non-numeric version", "GET", nil, "/api/v1/orgs/acme/edges/e1/diff?from=abc", 400),
        ]
        for (name, method, body, path, status) in cases {
            let answer = try await ops.send(method, path, raw: body)
            #expect(answer.status == status, "\(name): \(answer.status) \(answer.text.prefix(300))")
            #expect(answer.json?["error"]?["message"]?.stringValue?.isEmpty == false, "\(name) explains itself")
        }
        #expect(try await fixture.store.organization("acme")?.revision == revision, "nothing was stored")
        #expect(try await ops.send("GET", "/api/v1/orgs/acme/nothing-here").status == 404)
        try await fixture.stop()
    }
}
