/// Why a setpoint was not written. Reported to the host, never dropped.
public struct WriteRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var point: String
    public var reason: String

    public var description: String { "\(point): \(reason)" }
}

/// A setpoint checked against the point's write rule and encoded.
public struct PreparedWrite: Sendable, Equatable {
    /// The value as the device sees it (sign applied, rounded to the step).
    public var deviceValue: Double
    public var registers: [UInt16]
}

extension PointCodec {
    /// Checks `value` (in the standard channel's sign) against the point's
    /// limits and step and encodes it. Limits are in the device's terms: the
    /// value after the sign is applied, before scaling, as the register list
    /// states them. Values are rounded to the nearest step; a value outside
    /// [min, max] is refused, not clamped, so a controller's bug shows.
    public static func prepareWrite(_ point: ModbusPoint, value: Double, scaleFactor: Double? = nil) -> Result<PreparedWrite, WriteRefusal> {
        func refuse(_ reason: String) -> Result<PreparedWrite, WriteRefusal> { .failure(WriteRefusal(point: point.name, reason: reason)) }
        guard point.access.isWritable, let rule = point.write else { return refuse("is read-only") }
        guard value.isFinite else { return refuse("\(value) is not a number") }
        var v = point.inverted ? -value : value
        if let step = rule.step {
            let origin = rule.min ?? 0
            v = origin + ((v - origin) / step).rounded() * step
        }
        if let lo = rule.min, v < lo { return refuse("\(fmt(v)) is below the minimum \(fmt(lo))") }
        if let hi = rule.max, v > hi { return refuse("\(fmt(v)) is above the maximum \(fmt(hi))") }
        if case .point(let sf) = point.scale, scaleFactor == nil {
            return refuse("its scale factor \(sf) has not been read yet")
        }
        guard let raw = point.scale.raw(for: v, offset: point.offset, scaleFactor: scaleFactor) else {
            return refuse("cannot be scaled back to a raw value")
        }
        if point.type == .bit {
            return .success(PreparedWrite(deviceValue: v, registers: [raw == 0 ? 0 : 1]))
        }
        let rounded = point.type == .float32 || point.type == .float64 ? raw : raw.rounded()
        guard let words = RegisterCodec.encode(rounded, as: point.type, byteOrder: point.byteOrder, wordOrder: point.wordOrder) else {
            return refuse("\(fmt(v)) (raw \(fmt(rounded))) does not fit a \(point.type.rawValue)")
        }
        return .success(PreparedWrite(deviceValue: v, registers: words))
    }

    public static func describe(_ v: Double) -> String { fmt(v) }

    static func fmt(_ v: Double) -> String {
        v.rounded() == v && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
