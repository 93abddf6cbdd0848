import SwitchyardConfigDoc
import SwitchyardJSON
import Testing

@Suite struct ExplainTests {
    let effective: EffectiveConfig

    init() throws {
        effective = try LayerMerge().merge(try LayerFixtures.all())
    }

    func explain(_ text: String) throws -> Explanation {
        try effective.explain(try JSONPointer(parsing: text))
    }

    @Test func aLeafNamesWhoSetItAndWhatItOverrode() throws {
        let explanation = try explain("/scheduler/controllers/1/parameters/threshold_watts")
        #expect(explanation.value == 48000)
        #expect(explanation.setBy?.id == "site-a")
        #expect(explanation.overridden.map(\.layer.id) == ["eu", "acme"])
        #expect(explanation.overridden.map(\.action) == [.set(49000), .set(50000)])
        #expect(explanation.contributors.map(\.id) == ["site-a"])
        #expect(!explanation.merges)
        #expect(explanation.description == """
            /scheduler/controllers/1/parameters/threshold_watts = 48000
              set by site "SITE-A" (site:site-a v7): 48000
              overrode group "EU" (group:eu v3): 49000
              overrode organization "ACME" (organization:acme v12): 50000
            """)
    }

    @Test func keyedElementsAreFollowedByKeyNotIndex() throws {
        // pv is element 2 at the site and 0 at the edge; 1 in the result.
        let explanation = try explain("/modbus_devices/1/connection/host")
        #expect(explanation.value == "10.0.0.9")
        #expect(explanation.entries.map(\.layer.id) == ["site-a", "edge-1"])
        #expect(explanation.entries.map(\.action) == [.set("192.168.1.102"), .set("10.0.0.9")])
    }

    @Test func anObjectListsTheLayersThatContributed() throws {
        let explanation = try explain("/core_cycle")
        #expect(explanation.merges)
        #expect(explanation.contributors.map(\.id) == ["acme", "site-a", "edge-1"])
        let device = try explain("/modbus_devices/1")
        #expect(device.contributors.map(\.id) == ["site-a", "edge-1"])
        #expect(try explain("").contributors.map(\.id) == ["acme", "eu", "site-a", "edge-1"])
    }

    @Test func aDeletedMemberShowsWhoDeletedIt() throws {
        let explanation = try explain("/core_cycle/supervisor/auto_recovery")
        #expect(explanation.value == nil)
        #expect(explanation.setBy == nil)
        #expect(explanation.entries.map(\.action) == [.set(true), .deleted])
        #expect(explanation.entries.last?.layer.id == "site-a")
    }

    @Test func pathsIntoReplacedArraysAreExplainedByTheArray() throws {
        let explanation = try explain("/tags/1")
        #expect(explanation.value == "pv")
        #expect(explanation.unitPath == JSONPointer(tokens: ["tags"]))
        #expect(explanation.setBy?.id == "site-a")
        #expect(explanation.overridden.map(\.action) == [.set(["fleet"])])
    }

    @Test func ancestorsOfAnotherKindAndDeletionsAppearInTheChain() throws {
        let layers = [
            try LayerFixtures.layer(.organization, "o", #"{"core_cycle": {"period_ms": 1000}, "a": {"b": 1}}"#),
            try LayerFixtures.layer(.group, "g", #"{"core_cycle": 5, "a": null}"#),
            try LayerFixtures.layer(.site, "s", #"{"core_cycle": {"period_ms": 250}, "a": {"b": 2}}"#),
        ]
        let effective = try LayerMerge().merge(layers)
        let period = try effective.explain(JSONPointer(tokens: ["core_cycle", "period_ms"]))
        #expect(period.entries.map(\.action) == [.set(1000), .replacedAncestor(JSONPointer(tokens: ["core_cycle"]), 5), .set(250)])
        let cycle = try effective.explain(JSONPointer(tokens: ["core_cycle"]))
        #expect(cycle.contributors.map(\.id) == ["s"])
        let b = try effective.explain(JSONPointer(tokens: ["a", "b"]))
        #expect(b.entries.map(\.action) == [.set(1), .deletedAncestor(JSONPointer(tokens: ["a"])), .set(2)])
    }

    @Test func unknownPathsAreErrors() throws {
        #expect(throws: ConfigLayerError.self) { try explain("/modbus_devices/7") }
        #expect(throws: ConfigLayerError.self) { try explain("/core_cycle/period_ms/x") }
        // An absent member is explained (no layer touched it).
        #expect(try explain("/nothing/here").entries.isEmpty)
    }

    @Test func provenanceCoversEveryLeaf() throws {
        let provenance = effective.provenance()
        #expect(provenance.count == effective.leafPaths.count)
        #expect(provenance.count == 29)
        for explanation in provenance {
            #expect(explanation.value == explanation.path.value(in: effective.document), "\(explanation.path)")
            #expect(explanation.setBy != nil || explanation.merges, "\(explanation.path)")
        }
        let byPath = Dictionary(uniqueKeysWithValues: provenance.map { ($0.path.description, $0) })
        #expect(byPath["/core_cycle/period_ms"]?.setBy?.id == "edge-1")
        #expect(byPath["/core_cycle/supervisor/overrun_alert_threshold"]?.setBy?.id == "acme")
        #expect(byPath["/modbus_devices/2/profile"]?.setBy?.id == "edge-1")
    }
}
