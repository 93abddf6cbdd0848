import SwitchyardConfigDoc
import SwitchyardJSON
import Testing

@Suite struct LayerMergeTests {
    @Test func mergesObjectsKeyedArraysAndDeletes() throws {
        let effective = try LayerMerge().merge(try LayerFixtures.all())
        let expected = try JSONValue(parsing: #"""
            {
              "core_cycle": {"period_ms": 500, "supervisor": {"overrun_alert_threshold": 2}},
              "scheduler": {"controllers": [
                {"id": "ctrlBalancing0", "class": "BalancingController", "enabled": true, "execution_order": 1,
                 "parameters": {"target_grid_power": 0, "priority": "self_consumption"}},
                {"id": "ctrlPeakShaving0", "class": "PeakShavingController", "enabled": true, "execution_order": 2,
                 "parameters": {"threshold_watts": 48000, "recharge_enabled": true}}
              ]},
              "alarms": [{"id": "hot", "threshold": 70}],
              "modbus_devices": [
                {"device_id": "bms_main", "profile": "tesla_powerwall_2", "connection": {"host": "192.168.1.100", "port": 502}},
                {"device_id": "pv", "profile": "sma_sunny_tripower_10", "connection": {"host": "10.0.0.9", "port": 502}},
                {"device_id": "ev", "profile": "abb_terra", "connection": {"host": "10.0.0.20", "port": 502}}
              ],
              "tags": ["site-a", "pv"]
            }
            """#)
        #expect(effective.document.isJSONEqual(to: expected), "\(effective.document.prettyText)")
        #expect(effective.conflicts.isEmpty)
    }

    @Test func aDeletedKeyedElementCanComeBackAtTheEnd() throws {
        let layers = [
            try LayerFixtures.layer(.organization, "o", #"{"alarms": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}"#),
            try LayerFixtures.layer(.site, "s", #"{"alarms": [{"id": "a", "$delete": true}, {"id": "gone", "$delete": true}]}"#),
            try LayerFixtures.layer(.edge, "e", #"{"alarms": [{"id": "a", "level": 2}, {"id": "b", "level": 1}]}"#),
        ]
        #expect(try LayerMerge().effectiveDocument(of: layers)
            == ["alarms": [["id": "b", "level": 1], ["id": "c"], ["id": "a", "level": 2]]])
    }

    @Test func nullsNeverReachTheEffectiveDocument() throws {
        let layers = [
            try LayerFixtures.layer(.organization, "o", #"{"a": {"x": null, "y": 1}, "b": null, "keep": [null, 1]}"#),
            try LayerFixtures.layer(.edge, "e", #"{"a": {"y": null}, "c": {"d": null}}"#),
        ]
        #expect(try LayerMerge().effectiveDocument(of: layers) == ["a": [:], "keep": [nil, 1], "c": [:]])
    }

    @Test func rulesAreConfigurableWithWildcards() throws {
        let policy = MergePolicy(keyedArrays: [
            try KeyedArrayRule("/modbus_devices", keyMember: "device_id"),
            try KeyedArrayRule("/modbus_devices/*/points", keyMember: "name"),
        ], deleteMarker: "$remove")
        let layers = [
            try LayerFixtures.layer(.organization, "o", #"{"modbus_devices": [{"device_id": "m", "points": [{"name": "p", "scale": 1}, {"name": "q"}]}], "alarms": [{"id": "x"}]}"#),
            try LayerFixtures.layer(.edge, "e", #"{"modbus_devices": [{"device_id": "m", "points": [{"name": "p", "scale": 10}, {"name": "q", "$remove": true}]}], "alarms": [{"id": "y"}]}"#),
        ]
        // `alarms` is not keyed under this policy, so it is replaced.
        #expect(try LayerMerge(policy: policy).effectiveDocument(of: layers)
            == ["modbus_devices": [["device_id": "m", "points": [["name": "p", "scale": 10]]]], "alarms": [["id": "y"]]])
    }

    @Test func aValueOfAnotherKindWinsAndIsRecorded() throws {
        let layers = [
            try LayerFixtures.layer(.organization, "o", #"{"core_cycle": {"period_ms": 1000}, "alarms": [{"id": "a"}], "n": 1}"#),
            try LayerFixtures.layer(.site, "s", #"{"core_cycle": 5, "alarms": {"id": "a"}, "n": 2.5}"#),
        ]
        let effective = try LayerMerge().merge(layers)
        #expect(effective.document == ["core_cycle": 5, "alarms": ["id": "a"], "n": 2.5])
        #expect(effective.conflicts.map(\.description) == [
            "layer site \"S\" (site:s v1) at /alarms: an object replaces an array from earlier layers",
            "layer site \"S\" (site:s v1) at /core_cycle: a number replaces an object from earlier layers",
        ])
    }

    @Test func malformedKeyedArraysNameLayerAndPath() throws {
        func error(_ text: String) throws -> ConfigLayerError? {
            let layers = [try LayerFixtures.organization(), try LayerFixtures.layer(.site, "berlin", text, version: 3)]
            do {
                _ = try LayerMerge().merge(layers)
                return nil
            } catch {
                return error
            }
        }
        let missing = try error(#"{"modbus_devices": [{"device_id": "a"}, {"profile": "x"}]}"#)
        #expect(missing?.code == .missingKey)
        #expect(missing?.layer?.id == "berlin")
        #expect(missing?.path == JSONPointer(tokens: ["modbus_devices", "1"]))
        #expect(missing?.description
            == "layer site \"BERLIN\" (site:berlin v3) at /modbus_devices/1: element has no \"device_id\" member; every element of /modbus_devices needs one to be merged by key")
        #expect(try error(#"{"alarms": [5]}"#)?.code == .keyedElementNotAnObject)
        #expect(try error(#"{"alarms": [{"id": true}]}"#)?.code == .invalidKey)
        #expect(try error(#"{"alarms": [{"id": "x"}, {"id": "x"}]}"#)?.code == .duplicateKey)
        #expect(try error(#"{"alarms": [{"id": "hot", "$delete": true, "threshold": 1}]}"#)?.code == .invalidDelete)
        #expect(try error(#"{"alarms": [{"id": "hot", "$delete": false}]}"#)?.code == .invalidDelete)
        // Several problems: the first in sorted member order is reported.
        let first = try error(#"{"scheduler": {"controllers": [{}]}, "alarms": [{"id": 1}, {"id": 1}], "modbus_devices": [{}]}"#)
        #expect(first?.code == .duplicateKey)
        #expect(first?.path == JSONPointer(tokens: ["alarms", "1"]))
    }

    @Test func layersMustBeObjectsInScopeOrderAndDistinct() throws {
        let merge = LayerMerge()
        let org = try LayerFixtures.organization()
        #expect(throws: ConfigLayerError.self) { try merge.merge([try LayerFixtures.edge(), org]) }
        #expect(throws: ConfigLayerError.self) { try merge.merge([org, org]) }
        let scalar = ConfigLayer(scope: .edge, id: "e", name: "E", version: 1, document: [1])
        do {
            _ = try merge.merge([org, scalar])
            Issue.record("a non-object layer merged")
        } catch {
            #expect(error.code == .layerNotAnObject)
        }
        let reversed = [try LayerFixtures.edge(), org]
        do {
            _ = try merge.merge(reversed)
            Issue.record("layers out of order merged")
        } catch {
            #expect(error.code == .layersOutOfOrder)
            #expect(error.description == "layer organization \"ACME\" (organization:acme v12): comes after layer edge \"EDGE-1\" (edge:edge-1 v2); layers must be ordered organization, groups, site, edge")
        }
        // Two groups in the caller's priority order are fine.
        let groups = [
            try LayerFixtures.layer(.group, "region", #"{"a": 1}"#), try LayerFixtures.layer(.group, "hardware", #"{"a": 2}"#),
        ]
        #expect(try merge.effectiveDocument(of: groups) == ["a": 2])
        #expect(try merge.effectiveDocument(of: []) == [:])
    }

    @Test func validateChecksOneLayerAlone() throws {
        #expect(throws: Never.self) { try LayerMerge().validate(try LayerFixtures.edge()) }
        #expect(throws: ConfigLayerError.self) {
            try LayerMerge().validate(try LayerFixtures.layer(.edge, "e", #"{"scheduler": {"controllers": [{"class": "X"}]}}"#))
        }
    }

    @Test func mergingTheLastLayersOntoTheEarlierOnesGivesTheSameDocument() throws {
        let layers = ConfigDocWorkload().layers
        let whole = try LayerMerge().effectiveDocument(of: layers)
        for split in 1..<layers.count {
            let base = try LayerMerge().effectiveDocument(of: Array(layers[..<split]))
            let onto = try LayerMerge().effectiveDocument(of: Array(layers[split...]), onto: base)
            #expect(onto == whole, "split after layer \(split)")
        }
        // Deletions (null, $delete) in the later layers act on the base the same way.
        let deleting = try LayerFixtures.layer(.edge, "e", #"{"core_cycle": null, "modbus_devices": [{"device_id": "dev0", "$delete": true}]}"#)
        let base = try LayerMerge().effectiveDocument(of: layers)
        #expect(try LayerMerge().effectiveDocument(of: [deleting], onto: base) == LayerMerge().effectiveDocument(of: layers + [deleting]))
    }

    @Test func theWorkloadIsAboutFiftyKilobytes() throws {
        let workload = ConfigDocWorkload()
        let document = try LayerMerge().effectiveDocument(of: workload.layers)
        #expect(document["modbus_devices"]?.arrayValue?.count == 100)
        #expect(document["scheduler"]?["controllers"]?.arrayValue?.count == 20)
        #expect(document["alarms"]?.arrayValue?.count == 39)
        #expect(document["core_cycle"]?["period_ms"] == 500)
        #expect(try workload.resolveDigestAndDiff(previous: document) == 34)
    }
}
