extension JSONValue {
    /// The canonical encoding: keys sorted by their UTF-8 bytes, no
    /// insignificant whitespace, numbers in their shortest form. Equal values
    /// give equal bytes, so this is what is hashed for ETags and signed.
    public var canonicalText: String { String(decoding: canonicalBytes, as: UTF8.self) }

    /// The canonical encoding as UTF-8 bytes (what is hashed).
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, indent: nil, level: 0)
        return out
    }

    /// Sorted keys and two-space indentation, for people.
    public var prettyText: String {
        var out: [UInt8] = []
        write(to: &out, indent: Array("  ".utf8), level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the canonical encoding to `out`.
    public func writeCanonical(to out: inout [UInt8]) {
        write(to: &out, indent: nil, level: 0)
    }

    func write(to out: inout [UInt8], indent: [UInt8]?, level: Int) {
        switch self {
        case .null: out.append(contentsOf: JSONValue.nullBytes)
        case .bool(let b): out.append(contentsOf: b ? JSONValue.trueBytes : JSONValue.falseBytes)
        // JSON has no NaN or infinity: a value that is not a number is no value.
        case .number(let n):
            if n.isFinite { out.append(contentsOf: JSONValue.format(n).utf8) } else { out.append(contentsOf: JSONValue.nullBytes) }
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            if items.isEmpty {
                out.append(contentsOf: [0x5B, 0x5D])
                return
            }
            out.append(0x5B)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(0x2C) }
                newline(&out, indent: indent, level: level + 1)
                item.write(to: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent: indent, level: level)
            out.append(0x5D)
        case .object(let members):
            if members.isEmpty {
                out.append(contentsOf: [0x7B, 0x7D])
                return
            }
            out.append(0x7B)
            for (i, key) in JSONValue.sortedKeys(members).enumerated() {
                if i > 0 { out.append(0x2C) }
                newline(&out, indent: indent, level: level + 1)
                JSONValue.writeString(key, to: &out)
                out.append(0x3A)
                if indent != nil { out.append(0x20) }
                members[key]!.write(to: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent: indent, level: level)
            out.append(0x7D)
        }
    }

    /// Member names in canonical order: by their UTF-8 bytes.
    public static func sortedKeys(_ members: [String: JSONValue]) -> [String] {
        members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    private static let nullBytes = Array("null".utf8)
    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)

    private func newline(_ out: inout [UInt8], indent: [UInt8]?, level: Int) {
        guard let indent else { return }
        out.append(0x0A)
        for _ in 0..<level { out.append(contentsOf: indent) }
    }

    /// 2^53 − 1: the largest integer that a JSON number (a double) and every
    /// integer type the project converts it to hold exactly. Integers in
    /// configs, profiles and parameter schemas are bounded by it when no
    /// smaller range is declared.
    public static let largestExactInteger = 9_007_199_254_740_991

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

    /// A JSON string: runs of bytes that need no escaping are copied whole;
    /// `"`, `\` and control characters are escaped (UTF-8 above 0x7F is
    /// written as it is).
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { bytes in
            var runStart = 0
            for (i, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
                runStart = i + 1
                switch byte {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: out.append(contentsOf: [0x5C, 0x72])
                case 0x09: out.append(contentsOf: [0x5C, 0x74])
                case 0x08: out.append(contentsOf: [0x5C, 0x62])
                case 0x0C: out.append(contentsOf: [0x5C, 0x66])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
            }
            if runStart < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...])) }
        }
        out.append(0x22)
    }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { canonicalText }
}
