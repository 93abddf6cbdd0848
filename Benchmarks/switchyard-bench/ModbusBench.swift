import Foundation
import Logging
import Synchronization
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModbusIO
import SwitchyardModbusProfile
import SwitchyardModel

/// The Modbus figures of `make bench`: driver throughput against a plain C
/// libmodbus loop and the pymodbus client on the same server; requests per
/// poll against the optimum for every shipped profile; healthy devices'
/// polling while another device hangs; devices failing every read against a
/// refused connection, and the time to stop with trickling devices.
struct ModbusBench {
    let plugins: PluginCatalog
    let profiles: String
    let sourceRoot: String
    let seconds: Double

    func run() throws {
        print("Modbus driver")
        try requestsPerPoll()
        try throughput()
        try hangingDevice()
        try fieldFailures()
        print("")
    }

    // MARK: Throughput

    /// A profile of `count` uint16 points from address 0, one poll group.
    static func flatProfile(id: String, count: Int, intervalMs: Int) -> JSONValue {
        let points: [JSONValue] = (0..<count).map { ["name": .string("R\($0)"), "address": .number(Double($0)), "type": "uint16", "group": "g"] }
        return ["id": .string(id), "driver": "modbus", "source": "switchyard-bench",
                "poll_groups": ["g": ["interval_ms": .number(Double(intervalMs))]], "points": .array(points)]
    }

    /// Rounds of the throughput comparison: the methods take turns, so that
    /// the machine's drift (large on a shared 2-core VM) hits all of them.
    static let rounds = 5

    func throughput() throws {
        let registers = 1000
        let server = try ModbusServer(port: 0)
        for a in 0..<registers { server.registers.set(.holdingRegisters, a, UInt16(a)) }
        let stop = StopFlag()
        let thread = Thread { server.run(handler: AnswerEverything()) { stop.isSet } }
        thread.start()
        defer { stop.set() }
        let dir = NSTemporaryDirectory() + "switchyard-bench-modbus-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let slice = seconds / Double(Self.rounds)
        let wall = SystemClock()

        // 1. The driver, through the host: one poll of the group per cycle.
        try FileSystem.writeText(Self.flatProfile(id: "bench_flat", count: registers, intervalMs: 1000).prettyText, to: dir + "/bench_flat.json")
        let clock = ManualClock(startNs: 1_000_000_000, wallClockOriginNs: 1_767_225_600_000_000_000)
        let host = EdgeHost(plugins: plugins, profiles: ProfileCatalog.load(directories: [dir]), clock: clock, deviceIO: .inline, logger: quietLogger("bench"))
        let config: JSONValue = ["version": 1, "edge_id": "bench", "core_cycle": ["period_ms": 1000], "scheduler": ["controllers": []],
                                 "modbus_devices": [["device_id": "d", "profile": "bench_flat",
                                                     "connection": ["protocol": "tcp", "host": "127.0.0.1", "port": .number(Double(server.port))]]]]
        try host.apply(EdgeConfig(json: config))
        defer { host.stop() }
        for _ in 0..<20 { host.runCycle(deadlineNs: clock.monotonicNs()); clock.advance(byNs: 1_000_000_000) }
        func driver() -> Double {
            let start = wall.monotonicNs()
            var polls = 0
            while wall.monotonicNs() - start < Int64(slice * 1e9) {
                host.runCycle(deadlineNs: clock.monotonicNs())
                clock.advance(byNs: 1_000_000_000)
                polls += 1
            }
            return Double(polls * registers) / (Double(wall.monotonicNs() - start) / 1e9)
        }

        // 2. The same reads from this process without the driver: libmodbus
        //    through ModbusConnection, no decoding, no host.
        let direct = try ModbusConnection(host: "127.0.0.1", port: server.port, unitId: 1)
        try direct.connect()
        defer { direct.close() }
        func inProcess() throws -> Double {
            let start = wall.monotonicNs()
            var count = 0
            while wall.monotonicNs() - start < Int64(slice * 1e9) {
                for a in stride(from: 0, to: registers, by: 125) { count += try direct.readRegisters(address: a, count: min(125, registers - a)).count }
            }
            return Double(count) / (Double(wall.monotonicNs() - start) / 1e9)
        }

        // 3. A plain C libmodbus loop, compiled now; 4. the pymodbus client.
        let cLoop = dir + "/c-loop"
        let compiled = (try? run("/bin/sh", ["-c", "cc -O2 -o \(cLoop) \(sourceRoot)/Benchmarks/modbus/c-loop.c $(pkg-config --cflags --libs libmodbus)"])) != nil
        func external(_ arguments: [String]) -> Double? {
            (try? run("/usr/bin/env", arguments)).flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }

        var d: [Double] = [], i: [Double] = [], c: [Double] = [], py: [Double] = []
        for _ in 0..<Self.rounds {
            d.append(driver())
            i.append(try inProcess())
            if compiled, let r = external([cLoop, "127.0.0.1", String(server.port), String(registers), String(slice)]) { c.append(r) }
            if let r = external(["python3", "-W", "ignore", "\(sourceRoot)/Benchmarks/modbus/pymodbus-loop.py", "127.0.0.1", String(server.port), String(registers), String(slice)]) { py.append(r) }
        }
        let healthy = host.status().devices.first?.state == .running && host.reading("d/R999")?.value == 999

        func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.isEmpty ? .nan : s[s.count / 2] }
        func rate(_ xs: [Double]) -> String { fixed(median(xs) / 1000, 1) + "k registers/s" }
        func ratios(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $0 / $1 } }
        print("  throughput, \(registers) holding registers in requests of 125, one libmodbus server in this process;")
        print("  \(Self.rounds) rounds of \(fixed(slice, 1)) s per method, taking turns; medians, and the median of the per-round ratios:")
        print("    driver through the host                       \(rate(d))\(healthy ? "" : "   VALUES WRONG")")
        print("    the same reads in-process, Swift on libmodbus \(rate(i))   driver / this \(fixed(median(ratios(d, i)) * 100, 1)) %")
        if c.isEmpty {
            print("    plain C libmodbus loop                        skipped (cc or libmodbus-dev missing)")
        } else {
            let r = ratios(d, c)
            print("    plain C libmodbus loop                        \(rate(c))   driver / C \(fixed(median(r) * 100, 1)) % (rounds \(r.map { fixed($0 * 100, 0) }.joined(separator: ", ")))   target >= 90 %")
        }
        // What the driver adds per point on its own: decoding from the flat format.
        let profile = try ModbusProfile(json: Self.flatProfile(id: "decode", count: registers, intervalMs: 1000), file: nil)
        let formats = profile.points.map(\.format)
        let words = (0..<registers).map { UInt16($0) }
        var sink = 0.0
        let decodeStart = wall.monotonicNs()
        let decodeRounds = 2000
        for _ in 0..<decodeRounds {
            for (k, f) in formats.enumerated() { sink += PointCodec.decode(f, words: words[k..<(k + 1)], scaleFactor: nil).reading.value ?? 0 }
        }
        let perPoint = Double(wall.monotonicNs() - decodeStart) / Double(decodeRounds * registers)
        print("    decoding alone: \(fixed(perPoint, 1)) ns per point (\(fixed(perPoint * Double(registers) / 1000, 1)) µs of a poll of \(registers))\(sink < 0 ? " " : "")")
        if py.isEmpty {
            print("    pymodbus client                               skipped (pymodbus missing)")
        } else {
            print("    pymodbus client                               \(rate(py))   driver / pymodbus \(fixed(median(ratios(d, py)), 1))×")
        }
    }

    // MARK: Requests per poll

    /// For every group of every shipped Modbus profile: the planner's
    /// requests against the fewest possible (a dynamic program over the
    /// same constraints). SunSpec profiles are laid out as the simulator
    /// serves them (one model of each kind).
    func requestsPerPoll() throws {
        let catalog = ProfileCatalog.load(directories: [profiles])
        var rows: [(String, Int, Int)] = []
        for p in catalog.profiles.values.sorted(by: { $0.id < $1.id }) where p.driver == ModbusProfile.driverClass {
            let m = try ModbusProfile(json: p.document, file: p.file)
            let points = m.isSunSpec ? ProfileSimulation(profile: m).points : m.points
            let all = points.map(\.planned)
            var planned = 0, optimum = 0
            for (group, requests) in try m.fullPollPlan(points) {
                planned += requests.count
                let members = points.filter { $0.group == group && $0.access.isReadable }
                optimum += RequestOptimum.fewest(members.map(\.planned), all: all, planner: m.transport.planner)
            }
            rows.append((p.id, planned, optimum))
        }
        print("  requests per full poll (every group once), planner vs optimum:")
        for (id, planned, optimum) in rows {
            print("    \(id.padding(toLength: 24, withPad: " ", startingAt: 0)) \(String(planned).leftPadded(3)) vs \(String(optimum).leftPadded(3))\(planned == optimum ? "" : "   NOT OPTIMAL")")
        }
        print("    \(rows.filter { $0.1 == $0.2 }.count) of \(rows.count) profiles at the optimum   target: all")
    }

    // MARK: A hanging device

    /// Healthy devices polled every 100 ms, first alone, then next to a
    /// device that accepts the connection and never answers.
    func hangingDevice() throws {
        let server = try ModbusServer(port: 0)
        let stop = StopFlag()
        let thread = Thread { server.run(handler: AnswerEverything()) { stop.isSet } }
        thread.start()
        defer { stop.set() }
        // A listener that never accepts: connects succeed (the backlog), answers never come.
        let hang = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(hang, $0, length) } }
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(hang, $0, &length) } }
        listen(hang, 16)
        defer { close(hang) }
        let hangPort = Int(UInt16(bigEndian: a.sin_port))

        let dir = NSTemporaryDirectory() + "switchyard-bench-hang-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileSystem.writeText(Self.flatProfile(id: "bench_small", count: 20, intervalMs: 100).prettyText, to: dir + "/bench_small.json")
        let healthy = 4
        func measure(withHang: Bool) throws -> (pollsPerSecond: Double, worst: Double) {
            var devices: [JSONValue] = (0..<healthy).map { i in
                ["device_id": .string("ok\(i)"), "profile": "bench_small", "connection": ["host": "127.0.0.1", "port": .number(Double(server.port))]]
            }
            if withHang {
                devices.append(["device_id": "hung", "profile": "bench_small", "connection": ["host": "127.0.0.1", "port": .number(Double(hangPort))]])
            }
            let host = EdgeHost(plugins: plugins, profiles: ProfileCatalog.load(directories: [dir]), logger: quietLogger("bench"))
            try host.apply(EdgeConfig(json: ["version": 1, "edge_id": "bench", "core_cycle": ["period_ms": 100], "scheduler": ["controllers": []],
                                             "modbus_devices": .array(devices)]))
            try host.start()
            let clock = SystemClock()
            clock.sleep(untilNs: clock.monotonicNs() + 2_000_000_000)
            let before = host.status().devices.filter { $0.deviceId.hasPrefix("ok") }.map(\.polls)
            let start = clock.monotonicNs()
            clock.sleep(untilNs: start + Int64(seconds * 1e9))
            let after = host.status().devices.filter { $0.deviceId.hasPrefix("ok") }.map(\.polls)
            let elapsed = Double(clock.monotonicNs() - start) / 1e9
            host.stop()
            let rates = zip(after, before).map { Double($0 - $1) / elapsed }
            return (rates.reduce(0, +) / Double(rates.count), rates.min() ?? 0)
        }
        let quiet = try measure(withHang: false)
        let hung = try measure(withHang: true)
        print("  \(healthy) healthy devices polled every 100 ms, \(fixed(seconds, 0)) s each:")
        print("    alone                 \(fixed(quiet.pollsPerSecond, 2)) polls/s per device (slowest \(fixed(quiet.worst, 2)))")
        print("    next to a hung device \(fixed(hung.pollsPerSecond, 2)) polls/s per device (slowest \(fixed(hung.worst, 2)))   ratio \(fixed(hung.pollsPerSecond / quiet.pollsPerSecond * 100, 1)) %   target: unchanged")
    }

    func run(_ path: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
        return String(decoding: data, as: UTF8.self)
    }
}

final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

/// Serves whatever is asked: the throughput server does no work of its own.
struct AnswerEverything: ModbusServerHandler {
    func willAnswer(_ request: ModbusServer.Request, registers: ModbusServer.Registers) -> Bool { true }
    func didWrite(_ request: ModbusServer.Request, registers: ModbusServer.Registers) {}
}

/// The fewest requests that read a group under the planner's rules, by
/// dynamic programming over the clusters in address order (a cluster is a
/// point with its scale factor). The planner is greedy; this checks it.
enum RequestOptimum {
    static func fewest(_ points: [PlannedPoint], all: [PlannedPoint], planner: ReadPlanner) -> Int {
        var total = 0
        for table in RegisterTable.allCases {
            let members = points.filter { $0.table == table }
            guard !members.isEmpty else { continue }
            // Clusters as the planner forms them: plan each point alone.
            var clusters: [ClosedRange<Int>] = []
            for p in members {
                guard let r = try? planner.plan([p], all: all).first else { continue }
                clusters.append(r.start...r.end)
            }
            clusters.sort { ($0.lowerBound, $0.upperBound) < ($1.lowerBound, $1.upperBound) }
            // best[i]: fewest requests for clusters[0..<i].
            var best = [Int](repeating: Int.max, count: clusters.count + 1)
            best[0] = 0
            for j in 1...clusters.count {
                var low = clusters[j - 1].lowerBound, high = clusters[j - 1].upperBound
                for i in stride(from: j - 1, through: 0, by: -1) {
                    low = min(low, clusters[i].lowerBound)
                    high = max(high, clusters[i].upperBound)
                    let probe = PlannedPoint(name: "span", table: table, address: low, count: high - low + 1)
                    guard (try? planner.plan([probe]))?.count == 1, best[i] != Int.max else { continue }
                    best[j] = min(best[j], best[i] + 1)
                }
            }
            total += best[clusters.count]
        }
        return total
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
