import SwitchyardJSON

/// An envelope and its Ed25519 signature over `envelope.signedBytes`.
///
/// JSON form: `{"envelope": {…}, "signature": "<base64, 64 bytes>"}`.
public struct SignedEnvelope: Sendable, Hashable {
    public var envelope: ConfigEnvelope
    /// The 64-byte Ed25519 signature.
    public var signature: [UInt8]

    public init(envelope: ConfigEnvelope, signature: [UInt8]) {
        self.envelope = envelope
        self.signature = signature
    }

    public var jsonValue: JSONValue {
        .object(["envelope": envelope.jsonValue, "signature": .string(Base64Text.encode(signature))])
    }

    /// Reads the JSON form. Checks the form only; trust comes from
    /// `EnvelopeVerifier.verify`.
    public init(decoding value: JSONValue) throws(EnvelopeError) {
        guard case .object(let members) = value else {
            throw EnvelopeError(code: .malformed, message: "a signed envelope must be a JSON object, got \(value.typeName)")
        }
        guard let envelope = members["envelope"] else {
            throw EnvelopeError(code: .malformed, message: "the signed envelope has no \"envelope\" member")
        }
        let text = try MemberReader(members: members, what: "the signed envelope").string("signature")
        guard let signature = Base64Text.decode(text), signature.count == 64 else {
            throw EnvelopeError(code: .malformed, message: "\"signature\" must be 64 bytes in base64 (88 characters)")
        }
        self.init(envelope: try ConfigEnvelope(decoding: envelope), signature: signature)
    }
}

extension SignedEnvelope {
    /// Reads the `Switchyard-Envelope` header: base64url (RFC 4648 section 5,
    /// padding optional) of the JSON form.
    public init(header: String) throws(EnvelopeError) {
        let standard = String(header.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        guard let bytes = Base64Text.decode(standard) else {
            throw EnvelopeError(code: .malformed, message: "the Switchyard-Envelope header is not base64url")
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw EnvelopeError(code: .malformed, message: "the Switchyard-Envelope header does not hold JSON: \(error)")
        }
        try self.init(decoding: value)
    }
}
