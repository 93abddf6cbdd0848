import Testing
import SwitchyardJSON

/// The canonical encoding is what is hashed and signed: its bytes must not
/// change when the encoder does.
@Suite struct CanonicalEncodingTests {
    @Test func escapesAndOrder() throws {
        let value: JSONValue = [
            "é": "caf\u{E9} \u{1F50B}", "b": ["q\"uote", "back\\slash", "line\nfeed\ttab\r\u{08}\u{0C}\u{01}\u{1F}"],
            "a": [1, 2.5, -0.001, 1e21, 9_007_199_254_740_992, true, false, nil], "": [:], "B": [],
        ]
        let expected = #"{"":{},"B":[],"a":[1,2.5,-0.001,1e21,9007199254740992,true,false,null],"# +
            #""b":["q\"uote","back\\slash","line\nfeed\ttab\r\b\f\u0001\u001f"],"é":"café 🔋"}"#
        #expect(value.canonicalText == expected)
        #expect(value.canonicalBytes == Array(expected.utf8))
        #expect(try JSONValue(parsing: value.canonicalText) == value)
        #expect(value.prettyText.contains("\n  \"B\": [],\n"))
    }
}
