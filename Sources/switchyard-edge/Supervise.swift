#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SwitchyardAgent

/// `switchyard-edge run --supervise`: the edge's own restart loop, for systems
/// without systemd. The edge runs as a child of this process, so a crash (a
/// fatal signal, a Swift trap, a non-zero exit) costs a restart, not the site.
/// Under systemd use `Restart=always` instead: it also covers this process.
enum ProcessSupervisor {
    static let forwardedSignals = [SIGTERM, SIGINT, SIGHUP]

    /// Runs `/proc/self/exe` with `arguments` (the command line after the
    /// program name, without `--supervise`) and `SWITCHYARD_SUPERVISED=1`, and
    /// starts it again after each crash. Returns once a child exited with
    /// status 0, or exited after a forwarded SIGTERM or SIGINT: the status to
    /// exit with, 128 + n for a child that died of signal n (as a shell shows
    /// it). Blocks the calling thread; owns the handlers of SIGTERM, SIGINT,
    /// SIGHUP and SIGCHLD from the first call on.
    static func run(arguments: [String]) -> Int32 {
        installForwarding()
        let argv = [CommandLine.arguments.first ?? "switchyard-edge"] + arguments
        let environment = currentEnvironment().filter { !$0.hasPrefix("SWITCHYARD_SUPERVISED=") } + ["SWITCHYARD_SUPERVISED=1"]
        let clock = ContinuousClock()
        var backoff = RestartBackoff()
        var restarts = 0
        while true {
            let started = clock.now
            guard let pid = spawn(argv, environment: environment) else { return 127 }
            supervisedChild.store(pid, ordering: .sequentiallyConsistent)
            // A stop that came before the handlers could know the pid.
            let early = stopSignal.load(ordering: .sequentiallyConsistent)
            if early != 0 { kill(pid, early) }
            let exit = waitForExit(pid)
            if exit == .exited(0) || stopSignal.load(ordering: .sequentiallyConsistent) != 0 { return exit.exitStatus }
            let delay = backoff.delay(afterRunOf: clock.now - started)
            restarts += 1
            let tenths = Int((delay / .milliseconds(100)).rounded())
            report("the edge \(exit); restarting in \(tenths / 10).\(tenths % 10) s (restart \(restarts))")
            guard sleep(until: clock.now + delay, clock) else { return 0 }
        }
    }

    /// The handlers only forward, so they touch nothing but two atomics and
    /// kill(2), which are async-signal-safe. SIGCHLD goes back to its default:
    /// a parent that ignores it would make the kernel reap our child for us.
    private static func installForwarding() {
        // Initialise the globals here: lazy initialisation is not signal-safe.
        supervisedChild.store(0, ordering: .sequentiallyConsistent)
        stopSignal.store(0, ordering: .sequentiallyConsistent)
        for s in forwardedSignals {
            signal(s) { sig in
                if sig != SIGHUP { stopSignal.store(sig, ordering: .sequentiallyConsistent) }
                let child = supervisedChild.load(ordering: .sequentiallyConsistent)
                if child > 0 { kill(child, sig) }  // never 0: kill(0, …) signals our whole group
            }
        }
        signal(SIGCHLD, SIG_DFL)
        var set = signalSet(forwardedSignals)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    private static func signalSet(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        return set
    }

    /// posix_spawn, not Foundation's Process, for exact control of the child's
    /// signal state: exec keeps the signal mask and ignored signals (nohup
    /// ignores SIGHUP), and the edge must stop and reload on these signals.
    private static func spawn(_ argv: [String], environment: [String]) -> pid_t? {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noneBlocked = signalSet([]), defaults = signalSet(forwardedSignals)
        posix_spawnattr_setsigmask(&attributes, &noneBlocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result = withCStrings(argv) { args in
            withCStrings(environment) { env in posix_spawn(&pid, "/proc/self/exe", nil, &attributes, args, env) }
        }
        guard result == 0 else {
            report("cannot start /proc/self/exe: \(String(cString: strerror(result)))")
            return nil
        }
        return pid
    }

    /// Waits without reaping (WNOWAIT), forgets the pid, then reaps: a signal
    /// forwarded in between can never reach a process that reuses the pid.
    private static func waitForExit(_ pid: pid_t) -> ChildExit {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1, errno == EINTR {}
        supervisedChild.store(0, ordering: .sequentiallyConsistent)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        return ChildExit(waitStatus: status)
    }

    /// Sleeps in short steps, so a stop during the backoff is seen at once
    /// even when the signal interrupted another thread; false after a stop.
    private static func sleep(until deadline: ContinuousClock.Instant, _ clock: ContinuousClock) -> Bool {
        while clock.now < deadline, stopSignal.load(ordering: .sequentiallyConsistent) == 0 { usleep(50_000) }
        return stopSignal.load(ordering: .sequentiallyConsistent) == 0
    }

    /// One write(2) per line: unbuffered, and never interleaved with the child's.
    private static func report(_ message: String) {
        let line = "switchyard-edge: \(message)\n"
        _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
    }

    private static func currentEnvironment() -> [String] {
        var entries: [String] = []
        var cursor: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ  // NULL after clearenv()
        while let entry = cursor?.pointee {
            entries.append(String(cString: entry))
            cursor = cursor.map { $0 + 1 }
        }
        return entries
    }

    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }
}

/// The pid the signal handlers forward to (0: none) and the stop signal seen
/// (0: none). Globals, because a C signal handler can capture nothing.
private let supervisedChild = Atomic<pid_t>(0)
private let stopSignal = Atomic<Int32>(0)

/// How a child ended, decoded from a wait status (Swift does not import the
/// W* macros). No `.stopped`: the supervisor never waits with WUNTRACED.
enum ChildExit: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    init(waitStatus: Int32) {
        let signal = waitStatus & 0x7f
        self = signal == 0 ? .exited((waitStatus >> 8) & 0xff) : .signalled(signal)
    }

    var exitStatus: Int32 {
        switch self {
        case .exited(let status): status
        case .signalled(let signal): 128 + signal
        }
    }

    var description: String {
        switch self {
        case .exited(let status): "exited with status \(status)"
        case .signalled(let signal): "exited on signal \(signal) (\(Self.names[signal] ?? String(cString: strsignal(signal))))"
        }
    }

    /// Swift does not import glibc's sigabbrev_np; these are the ones a crash or a stop shows.
    static let names: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT",
        SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE", SIGTERM: "SIGTERM",
        SIGXCPU: "SIGXCPU", SIGSYS: "SIGSYS",
    ]
}

/// When to start a crashed edge again: the agent's `Backoff` ceilings
/// without jitter (one process, nobody to spread from): 1 s, 2 s, 4 s … at
/// most 30 s, so a crash loop neither spins the CPU nor floods the log; back
/// to 1 s after a child that ran for a minute, so a rare crash of a healthy
/// edge costs one second.
struct RestartBackoff: Sendable {
    static let stableRun = Duration.seconds(60)
    private var backoff = Backoff(baseSeconds: 1, capSeconds: 30)

    /// The wait before the next start, given how long the crashed child ran.
    mutating func delay(afterRunOf runTime: Duration) -> Duration {
        if runTime >= Self.stableRun { backoff.reset() }
        defer { backoff.advance() }
        return .milliseconds(Int64(backoff.ceiling * 1000))
    }
}
