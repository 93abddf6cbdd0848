import Crypto
import SwitchyardJSON

/// Decides whether an edge may trust a signed config.
///
/// Holds every key that may have signed, by key id: during a rotation the
/// old and the new key are both present; removing the old key stops
/// everything it signed from verifying.
public struct EnvelopeVerifier: Sendable {
    public var keys: [String: Curve25519.Signing.PublicKey]
    /// How far `issued_at` may be ahead of the edge's clock before the
    /// envelope counts as not yet valid. Expiry gets no such grace.
    public var clockSkewSeconds: Int64

    public init(keys: [String: Curve25519.Signing.PublicKey], clockSkewSeconds: Int64 = 300) {
        self.keys = keys
        self.clockSkewSeconds = clockSkewSeconds
    }

    /// Checks, in this order: the key is known, the signature is valid, the
    /// envelope is for `edgeId`, `now` (Unix seconds) is within
    /// `issued_at - clockSkewSeconds ... expires_at`, the version is newer
    /// than `currentVersion`, a delta's `base_version` is `currentVersion`,
    /// and `content` (the complete document, after applying a delta) has the
    /// signed digest. Returns the envelope when all hold; otherwise throws
    /// the first failure.
    public func verify(
        _ signed: SignedEnvelope, content: JSONValue, edgeId: String, currentVersion: Int?, now: Int64
    ) throws(EnvelopeError) -> ConfigEnvelope {
        try verify(signed, contentDigest: ConfigDigest(of: content), edgeId: edgeId, currentVersion: currentVersion, now: now)
    }

    /// The same checks, with the content's digest already computed (from
    /// its canonical bytes, which a caller that stores them has anyway).
    public func verify(
        _ signed: SignedEnvelope, contentDigest digest: ConfigDigest, edgeId: String, currentVersion: Int?, now: Int64
    ) throws(EnvelopeError) -> ConfigEnvelope {
        let envelope = signed.envelope
        guard let key = keys[envelope.keyId] else {
            let known = keys.keys.sorted().joined(separator: ", ")
            throw EnvelopeError(
                code: .unknownKey,
                message: "signed with key \"\(envelope.keyId)\", which this edge does not have (it has: \(known.isEmpty ? "none" : known)); install the server's current public key"
            )
        }
        guard key.isValidSignature(signed.signature, for: envelope.signedBytes) else {
            throw EnvelopeError(
                code: .badSignature,
                message: "the signature does not match the envelope under key \"\(envelope.keyId)\"; the config was altered or signed with another key, so it is refused"
            )
        }
        guard envelope.edgeId == edgeId else {
            throw EnvelopeError(code: .wrongEdge, message: "the config is for edge \"\(envelope.edgeId)\", not \"\(edgeId)\"; check this edge's id and API key")
        }
        guard now >= envelope.issuedAt - clockSkewSeconds else {
            throw EnvelopeError(
                code: .notYetValid,
                message: "issued at \(envelope.issuedAt), \(envelope.issuedAt - now) s ahead of this edge's clock (\(now)); set the edge's clock (NTP)"
            )
        }
        guard now <= envelope.expiresAt else {
            throw EnvelopeError(
                code: .expired,
                message: "expired at \(envelope.expiresAt), \(now - envelope.expiresAt) s ago (edge clock \(now)); fetch the config again, or check the edge's clock"
            )
        }
        if let currentVersion {
            guard envelope.version > currentVersion else {
                throw EnvelopeError(
                    code: .versionNotNewer,
                    message: "version \(envelope.version) is not newer than the running version \(currentVersion); a replayed or stale config is refused"
                )
            }
        }
        if let base = envelope.baseVersion, base != currentVersion {
            throw EnvelopeError(
                code: .baseVersionMismatch,
                message: "the delta applies to version \(base) but this edge runs \(currentVersion.map(String.init) ?? "no version"); fetch the full config"
            )
        }
        guard digest == envelope.contentSHA256 else {
            throw EnvelopeError(
                code: .contentMismatch,
                message: "the content's SHA-256 is \(digest.hex) but the envelope signs \(envelope.contentSHA256.hex); the config was altered or the delta applied to the wrong base"
            )
        }
        return envelope
    }
}
