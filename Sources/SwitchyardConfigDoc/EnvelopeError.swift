/// Why an envelope could not be read, signed or trusted. `message` says
/// what to do about it.
public struct EnvelopeError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The envelope or signed envelope JSON is not in the expected form.
        case malformed
        /// Key text is not a base64 or hex encoded 32-byte Ed25519 key.
        case invalidKey
        /// The signer's key could not sign, or an envelope names another key.
        case signingFailed
        /// The envelope names a key the verifier does not have.
        case unknownKey
        /// The signature does not match the envelope under the named key.
        case badSignature
        /// `now` is past `expires_at`.
        case expired
        /// `now` is before `issued_at` (beyond the allowed clock skew).
        case notYetValid
        /// The envelope is for another edge.
        case wrongEdge
        /// The content's SHA-256 is not `content_sha256`.
        case contentMismatch
        /// The version is not newer than the one the edge runs.
        case versionNotNewer
        /// A delta's `base_version` is not the version the edge runs.
        case baseVersionMismatch
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
