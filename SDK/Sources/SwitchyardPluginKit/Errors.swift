import CSwitchyardPlugin

/// An error a plugin returns to the host: a status code and a message the
/// operator can act on. Any other Swift error thrown by a plugin reaches the
/// host as `.internal` with its description. The kit catches both at the
/// boundary: nothing unwinds into the host.
public struct PluginError: Error, Sendable, CustomStringConvertible {
    /// The status code the host receives: the header's `SY_ERR_*`.
    public enum Code: Int32, Sendable {
        /// `SY_ERR_INVALID`: bad parameters or instance config.
        case invalid = 1
        /// `SY_ERR_NEEDS_RECREATE`: `configure` cannot apply it hot.
        case needsRecreate = 2
        /// `SY_ERR_IO`: device communication failed.
        case io = 3
        /// `SY_ERR_UNAVAILABLE`: a channel or device is not available.
        case unavailable = 4
        /// `SY_ERR_CONFLICT`: a setpoint was already set this cycle.
        case conflict = 5
        /// `SY_ERR_INTERNAL`: a bug in the plugin; any other Swift error.
        case `internal` = 6
        /// `SY_ERR_UNSUPPORTED`: the function or class is not supported.
        case unsupported = 7
    }

    /// The status code the host receives.
    public var code: Code
    /// What the operator reads: what is wrong, what to do.
    public var message: String

    /// [thread-safe] An error with `code` and `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// [thread-safe] An error with code `.invalid`: bad parameters or config.
    public static func invalid(_ message: String) -> PluginError { PluginError(.invalid, message) }
    /// [thread-safe] An error with code `.io`: device communication failed.
    public static func io(_ message: String) -> PluginError { PluginError(.io, message) }

    /// The message alone, as the host shows it.
    public var description: String { message }
}

/// Copies `message` into a caller-owned buffer, truncated at a UTF-8 boundary
/// and always NUL-terminated.
func copyMessage(_ message: String, to buffer: UnsafeMutablePointer<CChar>?, capacity: Int) {
    guard let buffer, capacity > 0 else { return }
    var bytes = Array(message.utf8)
    if bytes.count > capacity - 1 {
        var end = capacity - 1
        while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
        bytes = Array(bytes[..<end])
    }
    bytes.withUnsafeBufferPointer { source in
        source.withMemoryRebound(to: CChar.self) { chars in
            buffer.update(from: chars.baseAddress!, count: chars.count)
        }
    }
    buffer[bytes.count] = 0
}

/// Runs a plugin call, turning any thrown error into a status code and message.
func guarded(_ error: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ body: () throws -> Void) -> sy_status {
    do {
        try body()
        return SY_OK
    } catch let e as PluginError {
        copyMessage(e.message, to: error, capacity: capacity)
        return e.code.rawValue
    } catch let e {
        copyMessage("\(e)", to: error, capacity: capacity)
        return SY_ERR_INTERNAL
    }
}
