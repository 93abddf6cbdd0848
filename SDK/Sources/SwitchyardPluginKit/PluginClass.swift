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
///
/// The static members become the class's entry in the manifest; the kit reads
/// them once, when the entry function first builds the descriptor.
public protocol PluginClass: AnyObject {
    /// The class name configs refer to (`"class"` of a controller, `driver`
    /// of a profile). Unique across all loaded plugins.
    static var className: String { get }
    /// One line for `switchyard plugin inspect` (the manifest's `description`).
    static var summary: String { get }
    /// The parameter schema; the host validates every instance's
    /// parameters against it and fills in defaults before `init`.
    static var parameters: [Parameter] { get }

    /// [control] Creates an instance (the ABI's `create`). Resolve channels
    /// and read parameters here; throw `PluginError.invalid` for parameters
    /// the schema cannot express, `.unavailable` for a missing channel. A
    /// throw refuses the whole config transaction, and the previous config
    /// keeps running.
    init(host: HostContext, config: InstanceConfig) throws

    /// A change of parameters marked `hot` only (the ABI's `configure`).
    /// Return `.applied` when this instance now uses them, `.needsRecreate`
    /// for a new instance. A controller's is called [control], between two
    /// cycles; a driver's on its device's worker thread between two of its
    /// [io] calls (never during a poll). A throw refuses the whole change.
    func configure(_ parameters: Parameters) throws -> Reconfiguration
}

extension PluginClass {
    /// [control] (a driver's: [io]) Applies nothing hot: every change
    /// creates a new instance.
    public func configure(_ parameters: Parameters) throws -> Reconfiguration { .needsRecreate }
}

/// A controller: runs every cycle on the cycle thread, reads the process
/// image and writes setpoints. Must not block or do I/O.
public protocol Controller: PluginClass {
    /// [cycle] Runs once per cycle, in `execution_order`: read values with
    /// `HostContext.value`/`read`, request setpoints with `write`. Must not
    /// block or do I/O. A throw counts as a failed cycle: it is logged, and
    /// after `controller_failure_limit` failures in a row the supervisor
    /// disables the controller.
    func execute(_ cycle: CycleInfo) throws
}

/// A device driver: runs on the device's own I/O worker thread.
public protocol Driver: PluginClass {
    /// The schema of the device's `connection` object, or nil if none is taken.
    static var connection: [Parameter]? { get }
    /// [io] Connect. Called again after failures, with backoff; a throw
    /// turns the device's channels fault until a later `start` succeeds.
    func start() throws
    /// [io] Read one poll group (a name from `InstanceConfig.pollGroups`)
    /// and publish its values with `HostContext.publish`. A throw is a
    /// failed attempt, and the worker backs off: with `.io` it also calls
    /// `stop` and connects again with `start`; any other code keeps the
    /// connection.
    func poll(group: String) throws
    /// [io] Write setpoints: all pending ones at once, sorted by channel
    /// handle, before the next poll. Throw for any setpoint the device
    /// refused; never drop one silently.
    func write(_ setpoints: [Setpoint]) throws
    /// [io] Disconnect. `start` may follow.
    func stop()
}

extension Driver {
    /// No connection object.
    public static var connection: [Parameter]? { nil }
    /// [io] Nothing to connect.
    public func start() throws {}
    /// [io] Nothing to disconnect.
    public func stop() {}
}

/// The cycle a controller's `execute` runs in (the ABI's `sy_cycle_context`).
public struct CycleInfo: Sendable {
    /// Counts cycles from 0 since the host started.
    public var index: UInt64
    /// When this cycle was due to start, on the host's monotonic clock (ns).
    public var deadlineNs: Int64
    /// The wall clock at the cycle's start, ns since the Unix epoch.
    public var wallClockNs: Int64
    /// The configured cycle period (ns).
    public var periodNs: Int64

    /// The configured cycle period in seconds: what a ramp per second is
    /// multiplied by.
    public var periodSeconds: Double { Double(periodNs) / 1e9 }
}

/// A setpoint handed to a driver's `write`: the newest value a controller
/// requested for one of the device's channels.
public struct Setpoint: Sendable {
    /// The channel's handle; compare it with `Channel.handle`.
    public var channel: Int32
    /// The requested value (`I64` and `BOOL` values converted).
    public var value: Double
}
