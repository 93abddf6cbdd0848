import Logging
import Synchronization

/// Keeps every log line a logger writes, for tests that check what the
/// edge says (`"<source>: <message>"`, level kept).
public final class LogCapture: Sendable {
    public struct Line: Sendable {
        public var level: Logger.Level
        public var source: String
        public var message: String
    }

    private let stored = Mutex<[Line]>([])

    public init() {}

    /// A logger at `level` writing here.
    public func logger(level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: "test") { _ in Handler(capture: self) }
        logger.logLevel = level
        return logger
    }

    public var lines: [Line] { stored.withLock { $0 } }

    /// The messages containing `text`, at `level` if given.
    public func matching(_ text: String, level: Logger.Level? = nil) -> [Line] {
        lines.filter { $0.message.contains(text) && (level == nil || $0.level == level) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let source = event.metadata?["source"].map { "\($0)" } ?? ""
            capture.stored.withLock { $0.append(Line(level: event.level, source: source, message: "\(event.message)")) }
        }
    }
}
