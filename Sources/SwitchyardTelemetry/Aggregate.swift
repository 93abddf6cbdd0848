/// The statistics of one channel over one bucket of time (a minute, a
/// quarter hour, a day), built one sample at a time and merged upward, never
/// by reading raw samples again.
public struct Aggregate: Sendable, Equatable {
    /// The bucket: `[startMs, startMs + lengthMs)`.
    public var startMs: Int64
    public var lengthMs: Int64
    public private(set) var count = 0
    public private(set) var min = Double.infinity
    public private(set) var max = -Double.infinity
    public private(set) var sum = 0.0
    /// Running mean and sum of squared deviations (Welford), for a stddev
    /// that stays exact where sum-of-squares would cancel.
    public private(set) var mean = 0.0
    private(set) var m2 = 0.0
    /// Power channels: the energy in the bucket, in Wh (the power held from
    /// each sample to the next, when they are at most `maxHoldMs` apart).
    public internal(set) var energyWh = 0.0

    public init(startMs: Int64, lengthMs: Int64) {
        self.startMs = startMs
        self.lengthMs = lengthMs
    }

    public var endMs: Int64 { startMs &+ lengthMs }

    /// Population standard deviation; 0 for fewer than two samples.
    public var stddev: Double { count > 1 ? (m2 / Double(count)).squareRoot() : 0 }

    public mutating func add(_ value: Double) {
        count += 1
        if value < min { min = value }
        if value > max { max = value }
        sum += value
        let delta = value - mean
        mean += delta / Double(count)
        m2 += delta * (value - mean)
    }

    /// Adds a finer bucket's statistics (Chan et al.'s pairwise update).
    public mutating func merge(_ other: Aggregate) {
        energyWh += other.energyWh
        guard other.count > 0 else { return }
        guard count > 0 else {
            (count, min, max, sum, mean, m2) = (other.count, other.min, other.max, other.sum, other.mean, other.m2)
            return
        }
        let n = Double(count + other.count)
        let delta = other.mean - mean
        m2 += other.m2 + delta * delta * Double(count) * Double(other.count) / n
        mean += delta * Double(other.count) / n
        count += other.count
        sum += other.sum
        if other.min < min { min = other.min }
        if other.max > max { max = other.max }
    }
}

/// The aggregation levels of the edge's telemetry (spec 001 section 5).
public enum AggregateLevel: String, Sendable, CaseIterable {
    case minute = "1m"
    case quarterHour = "15m"
    case day = "1d"

    public var lengthMs: Int64 {
        switch self {
        case .minute: 60_000
        case .quarterHour: 900_000
        case .day: 86_400_000
        }
    }
}

/// One channel's open buckets at every level. Takes the channel's samples in
/// time order and hands back the buckets they close. Only good samples count
/// toward the statistics; bad, stale and faulted ones are stored raw but
/// excluded here.
public struct ChannelAggregator: Sendable {
    public struct Closed: Sendable, Equatable {
        public var level: AggregateLevel
        public var aggregate: Aggregate
    }

    /// Integrate energy (W → Wh) for this channel.
    public let integratesPower: Bool
    /// Longer gaps between good samples are missing data, not held power.
    public let maxHoldMs: Int64
    /// Where days start: ms after 00:00 UTC (a site at UTC+1 uses -3_600_000).
    public let dayOffsetMs: Int64

    private var open: [Aggregate?] = [nil, nil, nil]
    private var last: (timeMs: Int64, value: Double)?

    public init(integratesPower: Bool, maxHoldMs: Int64 = 60_000, dayOffsetMs: Int64 = 0) {
        self.integratesPower = integratesPower
        self.maxHoldMs = maxHoldMs
        self.dayOffsetMs = dayOffsetMs
    }

    /// The buckets still open, finest first (for reading "now").
    public var openBuckets: [Aggregate] { open.compactMap { $0 } }

    /// Adds one sample; returns the buckets it closed, finest first. A sample
    /// older than the open minute is ignored (time went back).
    public mutating func add(_ sample: Sample) -> [Closed] {
        let good = sample.quality == 0 && sample.value.isFinite
        let minuteStart = Self.floor(sample.timeMs, AggregateLevel.minute.lengthMs, offset: 0)
        if let minute = open[0], minuteStart < minute.startMs { return [] }
        var closed: [Closed] = []
        // Energy held since the last good sample: up to the open minute's end
        // there, the rest in the minute of this sample.
        if good, integratesPower, let last, sample.timeMs > last.timeMs, sample.timeMs - last.timeMs <= maxHoldMs {
            let split = open[0].map { Swift.min($0.endMs, sample.timeMs) } ?? last.timeMs
            open[0]?.energyWh += last.value * Double(split - last.timeMs) / 3.6e6
            closed = close(before: sample.timeMs)
            ensureOpen(at: sample.timeMs)
            open[0]?.energyWh += last.value * Double(sample.timeMs - Swift.max(split, last.timeMs)) / 3.6e6
        } else {
            closed = close(before: sample.timeMs)
            ensureOpen(at: sample.timeMs)
        }
        if good {
            open[0]?.add(sample.value)
            last = (sample.timeMs, sample.value)
        } else {
            last = nil  // no held power across a bad stretch
        }
        return closed
    }

    /// Closes every bucket that ends at or before `timeMs` (a channel that
    /// stopped reporting still gets its minute closed by the recorder's clock).
    public mutating func close(before timeMs: Int64) -> [Closed] {
        var closed: [Closed] = []
        for i in 0..<open.count {
            guard let finished = open[i], finished.endMs <= timeMs else { continue }
            closed.append(Closed(level: AggregateLevel.allCases[i], aggregate: finished))
            open[i] = nil
            if i + 1 < open.count {
                if open[i + 1] == nil { open[i + 1] = bucket(at: finished.startMs, level: i + 1) }
                open[i + 1]?.merge(finished)
            }
        }
        return closed
    }

    private mutating func ensureOpen(at timeMs: Int64) {
        if open[0] == nil { open[0] = bucket(at: timeMs, level: 0) }
    }

    private func bucket(at timeMs: Int64, level: Int) -> Aggregate {
        let l = AggregateLevel.allCases[level]
        return Aggregate(startMs: Self.floor(timeMs, l.lengthMs, offset: l == .day ? dayOffsetMs : 0), lengthMs: l.lengthMs)
    }

    /// The start of the bucket of `length` holding `t` (buckets start at
    /// multiples of `length` plus `offset`), also for times before 1970.
    static func floor(_ t: Int64, _ length: Int64, offset: Int64) -> Int64 {
        let shifted = t &- offset
        var q = shifted / length
        if shifted % length < 0 { q -= 1 }
        return q &* length &+ offset
    }
}
