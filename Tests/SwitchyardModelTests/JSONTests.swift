import Testing
import SwitchyardJSON

@Suite struct JSONTests {
    @Test func parsesAndEncodesCanonically() throws {
        let v = try JSONValue(parsing: #"{ "b": [1, 2.5, -3e2, true, null], "a": {"y": "x\n\u00e9\ud83d\ude00", "x": {}} }"#)
        #expect(v.canonicalText == #"{"a":{"x":{},"y":"x\né😀"},"b":[1,2.5,-300,true,null]}"#)
        // Canonical text parses back to the same value.
        #expect(try JSONValue(parsing: v.canonicalText) == v)
        #expect(try JSONValue(parsing: v.prettyText) == v)
    }

    @Test func syntaxErrorsNameLineAndColumn() {
        #expect(throws: JSONSyntaxError(line: 2, column: 8, reason: "unexpected '}', expected a value")) {
            try JSONValue(parsing: "{\n  \"a\": }")
        }
        #expect(throws: JSONSyntaxError(line: 1, column: 10, reason: "duplicate key \"a\"")) {
            try JSONValue(parsing: #"{"a": 1, "a": 2}"#)
        }
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: "[1, 2,]") }
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: "01") }
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: "\"\\ud800\"") }
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: "") }
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: "1e999") }
    }

    @Test func refusesDeepNestingInsteadOfRecursing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: deep) }
        let ok = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect((try? JSONValue(parsing: ok)) != nil)
    }

    @Test func formatsNumbersInShortestForm() {
        #expect(JSONValue.format(50000) == "50000")
        #expect(JSONValue.format(-0.5) == "-0.5")
        #expect(JSONValue.format(0.1) == "0.1")
        #expect(JSONValue.format(1e21) == "1e21")
        #expect(JSONValue.format(1.5e-7) == "1.5e-7")
    }

    @Test func pathsRenderForPeopleAndAsPointers() {
        let path = JSONPath.root.appending("scheduler").appending("controllers").appending(index: 1).appending("a/b~c")
        #expect(path.description == "scheduler.controllers[1].a/b~c")
        #expect(path.pointer == "/scheduler/controllers/1/a~1b~0c")
    }
}
