import CSwitchyardPlugin
import SwitchyardJSON
import SwitchyardModel

#if canImport(Glibc)
import Glibc
#endif

/// The driver conformance suite (`switchyard plugin test`): loads a driver
/// library with the host's loader and exercises one instance of the class
/// its profile names the way the edge does — create, start, poll every poll
/// group, write every writable channel, hot `configure`, bad parameters,
/// stop while a poll runs, repeated start/stop, destroy — while a recording
/// host table (`ConformanceHost`) checks the header's thread rules and every
/// published value. Every plugin call runs on a thread of the suite's own
/// (`create`/`destroy` on a control thread, the rest on an I/O thread, as
/// the edge does) with a deadline: a call that does not return in time
/// fails its check, and the checks after it are skipped.
///
/// The plugin runs in this process: a crash of the plugin ends the run (and
/// the process), as it would end the edge.
public enum DriverConformance {
    public struct Options: Sendable {
        /// The longest any one plugin call may take.
        public var callTimeoutMs = 5_000
        public var pollsPerGroup = 3
        public var startStopCycles = 20
        /// How long to watch for host calls after `stop` and `destroy` returned.
        public var quietPeriodMs = 200
        public init() {}
    }

    /// Runs every check against `library`'s class for `profile`, with the
    /// device entry `device` (see `deviceConfig`; `source` names it in
    /// errors). Throws only for input that does not validate; a plugin that
    /// misbehaves fails checks.
    public static func run(library: String, profile: DeviceProfile, device: JSONValue, source: String,
                           options: Options = Options()) throws(InputError) -> ConformanceReport {
        var report = ConformanceReport(library: library, className: profile.driver, profileId: profile.id)
        let plugin: LoadedPlugin
        do {
            plugin = try LoadedPlugin.load(library)
        } catch {
            report.checks.append(.init("load", .fail, error.description))
            return report
        }
        report.pluginId = plugin.id
        report.pluginVersion = plugin.version
        guard plugin.kind == .driver else {
            report.checks.append(.init("load", .fail, "\(plugin.id) is a \(plugin.kind.rawValue) plugin; the suite tests drivers"))
            return report
        }
        guard let entry = plugin.manifest.classes.first(where: { $0.name == profile.driver }) else {
            let offered = plugin.manifest.classes.map(\.name).joined(separator: ", ")
            report.checks.append(.init("load", .fail, "profile \(profile.id) names driver class \"\(profile.driver)\"; \(plugin.id) provides \(offered)"))
            return report
        }
        report.checks.append(.init("load", .pass, "\(plugin.id) \(plugin.version), ABI \(plugin.abiMajor).\(plugin.abiMinor), class \(entry.name)"))
        let resolved = try resolve(device: device, source: source, profile: profile, plugin: plugin)
        let session = ConformanceSession(plugin: plugin, device: resolved, schema: entry.parameters, connectionSchema: entry.connection,
                                         options: options)
        report.checks += session.run()
        return report
    }
}

/// What one plugin call returned.
struct CallResult: Sendable {
    var status: sy_status
    var message: String

    var ok: Bool { status == SY_OK }
    var described: String { message.isEmpty ? statusName(status) : "\(message) (\(statusName(status)))" }
}

/// A plugin's instance pointer, handed between the suite's threads. Calls on
/// it never overlap: each waits for the one before (or the suite stops
/// calling after a timeout).
struct InstanceHandle: @unchecked Sendable {
    let raw: sy_instance
}

/// One run of the suite against one instance (and a few short-lived ones for
/// the bad-parameter checks).
/// Used only on the thread that runs the suite: the closures it hands its
/// call threads capture the plugin, the host and plain values, never it.
final class ConformanceSession {
    let plugin: LoadedPlugin
    let device: ResolvedConfig.Device
    let schema: ParameterSchema
    /// The class's `connection` schema, if it takes one.
    let connectionSchema: ParameterSchema?
    let options: Options
    let control = CallThread(name: "conformance control")
    let io = CallThread(name: "conformance io")
    let startNs = SystemClock().monotonicNs()
    var hosts: [ConformanceHost] = []
    /// Set when a call did not return: no further call can be made.
    var stuck: String?
    var checks: [ConformanceCheck] = []

    typealias Options = DriverConformance.Options

    init(plugin: LoadedPlugin, device: ResolvedConfig.Device, schema: ParameterSchema, connectionSchema: ParameterSchema?, options: Options) {
        self.plugin = plugin
        self.device = device
        self.schema = schema
        self.connectionSchema = connectionSchema
        self.options = options
    }

    var timeoutNs: Int64 { Int64(options.callTimeoutMs) * 1_000_000 }
    var descriptor: UnsafePointer<sy_plugin_descriptor> { plugin.descriptor }

    func record(_ name: String, _ outcome: ConformanceCheck.Outcome, _ reason: String) {
        checks.append(ConformanceCheck(name, outcome, reason))
    }

    /// Runs `body` as `phase` of `host`'s instance on `thread`; nil (and
    /// the session stuck) when it does not return in time.
    func call<T: Sendable>(_ thread: CallThread, _ host: ConformanceHost, _ phase: ConformancePhase, after: ConformancePhase = .idle,
                           _ body: @escaping @Sendable () -> T) -> T? {
        let result = thread.call(timeoutNs: timeoutNs) {
            host.enter(phase)
            defer { host.leave(to: after) }
            return body()
        }
        if result == nil { stuck = "\(phase.rawValue) did not return within \(options.callTimeoutMs) ms" }
        return result
    }

    /// Runs a call that reports a status and a message into an error buffer.
    func statusCall(_ thread: CallThread, _ host: ConformanceHost, _ phase: ConformancePhase,
                    _ body: @escaping @Sendable (UnsafeMutablePointer<CChar>, Int) -> sy_status) -> CallResult? {
        call(thread, host, phase) {
            let error = UnsafeMutablePointer<CChar>.allocate(capacity: 1024)
            defer { error.deallocate() }
            error[0] = 0
            let status = body(error, 1024)
            return CallResult(status: status, message: boundedString(error, 1023))
        }
    }

    /// `create` on the control thread, with its own host table. `connection`
    /// replaces the device's.
    func create(_ parameters: JSONValue, connection: JSONValue? = nil) -> (CallResult, InstanceHandle?, ConformanceHost)? {
        let host = ConformanceHost(deviceId: device.id, profile: device.profile, startNs: startNs)
        hosts.append(host)
        let text = DriverConformance.instanceConfig(device, parameters: parameters, connection: connection).canonicalText
        let className = device.profile.driver
        let plugin = plugin
        let table = UnsafeHostTable(pointer: host.table)
        let result = call(control, host, .create) { () -> (CallResult, InstanceHandle?) in
            let error = UnsafeMutablePointer<CChar>.allocate(capacity: 1024)
            defer { error.deallocate() }
            error[0] = 0
            var out: sy_instance?
            let status = text.withCString { json in
                className.withCString { plugin.descriptor.pointee.create(table.pointer, $0, json, &out, error, 1024) }
            }
            return (CallResult(status: status, message: boundedString(error, 1023)), out.map(InstanceHandle.init))
        }
        return result.map { ($0.0, $0.1, host) }
    }

    func destroy(_ instance: InstanceHandle, _ host: ConformanceHost) -> Bool {
        let plugin = plugin
        return call(control, host, .destroy, after: .destroyed) { plugin.descriptor.pointee.destroy(instance.raw) } != nil
    }

    func start(_ instance: InstanceHandle, _ host: ConformanceHost) -> CallResult? {
        let plugin = plugin
        return statusCall(io, host, .start) { plugin.descriptor.pointee.driver.pointee.start(instance.raw, $0, $1) }
    }

    func poll(_ instance: InstanceHandle, _ host: ConformanceHost, _ group: String) -> CallResult? {
        let plugin = plugin
        return statusCall(io, host, .poll) { error, capacity in
            group.withCString { plugin.descriptor.pointee.driver.pointee.poll(instance.raw, $0, error, capacity) }
        }
    }

    func stop(_ instance: InstanceHandle, _ host: ConformanceHost) -> Bool {
        let plugin = plugin
        return call(io, host, .stop) { plugin.descriptor.pointee.driver.pointee.stop(instance.raw) } != nil
    }

    func configure(_ instance: InstanceHandle, _ host: ConformanceHost, _ parameters: JSONValue) -> CallResult? {
        let plugin = plugin
        let text = parameters.canonicalText
        return statusCall(io, host, .configure) { error, capacity in
            text.withCString { plugin.descriptor.pointee.configure(instance.raw, $0, error, capacity) }
        }
    }

    func write(_ instance: InstanceHandle, _ host: ConformanceHost, handle: Int32, value: Double) -> CallResult? {
        let plugin = plugin
        let now = SystemClock().monotonicNs()
        return statusCall(io, host, .write) { error, capacity in
            var setpoint = sy_setpoint(channel: handle, value: sy_value(type: SY_VALUE_F64, quality: SY_QUALITY_GOOD, timestamp_ns: now, f64: value, i64: 0))
            return plugin.descriptor.pointee.driver.pointee.write(instance.raw, &setpoint, 1, error, capacity)
        }
    }

    func sleepMs(_ ms: Int) {
        let clock = SystemClock()
        clock.sleep(untilNs: clock.monotonicNs() + Int64(ms) * 1_000_000)
    }

    /// Rows for the checks that cannot run once the session is stuck or the
    /// instance is gone.
    func skip(_ names: [String], _ why: String) {
        for name in names { record(name, .skip, "not run: \(why)") }
    }
}

/// The host table handed to `create` from the control thread. The table
/// lives as long as the process (see `ConformanceHost`).
struct UnsafeHostTable: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<sy_host_api>
}
