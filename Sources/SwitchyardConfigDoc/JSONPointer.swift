import SwitchyardJSON

/// An RFC 6901 JSON Pointer: a list of reference tokens, each naming an
/// object member or an array element.
///
/// The tokens are stored unescaped (`"a/b"`, not `"a~1b"`), so comparing two
/// pointers compares what they point at. `description` renders the escaped
/// form (`/scheduler/controllers/0`); the empty pointer `""` is the whole
/// document.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    /// The unescaped reference tokens, outermost first.
    public var tokens: [String]

    public init(tokens: [String] = []) {
        self.tokens = tokens
    }

    /// The pointer to the whole document.
    public static let root = JSONPointer()

    /// Parses the escaped text form. Every token must follow a `/`, and `~`
    /// must be followed by `0` (for `~`) or `1` (for `/`); anything else is an
    /// error naming the offending character position (0-based, in
    /// characters).
    public init(parsing text: String) throws(JSONPointerError) {
        if text.isEmpty {
            self.init()
            return
        }
        guard text.first == "/" else {
            throw JSONPointerError(
                code: .invalidSyntax, pointer: text,
                message: "a JSON Pointer must be empty or start with \"/\", found \"\(text.prefix(1))\" at the start"
            )
        }
        var tokens: [String] = []
        var current = ""
        var escaping = false
        for (offset, character) in text.dropFirst().enumerated() {
            let position = offset + 1
            if escaping {
                escaping = false
                switch character {
                case "0": current.append("~")
                case "1": current.append("/")
                default:
                    throw JSONPointerError(
                        code: .invalidEscape, pointer: text,
                        message: "\"~\(character)\" at character \(position - 1) is not a valid escape (use ~0 for \"~\" and ~1 for \"/\")"
                    )
                }
            } else if character == "~" {
                escaping = true
            } else if character == "/" {
                tokens.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        if escaping {
            throw JSONPointerError(
                code: .invalidEscape, pointer: text,
                message: "the pointer ends with a lone \"~\" (use ~0 for \"~\" and ~1 for \"/\")"
            )
        }
        tokens.append(current)
        self.init(tokens: tokens)
    }

    /// The same location as a `JSONPath` from SwitchyardJSON: keys become
    /// tokens as they are, indices their decimal form.
    public init(_ path: JSONPath) {
        self.init(tokens: path.components.map { component in
            switch component {
            case .key(let key): key
            case .index(let index): String(index)
            }
        })
    }

    /// The escaped text form: `""` for the root, else `/token/token…` with
    /// `~` written `~0` and `/` written `~1`.
    public var description: String {
        var out = ""
        for token in tokens {
            out.append("/")
            for character in token {
                switch character {
                case "~": out.append("~0")
                case "/": out.append("~1")
                default: out.append(character)
                }
            }
        }
        return out
    }

    public var isRoot: Bool { tokens.isEmpty }

    /// The pointer without its last token; nil for the root.
    public var parent: JSONPointer? {
        isRoot ? nil : JSONPointer(tokens: Array(tokens.dropLast()))
    }

    public var lastToken: String? { tokens.last }

    public func appending(_ token: String) -> JSONPointer {
        JSONPointer(tokens: tokens + [token])
    }

    public func appending(index: Int) -> JSONPointer {
        appending(String(index))
    }

    /// True when `other` points strictly inside the value this pointer names
    /// (`/a` is a proper prefix of `/a/b`, not of `/a` or `/ab`).
    public func isProperPrefix(of other: JSONPointer) -> Bool {
        other.tokens.count > tokens.count && other.tokens.starts(with: tokens)
    }

    /// The array index a token names under RFC 6901: `0`, or a non-empty
    /// run of decimal digits without a leading zero. `-`, `01`, `1e0`, `+1`
    /// and out-of-`Int` values are not indices.
    public static func arrayIndex(_ token: String) -> Int? {
        let utf8 = token.utf8
        guard let first = utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return nil }
        if first == UInt8(ascii: "0") { return utf8.count == 1 ? 0 : nil }
        var value = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }
}
