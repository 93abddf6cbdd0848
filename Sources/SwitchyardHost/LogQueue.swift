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
