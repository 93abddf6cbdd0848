import Crypto
import SwitchyardConfigDoc
import SwitchyardJSON
import Testing

@Suite struct SignedEnvelopeTests {
    let content: JSONValue = ["core_cycle": ["period_ms": 500], "edge_id": "edge-1", "version": 8]
    let oldKey = Curve25519.Signing.PrivateKey()
    let newKey = Curve25519.Signing.PrivateKey()
    let now: Int64 = 1_780_000_000

    var signer: EnvelopeSigner { EnvelopeSigner(keyId: "k2", privateKey: newKey) }
    var verifier: EnvelopeVerifier { EnvelopeVerifier(keys: ["k1": oldKey.publicKey, "k2": newKey.publicKey]) }

    func signed(version: Int = 8, baseVersion: Int? = nil) throws -> SignedEnvelope {
        try signer.sign(edgeId: "edge-1", version: version, baseVersion: baseVersion, content: content,
                        issuedAt: now - 10, expiresAt: now + 3600)
    }

    func failure(_ envelope: SignedEnvelope, content: JSONValue? = nil, edge: String = "edge-1", current: Int? = 7,
                 at time: Int64? = nil, verifier: EnvelopeVerifier? = nil) -> EnvelopeError.Code? {
        do {
            _ = try (verifier ?? self.verifier).verify(envelope, content: content ?? self.content, edgeId: edge,
                                                       currentVersion: current, now: time ?? now)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func signsAndVerifiesThroughJSON() throws {
        let envelope = try signed()
        let text = envelope.jsonValue.canonicalText
        let decoded = try SignedEnvelope(decoding: try JSONValue(parsing: text))
        #expect(decoded == envelope)
        let verified = try verifier.verify(decoded, content: content, edgeId: "edge-1", currentVersion: 7, now: now)
        #expect(verified.version == 8)
        #expect(verified.contentSHA256 == ConfigDigest(of: content))
        #expect(verified.keyId == "k2")
        #expect(envelope.envelope.jsonValue.objectValue?.keys.sorted()
            == ["content_sha256", "edge_id", "expires_at", "issued_at", "key_id", "version"])
    }

    @Test func tamperingWithAnyFieldFails() throws {
        let original = try signed(baseVersion: 7)
        #expect(failure(original) == nil)
        var edits: [(String, (inout ConfigEnvelope) -> Void)] = [
            ("edge_id", { $0.edgeId = "edge-2" }),
            ("version", { $0.version = 9 }),
            ("base_version", { $0.baseVersion = 6 }),
            ("base_version removed", { $0.baseVersion = nil }),
            ("content_sha256", { $0.contentSHA256 = ConfigDigest(of: [:]) }),
            ("issued_at", { $0.issuedAt -= 1 }),
            ("expires_at", { $0.expiresAt += 1 }),
            ("key_id", { $0.keyId = "k1" }),
        ]
        edits.append(("key_id unknown", { $0.keyId = "k9" }))
        for (name, edit) in edits {
            var tampered = original
            edit(&tampered.envelope)
            let code = failure(tampered, edge: tampered.envelope.edgeId, current: (tampered.envelope.baseVersion ?? 7))
            #expect(code == (name == "key_id unknown" ? .unknownKey : .badSignature), "\(name)")
        }
        var flipped = original
        flipped.signature[10] ^= 0x01
        #expect(failure(flipped) == .badSignature)
    }

    @Test func rotationKeepsOldSignaturesUntilTheKeyIsRemoved() throws {
        let old = try EnvelopeSigner(keyId: "k1", privateKeyText: SigningKeyText.base64(oldKey))
            .sign(edgeId: "edge-1", version: 8, content: content, issuedAt: now, expiresAt: now + 60)
        #expect(failure(old) == nil)
        #expect(failure(try signed()) == nil)
        var rotated = verifier
        rotated.keys["k1"] = nil
        #expect(failure(old, verifier: rotated) == .unknownKey)
        #expect(failure(try signed(), verifier: rotated) == nil)
    }

    @Test func timeEdgeVersionAndContentAreChecked() throws {
        let envelope = try signed()
        #expect(failure(envelope, at: now + 3601) == .expired)
        #expect(failure(envelope, at: now + 3600) == nil)
        #expect(failure(envelope, at: now - 10 - 301) == .notYetValid)
        #expect(failure(envelope, at: now - 10 - 300) == nil)
        #expect(failure(envelope, edge: "edge-2") == .wrongEdge)
        #expect(failure(envelope, content: ["core_cycle": ["period_ms": 501]]) == .contentMismatch)
        #expect(failure(envelope, current: 8) == .versionNotNewer)
        #expect(failure(envelope, current: nil) == nil)
        let delta = try signed(version: 9, baseVersion: 7)
        #expect(failure(delta, current: 7) == nil)
        #expect(failure(delta, current: 8) == .baseVersionMismatch)
    }

    @Test func errorsTellTheOperatorWhatToDo() throws {
        let envelope = try signed()
        do {
            _ = try verifier.verify(envelope, content: content, edgeId: "edge-1", currentVersion: 7, now: now + 4000)
            Issue.record("an expired envelope verified")
        } catch {
            #expect(error.code == .expired)
            #expect(error.message == "expired at \(now + 3600), 400 s ago (edge clock \(now + 4000)); fetch the config again, or check the edge's clock")
        }
    }

    @Test func keysReadFromBase64OrHex() throws {
        let base64 = SigningKeyText.base64(newKey.publicKey)
        let hex = SigningKeyText.hex(newKey.publicKey)
        #expect(base64.count == 44)
        #expect(hex.count == 64)
        #expect(try SigningKeyText.publicKey(base64 + "\n").rawRepresentation == newKey.publicKey.rawRepresentation)
        #expect(try SigningKeyText.publicKey(hex).rawRepresentation == newKey.publicKey.rawRepresentation)
        let fromText = try EnvelopeSigner(keyId: "k2", privateKeyText: SigningKeyText.base64(newKey))
        #expect(fromText.publicKey.rawRepresentation == newKey.publicKey.rawRepresentation)
        for bad in ["", "abc", String(repeating: "z", count: 64), String(base64.dropLast(2))] {
            #expect(throws: EnvelopeError.self, "\(bad)") { try SigningKeyText.publicKey(bad) }
        }
    }

    @Test func malformedEnvelopesAreRefused() throws {
        let good = try signed().jsonValue
        func code(_ edit: (inout [String: JSONValue]) -> Void) -> EnvelopeError.Code? {
            var members = good["envelope"]!.objectValue!
            edit(&members)
            do {
                _ = try SignedEnvelope(decoding: ["envelope": .object(members), "signature": good["signature"]!])
                return nil
            } catch {
                return error.code
            }
        }
        #expect(code { _ in } == nil)
        #expect(code { $0["extra"] = 1 } == .malformed)
        #expect(code { $0["version"] = nil } == .malformed)
        #expect(code { $0["version"] = 1.5 } == .malformed)
        #expect(code { $0["issued_at"] = "2026-02-15T10:30:00Z" } == .malformed)
        #expect(code { $0["content_sha256"] = .string(String(repeating: "A", count: 64)) } == .malformed)
        #expect(code { $0["expires_at"] = 1 } == .malformed)
        #expect(throws: EnvelopeError.self) { try SignedEnvelope(decoding: ["envelope": good["envelope"]!, "signature": "AAAA"]) }
        #expect(throws: EnvelopeError.self) {
            try EnvelopeSigner(keyId: "k1", privateKey: oldKey).sign(try signed().envelope)
        }
    }
}
