#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SwitchyardModbusIO

/// The wire to a device: a TCP connection or an RTU line, shared by every
/// device on the same endpoint (units behind one gateway, or on one port). Requests on one link never
/// overlap (a lock), and the transport's pauses are kept between them: after
/// connect, between requests, and when the unit id changes on a shared line.
final class Link: @unchecked Sendable {
    // @unchecked: `connection`, `connected` and `lastRequestEndNs` are
    // touched only while `lock` is held; `users` only under the registry's
    // lock; `isSerial` and `settings` are set before the link is published.
    private let lock = Mutex(())
    private let connection: ModbusConnection
    private var connected = false
    private var lastRequestEndNs: Int64 = 0
    private var users = 0
    let key: String

    init(connection: ModbusConnection, key: String) {
        self.connection = connection
        self.key = key
    }

    struct Pauses {
        var afterConnectMs = 0
        var betweenRequestsMs = 0
        var onUnitChangeMs = 0
        var timeoutMs = 1000
    }

    /// Runs `body` with the connection, as `unit`, keeping the pauses.
    func perform<T>(unit: Int, pauses: Pauses, _ body: (ModbusConnection) throws(ModbusConnection.Failure) -> T) throws(ModbusConnection.Failure) -> T {
        try lock.withLock { _ throws(ModbusConnection.Failure) -> T in
            if !connected {
                try connection.connect()
                connected = true
                sleepMs(pauses.afterConnectMs)
                lastRequestEndNs = 0
            }
            if connection.unitId != unit {
                connection.setUnit(unit)
                sleepMs(pauses.onUnitChangeMs)
            }
            connection.setTimeout(ms: pauses.timeoutMs)
            if pauses.betweenRequestsMs > 0, lastRequestEndNs > 0 {
                let waitNs = lastRequestEndNs + Int64(pauses.betweenRequestsMs) * 1_000_000 - Self.nowNs()
                if waitNs > 0 { sleepNs(waitNs) }
            }
            defer { lastRequestEndNs = Self.nowNs() }
            do throws(ModbusConnection.Failure) {
                return try body(connection)
            } catch {
                // A broken TCP stream is not reused (every device on it
                // reconnects); on a serial line a silent unit must not cut
                // off the others, so only the leftovers of its answer go.
                // A unit's own failure (exception 4, 6, 0x0A, 0x0B) leaves
                // the connection as it is.
                if error.kind == .io {
                    if isSerial { connection.flush() } else { connection.close(); connected = false }
                }
                throw error
            }
        }
    }

    /// Ends this device's use of the link; the connection closes with its last user.
    func release() {
        let last = Link.registry.withLock { r -> Bool in
            users -= 1
            if users <= 0 { r[key] = nil; return true }
            return false
        }
        if last {
            lock.withLock { _ in
                connection.close()
                connected = false
            }
        }
    }

    // MARK: Sharing

    /// Links in use in this process, by TCP endpoint or serial device path.
    static let registry = Mutex<[String: Link]>([:])

    /// The link for a connection. Devices with the same TCP endpoint (units
    /// behind one gateway) or the same serial device share one link, so
    /// their requests take turns and the unit-change pause applies; a
    /// serial line's settings must agree.
    static func acquire(_ spec: ConnectionSpec, timeoutMs: Int) throws(ModbusConnection.Failure) -> Link {
        try registry.withLock { r throws(ModbusConnection.Failure) -> Link in
            switch spec.transport {
            case .tcp(let host, let port):
                let key = "tcp:\(host):\(port)"
                if let existing = r[key] {
                    existing.users += 1
                    return existing
                }
                let link = Link(connection: try ModbusConnection(host: host, port: port, unitId: spec.unitId, timeoutMs: timeoutMs),
                                key: key)
                link.isSerial = false
                link.users = 1
                r[key] = link
                return link
            case .rtu(let settings):
                if let existing = r[settings.device] {
                    guard existing.settings == settings else {
                        throw ModbusConnection.Failure(kind: .io, message: "\(settings.device) is already open with other serial settings (\(existing.settings.map(describe) ?? "?")); every device on one line must use the same baud, parity, data and stop bits")
                    }
                    existing.users += 1
                    return existing
                }
                let link = Link(connection: try ModbusConnection(serial: settings, unitId: spec.unitId, timeoutMs: timeoutMs),
                                key: settings.device)
                link.settings = settings
                link.isSerial = true
                link.users = 1
                r[settings.device] = link
                return link
            }
        }
    }

    /// A serial line survives a silent unit; a TCP stream that failed does not.
    var isSerial = false

    var settings: ModbusConnection.SerialSettings?

    static func describe(_ s: ModbusConnection.SerialSettings) -> String {
        "\(s.baud) \(s.dataBits)\(s.parity.rawValue.prefix(1).uppercased())\(s.stopBits)"
    }

    static func nowNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

func sleepMs(_ ms: Int) {
    if ms > 0 { sleepNs(Int64(ms) * 1_000_000) }
}

func sleepNs(_ ns: Int64) {
    var request = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
