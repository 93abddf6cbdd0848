import Foundation
import GRDB
import SwitchyardHost
import SwitchyardModel
import SwitchyardRecorder
import SwitchyardTelemetry

/// `switchyard-bench --only telemetry` (issue 16, item 9): bytes per sample
/// on disk beside a naive one-row-per-sample table, the recorder's cost per
/// sample beside that table's inserts, the cycle's hand-off beside bare
/// stores, and a day's query at 1-minute resolution beside the naive
/// table's GROUP BY — each pair measured in the same run.
struct TelemetryBench {
    let plugins: PluginCatalog
    let profiles: String
    let sourceRoot: String
    /// Simulated seconds of each series (a day by default).
    let seconds: Int

    func run() throws {
        print("Telemetry — \(seconds) s of each series at 1 s; store and naive table on this machine's disk")
        var series: [(String, [String: [Sample]])] = []
        series.append(("simulated site (demo)", try simulatedSite()))
        if let real = try pvlibSeries() { series.append(("pvlib irradiance + temperature", real)) }
        series.append(("random doubles (worst case)", randomSeries(channels: 4)))
        var queryStore: (TelemetryStore, DatabaseQueue, String)?
        for (name, channels) in series {
            let result = try measure(name, channels)
            if queryStore == nil { queryStore = result }
        }
        handOff()
        if let (store, naive, channel) = queryStore { try query(store: store, naive: naive, channel: channel) }
        print("")
    }

    // MARK: Series

    /// Every numeric channel of the demo site, read each simulated second.
    func simulatedSite() throws -> [String: [Sample]] {
        let clock = ManualClock(startNs: 1_000_000_000)
        let host = EdgeHost(plugins: plugins, profiles: ProfileCatalog.load(directories: [profiles]), clock: clock, deviceIO: .inline,
                            logger: quietLogger("telemetry-bench"))
        defer { host.stop() }
        try host.apply(try EdgeConfig(parsing: DemoSite.configText, file: "demo site"))
        host.runCycle(deadlineNs: clock.monotonicNs())
        let addresses = host.channels.filter { !$0.isText }.map(\.address)
        var out: [String: [Sample]] = [:]
        for _ in 0..<seconds {
            host.runCycle(deadlineNs: clock.monotonicNs())
            let ms = clock.wallClockNs() / 1_000_000
            for a in addresses {
                guard let r = host.reading(a), let v = r.value else { continue }
                out[a, default: []].append(Sample(timeMs: ms, value: v, quality: r.quality == .good ? 0 : 1))
            }
            clock.advance(byNs: 1_000_000_000)
        }
        return out
    }

    /// The pvlib series of scripts/telemetry-series.py, or nil (with a note) without pvlib.
    func pvlibSeries() throws -> [String: [Sample]]? {
        let csv = NSTemporaryDirectory() + "/switchyard-bench-pvlib.csv"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", sourceRoot + "/scripts/telemetry-series.py", csv]
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let text = try? String(contentsOfFile: csv, encoding: .utf8) else {
            print("  pvlib series: skipped (python3 -m pip install pvlib; `make bench` installs it)")
            return nil
        }
        var out: [String: [Sample]] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ",")
            guard f.count == 3, let t = Int64(f[1]), let v = Double(f[2]) else { continue }
            out[String(f[0]), default: []].append(Sample(timeMs: t, value: v))
        }
        for k in Array(out.keys) { out[k] = Array(out[k]!.prefix(seconds)) }
        return out
    }

    func randomSeries(channels: Int) -> [String: [Sample]] {
        var rng = SystemRandomNumberGenerator()
        var out: [String: [Sample]] = [:]
        for c in 0..<channels {
            out["random/c\(c)"] = (0..<seconds).map {
                Sample(timeMs: 1_767_225_600_000 + Int64($0) * 1000, value: Double.random(in: -1e4...1e4, using: &rng))
            }
        }
        return out
    }

    // MARK: Figures

    /// Prints one series' figures; returns its store, naive table and busiest channel (for the query figure).
    func measure(_ name: String, _ channels: [String: [Sample]]) throws -> (TelemetryStore, DatabaseQueue, String) {
        let names = channels.keys.sorted()
        let total = channels.values.reduce(0) { $0 + $1.count }
        // The codec alone, in chunks of 3,600 samples.
        var codecBytes = 0
        for samples in channels.values {
            for start in stride(from: 0, to: samples.count, by: 3_600) {
                codecBytes += SampleChunk.encode(Array(samples[start..<min(start + 3_600, samples.count)])).count
            }
        }

        // The recorder and its store, fed second by second through the ring.
        let dir = NSTemporaryDirectory() + "/switchyard-bench-telemetry-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = try TelemetryStore(path: dir + "/telemetry.sqlite")
        let recorder = Recorder(store: store, ringCapacity: 1 << 17)
        var handles: [Int32: Recorder.Channel] = [:]
        for (i, n) in names.enumerated() { handles[Int32(i)] = .init(name: n, integratesPower: n.hasSuffix("Power")) }
        recorder.setChannels(handles)
        let columns = names.map { channels[$0]! }
        let seconds = columns.map(\.count).max() ?? 0
        var recorderNs: UInt64 = 0
        for s in 0..<seconds {
            for (i, column) in columns.enumerated() where s < column.count {
                recorder.ring.push(.init(channel: Int32(i), sample: column[s]))
            }
            if s % 10 == 9 || s == seconds - 1 {
                let nowMs = columns.compactMap { s < $0.count ? $0[s].timeMs : nil }.max() ?? 0
                let t0 = SBTime.now()
                recorder.step(nowMs: nowMs + 1_000, sealEverything: s == seconds - 1)
                recorderNs += SBTime.now() - t0
            }
        }
        let storeBytes = try store.sizeBytes()

        // The naive table: one row per sample, indexed by channel and time, written every 10 s.
        let naive = try DatabaseQueue(path: dir + "/naive.sqlite")
        try naive.write { db in
            try db.execute(sql: """
                CREATE TABLE raw (channel INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, quality INTEGER NOT NULL);
                CREATE INDEX raw_by_channel ON raw (channel, ts);
                """)
        }
        var naiveNs: UInt64 = 0
        for start in stride(from: 0, to: seconds, by: 10) {
            let t0 = SBTime.now()
            try naive.write { db in
                let insert = try db.makeStatement(sql: "INSERT INTO raw VALUES (?, ?, ?, ?)")
                for s in start..<min(start + 10, seconds) {
                    for (i, column) in columns.enumerated() where s < column.count {
                        try insert.execute(arguments: [i, column[s].timeMs, column[s].value, Int(column[s].quality)])
                    }
                }
            }
            naiveNs += SBTime.now() - t0
        }
        let naiveBytes = try naive.read { db in
            (try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0) * (try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096)
        }

        let n = Double(total)
        let recorderUs = Double(recorderNs) / 1e3 / n
        let naiveUs = Double(naiveNs) / 1e3 / n
        print("  \(name): \(names.count) channels, \(total) samples")
        print("    bytes per sample: codec \(f(Double(codecBytes) / n, 2)) · store \(f(Double(storeBytes) / n, 2)) (raw chunks and aggregates)"
            + " · naive one-row-per-sample table \(f(Double(naiveBytes) / n, 1)) — the store takes \(f(Double(storeBytes) / Double(naiveBytes) * 100, 1)) % of the naive table")
        print("    recorder: \(f(recorderUs, 2)) µs per sample (encode, aggregate, write) = \(f(recorderUs * 5_000 / 1e4, 2)) % of one core at 5,000 samples/s"
            + " · naive inserts \(f(naiveUs, 2)) µs per sample (ratio \(f(recorderUs / naiveUs, 2)))")
        let busiest = names.max { channels[$0]!.count < channels[$1]!.count } ?? names[0]
        return (store, naive, busiest)
    }

    /// The cycle's side: 5,000 pushes per cycle while a consumer drains, beside the same stores into a plain buffer.
    func handOff() {
        let perCycle = 5_000, cycles = 1_000
        let ring = SampleRing(capacity: 1 << 16)
        let stop = ManagedAtomicFlag()
        let consumer = Thread {
            while !stop.isSet {
                ring.drain { _ in }
                usleep(1_000)
            }
        }
        consumer.start()
        let floor = UnsafeMutablePointer<SampleRing.Entry>.allocate(capacity: perCycle)
        floor.initialize(repeating: .init(channel: 0, sample: Sample(timeMs: 0, value: 0)), count: perCycle)
        var pushNs: [Double] = [], floorNs: [Double] = []
        for c in 0..<cycles {
            let t0 = SBTime.now()
            for i in 0..<perCycle { ring.push(.init(channel: Int32(i), sample: Sample(timeMs: Int64(c), value: Double(i)))) }
            let t1 = SBTime.now()
            for i in 0..<perCycle { floor[i] = .init(channel: Int32(i), sample: Sample(timeMs: Int64(c), value: Double(i))) }
            let t2 = SBTime.now()
            pushNs.append(Double(t1 - t0))
            floorNs.append(Double(t2 - t1))
            usleep(2_000)  // 5,000 samples every 2 ms: 25 times the 100 ms figure's rate
        }
        stop.set()
        floor.deallocate()
        pushNs.sort()
        floorNs.sort()
        let p99 = SBStats.percentile(pushNs, 0.99), f99 = SBStats.percentile(floorNs, 0.99)
        print("  cycle hand-off of \(perCycle) samples: p50 \(f(SBStats.percentile(pushNs, 0.5) / 1e3, 1)) µs, p99 \(f(p99 / 1e3, 1)) µs"
            + " = \(f(p99 / 1e9 * 100, 4)) % of a 1 s period, \(f(p99 / 1e8 * 100, 3)) % of 100 ms"
            + " · floor (the same stores into a plain buffer) p99 \(f(f99 / 1e3, 1)) µs · ring drops \(ring.dropped)")
    }

    /// One channel's day at 1-minute resolution, from the store and as the naive table's GROUP BY.
    func query(store: TelemetryStore, naive: DatabaseQueue, channel: String) throws {
        let from: Int64 = 0, to: Int64 = .max
        var storeMs: [Double] = [], naiveMs: [Double] = []
        var rows = 0, naiveRows = 0
        let index = try naive.read { db in try Int.fetchOne(db, sql: "SELECT MIN(channel) FROM raw") ?? 0 }
        for _ in 0..<30 {
            let t0 = SBTime.now()
            rows = try store.aggregates(channel, level: .minute, fromMs: from, toMs: to).count
            let t1 = SBTime.now()
            naiveRows = try naive.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT ts / 60000, MIN(value), MAX(value), AVG(value), COUNT(*) FROM raw WHERE channel = ? GROUP BY ts / 60000
                    """, arguments: [index]).count
            }
            let t2 = SBTime.now()
            storeMs.append(Double(t1 - t0) / 1e6)
            naiveMs.append(Double(t2 - t1) / 1e6)
        }
        storeMs.sort()
        naiveMs.sort()
        print("  a day of one channel at 1-minute resolution: store \(rows) rows in p50 \(f(SBStats.percentile(storeMs, 0.5), 2)) ms"
            + " (p99 \(f(SBStats.percentile(storeMs, 0.99), 2)) ms) · naive table's GROUP BY \(naiveRows) rows in p50 \(f(SBStats.percentile(naiveMs, 0.5), 2)) ms")
    }

    private func f(_ v: Double, _ digits: Int) -> String { SBFormat.fixed(v, digits) }
}

/// A stop flag for the hand-off's consumer thread.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
