#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify protocol without libsystemd: one datagram of `KEY=value`
/// lines to the AF_UNIX socket systemd names in `NOTIFY_SOCKET`, so that a
/// `Type=notify` unit knows when the edge is ready, what it is doing, and
/// (with `WatchdogSec=`) that it still makes progress.
///
/// Without `NOTIFY_SOCKET` every call does nothing. Every failure is ignored:
/// telling systemd is never worth stopping the edge. Immutable, so usable
/// from any thread; each call opens and closes its own socket.
struct SystemdNotifier: Sendable {
    /// `NOTIFY_SOCKET`: a path, or an abstract socket (`@name`); nil when
    /// absent or in a form not supported here (such as `vsock:`).
    let socketPath: String?
    /// `WATCHDOG_USEC`, when the watchdog is meant for this process (no
    /// `WATCHDOG_PID`, or ours). Call `watchdog()` every half interval, and
    /// only while the core cycle makes progress: a hung cycle must get the
    /// process restarted.
    let watchdogInterval: Duration?

    /// From the process environment.
    init() {
        var environment: [String: String] = [:]
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        self.init(environment: environment, pid: getpid())
    }

    init(environment: [String: String], pid: pid_t) {
        let socket = environment["NOTIFY_SOCKET"]
        socketPath = socket.flatMap { $0.hasPrefix("/") || $0.hasPrefix("@") ? $0 : nil }
        // A child of the main process inherits the variables but is not the
        // one systemd watches: WATCHDOG_PID says who is.
        let forUs = environment["WATCHDOG_PID"].map { pid_t($0) == pid } ?? true
        if socketPath != nil, forUs, let usec = environment["WATCHDOG_USEC"].flatMap({ Int64($0) }), usec > 0 {
            watchdogInterval = .microseconds(usec)
        } else {
            watchdogInterval = nil
        }
    }

    /// Startup is complete: systemd starts the units ordered after this one.
    func ready() { send("READY=1") }

    /// The edge is alive; systemd restarts it when a `WatchdogSec=` passes without one.
    func watchdog() { send("WATCHDOG=1") }

    /// A stop has begun (a SIGTERM, the end of `--duration`).
    func stopping() { send("STOPPING=1") }

    private func send(_ message: String) {
        guard let socketPath else { return }
        var path = Array(socketPath.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }  // the abstract namespace: a leading NUL, no terminating one
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.count + (abstract ? 0 : 1) <= MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + path.count + (abstract ? 0 : 1))

        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        // A busy systemd must not stall the caller for long; a dropped ping
        // is covered by the next one.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let payload = Array(message.utf8)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, payload, payload.count, Int32(MSG_NOSIGNAL), $0, length)
            }
        }
    }
}
