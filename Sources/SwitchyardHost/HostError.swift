/// An error of the host: a code to branch on, a message an operator can act
/// on, and the file it concerns when there is one.
public struct HostError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidConfig = "invalid_config"
        case instanceCreation = "instance_creation"
        /// A plugin refused a hot parameter change in `configure`.
        case configureRefused = "configure_refused"
        case pluginLoad = "plugin_load"
        case io
        case notRunning = "not_running"
        case timeout
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
