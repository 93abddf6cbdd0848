/// How a point's value is laid out in registers.
public enum ValueType: String, Sendable, CaseIterable {
    case int16, uint16, int32, uint32, int64, uint64, float32, float64, string, bit, `enum`, bitfield

    /// Registers the value occupies (a string's length is its own).
    public var registerCount: Int? {
        switch self {
        case .int16, .uint16, .bit, .enum, .bitfield: 1
        case .int32, .uint32, .float32: 2
        case .int64, .uint64, .float64: 4
        case .string: nil
        }
    }
}

/// Order of the two bytes inside each 16-bit register. Modbus sends the high
/// byte first (`big`); some devices swap them.
public enum ByteOrder: String, Sendable, CaseIterable {
    case big, little
}

/// Order of the registers of a multi-register value: `big` puts the most
/// significant register at the lowest address (the Modbus convention);
/// `little` reverses them ("word swap"). Independent of `ByteOrder`, so all
/// four combinations (ABCD, CDAB, BADC, DCBA) can be described.
public enum WordOrder: String, Sendable, CaseIterable {
    case big, little
}

/// A decoded register value.
public enum RegisterValue: Sendable, Equatable {
    case number(Double)
    case text(String)
}

public enum RegisterCodec {
    /// The bytes of `registers` in most-significant-first order, after
    /// applying the word and byte orders.
    static func bytes(_ registers: ArraySlice<UInt16>, byteOrder: ByteOrder, wordOrder: WordOrder) -> [UInt8] {
        let words = wordOrder == .big ? Array(registers) : registers.reversed()
        var out: [UInt8] = []
        out.reserveCapacity(words.count * 2)
        for w in words {
            let hi = UInt8(w >> 8)
            let lo = UInt8(w & 0xFF)
            if byteOrder == .big { out += [hi, lo] } else { out += [lo, hi] }
        }
        return out
    }

    static func unsigned(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Decodes `registers` (exactly the point's registers) as `type`.
    /// `bit` selects one bit (0 = least significant) of a 16-bit register.
    public static func decode(_ registers: ArraySlice<UInt16>, as type: ValueType, byteOrder: ByteOrder = .big,
                              wordOrder: WordOrder = .big, bit: Int = 0) -> RegisterValue {
        // Strings read as bytes in address order; only the byte order applies.
        let b = bytes(registers, byteOrder: byteOrder, wordOrder: type == .string ? .big : wordOrder)
        let raw = unsigned(b)
        switch type {
        case .uint16, .uint32, .uint64, .enum, .bitfield: return .number(Double(raw))
        case .int16: return .number(Double(Int16(bitPattern: UInt16(truncatingIfNeeded: raw))))
        case .int32: return .number(Double(Int32(bitPattern: UInt32(truncatingIfNeeded: raw))))
        case .int64: return .number(Double(Int64(bitPattern: raw)))
        case .float32: return .number(Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw))))
        case .float64: return .number(Double(bitPattern: raw))
        case .bit: return .number(Double((raw >> UInt64(bit)) & 1))
        case .string:
            let trimmed = b.prefix { $0 != 0 }
            var text = String(decoding: trimmed, as: UTF8.self)
            while text.last == " " { text.removeLast() }
            return .text(text)
        }
    }

    /// The raw integer pattern of `registers`, for comparing with "not
    /// available" sentinels (which vendors give as raw values: 0x8000,
    /// 0xFFFFFFFF, NaN patterns).
    /// Computed without building the byte array (the driver's hot path);
    /// values up to 4 registers.
    public static func rawPattern(_ registers: ArraySlice<UInt16>, byteOrder: ByteOrder = .big, wordOrder: WordOrder = .big) -> UInt64 {
        var v: UInt64 = 0
        if wordOrder == .big {
            for w in registers { v = v << 16 | UInt64(byteOrder == .big ? w : w.byteSwapped) }
        } else {
            for w in registers.reversed() { v = v << 16 | UInt64(byteOrder == .big ? w : w.byteSwapped) }
        }
        return v
    }

    /// Encodes a number for writing. nil when it does not fit the type
    /// (out of range, or not whole for an integer type).
    public static func encode(_ value: Double, as type: ValueType, byteOrder: ByteOrder = .big, wordOrder: WordOrder = .big) -> [UInt16]? {
        let pattern: UInt64
        let count: Int
        switch type {
        case .int16:
            guard value.isWholeNumber, value >= -32768, value <= 32767 else { return nil }
            pattern = UInt64(UInt16(bitPattern: Int16(value))); count = 1
        case .uint16, .enum, .bitfield:
            guard value.isWholeNumber, value >= 0, value <= 65535 else { return nil }
            pattern = UInt64(value); count = 1
        case .int32:
            guard value.isWholeNumber, value >= -2_147_483_648, value <= 2_147_483_647 else { return nil }
            pattern = UInt64(UInt32(bitPattern: Int32(value))); count = 2
        case .uint32:
            guard value.isWholeNumber, value >= 0, value <= 4_294_967_295 else { return nil }
            pattern = UInt64(value); count = 2
        case .int64:
            guard value.isWholeNumber, abs(value) < 9.2e18 else { return nil }
            pattern = UInt64(bitPattern: Int64(value)); count = 4
        case .uint64:
            guard value.isWholeNumber, value >= 0, value < 1.8e19 else { return nil }
            pattern = UInt64(value); count = 4
        case .float32:
            guard value.isFinite, abs(value) <= Double(Float.greatestFiniteMagnitude) else { return nil }
            pattern = UInt64(Float(value).bitPattern); count = 2
        case .float64:
            guard value.isFinite else { return nil }
            pattern = value.bitPattern; count = 4
        case .bit, .string:
            return nil
        }
        var words: [UInt16] = []
        for i in stride(from: count - 1, through: 0, by: -1) {
            var w = UInt16(truncatingIfNeeded: pattern >> UInt64(16 * i))
            if byteOrder == .little { w = w.byteSwapped }
            words.append(w)
        }
        return wordOrder == .big ? words : words.reversed()
    }
}

extension Double {
    var isWholeNumber: Bool { isFinite && rounded(.towardZero) == self }
}
