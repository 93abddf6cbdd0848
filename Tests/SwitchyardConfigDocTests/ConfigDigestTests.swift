import SwitchyardConfigDoc
import SwitchyardJSON
import Testing

@Suite struct ConfigDigestTests {
    @Test func isTheSHA256OfTheCanonicalText() throws {
        #expect(ConfigDigest(of: [:]).hex == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
        let document = try JSONValue(parsing: #"{ "b": [true, null, "x"], "a": 1.0 }"#)
        #expect(ConfigDigest(of: document).hex == "eca8cfb31ab74533e1eb2f4c74d2d55dfe3c79ac704787e54be8647ea7777eb1")
        #expect(ConfigDigest(canonicalText: #"{"a":1,"b":[true,null,"x"]}"#) == ConfigDigest(of: document))
    }

    @Test func equalDocumentsHaveEqualDigests() throws {
        let a = try JSONValue(parsing: #"{"x": {"p": 1, "q": [1e2, -0, 0.5]}, "y": "é"}"#)
        let b = try JSONValue(parsing: "{\n  \"y\": \"\\u00e9\",\n  \"x\": {\"q\": [100, 0, 5e-1], \"p\": 1.0}\n}")
        #expect(a.isJSONEqual(to: b))
        #expect(ConfigDigest(of: a) == ConfigDigest(of: b))
        #expect(ConfigDigest(of: a) != ConfigDigest(of: ["x": 1]))
    }

    @Test func canonicallyEquivalentStringsAreDifferentContent() {
        let precomposed: JSONValue = ["name": "\u{E9}"]
        let decomposed: JSONValue = ["name": "e\u{301}"]
        #expect(!precomposed.isJSONEqual(to: decomposed))
        #expect(ConfigDigest(of: precomposed) != ConfigDigest(of: decomposed))
    }

    @Test func hexAndETagForms() throws {
        let digest = ConfigDigest(of: ["a": 1])
        #expect(digest.hex.count == 64)
        #expect(digest.hex == digest.hex.lowercased())
        #expect(ConfigDigest(hex: digest.hex) == digest)
        #expect(ConfigDigest(hex: digest.hex.uppercased()) == digest)
        #expect(ConfigDigest(hex: "abc") == nil)
        #expect(ConfigDigest(hex: String(repeating: "g", count: 64)) == nil)
        #expect(digest.etag == "\"\(digest.hex)\"")
        #expect(ConfigDigest(etag: digest.etag) == digest)
        #expect(ConfigDigest(etag: "W/" + digest.etag) == digest)
        #expect(ConfigDigest(etag: digest.hex) == nil)
    }

    @Test func ifNoneMatch() {
        let digest = ConfigDigest(of: ["a": 1])
        let other = ConfigDigest(of: ["a": 2])
        #expect(digest.matches(ifNoneMatch: digest.etag))
        #expect(digest.matches(ifNoneMatch: " * "))
        #expect(digest.matches(ifNoneMatch: "\(other.etag), W/\(digest.etag)"))
        #expect(!digest.matches(ifNoneMatch: other.etag))
        #expect(!digest.matches(ifNoneMatch: ""))
        #expect(!digest.matches(ifNoneMatch: "\"nonsense\", \(digest.hex)"))
    }
}
