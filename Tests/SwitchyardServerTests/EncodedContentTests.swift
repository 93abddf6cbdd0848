import Testing
import SwitchyardJSON
@testable import SwitchyardServer

/// Each edge's document is assembled from its stack's pre-encoded members;
/// the bytes must be exactly the canonical encoding of the document.
@Suite struct EncodedContentTests {
    @Test("assembled bytes equal the canonical encoding, whatever keys surround the server's fields")
    func assembled() throws {
        let contents: [JSONValue] = [
            [:],
            ["alarms": [], "core_cycle": ["period_ms": 100], "scheduler": ["controllers": [["id": "c", "x": "é\"\n"]]]],
            ["a": 1, "edge": 2, "edge_id_x": 3, "f": 4, "timestamp_": 5, "u": 6, "versions": 7, "z": nil, "": "empty key"],
            ["version": 99, "edge_id": "layer-set", "metadata": ["b": 1]],
        ]
        for content in contents {
            for (edge, version, at) in [("e1", 1, Int64(0)), ("edge-with-a-long-name", 123_456, Int64(1_800_000_000))] {
                let expected = EdgeDocument.make(content: content, edgeId: edge, version: version, createdAt: at).canonicalBytes
                let assembled = EncodedContent(content).document(edgeId: edge, version: version, createdAt: at)
                #expect(assembled == expected, "\(String(decoding: assembled, as: UTF8.self)) vs \(String(decoding: expected, as: UTF8.self))")
            }
        }
    }
}
