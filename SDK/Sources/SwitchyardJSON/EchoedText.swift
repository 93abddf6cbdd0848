extension String {
    /// The longest piece of input an error message quotes, in characters.
    public static let echoLimit = 100

    /// This text made safe to quote in an error message that a person reads
    /// on a terminal or in a log: control characters (C0, DEL and C1, which
    /// hold the ESC of ANSI sequences), line and paragraph separators and
    /// bidirectional overrides are escaped (`\n`, `\u{1B}`), so input can
    /// forge neither an extra line nor colours; past `limit` characters the
    /// rest is replaced by `…(N bytes)`, N the size of the whole input in
    /// UTF-8, so a megabyte of input does not come back whole.
    /// Costs O(limit), however long the text.
    public func echoed(limit: Int = String.echoLimit) -> String {
        var out = ""
        var taken = 0
        for scalar in unicodeScalars {
            if taken == limit {
                out += "…(\(utf8.count) bytes)"
                return out
            }
            taken += 1
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x00..<0x20, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C:
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
