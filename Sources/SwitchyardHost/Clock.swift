#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The time source of the core cycle and of everything that runs in it.
/// `SystemClock` in production, `ManualClock` in tests: with a manual clock a
/// test runs simulated hours in milliseconds and gets the same numbers every
/// time.
public protocol CycleClock: Sendable {
    /// Monotonic time in ns.
    func monotonicNs() -> Int64
    /// Wall-clock time in ns since the Unix epoch.
    func wallClockNs() -> Int64
    /// Blocks until the monotonic clock reaches `deadlineNs` (absolute, so
    /// that wake-up jitter never accumulates).
    func sleep(untilNs deadlineNs: Int64)
}

public struct SystemClock: CycleClock {
    public init() {}

    public func monotonicNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    public func wallClockNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    public func sleep(untilNs deadlineNs: Int64) {
        var ts = timespec(tv_sec: Int(deadlineNs / 1_000_000_000), tv_nsec: Int(deadlineNs % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
    }
}

/// A clock that moves only when told to. `sleep(untilNs:)` jumps straight to
/// the deadline, so a cycle loop on this clock runs as fast as the CPU allows.
public final class ManualClock: CycleClock {
    private let state: Mutex<Int64>
    /// Wall-clock time at monotonic zero.
    public let wallClockOriginNs: Int64

    public init(startNs: Int64 = 0, wallClockOriginNs: Int64 = 1_767_225_600_000_000_000) {
        state = Mutex(startNs)
        self.wallClockOriginNs = wallClockOriginNs
    }

    public func monotonicNs() -> Int64 { state.withLock { $0 } }
    public func wallClockNs() -> Int64 { wallClockOriginNs + monotonicNs() }

    public func sleep(untilNs deadlineNs: Int64) {
        state.withLock { $0 = max($0, deadlineNs) }
    }

    public func advance(byNs delta: Int64) {
        state.withLock { $0 += delta }
    }
}
