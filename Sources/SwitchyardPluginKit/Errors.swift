import CSwitchyardPlugin

/// An error a plugin returns to the host: a status code and a message the
/// operator can act on. Any other Swift error thrown by a plugin reaches the
/// host as `.internal` with its description.
public struct PluginError: Error, Sendable, CustomStringConvertible {
    public enum Code: Int32, Sendable {
        case invalid = 1, needsRecreate = 2, io = 3, unavailable = 4, conflict = 5, `internal` = 6, unsupported = 7
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func invalid(_ message: String) -> PluginError { PluginError(.invalid, message) }
    public static func io(_ message: String) -> PluginError { PluginError(.io, message) }

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
