#if canImport(Glibc)
import Glibc
#endif

enum MonotonicTime {
    /// Seconds on a clock that never goes back (rate limiting, cache ages).
    static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Unix seconds (audit times, envelopes).
    static func wallSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

enum Concurrency {
    /// Cores online: how many tasks CPU-bound work is spread over.
    static let cores: Int = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
}
