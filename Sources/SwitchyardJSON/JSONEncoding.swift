extension JSONValue {
    /// The canonical encoding: keys sorted by their UTF-8 bytes, no
    /// insignificant whitespace, numbers in their shortest form. Equal values
    /// give equal bytes, so this is what is hashed for ETags and signed.
    public var canonicalText: String {
        var out = ""
        write(to: &out, indent: nil, level: 0)
        return out
    }

    /// Sorted keys and two-space indentation, for people.
    public var prettyText: String {
        var out = ""
        write(to: &out, indent: "  ", level: 0)
        return out
    }

    func write(to out: inout String, indent: String?, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        // JSON has no NaN or infinity: a value that is not a number is no value.
        case .number(let n): out += n.isFinite ? JSONValue.format(n) : "null"
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            if items.isEmpty {
                out += "[]"
                return
            }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                newline(&out, indent: indent, level: level + 1)
                item.write(to: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent: indent, level: level)
            out += "]"
        case .object(let members):
            if members.isEmpty {
                out += "{}"
                return
            }
            out += "{"
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (i, key) in keys.enumerated() {
                if i > 0 { out += "," }
                newline(&out, indent: indent, level: level + 1)
                JSONValue.writeString(key, to: &out)
                out += indent == nil ? ":" : ": "
                members[key]!.write(to: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent: indent, level: level)
            out += "}"
        }
    }

    private func newline(_ out: inout String, indent: String?, level: Int) {
        guard let indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
    }

    /// Integers print without a fraction; other numbers in the shortest form
    /// that round-trips, with a lower-case exponent and no "+".
    public static func format(_ n: Double) -> String {
        // Every integer a double holds exactly (up to 2^53) prints as one.
        if n.isWholeNumber && abs(n) <= 9_007_199_254_740_992 {
            return String(Int64(n))
        }
        var text = "\(n)"
        if text.contains("e") {
            text = text.replacingAll("+", with: "")
            if let e = text.firstIndex(of: "e") {
                var exponent = String(text[text.index(after: e)...])
                let negative = exponent.hasPrefix("-")
                if negative { exponent.removeFirst() }
                while exponent.count > 1 && exponent.hasPrefix("0") { exponent.removeFirst() }
                text = String(text[..<e]) + "e" + (negative ? "-" : "") + exponent
            }
        }
        return text
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { canonicalText }
}
