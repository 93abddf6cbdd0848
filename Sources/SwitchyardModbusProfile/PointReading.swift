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

    /// Decodes exactly the point's words.
    public static func decode(_ point: ModbusPoint, words: ArraySlice<UInt16>, scaleFactor: PointReading? = nil) -> PointReading {
        if point.type != .string && point.type != .bit && !point.notAvailable.isEmpty {
            let raw = RegisterCodec.rawPattern(words, byteOrder: point.byteOrder, wordOrder: point.wordOrder)
            if point.notAvailable.contains(raw) { return .notAvailable }
        }
        switch RegisterCodec.decode(words, as: point.type, byteOrder: point.byteOrder, wordOrder: point.wordOrder, bit: point.bit) {
        case .text(let s):
            return PointReading(value: nil, text: s)
        case .number(let raw):
            guard raw.isFinite else { return .notAvailable }
            var sf: Double?
            if case .point = point.scale {
                guard let s = scaleFactor, s.quality == .good, let v = s.value else { return .notAvailable }
                sf = v
            }
            guard var value = point.scale.apply(raw, offset: point.offset, scaleFactor: sf) else { return .notAvailable }
            if let range = point.plausible, !range.contains(value) {
                return PointReading(value: point.inverted ? -value : value, quality: .implausible)
            }
            if point.inverted { value = -value }
            let label = point.values[Int(exactly: raw) ?? -1]
            return PointReading(value: value, text: label)
        }
    }
}
