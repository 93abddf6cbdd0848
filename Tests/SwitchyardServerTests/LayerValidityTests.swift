import Testing
import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardModel
import SwitchyardServer
import SwitchyardServerClient

/// Issue 26 item 4: a layer holds only members valid on their own.
@Suite("layers valid on their own", .serialized)
struct LayerValidityTests {
    static let goodAlarm: JSONValue = ["id": "a_hidden", "channel": "bms_main/Soc", "condition": "<", "threshold": 10, "severity": "warning"]
    static let badAlarm: JSONValue = ["id": "a_hidden", "channel": -1e19, "condition": "<", "threshold": 10, "severity": "warning"]

    @Test("layer mode: what is present is checked, nothing is required, null deletes")
    func layerMode() {
        #expect(EdgeConfig.layerIssues(["alarms": [["id": "a1", "threshold": 5]]]).isEmpty)
        #expect(EdgeConfig.layerIssues(["scheduler": ["controllers": [["id": "c", "parameters": ["x": 1]]]], "core_cycle": .null]).isEmpty)
        #expect(EdgeConfig.layerIssues(["alarms": [["id": "a1", "channel": .null]]]).isEmpty)
        let issues = EdgeConfig.layerIssues(["alarms": [Self.badAlarm], "core_cycle": ["period_ms": "fast"]])
        #expect(Set(issues.map(\.path.pointer)) == ["/alarms/0/channel", "/core_cycle/period_ms"], "\(issues)")
        #expect(!EdgeConfig.layerIssues(["alarms": [["id": "a1", "treshold": 5]]]).isEmpty, "an unknown field is refused")
    }

    @Test("a write holding a member invalid on its own is refused with 422, the layer and the path, though another layer hides it",
          arguments: StoreKind.allCases)
    func writeRefused(kind: StoreKind) async throws {
        let fixture = try await ServerFixture.start(kind)
        let org = try await DemoOrg.create(on: fixture)
        let ops = fixture.client(org.admin)
        for edge in ["e1", "e2"] {
            try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/layers/edge/\(edge)", json: ["alarms": [Self.goodAlarm]]))
        }
        let revision = try await fixture.store.organization("acme")?.revision
        var site = try #require(try await ops.get("/api/v1/orgs/acme/layers/site/s1").json?.objectValue)
        site["alarms"] = [Self.badAlarm]
        let answer = try await ops.send("PUT", "/api/v1/orgs/acme/layers/site/s1", json: .object(site))
        #expect(answer.status == 422, "\(answer.text)")
        #expect(answer.json?["error"]?["message"]?.stringValue?.contains("site:s1") == true, "\(answer.text)")
        #expect(answer.json?["error"]?["problems"]?[0]?["path"] == "/alarms/0/channel", "\(answer.text)")
        // The same member through a patch and through a bulk change.
        let patch = try await ops.send("PATCH", "/api/v1/orgs/acme/layers/site/s1",
                                       json: [["op": "add", "path": "/alarms", "value": [Self.badAlarm]]])
        #expect(patch.status == 422, "\(patch.text)")
        let bulk = try await ops.send("POST", "/api/v1/orgs/acme/bulk", json: ["selector": ["site": "s1"], "merge": ["alarms": [Self.badAlarm]]])
        #expect(bulk.status == 422, "\(bulk.text)")
        #expect(try await fixture.store.organization("acme")?.revision == revision, "nothing was stored")
        try await fixture.stop()
    }

    @Test("a layer stored before the check is listed, counted at start-up, and repaired as an audited change", arguments: StoreKind.allCases)
    func findAndRepair(kind: StoreKind) async throws {
        let fixture = try await ServerFixture.start(kind)
        let org = try await DemoOrg.create(on: fixture)
        let ops = fixture.client(org.admin)
        for edge in ["e1", "e2"] {
            try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/layers/edge/\(edge)", json: ["alarms": [Self.goodAlarm]]))
        }
        #expect(try await ops.get("/api/v1/orgs/acme/layers/invalid").json?["layers"]?.arrayValue?.isEmpty == true)
        // As an older server stored it: straight into the store.
        let current = try #require(try await fixture.store.organization("acme"))
        let stored = try #require(try await fixture.store.snapshot(org: "acme")?.layers[LayerKey(scope: .site, target: "s1")])
        var document = try #require(stored.document.objectValue)
        document["alarms"] = [Self.badAlarm]
        var commit = Commit(orgId: "acme", expectedRevision: current.revision,
                            change: ChangeRecord(orgId: "acme", actor: "old-server", reason: "", kind: "layer.put", at: 0, details: .object([:])))
        commit.layerRevisions = [LayerRevision(key: stored.key, orgId: "acme", revision: stored.revision + 1, document: .object(document))]
        _ = try await fixture.store.commit(commit)

        let listed = try #require(try await fixture.client(org.viewer).get("/api/v1/orgs/acme/layers/invalid").json?["layers"]?.arrayValue)
        #expect(listed.count == 1)
        #expect(listed.first?["layer"] == "site:s1")
        #expect(listed.first?["revision"]?.numberValue == Double(stored.revision + 1))
        #expect(listed.first?["problems"]?[0]?["path"] == "/alarms/0/channel")
        #expect(await fixture.core.config.reportInvalidLayers() == 1, "the start-up scan finds it")

        let viewerRepair = try await fixture.client(org.viewer).send("POST", "/api/v1/orgs/acme/layers/site/s1/repair")
        #expect(viewerRepair.status == 403)
        let repaired = try await ops.send("POST", "/api/v1/orgs/acme/layers/site/s1/repair", headers: [("Switchyard-Reason", "clean up")])
        try expectStatus(200, repaired)
        #expect(repaired.json?["removed"] == ["/alarms/0/channel"])
        #expect(try await ops.get("/api/v1/orgs/acme/layers/invalid").json?["layers"]?.arrayValue?.isEmpty == true)
        let layer = try #require(try await ops.get("/api/v1/orgs/acme/layers/site/s1").json)
        #expect(layer["alarms"]?[0] == ["id": "a_hidden", "condition": "<", "threshold": 10, "severity": "warning"])
        let change = try #require(try await fixture.store.changes(org: "acme", before: nil, limit: 1).first)
        #expect(change.kind == "layer.repair")
        #expect(change.reason == "clean up")
        #expect(change.details["removed"] == ["/alarms/0/channel"])
        let again = try await ops.send("POST", "/api/v1/orgs/acme/layers/site/s1/repair")
        #expect(again.status == 409, "nothing left to repair")
        #expect(await fixture.core.config.reportInvalidLayers() == 0)
        try await fixture.stop()
    }
}
