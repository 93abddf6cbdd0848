import Foundation
import GRDB
import Testing
import SwitchyardRecorder
import SwitchyardTelemetry
import SwitchyardTestSupport

/// Issue 16, items 1–3 and 8: the recorder's rounds store what the cycle
/// handed off, exactly; the disk budget holds; a corrupt chunk is skipped.
@Suite struct RecorderTests {
    static let start: Int64 = 1_767_225_600_000

    @Test func whatTheCyclePushesComesBackExactlyWithItsAggregates() throws {
        let store = try TelemetryStore(path: TestPaths.temporaryDirectory() + "/telemetry.sqlite")
        let recorder = Recorder(store: store, ringCapacity: 1024)
        recorder.setChannels([1: .init(name: "battery/ActivePower", integratesPower: true), 2: .init(name: "battery/Soc", integratesPower: false)])
        var rng = SeededGenerator(seed: 3)
        var pushed: [Sample] = []
        for second in 0..<7_200 {
            let t = Self.start + Int64(second) * 1000
            let power = Sample(timeMs: t, value: Double(Int.random(in: -5000...5000, using: &rng)))
            pushed.append(power)
            recorder.ring.push(.init(channel: 1, sample: power))
            recorder.ring.push(.init(channel: 2, sample: Sample(timeMs: t, value: 50 + Double(second) * 0.001)))
            recorder.ring.push(.init(channel: 9, sample: Sample(timeMs: t, value: 0)))  // not selected
            recorder.step(nowMs: t)
        }
        recorder.step(nowMs: Self.start + 7_205_000, sealEverything: true)  // buckets close 5 s after their end
        let back = try store.samples("battery/ActivePower", fromMs: Self.start, toMs: Self.start + 7_200_000)
        #expect(back.corrupt.isEmpty)
        #expect(back.samples.count == pushed.count)
        #expect(zip(back.samples, pushed).allSatisfy { $0.isIdentical(to: $1) })
        #expect(recorder.counters.recorded == 14_400)
        #expect(recorder.counters.ignoredUnknownChannel == 7_200)

        let minutes = try store.aggregates("battery/ActivePower", level: .minute, fromMs: Self.start, toMs: Self.start + 7_200_000)
        #expect(minutes.count == 120)
        #expect(minutes.allSatisfy { $0.count == 60 })
        let first = pushed.prefix(60).map(\.value)
        #expect(minutes.first?.max == first.max() && minutes.first?.min == first.min())
        // Each power held one second, the last one up to the minute's end.
        #expect(abs((minutes.first?.energyWh ?? 0) - first.reduce(0, +) / 3600) < 1e-9)
        let quarters = try store.aggregates("battery/Soc", level: .quarterHour, fromMs: Self.start, toMs: Self.start + 7_200_000)
        #expect(quarters.count == 8)
        #expect(quarters.allSatisfy { $0.count == 900 })
    }

    @Test func theDiskBudgetHoldsOverALongRunOfIncompressibleData() throws {
        let store = try TelemetryStore(path: TestPaths.temporaryDirectory() + "/telemetry.sqlite")
        var settings = Recorder.Settings()
        settings.retention.diskBudgetBytes = 512 << 10
        settings.enforceEveryMs = 10_000
        let recorder = Recorder(store: store, ringCapacity: 4096, settings: settings)
        recorder.setChannels(Dictionary(uniqueKeysWithValues: (0..<20).map { (Int32($0), Recorder.Channel(name: "d/c\($0)", integratesPower: false)) }))
        var rng = SeededGenerator(seed: 5)
        var largest: Int64 = 0
        for second in 0..<3 * 3_600 {  // three hours of 20 channels of random doubles: about 4 MB raw
            let t = Self.start + Int64(second) * 1000
            for c in 0..<20 { recorder.ring.push(.init(channel: Int32(c), sample: Sample(timeMs: t, value: Double.random(in: -1...1, using: &rng)))) }
            recorder.step(nowMs: t)
            if second % 10 == 9 { largest = max(largest, try store.sizeBytes()) }
        }
        #expect(recorder.counters.writeErrors == 0, "\(recorder.counters)")
        #expect(largest <= settings.retention.diskBudgetBytes + (64 << 10), "largest \(largest) bytes")
        // The newest data is kept; the oldest went first.
        let recent = try store.samples("d/c0", fromMs: Self.start + 3 * 3_600_000 - 300_000, toMs: Self.start + 3 * 3_600_000)
        #expect(recent.samples.count >= 200)
        let oldest = try store.samples("d/c0", fromMs: Self.start, toMs: Self.start + 600_000)
        #expect(oldest.samples.isEmpty)
        // The aggregates of the whole run are still there: they take little room.
        #expect(try store.aggregates("d/c0", level: .minute, fromMs: Self.start, toMs: Self.start + 3 * 3_600_000).count >= 170)
    }

    /// A channel whose settings change keeps every sample: its open chunk is
    /// written before the new settings take over.
    @Test func aChannelWhoseSettingsChangeLosesNoSample() throws {
        let store = try TelemetryStore(path: TestPaths.temporaryDirectory() + "/telemetry.sqlite")
        let recorder = Recorder(store: store, ringCapacity: 256)
        recorder.setChannels([1: .init(name: "m/P", integratesPower: false)])
        let samples = (0..<100).map { Sample(timeMs: Self.start + Int64($0) * 1000, value: Double($0)) }
        for s in samples.prefix(50) { recorder.ring.push(.init(channel: 1, sample: s)) }
        recorder.step(nowMs: Self.start + 50_000)
        for s in samples[50..<60] { recorder.ring.push(.init(channel: 1, sample: s)) }
        recorder.setChannels([1: .init(name: "m/P", integratesPower: true)])  // while samples wait in the ring
        for s in samples[60...] { recorder.ring.push(.init(channel: 1, sample: s)) }
        recorder.step(nowMs: Self.start + 100_000, sealEverything: true)
        #expect(try store.samples("m/P", fromMs: Self.start, toMs: Self.start + 100_000).samples == samples)
    }

    @Test func aCorruptChunkIsReportedAndSkipped() throws {
        let path = TestPaths.temporaryDirectory() + "/telemetry.sqlite"
        let store = try TelemetryStore(path: path)
        let a = (0..<100).map { Sample(timeMs: Self.start + Int64($0) * 1000, value: Double($0)) }
        let b = (100..<200).map { Sample(timeMs: Self.start + Int64($0) * 1000, value: Double($0)) }
        try store.write(chunks: [("m/P", a), ("m/P", b)], aggregates: [])
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE chunks SET data = x'01ffffff' WHERE first_ms = ?", arguments: [Self.start])
        }
        let read = try store.samples("m/P", fromMs: Self.start, toMs: Self.start + 200_000)
        #expect(read.samples == b)
        #expect(read.corrupt.count == 1)
        #expect(read.corrupt.first?.contains("corrupt telemetry chunk") == true)
    }
}
