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
        switch self {
        case .factor(let f):
            // 2301 × 0.1 is 230.10000000000002; 2301 / 10 is 230.1.
            let inverse = 1 / f
            if abs(f) < 1, inverse.rounded() == inverse { return raw / inverse + offset }
            return raw * f + offset
        case .powerOfTen(let e): return scaled(raw, e) + offset
        case .point:
            guard let sf = scaleFactor, sf.isWholeNumber, abs(sf) <= 10 else { return nil }
            return scaled(raw, Int(sf)) + offset
        }
    }

    /// raw × 10^e, dividing for negative e so that 1234 × 10^-1 is 123.4, not 123.40000000000001.
    private func scaled(_ raw: Double, _ e: Int) -> Double {
        e < 0 ? raw / pow10(-e) : raw * pow10(e)
    }

    /// The inverse, for writes: the raw value to send for `value`.
    public func raw(for value: Double, offset: Double = 0, scaleFactor: Double? = nil) -> Double? {
        switch self {
        case .factor(let f): return f == 0 ? nil : (value - offset) / f
        case .powerOfTen(let e): return (value - offset) / pow10(e)
        case .point:
            guard let sf = scaleFactor, sf.isWholeNumber, abs(sf) <= 10 else { return nil }
            return (value - offset) / pow10(Int(sf))
        }
    }
}

/// 10^e exactly for the small exponents registers use (no Foundation pow).
@inline(__always)
func pow10(_ e: Int) -> Double {
    var r = 1.0
    for _ in 0..<abs(e) { r *= 10 }
    return e < 0 ? 1 / r : r
}
