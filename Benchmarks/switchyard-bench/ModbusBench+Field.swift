import Foundation
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel

/// Field failures: how hard the edge knocks on devices that fail every read,
/// beside one that refuses connections (the case backoff was made for), and
/// how long a stop takes with devices that trickle their answers, beside the
/// same stop with healthy devices only.
extension ModbusBench {
    func fieldFailures() throws {
        let fixture = sourceRoot + "/Tests/Fixtures/modbus/hostile.py"
        guard FileManager.default.fileExists(atPath: fixture) else {
            print("  field failures: skipped (\(fixture) not found; run from the repository or pass --source-root)")
            return
        }
        let dir = NSTemporaryDirectory() + "switchyard-bench-field-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileSystem.writeText(Self.flatProfile(id: "bench_small", count: 20, intervalMs: 1000).prettyText, to: dir + "/bench_small.json")
        let modes = ["exception:4", "garbage", "hang", "ok", "trickle:200", "trickle:200"]
        let peer = try HostilePeer(fixture: fixture, modes: modes, directory: dir)
        defer { peer.stop() }

        // 1. Ten simulated minutes, device I/O inline on a manual clock: the
        // backoff policy measured without waiting ten minutes.
        let minutes = 10
        let refusedPort = freePort()
        let failing = [("exception 04 on every read", "exception:4"), ("a broken frame on every read", "garbage"),
                       ("accepts, never answers", "hang")]
        var devices: [JSONValue] = failing.enumerated().map { i, f in
            device("f\(i)", port: peer.ports[modes.firstIndex(of: f.1)!], timeoutMs: 200)
        }
        devices.append(device("refused", port: refusedPort, timeoutMs: 200))
        let clock = ManualClock(startNs: 1_000_000_000)
        let host = EdgeHost(plugins: plugins, profiles: ProfileCatalog.load(directories: [dir]), clock: clock, deviceIO: .inline, logger: quietLogger("bench"))
        try host.apply(EdgeConfig(json: ["version": 1, "edge_id": "bench", "core_cycle": ["period_ms": 1000], "modbus_devices": .array(devices)]))
        var connectsAt: [[Int]] = Array(repeating: [], count: failing.count)
        var attemptsAt: [Int] = []
        for second in 0..<(minutes * 60) {
            host.runCycle(deadlineNs: clock.monotonicNs())
            clock.advance(byNs: 1_000_000_000)
            if second % 60 == 59 {
                for i in failing.indices { connectsAt[i].append(peer.connects(port: peer.ports[modes.firstIndex(of: failing[i].1)!])) }
                attemptsAt.append(host.status().devices.first { $0.deviceId == "refused" }?.consecutiveFailures ?? 0)
            }
        }
        let status = host.status().devices
        host.stop()
        print("  devices failing every read, \(minutes) simulated minutes (timeout 200 ms, backoff 0.5 s doubling to 60 s):")
        print("    " + "device".padding(toLength: 30, withPad: " ", startingAt: 0) + "connects  polls  attempts/min, first minute → last 5   backoff now  state")
        func perMinute(_ counts: [Int]) -> (first: Int, last: Double) {
            (counts.first ?? 0, Double((counts.last ?? 0) - counts[max(counts.count - 6, 0)]) / 5)
        }
        for (i, f) in failing.enumerated() {
            let s = status.first { $0.deviceId == "f\(i)" }
            let attempts = (s?.consecutiveFailures ?? 0)
            let rate = perMinute(connectsAt[i])
            print("    " + f.0.padding(toLength: 30, withPad: " ", startingAt: 0)
                  + "\(connectsAt[i].last ?? 0)".leftPadded(8) + "\(s?.polls ?? 0)".leftPadded(7)
                  + "   \(attempts) in all".padding(toLength: 16, withPad: " ", startingAt: 0)
                  + (f.1 == "exception:4" ? "(one connection kept)     " : "\(rate.first) → \(fixed(rate.last, 1)) connects/min".padding(toLength: 26, withPad: " ", startingAt: 0))
                  + (s?.backoffMs.map { fixed(Double($0) / 1000, 1) + " s" } ?? "-").leftPadded(9) + "    \(s?.state.rawValue ?? "?")")
        }
        let refused = status.first { $0.deviceId == "refused" }
        let refusedRate = perMinute(attemptsAt)
        print("    " + "refused connection (floor)".padding(toLength: 30, withPad: " ", startingAt: 0) + "-".leftPadded(8) + "-".leftPadded(7)
              + "   \(refused?.consecutiveFailures ?? 0) in all".padding(toLength: 16, withPad: " ", startingAt: 0)
              + "\(refusedRate.first) → \(fixed(refusedRate.last, 1)) attempts/min".padding(toLength: 26, withPad: " ", startingAt: 0)
              + (refused?.backoffMs.map { fixed(Double($0) / 1000, 1) + " s" } ?? "-").leftPadded(9) + "    \(refused?.state.rawValue ?? "?")")
        print("    target: each failing device's attempts like the refused connection's, backoff at its maximum (30–60 s) by the last minutes")

        // 2. Stopping an edge whose trickling devices hold a request (one
        // byte every 200 ms, timeout 1000 ms, period 1000 ms), against the
        // same stop with healthy devices only. Real threads, real time.
        func stopTime(trickling: Bool) throws -> Double {
            var devices = [device("ok", port: peer.ports[3], timeoutMs: 1000)]
            if trickling {
                devices += [device("t1", port: peer.ports[4], timeoutMs: 1000), device("t2", port: peer.ports[5], timeoutMs: 1000)]
            }
            let host = EdgeHost(plugins: plugins, profiles: ProfileCatalog.load(directories: [dir]), logger: quietLogger("bench"))
            try host.apply(EdgeConfig(json: ["version": 1, "edge_id": "bench", "core_cycle": ["period_ms": 1000], "modbus_devices": .array(devices)]))
            try host.start()
            let clock = SystemClock()
            clock.sleep(untilNs: clock.monotonicNs() + 1_700_000_000)
            let start = clock.monotonicNs()
            host.stop()
            return Double(clock.monotonicNs() - start) / 1e9
        }
        var healthy: [Double] = []
        var trickling: [Double] = []
        for _ in 0..<3 {
            healthy.append(try stopTime(trickling: false))
            trickling.append(try stopTime(trickling: true))
        }
        print("  stopping an edge, 3 runs each (device timeout 1000 ms, period 1000 ms):")
        print("    healthy devices only (floor)        median \(fixed(median(healthy) * 1000, 0)) ms   max \(fixed(healthy.max() ?? 0, 3)) s")
        print("    with two devices trickling answers  median \(fixed(median(trickling) * 1000, 0)) ms   max \(fixed(trickling.max() ?? 0, 3)) s"
              + "   target ≤ timeout + period (2000 ms) over the floor: \(trickling.max()! - median(healthy) <= 2.0 ? "met" : "MISSED")")
    }

    private func device(_ id: String, port: Int, timeoutMs: Int) -> JSONValue {
        ["device_id": .string(id), "profile": "bench_small",
         "connection": ["host": "127.0.0.1", "port": .number(Double(port)), "timeout_ms": .number(Double(timeoutMs))]]
    }

    private func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.isEmpty ? .nan : s[s.count / 2] }

    private func freePort() -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, length) } }
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) } }
        return Int(UInt16(bigEndian: a.sin_port))
    }
}

/// Tests/Fixtures/modbus/hostile.py, started for the bench.
final class HostilePeer {
    let process = Process()
    let ports: [Int]
    let trace: String

    init(fixture: String, modes: [String], directory: String) throws {
        trace = directory + "/trace.log"
        let spec: JSONValue = ["devices": .array(modes.map { ["mode": .string($0), "fill": "random"] }), "trace": .string(trace)]
        try FileSystem.writeText(spec.prettyText, to: directory + "/hostile.json")
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", fixture, directory + "/hostile.json"]
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen = ""
        while !seen.contains("\n") {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            seen += String(decoding: data, as: UTF8.self)
        }
        ports = seen.split(separator: " ").dropFirst().compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard ports.count == modes.count else { throw CocoaError(.executableLoad) }
    }

    func connects(port: Int) -> Int {
        let text = (try? String(contentsOfFile: trace, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.hasSuffix(" \(port) connect") }.count
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
