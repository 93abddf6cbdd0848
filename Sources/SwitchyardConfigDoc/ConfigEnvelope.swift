import SwitchyardJSON

/// What a server vouches for when it sends a config: which edge, which
/// version (and for a delta, which version it applies to), the SHA-256 of
/// the resulting document, when the statement was made and until when it
/// holds, and which key signed it.
///
/// Times are integer Unix seconds (UTC). An integer has exactly one
/// canonical spelling, where RFC 3339 text has several for one instant
/// (`Z` or `+00:00`, fractional seconds), and comparing it needs no date
/// parsing.
public struct ConfigEnvelope: Sendable, Hashable {
    public var edgeId: String
    public var version: Int
    /// For a delta, the version it must be applied to; nil for a full config.
    public var baseVersion: Int?
    /// The digest of the complete document after applying (the target).
    public var contentSHA256: ConfigDigest
    public var issuedAt: Int64
    public var expiresAt: Int64
    public var keyId: String

    public init(
        edgeId: String, version: Int, baseVersion: Int? = nil, contentSHA256: ConfigDigest,
        issuedAt: Int64, expiresAt: Int64, keyId: String
    ) {
        self.edgeId = edgeId
        self.version = version
        self.baseVersion = baseVersion
        self.contentSHA256 = contentSHA256
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.keyId = keyId
    }

    /// `{"base_version"?, "content_sha256", "edge_id", "expires_at",
    /// "issued_at", "key_id", "version"}`; `base_version` only for deltas.
    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = [
            "edge_id": .string(edgeId),
            "version": .number(Double(version)),
            "content_sha256": .string(contentSHA256.hex),
            "issued_at": .number(Double(issuedAt)),
            "expires_at": .number(Double(expiresAt)),
            "key_id": .string(keyId),
        ]
        if let baseVersion { members["base_version"] = .number(Double(baseVersion)) }
        return .object(members)
    }

    /// The bytes that are signed: a fixed domain prefix, so that a signature
    /// made for an envelope means nothing in any other protocol, then the
    /// canonical encoding of `jsonValue`.
    public var signedBytes: [UInt8] {
        Array(("switchyard-config-envelope-v1\n" + jsonValue.canonicalText).utf8)
    }

    /// Reads an envelope object. Unknown members are refused: a member the
    /// signer meant but this reader ignores would be signed yet unchecked.
    public init(decoding value: JSONValue) throws(EnvelopeError) {
        guard case .object(let members) = value else {
            throw EnvelopeError(code: .malformed, message: "the envelope must be a JSON object, got \(value.typeName)")
        }
        let known: Set<String> = ["edge_id", "version", "base_version", "content_sha256", "issued_at", "expires_at", "key_id"]
        if let unknown = members.keys.filter({ !known.contains($0) }).sorted().first {
            throw EnvelopeError(code: .malformed, message: "the envelope has an unknown member \"\(unknown)\"; upgrade the edge if the server is newer")
        }
        let reader = MemberReader(members: members, what: "the envelope")
        let digestText = try reader.string("content_sha256")
        guard let digest = ConfigDigest(hex: digestText), digest.hex == digestText else {
            throw EnvelopeError(code: .malformed, message: "\"content_sha256\" must be 64 lowercase hex digits, got \"\(digestText)\"")
        }
        self.init(
            edgeId: try reader.string("edge_id"),
            version: Int(try reader.integer("version")),
            baseVersion: try reader.optionalInteger("base_version").map { Int($0) },
            contentSHA256: digest,
            issuedAt: try reader.integer("issued_at"),
            expiresAt: try reader.integer("expires_at"),
            keyId: try reader.string("key_id")
        )
        guard issuedAt <= expiresAt else {
            throw EnvelopeError(code: .malformed, message: "\"expires_at\" (\(expiresAt)) is before \"issued_at\" (\(issuedAt))")
        }
    }
}

/// Typed member access with errors that name the member.
struct MemberReader {
    let members: [String: JSONValue]
    let what: String

    func string(_ name: String) throws(EnvelopeError) -> String {
        guard let value = members[name] else { throw missing(name) }
        guard case .string(let text) = value else { throw wrongType(name, "a string", value) }
        return text
    }

    /// A whole number in 0...2^53 (exact as a JSON number).
    func integer(_ name: String) throws(EnvelopeError) -> Int64 {
        guard let value = try optionalInteger(name) else { throw missing(name) }
        return value
    }

    func optionalInteger(_ name: String) throws(EnvelopeError) -> Int64? {
        guard let value = members[name] else { return nil }
        guard case .number(let number) = value, number.isWholeNumber, number >= 0, number <= 9_007_199_254_740_992 else {
            throw wrongType(name, "a non-negative integer", value)
        }
        return Int64(number)
    }

    private func missing(_ name: String) -> EnvelopeError {
        EnvelopeError(code: .malformed, message: "\(what) has no \"\(name)\" member")
    }

    private func wrongType(_ name: String, _ expected: String, _ value: JSONValue) -> EnvelopeError {
        EnvelopeError(code: .malformed, message: "\"\(name)\" in \(what) must be \(expected), got \(excerpt(value, limit: 40))")
    }
}
