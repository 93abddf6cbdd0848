import Logging
import Synchronization

/// Log lines from the cycle and device threads are queued here and written by
/// a separate thread, so that writing to a terminal or a journal never blocks
/// the cycle. Bounded: when full, lines are counted as dropped, not queued.
public final class LogQueue: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var source: String
        var message: String
    }

    private let lines = Mutex<(queued: [Line], dropped: Int)>(([], 0))
    private let capacity: Int
    private let logger: Logger

    public init(logger: Logger, capacity: Int = 4096) {
        self.logger = logger
        self.capacity = capacity
    }

    public func emit(_ level: Logger.Level, _ source: String, _ message: String) {
        guard level >= logger.logLevel else { return }
        lines.withLock { state in
            if state.queued.count < capacity {
                state.queued.append(Line(level: level, source: source, message: message))
            } else {
                state.dropped += 1
            }
        }
    }

    /// Like `emit`, for a line a device or plugin may repeat every cycle (a
    /// refused setpoint, a plugin's warning): the first is logged; the same
    /// line from the same source within the next minute is only counted; the
    /// first repeat after that minute is logged with the count, and starts
    /// the next minute. Lines are the same when their text is, or, with
    /// `kind`, when their kind is (a refusal whose value changes each cycle).
    /// `nowNs` is the caller's monotonic clock.
    public func emitLimited(_ level: Logger.Level, _ source: String, _ message: String, kind: String? = nil, nowNs: Int64) {
        guard level >= logger.logLevel else { return }
        let suppressed = repeats.withLock { $0.admit(source + "\u{0}" + (kind ?? message), nowNs: nowNs) }
        guard let suppressed else { return }
        let count = suppressed.count
        let note = kind == nil ? "repeated \(count) time\(count == 1 ? "" : "s")" : "\(count) more like it"
        emit(level, source, count == 0 ? message : "\(message) (\(note) in the last \(suppressed.seconds) s)")
    }

    /// Lets the next line of `source` through at once: the condition it
    /// repeated ended (writes are accepted again) and may come back.
    public func forgetRepeats(of source: String) {
        repeats.withLock { $0.forget(prefix: source + "\u{0}") }
    }

    private let repeats = Mutex(RepeatLimiter())

    /// Writes out everything queued. Called by the flusher thread, and on shutdown.
    public func flush() {
        let (queued, dropped) = lines.withLock { state in
            defer { state = ([], 0) }
            return state
        }
        for line in queued {
            logger.log(level: line.level, "\(line.message)", metadata: ["source": "\(line.source)"])
        }
        if dropped > 0 { logger.warning("\(dropped) log lines dropped: the log queue was full") }
    }
}

/// Which repeated lines to let through: at most one per key a minute, with
/// the count of the ones held back. Bounded: the least recently logged keys
/// are forgotten first.
struct RepeatLimiter {
    static let windowNs: Int64 = 60_000_000_000
    static let capacity = 256

    private var entries: [String: (loggedNs: Int64, held: Int)] = [:]

    /// nil: hold this line back. Otherwise log it, saying how many were held
    /// back over how many seconds since the last one logged.
    mutating func admit(_ key: String, nowNs: Int64) -> (count: Int, seconds: Int)? {
        if var entry = entries[key] {
            if nowNs &- entry.loggedNs < Self.windowNs {
                entry.held += 1
                entries[key] = entry
                return nil
            }
            entries[key] = (nowNs, 0)
            return (entry.held, Int((nowNs &- entry.loggedNs) / 1_000_000_000))
        }
        if entries.count >= Self.capacity, let oldest = entries.min(by: { $0.value.loggedNs < $1.value.loggedNs }) {
            entries[oldest.key] = nil
        }
        entries[key] = (nowNs, 0)
        return (0, 0)
    }

    /// Forgets the keys starting with `prefix`, so that their next line is
    /// logged at once.
    mutating func forget(prefix: String) {
        for key in entries.keys where key.hasPrefix(prefix) { entries[key] = nil }
    }
}
