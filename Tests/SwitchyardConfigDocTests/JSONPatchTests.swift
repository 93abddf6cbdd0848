import SwitchyardConfigDoc
import SwitchyardJSON
import Testing

@Suite struct JSONPatchTests {
    let config: JSONValue = [
        "scheduler": ["controllers": [["id": "a", "parameters": ["threshold_watts": 50000]], ["id": "b"]]],
        "core_cycle": ["period_ms": 1000],
    ]

    func failure(_ patchText: String, on document: JSONValue) -> JSONPatchError? {
        do {
            _ = try JSONPatch(parsing: patchText).apply(to: document)
            return nil
        } catch {
            return error
        }
    }

    @Test func errorsNameOperationOpPathAndReason() {
        let error = failure(#"""
            [{"op": "test", "path": "/core_cycle/period_ms", "value": 1000},
             {"op": "add", "path": "/core_cycle/x", "value": 1},
             {"op": "remove", "path": "/core_cycle/x"},
             {"op": "replace", "path": "/scheduler/controllers/5", "value": {}}]
            """#, on: config)
        #expect(error?.message == "operation 3 (replace /scheduler/controllers/5): index 5 is out of range (array has 2 elements)")
        #expect(error?.code == .indexOutOfRange)
        #expect(error?.operationIndex == 3)
        #expect(error?.op == "replace")
        #expect(error?.path == "/scheduler/controllers/5")
    }

    @Test func errorsForMissingParentsAndScalars() {
        #expect(failure(#"[{"op": "add", "path": "/nope/x", "value": 1}]"#, on: config)?.message
            == "operation 0 (add /nope/x): member \"nope\" does not exist")
        #expect(failure(#"[{"op": "add", "path": "/core_cycle/period_ms/x", "value": 1}]"#, on: config)?.message
            == "operation 0 (add /core_cycle/period_ms/x): /core_cycle/period_ms is an integer, so it has no member or element \"x\"")
        #expect(failure(#"[{"op": "remove", "path": "/scheduler/controllers/9/id"}]"#, on: config)?.message
            == "operation 0 (remove /scheduler/controllers/9/id): index 9 is out of range in /scheduler/controllers (array has 2 elements)")
        #expect(failure(#"[{"op": "copy", "from": "/x", "path": "/y"}]"#, on: config)?.message
            == "operation 0 (copy /y from /x): from: member \"x\" does not exist")
        #expect(failure(#"[{"op": "remove", "path": ""}]"#, on: config)?.code == .removeRoot)
        #expect(failure(#"[{"op": "add", "path": "/scheduler/controllers/3", "value": 1}]"#, on: config)?.code == .indexOutOfRange)
    }

    @Test func decodingErrorsNameTheMember() {
        let cases: [(String, String, JSONPatchError.Code)] = [
            (#"{"op": "add"}"#, "a JSON Patch must be an array of operations, got an object", .notAnArray),
            (#"[{"op": "add", "path": "/a", "value": 1}, 5]"#, "operation 1: an operation must be an object, got an integer", .malformedOperation),
            (#"[{"path": "/a"}]"#, "operation 0: member \"op\" is missing", .malformedOperation),
            (#"[{"op": 1, "path": "/a"}]"#, "operation 0: member \"op\" must be a string, got integer", .malformedOperation),
            (#"[{"op": "spam", "path": "/a"}]"#, "operation 0: \"spam\" is not an operation (expected add, remove, replace, move, copy or test)", .malformedOperation),
            (#"[{"op": "add", "value": 1}]"#, "operation 0 (add): member \"path\" is missing", .malformedOperation),
            (#"[{"op": "add", "path": null, "value": 1}]"#, "operation 0 (add): member \"path\" must be a string, got null", .malformedOperation),
            (#"[{"op": "add", "path": "a", "value": 1}]"#, "operation 0 (add): member \"path\" is not a valid JSON Pointer: a JSON Pointer must be empty or start with \"/\", found \"a\" at the start", .invalidPointer),
            (#"[{"op": "replace", "path": "/a"}]"#, "operation 0 (replace /a): member \"value\" is missing (replace needs one; null is a value)", .malformedOperation),
            (#"[{"op": "move", "path": "/a"}]"#, "operation 0 (move /a): member \"from\" is missing", .malformedOperation),
        ]
        for (text, message, code) in cases {
            do {
                _ = try JSONPatch(parsing: text)
                Issue.record("\(text) decoded")
            } catch {
                #expect(error.message == message)
                #expect(error.code == code, "\(text)")
            }
        }
        #expect(throws: JSONPatchError.self) { try JSONPatch(parsing: "[{") }
    }

    @Test func anOperationWithTwoOpMembersIsRefused() {
        // RFC 6902 A.13: the parser refuses the duplicate member.
        #expect(failure(#"[{"op": "add", "path": "/baz", "value": "qux", "op": "remove"}]"#, on: config)?.code == .invalidJSON)
    }

    @Test func applyIsAllOrNothing() throws {
        let patch = try JSONPatch(parsing: #"""
            [{"op": "replace", "path": "/core_cycle/period_ms", "value": 500},
             {"op": "test", "path": "/core_cycle/period_ms", "value": 1000}]
            """#)
        var document = config
        #expect(throws: JSONPatchError.self) { try patch.apply(to: &document) }
        #expect(document == config)
        #expect(document["core_cycle"]?["period_ms"] == 1000)
    }

    @Test func appliesEveryOperation() throws {
        let patch = try JSONPatch(parsing: #"""
            [{"op": "add", "path": "/scheduler/controllers/-", "value": {"id": "c"}},
             {"op": "add", "path": "/scheduler/controllers/0", "value": {"id": "z"}},
             {"op": "copy", "from": "/core_cycle", "path": "/copy"},
             {"op": "move", "from": "/copy/period_ms", "path": "/moved"},
             {"op": "remove", "path": "/scheduler/controllers/2"},
             {"op": "replace", "path": "/core_cycle/period_ms", "value": 250},
             {"op": "test", "path": "/moved", "value": 1000.0},
             {"op": "move", "from": "/moved", "path": "/moved"}]
            """#)
        let result = try patch.apply(to: config)
        #expect(result == [
            "scheduler": ["controllers": [["id": "z"], ["id": "a", "parameters": ["threshold_watts": 50000]], ["id": "c"]]],
            "core_cycle": ["period_ms": 250],
            "copy": [:],
            "moved": 1000,
        ])
    }

    @Test func moveIntoOwnChildIsRefused() {
        let error = failure(#"[{"op": "move", "from": "/core_cycle", "path": "/core_cycle/inner"}]"#, on: config)
        #expect(error?.code == .moveIntoOwnChild)
        #expect(error?.message == "operation 0 (move /core_cycle/inner from /core_cycle): a value cannot be moved into its own child (/core_cycle/inner is inside /core_cycle)")
    }

    @Test func testComparesNumbersByValueAndStringsByScalars() throws {
        let document: JSONValue = ["n": 1, "s": "\u{E9}", "o": ["a": [1, 2]]]
        #expect(throws: Never.self) {
            try JSONPatch(parsing: #"[{"op": "test", "path": "/n", "value": 1.0}, {"op": "test", "path": "/o", "value": {"a": [1.0, 2e0]}}]"#).apply(to: document)
        }
        // Precomposed é and e + combining acute are different JSON strings.
        let decomposed = JSONPatch([.test(path: JSONPointer(tokens: ["s"]), value: .string("e\u{301}"))])
        #expect(throws: JSONPatchError.self) { try decomposed.apply(to: document) }
        #expect(failure(#"[{"op": "test", "path": "/n", "value": "1"}]"#, on: document)?.message
            == "operation 0 (test /n): test failed: expected \"1\", found 1")
    }

    @Test func encodesBackToTheSamePatch() throws {
        let text = #"[{"op":"add","path":"/a~1b","value":null},{"from":"/x","op":"move","path":"/y"},{"op":"remove","path":""}]"#
        let patch = try JSONPatch(parsing: text)
        #expect(patch.canonicalText == text)
        #expect(patch.encodedSize == text.utf8.count)
        #expect(try JSONPatch(decoding: patch.jsonValue) == patch)
    }
}
