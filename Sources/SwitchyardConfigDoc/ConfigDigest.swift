import Crypto
import SwitchyardJSON

/// The SHA-256 of a document's canonical encoding (`canonicalText`: sorted
/// keys, no insignificant whitespace). Equal documents (`isJSONEqual`) have
/// equal digests; it is the config's ETag and the `content_sha256` that
/// envelopes sign.
public struct ConfigDigest: Sendable, Hashable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// The digest of `document`'s canonical encoding.
    public init(of document: JSONValue) {
        self.init(canonicalBytes: document.canonicalBytes)
    }

    /// The digest of text that is already canonical (what a server stored).
    public init(canonicalBytes: [UInt8]) {
        bytes = Array(SHA256.hash(data: canonicalBytes))
    }

    public init(canonicalText: String) {
        bytes = Array(SHA256.hash(data: Array(canonicalText.utf8)))
    }

    /// Parses 64 hexadecimal digits (either case); nil for anything else.
    public init?(hex: String) {
        guard hex.utf8.count == 64, let bytes = HexText.decode(hex) else { return nil }
        self.bytes = bytes
    }

    /// Lowercase hexadecimal, 64 digits.
    public var hex: String { HexText.encode(bytes) }

    public var description: String { hex }
}

extension ConfigDigest {
    /// The strong ETag: the hex digest in double quotes.
    public var etag: String { "\"\(hex)\"" }

    /// Parses an entity tag, strong (`"…"`) or weak (`W/"…"`), that holds a
    /// digest; nil for anything else.
    public init?(etag: String) {
        var text = Substring(etag)
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        guard text.count == 66, text.first == "\"", text.last == "\"" else { return nil }
        self.init(hex: String(text.dropFirst().dropLast()))
    }

    /// Whether an `If-None-Match` header value names this digest, so that
    /// the answer is 304 Not Modified: `*`, or a comma-separated list of
    /// entity tags compared weakly (RFC 9110 section 13.1.2), so `W/"…"`
    /// matches too. Malformed members of the list match nothing.
    public func matches(ifNoneMatch header: String) -> Bool {
        let trimmed = header.trimmingSpaces
        if trimmed == "*" { return true }
        for member in trimmed.split(separator: ",") {
            if let digest = ConfigDigest(etag: String(member).trimmingSpaces), digest == self { return true }
        }
        return false
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
