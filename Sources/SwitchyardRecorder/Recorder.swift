import Synchronization
import SwitchyardTelemetry

/// Takes samples from the cycle's ring, builds each channel's chunks and
/// aggregates, and writes them to the store. `step(nowMs:)` does one round;
/// `start` runs it on a thread of its own, so the cycle never waits on the
/// disk. A write error is counted and reported, never thrown at the cycle:
/// the samples of that round are dropped and counted.
public final class Recorder: @unchecked Sendable {
    /// What the recorder knows of a channel: its name and whether its
    /// energy is integrated.
    public struct Channel: Sendable, Equatable {
        public var name: String
        public var integratesPower: Bool

        public init(name: String, integratesPower: Bool) {
            self.name = name
            self.integratesPower = integratesPower
        }
    }

    public struct Settings: Sendable, Equatable {
        /// A chunk is sealed and written when it has this many samples…
        public var chunkSamples = 3_600
        /// …or its first sample is this old: the most a power cut can lose.
        public var chunkMs: Int64 = 60_000
        public var retention = TelemetryStore.Retention()
        /// How often retention and the disk budget are enforced.
        public var enforceEveryMs: Int64 = 60_000
        public var dayOffsetMs: Int64 = 0

        public init() {}
    }

    public struct Counters: Sendable, Equatable {
        public var recorded = 0
        public var chunksWritten = 0
        public var aggregatesWritten = 0
        /// Samples lost to write errors (the ring's own drops are `SampleRing.dropped`).
        public var lostToErrors = 0
        public var writeErrors = 0
        public var lastError: String?
        public var ignoredUnknownChannel = 0
    }

    /// A bucket is closed this long after its end, for samples still in the ring.
    public static let lateSampleGraceMs: Int64 = 5_000

    public let ring: SampleRing
    public let store: TelemetryStore
    private let state: Mutex<(channels: [Int32: Channel], settings: Settings, counters: Counters)>

    private struct Open {
        var channel: Channel
        var samples: [Sample] = []
        var aggregator: ChannelAggregator
    }
    /// Only `step` touches these (the recorder's thread).
    private var open: [Int32: Open] = [:]
    private var lastEnforceMs: Int64?

    public init(store: TelemetryStore, ringCapacity: Int = 1 << 16, settings: Settings = Settings()) {
        self.store = store
        ring = SampleRing(capacity: ringCapacity)
        state = Mutex(([:], settings, Counters()))
    }

    /// [any thread] The channels to record, by the handle the cycle pushes.
    /// A channel no longer listed is sealed at the next step.
    public func setChannels(_ channels: [Int32: Channel], settings: Settings? = nil) {
        state.withLock {
            $0.channels = channels
            if let settings { $0.settings = settings }
        }
    }

    public var counters: Counters { state.withLock { $0.counters } }

    /// [recorder] One round: drain the ring, seal the chunks that are full
    /// or old, write them with the aggregates they closed, and now and then
    /// enforce retention and the budget.
    public func step(nowMs: Int64, sealEverything: Bool = false) {
        let (channels, settings) = state.withLock { ($0.channels, $0.settings) }
        var closed: [(channel: String, closed: ChannelAggregator.Closed)] = []
        var chunks: [(channel: String, samples: [Sample])] = []
        var unknown = 0
        var recorded = 0
        ring.drain { entry in
            guard let channel = channels[entry.channel] else { unknown += 1; return }
            if open[entry.channel]?.channel != channel {
                if let old = open[entry.channel] { retire(old, into: &closed, chunks: &chunks) }
                open[entry.channel] = Open(channel: channel, aggregator: ChannelAggregator(
                    integratesPower: channel.integratesPower, maxHoldMs: 60_000, dayOffsetMs: settings.dayOffsetMs))
            }
            open[entry.channel]!.samples.append(entry.sample)
            for c in open[entry.channel]!.aggregator.add(entry.sample) { closed.append((channel.name, c)) }
            recorded += 1
        }
        for handle in Array(open.keys) {
            guard var o = open[handle] else { continue }
            if channels[handle] != o.channel {
                retire(o, into: &closed, chunks: &chunks)
                open[handle] = nil
                continue
            }
            for c in o.aggregator.close(before: nowMs - Self.lateSampleGraceMs) { closed.append((o.channel.name, c)) }
            if let first = o.samples.first,
               sealEverything || o.samples.count >= settings.chunkSamples || nowMs - first.timeMs >= settings.chunkMs {
                chunks.append((o.channel.name, o.samples))
                o.samples.removeAll(keepingCapacity: true)
            }
            open[handle] = o
        }
        var failure: String?
        do {
            try store.write(chunks: chunks, aggregates: closed)
            if lastEnforceMs.map({ nowMs - $0 >= settings.enforceEveryMs }) ?? true {
                lastEnforceMs = nowMs
                try store.enforce(settings.retention, nowMs: nowMs)
            }
        } catch {
            failure = "\(error)"
        }
        let lost = failure == nil ? 0 : chunks.reduce(0) { $0 + $1.samples.count }
        state.withLock {
            $0.counters.recorded += recorded
            $0.counters.ignoredUnknownChannel += unknown
            if let failure {
                $0.counters.writeErrors += 1
                $0.counters.lostToErrors += lost
                $0.counters.lastError = failure
            } else {
                $0.counters.chunksWritten += chunks.count
                $0.counters.aggregatesWritten += closed.count
            }
        }
    }

    /// A channel's open chunk and buckets, written as they are (its
    /// settings changed or it went away).
    private func retire(_ o: Open, into closed: inout [(channel: String, closed: ChannelAggregator.Closed)],
                        chunks: inout [(channel: String, samples: [Sample])]) {
        var aggregator = o.aggregator
        for c in aggregator.close(before: .max) { closed.append((o.channel.name, c)) }
        if !o.samples.isEmpty { chunks.append((o.channel.name, o.samples)) }
    }
}
