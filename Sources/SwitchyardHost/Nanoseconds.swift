/// Durations from a config (milliseconds) converted for the clock
/// (nanoseconds) without a trap, whatever the value: the validator bounds
/// them, and this holds even if a value ever slipped past it, because an
/// overflow trap here stops the whole edge.
enum Nanoseconds {
    /// The longest duration the host schedules, about 36 years: a clock
    /// reading plus it stays far below `Int64.max`, so a deadline computed
    /// as `now + interval` cannot overflow either.
    static let ceiling: Int64 = 1 << 60

    /// `ms` milliseconds, times `factor`, in nanoseconds, clamped to
    /// `0...ceiling`.
    static func milliseconds(_ ms: Int, times factor: Int64 = 1) -> Int64 {
        guard ms > 0, factor > 0 else { return 0 }
        let (perMs, o1) = Int64(1_000_000).multipliedReportingOverflow(by: factor)
        let (ns, o2) = Int64(clamping: ms).multipliedReportingOverflow(by: perMs)
        return o1 || o2 ? ceiling : min(ns, ceiling)
    }

    /// `a + b`, held at `Int64`'s bounds instead of overflowing.
    static func adding(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard overflow else { return sum }
        return b > 0 ? .max : .min
    }

    /// `a - b`, held at `Int64`'s bounds instead of overflowing: for ages
    /// computed from timestamps that plugins supply.
    static func subtracting(_ a: Int64, _ b: Int64) -> Int64 {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        guard overflow else { return difference }
        return b < 0 ? .max : .min
    }
}
