import Testing
import SwitchyardTelemetry
import SwitchyardTestSupport

/// Issue 16, items 2 and 8: aggregates built one sample at a time match a
/// straightforward computation over the same samples.
@Suite struct AggregateTests {
    struct Plain {
        var count = 0, min = Double.infinity, max = -Double.infinity, sum = 0.0, squares = 0.0
        mutating func add(_ v: Double) { count += 1; min = Swift.min(min, v); max = Swift.max(max, v); sum += v; squares += v * v }
        var mean: Double { sum / Double(count) }
        var stddev: Double { count > 1 ? Swift.max(0, squares / Double(count) - mean * mean).squareRoot() : 0 }
    }

    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool { abs(a - b) <= tolerance * Swift.max(1, abs(a), abs(b)) }

    @Test func everyLevelMatchesAPlainComputation() throws {
        var rng = SeededGenerator(seed: 42)
        let start: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
        var aggregator = ChannelAggregator(integratesPower: true, maxHoldMs: 10_000)
        var closed: [ChannelAggregator.Closed] = []
        var samples: [Sample] = []
        var t = start + 500
        while t < start + 2 * 86_400_000 + 3_600_000 {
            let bad = Int.random(in: 0..<100, using: &rng) == 0
            let s = Sample(timeMs: t, value: 3000 + Double.random(in: -500...500, using: &rng), quality: bad ? 2 : 0)
            samples.append(s)
            closed += aggregator.add(s)
            t += Int64.random(in: 1_600...2_400, using: &rng) + (Int.random(in: 0..<5_000, using: &rng) == 0 ? 120_000 : 0)
        }
        closed += aggregator.close(before: .max)

        // The samples' times, for the index range of each bucket.
        let times = samples.map(\.timeMs)
        func firstIndex(atOrAfter t: Int64) -> Int {
            var lo = 0, hi = times.count
            while lo < hi { let mid = (lo + hi) / 2; if times[mid] < t { lo = mid + 1 } else { hi = mid } }
            return lo
        }
        for level in AggregateLevel.allCases {
            let buckets = closed.filter { $0.level == level }.map(\.aggregate)
            #expect(!buckets.isEmpty)
            #expect(buckets.map(\.startMs) == buckets.map(\.startMs).sorted())
            for bucket in buckets {
                #expect(bucket.startMs % level.lengthMs == 0)
                let range = firstIndex(atOrAfter: bucket.startMs)..<firstIndex(atOrAfter: bucket.endMs)
                var plain = Plain()
                for s in samples[range] where s.quality == 0 { plain.add(s.value) }
                // Energy: held power between good neighbours at most 10 s apart, cut at the bucket's edges.
                var energy = 0.0
                for i in Swift.max(range.lowerBound - 1, 0)..<Swift.min(range.upperBound, samples.count - 1) {
                    let a = samples[i], b = samples[i + 1]
                    guard a.quality == 0, b.quality == 0, b.timeMs - a.timeMs <= 10_000 else { continue }
                    let from = Swift.max(a.timeMs, bucket.startMs), to = Swift.min(b.timeMs, bucket.endMs)
                    if to > from { energy += a.value * Double(to - from) / 3.6e6 }
                }
                #expect(bucket.count == plain.count, "\(level) \(bucket.startMs)")
                #expect(bucket.min == plain.min && bucket.max == plain.max)
                #expect(Self.close(bucket.sum, plain.sum) && Self.close(bucket.mean, plain.mean))
                #expect(Self.close(bucket.stddev, plain.stddev, 1e-6), "\(bucket.stddev) vs \(plain.stddev)")
                #expect(Self.close(bucket.energyWh, energy, 1e-9), "\(level) \(bucket.startMs): \(bucket.energyWh) vs \(energy)")
            }
        }
        // Two full days and an hour: 2 day buckets closed by the end, 196 quarter hours, 2940 minutes at most.
        #expect(closed.filter { $0.level == .day }.count == 3)
        #expect(closed.filter { $0.level == .quarterHour }.count == 2 * 96 + 4)
    }

    @Test func daysStartAtTheSitesOffsetAndTimeGoingBackIsIgnored() {
        var aggregator = ChannelAggregator(integratesPower: false, dayOffsetMs: -3_600_000)  // UTC+1
        let start: Int64 = 1_767_225_600_000
        _ = aggregator.add(Sample(timeMs: start + 3_600_000 * 22, value: 1))  // 23:00 local
        #expect(aggregator.add(Sample(timeMs: start, value: 99)).isEmpty)  // older than the open minute
        let closed = aggregator.close(before: .max)
        let day = closed.first { $0.level == .day }?.aggregate
        #expect(day?.startMs == start - 3_600_000)  // the local day began at 23:00 UTC the day before
        #expect(day?.count == 1 && day?.max == 1)
    }
}

/// Issue 16, item 1: the cycle's hand-off never blocks; a full ring drops and counts.
@Suite struct SampleRingTests {
    @Test func aFullRingDropsAndCountsAndKeepsOrder() {
        let ring = SampleRing(capacity: 100)
        #expect(ring.capacity == 128)
        for i in 0..<200 { ring.push(.init(channel: Int32(i), sample: Sample(timeMs: Int64(i), value: Double(i)))) }
        #expect(ring.dropped == 72)
        var seen: [Int32] = []
        #expect(ring.drain { seen.append($0.channel) } == 128)
        #expect(seen == (0..<128).map(Int32.init))
        #expect(ring.queued == 0)
    }

    @Test func oneProducerOneConsumerLoseNothingTheyDoNotCount() async {
        let ring = SampleRing(capacity: 1024)
        let total = 200_000
        let producer = Task.detached {
            var pushed = 0
            for i in 0..<total where ring.push(.init(channel: 0, sample: Sample(timeMs: Int64(i), value: 0))) { pushed += 1 }
            return pushed
        }
        var received = 0
        var last: Int64 = -1
        var ordered = true
        while received + ring.dropped < total {
            ring.drain { entry in
                if entry.sample.timeMs <= last { ordered = false }
                last = entry.sample.timeMs
                received += 1
            }
            await Task.yield()
        }
        let pushed = await producer.value
        ring.drain { _ in received += 1 }
        #expect(received == pushed)
        #expect(pushed + ring.dropped == total)
        #expect(ordered)
    }
}
