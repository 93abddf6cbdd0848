import Crypto

/// Ed25519 keys as text for files and environment variables: the 32 raw
/// key bytes in standard base64 (44 characters) or hex (64 characters).
/// Surrounding whitespace, as a file's final newline, is ignored.
public enum SigningKeyText: Sendable {
    public static func privateKey(_ text: String) throws(EnvelopeError) -> Curve25519.Signing.PrivateKey {
        let bytes = try keyBytes(text, what: "private key")
        do {
            return try Curve25519.Signing.PrivateKey(rawRepresentation: bytes)
        } catch {
            throw EnvelopeError(code: .invalidKey, message: "the private key is not a valid Ed25519 key: \(error)")
        }
    }

    public static func publicKey(_ text: String) throws(EnvelopeError) -> Curve25519.Signing.PublicKey {
        let bytes = try keyBytes(text, what: "public key")
        do {
            return try Curve25519.Signing.PublicKey(rawRepresentation: bytes)
        } catch {
            throw EnvelopeError(code: .invalidKey, message: "the public key is not a valid Ed25519 key: \(error)")
        }
    }

    /// The key's 32 bytes in base64.
    public static func base64(_ key: Curve25519.Signing.PublicKey) -> String {
        Base64Text.encode(Array(key.rawRepresentation))
    }

    /// The key's 32 bytes in base64. Keep it secret.
    public static func base64(_ key: Curve25519.Signing.PrivateKey) -> String {
        Base64Text.encode(Array(key.rawRepresentation))
    }

    /// The key's 32 bytes in lowercase hex.
    public static func hex(_ key: Curve25519.Signing.PublicKey) -> String {
        HexText.encode(Array(key.rawRepresentation))
    }

    private static func keyBytes(_ text: String, what: String) throws(EnvelopeError) -> [UInt8] {
        let trimmed = text.trimmingSpaces
        let bytes = trimmed.utf8.count == 64 ? HexText.decode(trimmed) : Base64Text.decode(trimmed)
        guard let bytes, bytes.count == 32 else {
            throw EnvelopeError(
                code: .invalidKey,
                message: "the \(what) must be 32 bytes as base64 (44 characters) or hex (64 characters); got \(trimmed.utf8.count) characters"
            )
        }
        return bytes
    }
}
