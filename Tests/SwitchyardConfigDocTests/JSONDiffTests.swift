import SwitchyardConfigDoc
import SwitchyardJSON
import Testing

@Suite struct JSONDiffTests {
    func roundTrip(
        _ a: JSONValue, _ b: JSONValue, _ label: @autoclosure () -> String = "", granularity: JSONDiff.Granularity = .smallest
    ) throws -> JSONPatch {
        let patch = JSONDiff(granularity: granularity).patch(from: a, to: b)
        let result = try patch.apply(to: a)
        #expect(result.isJSONEqual(to: b), "\(label())\na: \(a)\nb: \(b)\npatch: \(patch.canonicalText)\ngot: \(result)")
        return patch
    }

    @Test func randomPairsRoundTrip() throws {
        var random = RandomDocuments(seed: 0x5EED_0001)
        var partial = 0
        var multipleElementRemoves = 0
        for round in 0..<1500 {
            let a = random.object(depth: 5)
            let b = round % 5 == 0 ? random.object(depth: 5) : random.mutate(a, depth: 5)
            let fine = try roundTrip(a, b, "round \(round), fine-grained", granularity: .fineGrained)
            let removes = fine.operations.filter { $0.op == "remove" && JSONPointer.arrayIndex($0.path.lastToken ?? "") != nil }
            if Set(removes.compactMap(\.path.parent)).count < removes.count { multipleElementRemoves += 1 }
            let patch = try roundTrip(a, b, "round \(round)")
            if patch.operations.first?.path.isRoot == false { partial += 1 }
            // Never bigger than sending the whole target.
            let whole = JSONPatch([.replace(path: .root, value: b)])
            #expect(patch.encodedSize <= whole.encodedSize, "round \(round): \(patch.canonicalText)")
            // Sizes are computed without encoding; they must match the encoding.
            #expect(patch.encodedSize == patch.canonicalText.utf8.count, "round \(round)")
            #expect(fine.encodedSize == fine.canonicalText.utf8.count, "round \(round)")
            #expect(whole.encodedSize == whole.canonicalText.utf8.count, "round \(round)")
            // The patch survives its own encoding.
            #expect(try JSONPatch(parsing: patch.canonicalText) == patch)
        }
        // The generator exercises more than whole-document replacement.
        #expect(partial > 600, "\(partial) of 1500 patches are partial")
        #expect(multipleElementRemoves > 30, "\(multipleElementRemoves) patches remove several elements of one array")
    }

    @Test func equalDocumentsGiveAnEmptyPatch() throws {
        let workload = try LayerMerge().effectiveDocument(of: ConfigDocWorkload().layers)
        #expect(JSONDiff.patch(from: workload, to: workload).operations.isEmpty)
        #expect(JSONDiff.patch(from: ["a": 1.0], to: ["a": 1]).operations.isEmpty)
    }

    @Test func oneParameterChangeIsOneSmallReplace() throws {
        let document = try LayerMerge().effectiveDocument(of: ConfigDocWorkload().layers)
        let size = document.canonicalText.utf8.count
        #expect(size > 40_000 && size < 70_000, "the workload is \(size) bytes")
        let pointer = try JSONPointer(parsing: "/scheduler/controllers/5/parameters/threshold_watts")
        let changed = try JSONPatch([.replace(path: pointer, value: 47_500)]).apply(to: document)

        let patch = try roundTrip(document, changed)
        #expect(patch.operations == [.replace(path: pointer, value: 47_500)])
        #expect(patch.encodedSize * 100 < size, "\(patch.encodedSize) of \(size) bytes")
    }

    func device(_ id: String, port: Int) -> JSONValue {
        ["device_id": .string(id), "port": .number(Double(port)), "profile": "sma_sunny_tripower_10", "connection": ["host": "10.0.0.1", "timeout_ms": 1000]]
    }

    @Test func keyedArraysMatchElementsByKey() throws {
        let a: JSONValue = ["modbus_devices": [device("d1", port: 502), device("d2", port: 502), device("d3", port: 502)]]
        let b: JSONValue = ["modbus_devices": [device("d0", port: 1), device("d2", port: 503), device("d3", port: 502), device("d4", port: 1)]]
        let patch = try roundTrip(a, b)
        #expect(patch.operations == [
            .remove(path: try JSONPointer(parsing: "/modbus_devices/0")),
            .replace(path: try JSONPointer(parsing: "/modbus_devices/0/port"), value: 503),
            .add(path: try JSONPointer(parsing: "/modbus_devices/0"), value: device("d0", port: 1)),
            .add(path: try JSONPointer(parsing: "/modbus_devices/3"), value: device("d4", port: 1)),
        ])
    }

    @Test func fineGrainedNeverReplacesASubtreeThatExistsInBoth() throws {
        let a: JSONValue = ["core_cycle": ["period_ms": 1000, "supervisor": ["a": 1, "b": 2, "c": 3]]]
        let b: JSONValue = ["core_cycle": ["period_ms": 1000, "supervisor": ["d": 4]]]
        let patch = try roundTrip(a, b, granularity: .fineGrained)
        #expect(patch.operations.map(\.op) == ["remove", "remove", "remove", "add"])
        #expect(try roundTrip(a, b).operations.map(\.op) == ["replace"])
    }

    @Test func reorderedKeyedElementsStillRoundTrip() throws {
        let a: JSONValue = ["alarms": [["id": "x", "v": 1], ["id": "y", "v": 2], ["id": "z", "v": 3]]]
        let b: JSONValue = ["alarms": [["id": "z", "v": 3], ["id": "x", "v": 1], ["id": "y", "v": 2]]]
        _ = try roundTrip(a, b)
    }

    @Test func plainArraysKeepPrefixAndSuffix() throws {
        let a: JSONValue = ["tags": ["a", "b", "c", "d", "e", "f", "g", "h"]]
        let patch = try roundTrip(a, ["tags": ["a", "b", "c", "d", "e", "f", "h"]])
        #expect(patch.operations == [.remove(path: try JSONPointer(parsing: "/tags/6"))])
        let insert = try roundTrip(a, ["tags": ["a", "b", "c", "X", "d", "e", "f", "g", "h"]])
        #expect(insert.operations == [.add(path: try JSONPointer(parsing: "/tags/3"), value: "X")])
    }

    @Test func aWhollyDifferentSubtreeIsReplacedAsOne() throws {
        let a: JSONValue = ["core_cycle": ["period_ms": 1000, "supervisor": ["a": 1, "b": 2, "c": 3]], "keep": true]
        let b: JSONValue = ["core_cycle": ["rate_hz": 2, "watchdog": ["x": 1]], "keep": true]
        let patch = try roundTrip(a, b)
        #expect(patch.operations == [.replace(path: try JSONPointer(parsing: "/core_cycle"), value: b["core_cycle"]!)])
        let whole = try roundTrip(["a": 1, "b": 2], ["c": 3])
        #expect(whole.operations == [.replace(path: .root, value: ["c": 3])])
    }

    @Test func keysThatNeedEscapesAndKindChanges() throws {
        _ = try roundTrip(["a/b": ["~": 1]], ["a/b": ["~": 2, "x": [1]]])
        _ = try roundTrip(["a": [1, 2]], ["a": ["b": 1]])
        _ = try roundTrip([1, 2, 3], ["x"])
        _ = try roundTrip("text", 5)
        // Canonically equivalent but different keys: Swift's == calls them equal.
        _ = try roundTrip(["\u{E9}": 1], ["e\u{301}": 1])
    }
}
