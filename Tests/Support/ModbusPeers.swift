import Foundation

/// A process started by a test and killed with it. SIGKILL: a signal mask
/// inherited from the test runner cannot block it.
public final class PeerProcess {
    public let process = Process()
    public let output = Pipe()
    /// What the process printed up to and including `ready`.
    public private(set) var banner = ""

    /// Starts `arguments` (through /usr/bin/env) and waits until its output
    /// contains `ready`.
    public init(_ arguments: [String], ready: String = "ready", what: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        try process.run()
        var seen = ""
        let deadline = Date().addingTimeInterval(15)
        while !seen.contains(ready) {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty || Date() > deadline {
                throw CFixture.FixtureError(message: "\(what) did not start: \(seen)")
            }
            seen += String(decoding: data, as: UTF8.self)
        }
        banner = seen
    }

    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Tests/Fixtures/modbus/server.py: a pymodbus server (a Modbus peer nobody
/// here wrote) serving the given units over TCP or RTU.
public final class PymodbusServer {
    public struct Unit {
        public var holding: [Int: [UInt16]] = [:]
        public var input: [Int: [UInt16]] = [:]
        public var coils: [Int: [UInt16]] = [:]
        public var discrete: [Int: [UInt16]] = [:]
        public var delayMs = 0

        public init(holding: [Int: [UInt16]] = [:], input: [Int: [UInt16]] = [:], coils: [Int: [UInt16]] = [:],
                    discrete: [Int: [UInt16]] = [:], delayMs: Int = 0) {
            self.holding = holding
            self.input = input
            self.coils = coils
            self.discrete = discrete
            self.delayMs = delayMs
        }

        var json: [String: Any] {
            func t(_ x: [Int: [UInt16]]) -> [String: [UInt16]] { Dictionary(uniqueKeysWithValues: x.map { (String($0.key), $0.value) }) }
            return ["holding": t(holding), "input": t(input), "coils": t(coils), "discrete": t(discrete), "delay_ms": delayMs]
        }
    }

    public let port: Int
    public let directory: String
    let peer: PeerProcess

    /// Over TCP on a free port (or `port`), or over RTU on `serial`.
    public init(units: [Int: Unit], port: Int? = nil, serial: String? = nil, baud: Int = 19200) throws {
        directory = TestPaths.temporaryDirectory()
        self.port = port ?? Self.freePort()
        var spec: [String: Any] = ["units": Dictionary(uniqueKeysWithValues: units.map { (String($0.key), $0.value.json) }),
                                   "trace": directory + "/requests.log"]
        if let serial { spec["serial"] = serial; spec["baud"] = baud } else { spec["port"] = self.port }
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: directory + "/spec.json"))
        peer = try PeerProcess(["python3", "-W", "ignore", TestPaths.packageRoot + "/Tests/Fixtures/modbus/server.py", directory + "/spec.json"],
                               what: "the pymodbus server (is pymodbus installed? make test installs it)")
    }

    public convenience init(holding: [Int: [UInt16]], input: [Int: [UInt16]] = [:]) throws {
        try self.init(units: [1: Unit(holding: holding, input: input)])
    }

    /// The requests the server received: (unit, function code, address, count).
    public var requests: [(unit: Int, function: Int, address: Int, count: Int)] {
        let text = (try? String(contentsOfFile: directory + "/requests.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ").compactMap { Int($0) }
            return f.count == 4 ? (f[0], f[1], f[2], f[3]) : nil
        }
    }

    public func stop() { peer.stop() }

    /// A port nobody listens on right now.
    public static func freePort() -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        a.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, length) } }
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) } }
        return Int(UInt16(bigEndian: a.sin_port))
    }
}

/// A pseudo-terminal pair from socat: a serial line for RTU tests.
public final class SerialPair {
    public let a: String
    public let b: String
    let peer: PeerProcess

    public init() throws {
        let dir = TestPaths.temporaryDirectory()
        a = dir + "/ttyA"
        b = dir + "/ttyB"
        peer = try PeerProcess(["socat", "-d", "-d", "pty,raw,echo=0,link=\(a)", "pty,raw,echo=0,link=\(b)"],
                               ready: "starting data transfer loop", what: "socat (make test installs it)")
    }
}

/// Tests/Fixtures/modbus/hostile.py: Modbus TCP devices that misbehave as
/// field devices do (exceptions, wrong unit or transaction, broken frames,
/// silence, trickling answers), one listening port each, in one process.
public final class HostileModbus {
    public struct Device {
        /// One of hostile.py's modes: "ok", "hang", "exception:6", "boot:2:10", "trickle:450", …
        public var mode: String
        /// "random", "sentinel", "zero", or "table" (then `holding`, `input`, `coils`, `discrete`).
        public var fill: String
        public var tables: PymodbusServer.Unit?

        public init(_ mode: String, fill: String = "random") {
            self.mode = mode
            self.fill = fill
        }

        public init(_ mode: String, unit: PymodbusServer.Unit) {
            self.mode = mode
            fill = "table"
            tables = unit
        }

        var json: [String: Any] {
            var d: [String: Any] = ["mode": mode, "fill": fill]
            if let tables { d.merge(tables.json) { a, _ in a } }
            return d
        }
    }

    /// The port of each device, in the order given.
    public let ports: [Int]
    let tracePath: String
    let peer: PeerProcess

    public init(_ devices: [Device]) throws {
        let directory = TestPaths.temporaryDirectory()
        tracePath = directory + "/trace.log"
        let spec: [String: Any] = ["devices": devices.map(\.json), "trace": tracePath]
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: directory + "/spec.json"))
        peer = try PeerProcess(["python3", "-W", "ignore", TestPaths.packageRoot + "/Tests/Fixtures/modbus/hostile.py", directory + "/spec.json"],
                               ready: "\n", what: "hostile.py")
        let line = peer.banner.split(separator: "\n").first { $0.hasPrefix("ready") } ?? ""
        ports = line.split(separator: " ").dropFirst().compactMap { Int($0) }
        guard ports.count == devices.count else {
            throw CFixture.FixtureError(message: "hostile.py said \(peer.banner.debugDescription)")
        }
    }

    /// Events of one device: (monotonic seconds, "connect" or "req FC ADDRESS COUNT").
    public func events(port: Int) -> [(time: Double, what: String)] {
        let text = (try? String(contentsOfFile: tracePath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", maxSplits: 2)
            guard f.count == 3, Int(f[1]) == port, let t = Double(f[0]) else { return nil }
            return (t, String(f[2]))
        }
    }

    public func connects(port: Int) -> Int { events(port: port).filter { $0.what == "connect" }.count }
    public func requests(port: Int) -> Int { events(port: port).filter { $0.what.hasPrefix("req") }.count }

    public func stop() { peer.stop() }
}
