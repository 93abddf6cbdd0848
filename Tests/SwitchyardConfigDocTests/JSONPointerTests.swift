import SwitchyardConfigDoc
import SwitchyardJSON
import Testing

@Suite struct JSONPointerTests {
    @Test func parsesEscapesAndRendersThemBack() throws {
        let pointer = try JSONPointer(parsing: "/a~1b/c~0d/~01/")
        #expect(pointer.tokens == ["a/b", "c~d", "~1", ""])
        #expect(pointer.description == "/a~1b/c~0d/~01/")
        #expect(try JSONPointer(parsing: "") == .root)
        #expect(try JSONPointer(parsing: "/").tokens == [""])
        #expect(JSONPointer(tokens: ["x/y", "~"]).description == "/x~1y/~0")
    }

    @Test func syntaxErrorsSayWhatIsWrong() {
        #expect(throws: JSONPointerError(
            code: .invalidSyntax, pointer: "foo",
            message: "a JSON Pointer must be empty or start with \"/\", found \"f\" at the start"
        )) { try JSONPointer(parsing: "foo") }
        #expect(throws: JSONPointerError(
            code: .invalidEscape, pointer: "/a~2",
            message: "\"~2\" at character 2 is not a valid escape (use ~0 for \"~\" and ~1 for \"/\")"
        )) { try JSONPointer(parsing: "/a~2") }
        #expect(throws: JSONPointerError.self) { try JSONPointer(parsing: "/a~") }
    }

    /// RFC 6901 section 5.
    @Test func resolvesTheRFCExamples() throws {
        let document = try JSONValue(parsing: #"""
            {"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8}
            """#)
        let cases: [(String, JSONValue)] = [
            ("", document), ("/foo", ["bar", "baz"]), ("/foo/0", "bar"), ("/", 0), ("/a~1b", 1), ("/c%d", 2),
            ("/e^f", 3), ("/g|h", 4), ("/i\\j", 5), ("/k\"l", 6), ("/ ", 7), ("/m~0n", 8),
        ]
        for (text, expected) in cases {
            #expect(try JSONPointer(parsing: text).resolve(in: document) == expected, "\(text)")
        }
    }

    @Test func resolveErrorsNameTheTokenAndContainer() throws {
        let document: JSONValue = ["a": ["b": [1, 2]], "s": "text"]
        func failure(_ text: String) throws -> JSONPointerError? {
            do {
                _ = try JSONPointer(parsing: text).resolve(in: document)
                return nil
            } catch { return error }
        }
        #expect(try failure("/x")?.message == "member \"x\" does not exist")
        #expect(try failure("/a/x/y")?.message == "member \"x\" does not exist in /a")
        #expect(try failure("/a/b/2")?.message == "index 2 is out of range (array has 2 elements)")
        #expect(try failure("/a/b/2")?.code == .indexOutOfRange)
        #expect(try failure("/a/b/01")?.code == .invalidArrayIndex)
        #expect(try failure("/a/b/-")?.code == .indexOutOfRange)
        #expect(try failure("/s/0")?.message == "/s is a string, so it has no member or element \"0\"")
        #expect(try failure("/s/0")?.description == "JSON Pointer \"/s/0\": /s is a string, so it has no member or element \"0\"")
        #expect(try JSONPointer(parsing: "/a/b/1").value(in: document) == 2)
        #expect(try JSONPointer(parsing: "/a/c").value(in: document) == nil)
    }

    @Test func arrayIndicesFollowRFC6901() {
        #expect(JSONPointer.arrayIndex("0") == 0)
        #expect(JSONPointer.arrayIndex("10") == 10)
        for bad in ["", "-", "01", "00", "1e0", "+1", "-1", " 1", "1 ", "x", "99999999999999999999999"] {
            #expect(JSONPointer.arrayIndex(bad) == nil, "\(bad)")
        }
    }

    @Test func prefixesAndConversions() throws {
        let a = try JSONPointer(parsing: "/a")
        #expect(a.isProperPrefix(of: try JSONPointer(parsing: "/a/b")))
        #expect(!a.isProperPrefix(of: a))
        #expect(!a.isProperPrefix(of: try JSONPointer(parsing: "/ab")))
        #expect(JSONPointer.root.isProperPrefix(of: a))
        #expect(a.appending(index: 3).appending("x/y").description == "/a/3/x~1y")
        #expect(a.appending("b").parent == a)
        #expect(JSONPointer(JSONPath([.key("s/c"), .index(1)])).description == "/s~1c/1")
    }
}
