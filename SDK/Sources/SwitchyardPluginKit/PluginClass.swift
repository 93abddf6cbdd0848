import SwitchyardJSON

/// What the host hands a new instance (the instance config of the ABI).
public struct InstanceConfig: Sendable {
    /// The controller id, or the device id for a driver.
    public var id: String
    /// The instance's parameters, validated against the class's schema,
    /// defaults filled in. For a driver: the profile's `parameters`
    /// overridden by the device's.
    public var parameters: Parameters
    /// Drivers: the device profile document.
    public var profile: JSONValue?
    /// Drivers: the device's `connection` object.
    public var connection: JSONValue?
    /// Drivers: poll group name → channel names.
    public var pollGroups: [String: [String]]
    /// Drivers: a folder of this device's own that survives restarts (for
    /// caches such as a discovered register map), when the host has one.
    /// It may not exist yet; the driver creates it.
    public var dataDirectory: String?
}

/// The outcome of a hot parameter change.
public enum Reconfiguration: Sendable {
    /// The running instance now uses the new parameters.
    case applied
    /// The change needs a new instance: the host creates one with the new
    /// parameters and swaps it in at the same cycle boundary.
    case needsRecreate
}

/// A class a plugin provides. One instance is created per controller or
/// device in the config.
public protocol PluginClass: AnyObject {
    /// The class name configs use. Unique across all loaded plugins.
    static var className: String { get }
    /// One line for `plugin inspect` (the manifest's `description`).
    static var summary: String { get }
    /// The schema the host checks parameters against (defaults filled in).
    static var parameters: [Parameter] { get }

    /// [control] Resolve channels and read parameters here; throw
    /// `PluginError.invalid` for parameters the schema cannot express.
    /// A throw refuses the whole config; the previous one keeps running.
    init(host: HostContext, config: InstanceConfig) throws

    /// [control] A parameter change. The default applies nothing hot.
    /// Only `hot` parameters changed; return `.applied` or `.needsRecreate`.
    /// A driver's runs on its [io] thread, between polls. A throw refuses
    /// the whole change.
    func configure(_ parameters: Parameters) throws -> Reconfiguration

    /// [thread-safe] The class's own checks of an instance config, without
    /// an instance (ABI 1.2 `validate`): throw `PluginError.invalid` with a
    /// message naming the field for what `init` would refuse and the schema
    /// cannot express (`min_soc` not below `max_soc`, an empty time window).
    /// `config` is what `init` would get, without `dataDirectory`. The host
    /// runs it wherever a config is validated (`switchyard-edge check`,
    /// `switchyard config validate`, every apply, the sync agent), possibly
    /// on several threads at once: no I/O, no host calls, no shared state,
    /// never block, never trap. The kit calls it once with an empty config
    /// when the plugin is loaded, to learn whether the class has checks of
    /// its own: throwing is the right answer to that one. The default
    /// accepts every config (a plugin whose classes all keep it exports no
    /// `validate`, so the host skips them).
    static func validate(_ config: InstanceConfig) throws
}

extension PluginClass {
    /// [control] Applies nothing hot: every change recreates.
    public func configure(_ parameters: Parameters) throws -> Reconfiguration { .needsRecreate }
    /// [thread-safe] Accepts every config. It throws a marker only the kit sees: that is
    /// how the kit tells a class without checks of its own, whose configs it
    /// then accepts without parsing them.
    public static func validate(_ config: InstanceConfig) throws { throw AcceptsEverything() }
}

/// Thrown by the default `validate`; the kit turns it into an acceptance.
struct AcceptsEverything: Error {}

/// A controller: runs every cycle on the cycle thread, reads the process
/// image and writes setpoints. Must not block or do I/O.
public protocol Controller: PluginClass {
    /// [cycle]
    /// Once per cycle, in `execution_order`. A throw is a failed cycle;
    /// `controller_failure_limit` in a row disable the controller.
    func execute(_ cycle: CycleInfo) throws
}

/// A device driver: runs on the device's own I/O worker thread.
public protocol Driver: PluginClass {
    /// The schema of the device's `connection` object, or nil if none is taken.
    static var connection: [Parameter]? { get }
    /// [io] Connect. Called again after failures, with backoff.
    func start() throws
    /// [io] Read one poll group and publish its values.
    /// A throw backs off; with `.io` the host also calls `stop`, then `start`.
    func poll(group: String) throws
    /// [io] Write setpoints. Throw for any setpoint the device refused.
    /// All pending ones at once, sorted by handle, before the next poll.
    func write(_ setpoints: [Setpoint]) throws
    /// [io] Disconnect.
    func stop()
}

extension Driver {
    /// None.
    public static var connection: [Parameter]? { nil }
    /// [io] Nothing.
    public func start() throws {}
    /// [io] Nothing.
    public func stop() {}
}

/// The cycle `execute` runs in (`sy_cycle_context`).
public struct CycleInfo: Sendable {
    /// Counts the host's cycles; the first is 1.
    public var index: UInt64
    /// When the cycle was due (monotonic ns).
    public var deadlineNs: Int64
    /// Wall clock at its start (Unix ns).
    public var wallClockNs: Int64
    /// The cycle period (ns).
    public var periodNs: Int64

    /// The cycle period (s).
    public var periodSeconds: Double { Double(periodNs) / 1e9 }
}

/// The newest value requested for a channel.
public struct Setpoint: Sendable {
    /// Compare it with `Channel.handle`.
    public var channel: Int32
    /// The requested value.
    public var value: Double
}
