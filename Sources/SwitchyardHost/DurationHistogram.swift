/// A histogram of durations in ns with log-linear buckets (8 per power of
/// two, so a percentile is within 12.5 %). Fixed size: recording never
/// allocates, so it can run on the cycle thread.
public struct DurationHistogram: Sendable, Hashable {
    static let subBuckets = 8
    private var buckets = [UInt64](repeating: 0, count: 64 * DurationHistogram.subBuckets)
    public private(set) var count: UInt64 = 0
    public private(set) var sumNs: Int64 = 0
    public private(set) var maxNs: Int64 = 0

    public init() {}

    static func bucket(for ns: Int64) -> Int {
        let v = UInt64(max(ns, 0))
        if v < UInt64(subBuckets) { return Int(v) }
        let msb = 63 - v.leadingZeroBitCount
        let sub = Int((v >> (msb - 3)) & 7)
        return (msb - 2) * subBuckets + sub
    }

    static func upperBound(of bucket: Int) -> Int64 {
        if bucket < subBuckets { return Int64(bucket) }
        let msb = bucket / subBuckets + 2
        let sub = bucket % subBuckets
        return Int64((UInt64(8 + sub + 1) << (msb - 3)) - 1)
    }

    public mutating func record(_ ns: Int64) {
        buckets[Self.bucket(for: ns)] += 1
        count += 1
        sumNs &+= ns
        maxNs = max(maxNs, ns)
    }

    /// The value at or below which `fraction` (0...1) of the samples fall.
    public func percentile(_ fraction: Double) -> Int64 {
        guard count > 0 else { return 0 }
        let rank = UInt64((Double(count) * fraction).rounded(.up))
        var seen: UInt64 = 0
        for (i, n) in buckets.enumerated() where n > 0 {
            seen += n
            if seen >= max(rank, 1) { return min(Self.upperBound(of: i), maxNs) }
        }
        return maxNs
    }

    public var meanNs: Int64 { count == 0 ? 0 : sumNs / Int64(count) }

    public mutating func reset() { self = DurationHistogram() }
}

/// What the supervisor has measured of the cycle.
public struct CycleStatistics: Sendable, Hashable {
    public var cycles: UInt64 = 0
    public var periodNs: Int64 = 0
    /// Work of a cycle: from its start to the end of its last phase.
    public var work = DurationHistogram()
    /// How late cycles started after their deadline.
    public var lateness = DurationHistogram()
    public var lastWorkNs: Int64 = 0
    /// Cycles whose work took longer than the period.
    public var overruns: UInt64 = 0
    public var consecutiveOverruns = 0
    /// Deadlines skipped because the cycle was more than a period late.
    public var missedCycles: UInt64 = 0
    public var overrunAlerts: UInt64 = 0
    public var overrunAlertActive = false
}
