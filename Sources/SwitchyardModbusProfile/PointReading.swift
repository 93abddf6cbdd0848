/// A point's value as read: the engineering value in the standard channel's
/// sign, or why there is none.
public struct PointReading: Sendable, Equatable, CustomStringConvertible {
    public enum Quality: Sendable, Equatable {
        case good
        /// The device says "no value" (a sentinel, NaN, or its scale factor has none).
        case notAvailable
        /// Decoded, but outside the point's plausibility range.
        case implausible
    }

    public var value: Double?
    public var quality: Quality
    /// Enum label or string content.
    public var text: String?

    public static let notAvailable = PointReading(value: nil, quality: .notAvailable)

    public init(value: Double?, quality: Quality = .good, text: String? = nil) {
        self.value = value
        self.quality = quality
        self.text = text
    }

    public var description: String {
        switch quality {
        case .notAvailable: return "n/a"
        case .implausible: return "\(value.map { "\($0)" } ?? "?") (implausible)"
        case .good:
            switch (value, text) {
            case (let v?, let t?): return "\(v) (\(t))"
            case (let v?, nil): return "\(v)"
            case (nil, let t?): return "\"\(t)\""
            case (nil, nil): return "?"
            }
        }
    }
}

/// Turns a point's raw registers into a reading, and a setpoint into raw
/// registers. Pure: the registers come from a lookup, so the same code
/// serves the driver (registers of a read request), the golden vectors of
/// `profile test` and the simulator.
public enum PointCodec {
    /// Reads `point`; `registers(table, address)` gives the raw words (bits
    /// of coils and discrete inputs as 0/1), nil where absent.
    /// `scaleFactor` is the reading of the point's scale-factor point, when
    /// it has one.
    public static func read(_ point: ModbusPoint, scaleFactor: PointReading? = nil,
                            registers: (RegisterTable, Int) -> UInt16?) -> PointReading? {
        var words: [UInt16] = []
        words.reserveCapacity(point.count)
        for a in point.address..<(point.address + point.count) {
            guard let w = registers(point.table, a) else { return nil }
            words.append(w)
        }
        return decode(point, words: words[...], scaleFactor: scaleFactor)
    }

    /// Decodes exactly the point's words, with the enum label.
    public static func decode(_ point: ModbusPoint, words: ArraySlice<UInt16>, scaleFactor: PointReading? = nil) -> PointReading {
        if point.type == .string {
            guard case .text(let s) = RegisterCodec.decode(words, as: .string, byteOrder: point.byteOrder) else { return .notAvailable }
            return PointReading(value: nil, text: s)
        }
        var (reading, raw) = decode(point.format, words: words, scaleFactor: scaleFactor?.quality == .good ? scaleFactor?.value : nil)
        if reading.quality == .good, let raw, let label = point.values[raw] { reading.text = label }
        return reading
    }

    /// A number as decoded by the driver's hot path: no labels, no strings,
    /// no reference counting (the format is plain data). `scaleFactor` is
    /// the scale-factor point's value (nil: it has none, or it was not
    /// available).
    public static func decode(_ f: PointFormat, words: ArraySlice<UInt16>, scaleFactor: Double?) -> (reading: PointReading, raw: Int?) {
        let pattern = RegisterCodec.rawPattern(words, byteOrder: f.byteOrder, wordOrder: f.wordOrder)
        if f.type != .bit, f.isSentinel(pattern) { return (.notAvailable, nil) }
        let raw: Double
        switch f.type {
        case .uint16, .uint32, .uint64, .enum, .bitfield: raw = Double(pattern)
        case .int16: raw = Double(Int16(bitPattern: UInt16(truncatingIfNeeded: pattern)))
        case .int32: raw = Double(Int32(bitPattern: UInt32(truncatingIfNeeded: pattern)))
        case .int64: raw = Double(Int64(bitPattern: pattern))
        case .float32: raw = Double(Float(bitPattern: UInt32(truncatingIfNeeded: pattern)))
        case .float64: raw = Double(bitPattern: pattern)
        case .bit: raw = Double((pattern >> UInt64(f.bit)) & 1)
        case .string: return (.notAvailable, nil)
        }
        guard raw.isFinite, var value = f.scale.apply(raw, offset: f.offset, scaleFactor: scaleFactor) else { return (.notAvailable, nil) }
        if f.hasRange, value < f.rangeLow || value > f.rangeHigh {
            return (PointReading(value: f.inverted ? -value : value, quality: .implausible), nil)
        }
        if f.inverted { value = -value }
        return (PointReading(value: value), Int(exactly: raw))
    }
}

/// What decoding a point needs, flattened into plain data (no strings, no
/// arrays), so that the driver decodes a thousand points per poll without
/// touching a reference count.
public struct PointFormat: Sendable {
    public var type: ValueType
    public var byteOrder: ByteOrder
    public var wordOrder: WordOrder
    public var bit: Int
    public var scale: ScaleRule
    public var offset: Double
    /// Up to four "not available" patterns inline.
    public var sentinels: (UInt64, UInt64, UInt64, UInt64)
    public var sentinelCount: Int
    public var hasRange: Bool
    public var rangeLow: Double
    public var rangeHigh: Double
    public var inverted: Bool

    @inline(__always)
    func isSentinel(_ pattern: UInt64) -> Bool {
        switch sentinelCount {
        case 0: false
        case 1: pattern == sentinels.0
        case 2: pattern == sentinels.0 || pattern == sentinels.1
        case 3: pattern == sentinels.0 || pattern == sentinels.1 || pattern == sentinels.2
        default: pattern == sentinels.0 || pattern == sentinels.1 || pattern == sentinels.2 || pattern == sentinels.3
        }
    }
}

extension ModbusPoint {
    /// The flat format of the point. Profiles give at most four
    /// "not available" patterns (the reader enforces it).
    public var format: PointFormat {
        let s = notAvailable + [0, 0, 0, 0]
        return PointFormat(type: type, byteOrder: byteOrder, wordOrder: wordOrder, bit: bit, scale: scale.rule, offset: offset,
                           sentinels: (s[0], s[1], s[2], s[3]), sentinelCount: min(notAvailable.count, 4), hasRange: plausible != nil, rangeLow: plausible?.lowerBound ?? 0, rangeHigh: plausible?.upperBound ?? 0,
                           inverted: inverted)
    }
}
