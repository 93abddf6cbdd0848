import Testing
import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardServer
import SwitchyardServerClient

/// The edge side of the API, over real HTTP, against each store.
@Suite("sync API", .serialized)
struct SyncAPITests {
    @Test("full config: merged layers, ETag, 304, signed envelope", arguments: StoreKind.allCases)
    func fullConfig(kind: StoreKind) async throws {
        let fixture = try await ServerFixture.start(kind)
        let org = try await DemoOrg.create(on: fixture)
        let edge = fixture.client(org.edgeKeys["e1"])
        let first = try await edge.get("/api/v1/edges/e1/config")
        try expectStatus(200, first)
        let document = try #require(first.json)
        #expect(document["edge_id"] == "e1")
        #expect(document["scheduler"]?["controllers"]?[1]?["parameters"]?["threshold_watts"]?.numberValue == 50000)
        #expect(document["modbus_devices"]?[0]?["profile"] == "tesla_powerwall_2")
        let etag = try #require(first.header("ETag"))
        #expect(etag == ConfigDigest(of: document).etag)
        #expect(first.text == document.canonicalText, "the body is the canonical encoding that is hashed")

        // The envelope verifies with the server's public key and binds edge, version and hash.
        let envelopeText = try #require(first.header("Switchyard-Envelope"))
        let signed = try SignedEnvelope(decoding: try JSONValue(parsing: Array(try #require(Base64URL.decode(envelopeText)))))
        let verifier = EnvelopeVerifier(keys: ["test-key": fixture.signer.publicKey])
        let envelope = try verifier.verify(signed, content: document, edgeId: "e1", currentVersion: nil, now: signed.envelope.issuedAt)
        #expect(envelope.version == document["version"]?.numberValue.map(Int.init))
        #expect(envelope.contentSHA256 == ConfigDigest(of: document))

        let again = try await edge.get("/api/v1/edges/e1/config", headers: [("If-None-Match", etag)])
        #expect(again.status == 304)
        #expect(again.text.isEmpty)
        let stale = try await edge.get("/api/v1/edges/e1/config", headers: [("If-None-Match", "\"0000\"")])
        #expect(stale.status == 200)
        try await fixture.stop()
    }

    @Test("a layer change gives a new version; the delta is small and applies to the old version", arguments: StoreKind.allCases)
    func delta(kind: StoreKind) async throws {
        let fixture = try await ServerFixture.start(kind)
        let org = try await DemoOrg.create(on: fixture)
        let edge = fixture.client(org.edgeKeys["e1"])
        let ops = fixture.client(org.admin)
        let before = try #require(try await edge.get("/api/v1/edges/e1/config").json)
        let baseVersion = Int(try #require(before["version"]?.numberValue))

        let layer = try await ops.get("/api/v1/orgs/acme/layers/organization/acme")
        let patch: JSONValue = [["op": "replace", "path": "/scheduler/controllers/1/parameters/threshold_watts", "value": 48000]]
        let patched = try await ops.send("PATCH", "/api/v1/orgs/acme/layers/organization/acme", json: patch,
                                         headers: [("If-Match", try #require(layer.header("ETag"))), ("Switchyard-Reason", "tariff change")])
        try expectStatus(200, patched)
        #expect(patched.json?["edges_with_new_version"]?.numberValue == 3)

        let answer = try await edge.get("/api/v1/edges/e1/config/delta?since=\(baseVersion)")
        try expectStatus(200, answer)
        let delta = try #require(answer.json)
        #expect(delta["base_version"]?.numberValue.map(Int.init) == baseVersion)
        #expect(delta["version"]?.numberValue.map(Int.init) == baseVersion + 1)
        let operations = try JSONPatch(decoding: try #require(delta["patch"]))
        let rebuilt = try operations.apply(to: before)
        let full = try #require(try await edge.get("/api/v1/edges/e1/config").json)
        #expect(rebuilt.isJSONEqual(to: full))
        #expect(ConfigDigest(of: rebuilt).hex == delta["sha256"]?.stringValue)
        #expect(operations.operations.contains { $0.path.description == "/scheduler/controllers/1/parameters/threshold_watts" })
        #expect(operations.operations.count == 3, "the value, the version and the timestamp: \(operations.canonicalText)")

        // Unknown or future versions: a clear "fetch the full config".
        let ahead = try await edge.get("/api/v1/edges/e1/config/delta?since=\(baseVersion + 5)")
        #expect(ahead.status == 410)
        #expect(ahead.json?["error"]?["code"] == "delta_unavailable")
        let current = try await edge.get("/api/v1/edges/e1/config/delta?since=\(baseVersion + 1)")
        #expect(current.status == 304, "nothing newer than the edge's version")
        let missing = try await edge.get("/api/v1/edges/e1/config/delta")
        #expect(missing.status == 400)
        try await fixture.stop()
    }

    @Test("heartbeats are stored and shown to operators; bad ones are refused", arguments: StoreKind.allCases)
    func heartbeat(kind: StoreKind) async throws {
        let fixture = try await ServerFixture.start(kind)
        let org = try await DemoOrg.create(on: fixture)
        let edge = fixture.client(org.edgeKeys["e2"])
        let sent = try await edge.send("POST", "/api/v1/edges/e2/heartbeat", json: [
            "version": 3, "state": "probation", "errors": ["controller init failed"], "metrics": ["cycle_p99_us": 310],
        ])
        try expectStatus(200, sent)
        let viewer = fixture.client(org.viewer)
        let shown = try #require(try await viewer.get("/api/v1/orgs/acme/edges/e2").json)
        #expect(shown["heartbeat"]?["state"] == "probation")
        #expect(shown["heartbeat"]?["errors"]?[0] == "controller init failed")
        #expect(shown["heartbeat"]?["metrics"]?["cycle_p99_us"]?.numberValue == 310)

        for bad: JSONValue in [["state": "ok"], ["version": "3", "state": "ok"], ["version": 1, "state": "ok", "extra": true], [1, 2]] {
            let answer = try await edge.send("POST", "/api/v1/edges/e2/heartbeat", json: bad)
            #expect(answer.status == 400, "\(bad.canonicalText)")
        }
        let unchanged = try #require(try await viewer.get("/api/v1/orgs/acme/edges/e2").json)
        #expect(unchanged["heartbeat"]?["state"] == "probation")
        try await fixture.stop()
    }
}

enum Base64URL {
    static func decode(_ text: String) -> [UInt8]? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var table = [UInt8](repeating: 255, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.utf8 where c != UInt8(ascii: "=") {
            let v = table[Int(c)]
            guard v != 255 else { return nil }
            buffer = buffer << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(buffer >> UInt32(bits) & 0xFF))
            }
        }
        return out
    }
}

extension JSONValue {
    /// Array elements in tests: `doc["a"]?[0]`.
    subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }
}
