/// How a raw register value becomes an engineering value:
/// `value = raw × factor × 10^exponent + offset`, where the exponent is fixed
/// or read from a scale-factor point (SunSpec's `*_SF`, an int16).
public enum Scale: Sendable, Equatable {
    case factor(Double)
    case powerOfTen(Int)
    /// The name of the point that holds the power of ten.
    case point(String)

    public static let none = Scale.factor(1)

    /// Applies the scale; `scaleFactor` is the value of the scale-factor
    /// point when the scale refers to one (nil: not available → nil).
    public func apply(_ raw: Double, offset: Double = 0, scaleFactor: Double? = nil) -> Double? {
        rule.apply(raw, offset: offset, scaleFactor: scaleFactor)
    }

    /// The inverse, for writes: the raw value to send for `value`.
    public func raw(for value: Double, offset: Double = 0, scaleFactor: Double? = nil) -> Double? {
        rule.raw(for: value, offset: offset, scaleFactor: scaleFactor)
    }

    /// The arithmetic of the scale as plain data (no point name), which the
    /// driver keeps per point and applies without reference counting.
    public var rule: ScaleRule {
        switch self {
        case .factor(let f): ScaleRule(kind: .factor, factor: f, exponent: 0)
        case .powerOfTen(let e): ScaleRule(kind: .powerOfTen, factor: 1, exponent: e)
        case .point: ScaleRule(kind: .scaleFactorPoint, factor: 1, exponent: 0)
        }
    }
}

/// `Scale` without the scale-factor point's name: the one place the
/// scaling arithmetic lives.
public struct ScaleRule: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case factor, powerOfTen, scaleFactorPoint }

    public var kind: Kind
    public var factor: Double
    public var exponent: Int
    /// 1 / factor when that is a whole number: 2301 / 10 is 230.1, 2301 × 0.1 is 230.10000000000002.
    let divisor: Double?

    init(kind: Kind, factor: Double, exponent: Int) {
        self.kind = kind
        self.factor = factor
        self.exponent = exponent
        let inverse = 1 / factor
        divisor = abs(factor) < 1 && inverse.rounded() == inverse ? inverse : nil
    }

    public func apply(_ raw: Double, offset: Double = 0, scaleFactor: Double? = nil) -> Double? {
        switch kind {
        case .factor: return (divisor.map { raw / $0 } ?? raw * factor) + offset
        case .powerOfTen: return Self.scaled(raw, exponent) + offset
        case .scaleFactorPoint:
            guard let e = Self.exponent(scaleFactor) else { return nil }
            return Self.scaled(raw, e) + offset
        }
    }

    public func raw(for value: Double, offset: Double = 0, scaleFactor: Double? = nil) -> Double? {
        switch kind {
        case .factor: return factor == 0 ? nil : (value - offset) / factor
        case .powerOfTen: return (value - offset) / pow10(exponent)
        case .scaleFactorPoint:
            guard let e = Self.exponent(scaleFactor) else { return nil }
            return (value - offset) / pow10(e)
        }
    }

    /// A scale-factor value usable as a power of ten (whole, |sf| <= 10).
    static func exponent(_ sf: Double?) -> Int? {
        guard let sf, sf.isWholeNumber, abs(sf) <= 10 else { return nil }
        return Int(sf)
    }

    /// raw × 10^e, dividing for negative e so that 1234 × 10^-1 is 123.4, not 123.40000000000001.
    static func scaled(_ raw: Double, _ e: Int) -> Double {
        e < 0 ? raw / pow10(-e) : raw * pow10(e)
    }
}

/// 10^e exactly for the small exponents registers use (no Foundation pow).
@inline(__always)
func pow10(_ e: Int) -> Double {
    var r = 1.0
    for _ in 0..<abs(e) { r *= 10 }
    return e < 0 ? 1 / r : r
}
