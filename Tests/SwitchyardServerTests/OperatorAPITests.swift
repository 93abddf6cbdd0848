import Testing
import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardServer
import SwitchyardServerClient

/// The operator side over real HTTP, against each store.
@Suite("operator API", .serialized)
struct OperatorAPITests {
    @Test("inheritance: group and edge layers override in order; explain names the layers", arguments: StoreKind.allCases)
    func inheritanceAndExplain(kind: StoreKind) async throws {
        let fixture = try await ServerFixture.start(kind)
        let org = try await DemoOrg.create(on: fixture)
        let ops = fixture.client(org.admin)
        try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/layers/group/eu", json: [
            "scheduler": ["controllers": [["id": "ctrlPeakShaving0", "parameters": ["threshold_watts": 45000]]]],
        ]))
        try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/layers/edge/e2", json: [
            "scheduler": ["controllers": [["id": "ctrlPeakShaving0", "parameters": ["threshold_watts": 40000]]]],
            "alarms": [["id": "alarm_soc_low", "channel": "bms_main/Soc", "condition": "<", "threshold": 20, "severity": "warning"]],
        ]))
        let e1 = try #require(try await fixture.client(org.edgeKeys["e1"]).get("/api/v1/edges/e1/config").json)
        let e2 = try #require(try await fixture.client(org.edgeKeys["e2"]).get("/api/v1/edges/e2/config").json)
        let threshold = "/scheduler/controllers/1/parameters/threshold_watts"
        #expect(try JSONPointer(parsing: threshold).resolve(in: e1).numberValue == 45000)
        #expect(try JSONPointer(parsing: threshold).resolve(in: e2).numberValue == 40000)
        #expect(e2["alarms"]?[0]?["id"] == "alarm_soc_low")
        #expect(e1["alarms"] == nil)
        // The balancing controller, set only by the organization, is still there.
        #expect(e2["scheduler"]?["controllers"]?[0]?["id"] == "ctrlBalancing0")

        let path = threshold
        let explained = try #require(try await ops.get("/api/v1/orgs/acme/edges/e2/explain?path=\(path)").json)
        #expect(explained["value"]?.numberValue == 40000)
        #expect(explained["set_by"]?.stringValue?.contains("edge:e2") == true)
        let layers = explained["entries"]?.arrayValue?.compactMap { $0["layer"]?.stringValue } ?? []
        #expect(layers.count == 3, "organization, group and edge each set it: \(layers)")
        #expect(layers.first?.contains("organization:acme") == true)
        // Keyed elements may be named by key: the same explanation.
        let byKey = try #require(try await ops.get(
            "/api/v1/orgs/acme/edges/e2/explain?path=/scheduler/controllers/ctrlPeakShaving0/parameters/threshold_watts").json)
        #expect(byKey["path"] == explained["path"])
        #expect(byKey["value"]?.numberValue == 40000)
        try await fixture.stop()
    }

    @Test("If-Match: a stale layer ETag gets 412 and changes nothing", arguments: StoreKind.allCases)
    func ifMatch(kind: StoreKind) async throws {
        let fixture = try await ServerFixture.start(kind)
        let org = try await DemoOrg.create(on: fixture)
        let ops = fixture.client(org.admin)
        let read = try await ops.get("/api/v1/orgs/acme/layers/site/s1")
        let etag = try #require(read.header("ETag"))
        var layer = try #require(read.json?.objectValue)
        layer["alarms"] = [["id": "a1", "channel": "bms_main/Soc", "condition": "<", "threshold": 10, "severity": "warning"]]
        let written = try await ops.send("PUT", "/api/v1/orgs/acme/layers/site/s1", json: .object(layer), headers: [("If-Match", etag)])
        try expectStatus(200, written)
        let next = try #require(written.header("ETag"), "a layer write answers with the new ETag")
        #expect(next != etag)
        layer["alarms"] = [["id": "a1", "channel": "bms_main/Soc", "condition": "<", "threshold": 12, "severity": "warning"]]
        try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/layers/site/s1", json: .object(layer), headers: [("If-Match", next)]))
        let revision = try await fixture.store.organization("acme")?.revision
        let stale = try await ops.send("PUT", "/api/v1/orgs/acme/layers/site/s1", json: .object(layer), headers: [("If-Match", etag)])
        #expect(stale.status == 412)
        #expect(stale.json?["error"]?["code"] == "precondition_failed")
        #expect(try await fixture.store.organization("acme")?.revision == revision)
        try await fixture.stop()
    }

    @Test("an invalid change is refused with edge, path and reason, and nothing is stored", arguments: StoreKind.allCases)
    func validation(kind: StoreKind) async throws {
        let fixture = try await ServerFixture.start(kind)
        let org = try await DemoOrg.create(on: fixture)
        let ops = fixture.client(org.admin)
        let revision = try await fixture.store.organization("acme")?.revision
        let answer = try await ops.send("PUT", "/api/v1/orgs/acme/layers/edge/e3", json: [
            "scheduler": ["controllers": [["id": "ctrlPeakShaving0", "class": "PeakShavingControler"]]],
        ])
        #expect(answer.status == 422)
        let problem = try #require(answer.json?["error"]?["problems"]?[0])
        #expect(problem["edge"] == "e3")
        #expect(problem["path"] == "/scheduler/controllers/1/class")
        #expect(problem["message"]?.stringValue?.contains("PeakShavingController") == true, "suggests the right class")
        #expect(try await fixture.store.organization("acme")?.revision == revision)
        #expect(try await fixture.store.layerRevisions(LayerKey(scope: .edge, target: "e3"), limit: 5).isEmpty)
        // The refused document left no trace: the next valid revision 1 of the same layer is what e3 gets.
        try expectStatus(200, try await ops.send("PUT", "/api/v1/orgs/acme/layers/edge/e3", json: [
            "scheduler": ["controllers": [["id": "ctrlPeakShaving0", "parameters": ["threshold_watts": 41000]]]],
        ]))
        let e3 = try #require(try await fixture.client(org.edgeKeys["e3"]).get("/api/v1/edges/e3/config").json)
        #expect(e3["scheduler"]?["controllers"]?[1]?["class"] == "PeakShavingController")
        #expect(e3["scheduler"]?["controllers"]?[1]?["parameters"]?["threshold_watts"]?.numberValue == 41000)

        // An unknown profile at the organization level names every affected edge group.
        let org2 = try await ops.send("PATCH", "/api/v1/orgs/acme/layers/site/s1", json: [
            ["op": "replace", "path": "/modbus_devices/0/profile", "value": "no_such_profile"],
        ])
        #expect(org2.status == 422)
        #expect(org2.json?["error"]?["problems"]?[0]?["path"] == "/modbus_devices/0/profile")
        #expect(org2.json?["error"]?["problems"]?[0]?["also_affects_edges"]?.numberValue == 1, "e1 and e2 share the layers")
        // Several problems in the layers e1 and e2 share: still two edges refused, not one plus one per problem.
        let twoProblems = try await ops.send("PATCH", "/api/v1/orgs/acme/layers/site/s1", json: [
            ["op": "replace", "path": "/modbus_devices/0/profile", "value": "no_such_profile"],
            ["op": "add", "path": "/alarms", "value": [["id": "a1", "channel": "no_device/Soc", "condition": ">", "threshold": 1]]],
        ])
        #expect(twoProblems.status == 422)
        #expect((twoProblems.json?["error"]?["problems"]?.arrayValue?.count ?? 0) >= 2, "several problems, each naming e1 and one more edge")
        #expect(twoProblems.json?["error"]?["message"]?.stringValue?.hasPrefix("the change would give 2 edge(s)") == true)
        try await fixture.stop()
    }

    @Test("bulk change by site: one audited change, every edge of the site, no other", arguments: StoreKind.allCases)
    func bulk(kind: StoreKind) async throws {
        let fixture = try await ServerFixture.start(kind)
        let org = try await DemoOrg.create(on: fixture)
        let ops = fixture.client(org.admin)
        let answer = try await ops.send("POST", "/api/v1/orgs/acme/bulk", json: [
            "selector": ["site": "s1"],
            "merge": ["scheduler": ["controllers": [["id": "ctrlPeakShaving0", "parameters": ["threshold_watts": 48000]]]]],
        ], headers: [("Switchyard-Reason", "summer peak tariff")])
        try expectStatus(200, answer)
        #expect(answer.json?["edges_with_new_version"]?.numberValue == 2)
        let changeId = Int(try #require(answer.json?["change_id"]?.numberValue))
        for (edge, expected) in [("e1", 48000.0), ("e2", 48000), ("e3", 50000)] {
            let doc = try #require(try await fixture.client(org.edgeKeys[edge]).get("/api/v1/edges/\(edge)/config").json)
            #expect(doc["scheduler"]?["controllers"]?[1]?["parameters"]?["threshold_watts"]?.numberValue == expected, "\(edge)")
        }
        let audit = try #require(try await ops.get("/api/v1/orgs/acme/changes?limit=1").json?["changes"]?[0])
        #expect(audit["id"]?.numberValue.map(Int.init) == changeId)
        #expect(audit["kind"] == "bulk")
        #expect(audit["reason"] == "summer peak tariff")
        #expect(audit["actor"]?.stringValue?.contains("alice") == true)
        #expect(audit["edges_with_new_version"]?.numberValue == 2)
        #expect(audit["details"]?["selector"]?["site"] == "s1")
        try await fixture.stop()
    }

    @Test("history, diff between versions, edge rollback pins, layer rollback", arguments: StoreKind.allCases)
    func historyAndRollback(kind: StoreKind) async throws {
        let fixture = try await ServerFixture.start(kind)
        let org = try await DemoOrg.create(on: fixture)
        let ops = fixture.client(org.admin)
        let edge = fixture.client(org.edgeKeys["e1"])
        let v1 = Int(try #require(try await edge.get("/api/v1/edges/e1/config").json?["version"]?.numberValue))
        for threshold in [47000, 46000] {
            try expectStatus(200, try await ops.send("PATCH", "/api/v1/orgs/acme/layers/organization/acme", json: [
                ["op": "replace", "path": "/scheduler/controllers/1/parameters/threshold_watts", "value": .number(Double(threshold))],
            ]))
        }
        let history = try #require(try await ops.get("/api/v1/orgs/acme/edges/e1/versions").json)
        #expect(history["current_version"]?.numberValue.map(Int.init) == v1 + 2)
        #expect(history["versions"]?.arrayValue?.count == v1 + 2)
        let diff = try #require(try await ops.get("/api/v1/orgs/acme/edges/e1/diff?from=\(v1)&to=\(v1 + 2)").json)
        let ops1 = diff["patch"]?.arrayValue ?? []
        #expect(ops1.contains { $0["path"] == "/scheduler/controllers/1/parameters/threshold_watts" && $0["value"]?.numberValue == 46000 })
        let old = try #require(try await ops.get("/api/v1/orgs/acme/edges/e1/versions/\(v1)").json)
        #expect(old["scheduler"]?["controllers"]?[1]?["parameters"]?["threshold_watts"]?.numberValue == 50000)

        // Edge rollback: a new version with the old content, pinned against later layer changes.
        try expectStatus(200, try await ops.send("POST", "/api/v1/orgs/acme/edges/e1/rollback", json: ["version": .number(Double(v1))]))
        let rolled = try #require(try await edge.get("/api/v1/edges/e1/config").json)
        #expect(rolled["version"]?.numberValue.map(Int.init) == v1 + 3)
        #expect(rolled["scheduler"]?["controllers"]?[1]?["parameters"]?["threshold_watts"]?.numberValue == 50000)
        let skipped = try await ops.send("PATCH", "/api/v1/orgs/acme/layers/organization/acme", json: [
            ["op": "replace", "path": "/core_cycle/period_ms", "value": 500],
        ])
        #expect(skipped.json?["pinned_edges_skipped"]?[0] == "e1")
        #expect(try await edge.get("/api/v1/edges/e1/config").json?["version"]?.numberValue.map(Int.init) == v1 + 3)
        try expectStatus(200, try await ops.send("POST", "/api/v1/orgs/acme/edges/e1/unpin"))
        let unpinned = try #require(try await edge.get("/api/v1/edges/e1/config").json)
        #expect(unpinned["core_cycle"]?["period_ms"]?.numberValue == 500)
        #expect(unpinned["scheduler"]?["controllers"]?[1]?["parameters"]?["threshold_watts"]?.numberValue == 46000)

        // Layer rollback: revision 1 of the organization layer again, as a new revision.
        try expectStatus(200, try await ops.send("POST", "/api/v1/orgs/acme/layers/organization/acme/rollback", json: ["revision": 1]))
        let layer = try await ops.get("/api/v1/orgs/acme/layers/organization/acme")
        #expect(layer.header("Switchyard-Layer-Revision") == "5")
        #expect(layer.json?.isJSONEqual(to: DemoOrg.orgLayer) == true)
        try await fixture.stop()
    }
}
