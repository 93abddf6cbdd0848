import Crypto
import SwitchyardJSON

/// Signs envelopes with one Ed25519 private key, named by `keyId` so that
/// verifiers holding several keys know which to use.
public struct EnvelopeSigner: Sendable {
    public let keyId: String
    private let privateKey: Curve25519.Signing.PrivateKey

    public init(keyId: String, privateKey: Curve25519.Signing.PrivateKey) {
        self.keyId = keyId
        self.privateKey = privateKey
    }

    /// A signer from key text (see `SigningKeyText`).
    public init(keyId: String, privateKeyText: String) throws(EnvelopeError) {
        self.init(keyId: keyId, privateKey: try SigningKeyText.privateKey(privateKeyText))
    }

    /// The key verifiers need.
    public var publicKey: Curve25519.Signing.PublicKey { privateKey.publicKey }

    /// Signs an envelope for `content`, the complete document the edge will
    /// run (for a delta: the document after applying it).
    public func sign(
        edgeId: String, version: Int, baseVersion: Int? = nil, content: JSONValue,
        issuedAt: Int64, expiresAt: Int64
    ) throws(EnvelopeError) -> SignedEnvelope {
        try sign(ConfigEnvelope(
            edgeId: edgeId, version: version, baseVersion: baseVersion, contentSHA256: ConfigDigest(of: content),
            issuedAt: issuedAt, expiresAt: expiresAt, keyId: keyId
        ))
    }

    /// Signs `envelope`, whose `keyId` must be this signer's.
    public func sign(_ envelope: ConfigEnvelope) throws(EnvelopeError) -> SignedEnvelope {
        guard envelope.keyId == keyId else {
            throw EnvelopeError(code: .signingFailed, message: "the envelope names key \"\(envelope.keyId)\" but this signer holds \"\(keyId)\"")
        }
        guard envelope.issuedAt <= envelope.expiresAt else {
            throw EnvelopeError(code: .signingFailed, message: "expires_at (\(envelope.expiresAt)) is before issued_at (\(envelope.issuedAt))")
        }
        do {
            let signature = try privateKey.signature(for: envelope.signedBytes)
            return SignedEnvelope(envelope: envelope, signature: Array(signature))
        } catch {
            throw EnvelopeError(code: .signingFailed, message: "Ed25519 signing failed: \(error)")
        }
    }
}
