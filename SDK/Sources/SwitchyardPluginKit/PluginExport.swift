import CSwitchyardPlugin
import Synchronization
import SwitchyardJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds the C descriptor for a plugin's classes. Call it from the plugin's
/// entry function:
///
/// ```swift
/// @c @implementation
/// public func switchyard_plugin_entry_v1() -> UnsafePointer<sy_plugin_descriptor>! {
///     PluginExport.controllers(id: "acme.export-limit", version: "1.0.0", ExportLimit.self)
/// }
/// ```
///
/// The descriptor is built on the first call and returned on every later one;
/// it lives as long as the library is mapped, which for a Swift plugin is the
/// life of the process.
public enum PluginExport {
    /// [control] The descriptor of a controller plugin (`SY_KIND_CONTROLLER`)
    /// with plugin id `id` (e.g. `"acme.export-limit"`), semantic `version`
    /// and `classes`. Built on the first call; every later call returns the
    /// same pointer and ignores its arguments.
    public static func controllers(id: String, version: String, _ classes: any Controller.Type...) -> UnsafePointer<sy_plugin_descriptor> {
        export(id: id, version: version, kind: SY_KIND_CONTROLLER, classes: classes)
    }

    /// [control] The descriptor of a driver plugin (`SY_KIND_DRIVER`); as
    /// `controllers(id:version:_:)`.
    public static func drivers(id: String, version: String, _ classes: any Driver.Type...) -> UnsafePointer<sy_plugin_descriptor> {
        export(id: id, version: version, kind: SY_KIND_DRIVER, classes: classes)
    }

    /// [thread-safe] The manifest JSON the descriptor carries for `classes`
    /// (for tests and tools; the entry functions build it themselves).
    public static func manifest(_ classes: [any PluginClass.Type]) -> JSONValue {
        .object(["classes": .array(classes.map { type in
            var entry: [String: JSONValue] = [
                "name": .string(type.className),
                "description": .string(type.summary),
                "parameters": Parameter.objectSchema(type.parameters),
            ]
            if let driver = type as? any Driver.Type, let connection = driver.connection {
                entry["connection"] = Parameter.objectSchema(connection)
            }
            return .object(entry)
        })])
    }

    private static func export(id: String, version: String, kind: Int32, classes: [any PluginClass.Type]) -> UnsafePointer<sy_plugin_descriptor> {
        exported.withLock { state in
            if let existing = state { return existing.descriptor }
            var table: [String: any PluginClass.Type] = [:]
            for c in classes { table[c.className] = c }
            // A class with checks of its own answers anything but the
            // default's marker, even for an empty config (validate is pure).
            var validating: Set<String> = []
            for c in classes where hasOwnValidate(c) { validating.insert(c.className) }
            registry.withLock { $0 = ClassTable(classes: table, validating: validating) }
            let d = UnsafeMutablePointer<sy_plugin_descriptor>.allocate(capacity: 1)
            d.initialize(to: sy_plugin_descriptor(
                abi_major: UInt32(SY_ABI_MAJOR),
                abi_minor: UInt32(SY_ABI_MINOR),
                struct_size: UInt32(MemoryLayout<sy_plugin_descriptor>.size),
                kind: kind,
                plugin_id: UnsafePointer(strdup(id)),
                plugin_version: UnsafePointer(strdup(version)),
                manifest_json: UnsafePointer(strdup(manifest(classes).canonicalText)),
                create: createInstance,
                configure: configureInstance,
                destroy: destroyInstance,
                driver: kind == SY_KIND_DRIVER ? driverTable : nil,
                controller: kind == SY_KIND_CONTROLLER ? controllerTable : nil,
                validate: validating.isEmpty ? nil : validateInstance
            ))
            state = Descriptor(descriptor: UnsafePointer(d))
            return UnsafePointer(d)
        }
    }
}

/// Whether `type` declares a `validate` of its own: only the default throws
/// `AcceptsEverything`, whatever the config (validate is pure, so probing it
/// with an empty one is harmless).
private func hasOwnValidate(_ type: any PluginClass.Type) -> Bool {
    let empty = InstanceConfig(id: "", parameters: Parameters([:]), profile: nil, connection: nil, pollGroups: [:], dataDirectory: nil)
    do {
        try type.validate(empty)
    } catch let error {
        return !(error is AcceptsEverything)
    }
    return true
}

/// The descriptor, built once. @unchecked: the pointee is immutable after
/// construction and never freed.
private struct Descriptor: @unchecked Sendable {
    let descriptor: UnsafePointer<sy_plugin_descriptor>
}

private let exported = Mutex<Descriptor?>(nil)
/// @unchecked: metatypes are immutable values; the table is replaced whole.
private struct ClassTable: @unchecked Sendable {
    var classes: [String: any PluginClass.Type] = [:]
    /// The classes with a `validate` of their own.
    var validating: Set<String> = []
}

private let registry = Mutex(ClassTable())

/// One live instance, behind the opaque `sy_instance` pointer.
final class InstanceBox {
    let object: any PluginClass
    let controller: (any Controller)?
    let driver: (any Driver)?
    let host: HostContext

    init(_ object: any PluginClass, host: HostContext) {
        self.object = object
        self.controller = object as? any Controller
        self.driver = object as? any Driver
        self.host = host
    }

    static func from(_ instance: sy_instance?) -> InstanceBox {
        Unmanaged<InstanceBox>.fromOpaque(instance!).takeUnretainedValue()
    }
}

private func string(_ pointer: UnsafePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}

private let createInstance: @convention(c) (
    UnsafePointer<sy_host_api>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafeMutablePointer<sy_instance?>?,
    UnsafeMutablePointer<CChar>?, Int
) -> sy_status = { host, className, configJSON, out, error, capacity in
    guarded(error, capacity) {
        guard let host, let out else { throw PluginError.invalid("create: host table or output pointer is NULL") }
        let name = string(className)
        guard let type = registry.withLock({ $0.classes[name] }) else {
            throw PluginError(.unsupported, "this plugin has no class \"\(name)\"")
        }
        let config = try instanceConfig(configJSON)
        try config.parameters.check(against: type.parameters)
        if let driver = type as? any Driver.Type, let connection = driver.connection {
            try Parameters(config.connection?.objectValue ?? [:]).check(against: connection, prefix: "connection")
        }
        let context = HostContext(host)
        let object = try type.init(host: context, config: config)
        out.pointee = Unmanaged.passRetained(InstanceBox(object, host: context)).toOpaque()
    }
}

/// The instance config JSON of `create` and `validate` as an `InstanceConfig`.
private func instanceConfig(_ text: UnsafePointer<CChar>?) throws(PluginError) -> InstanceConfig {
    let json: JSONValue
    do { json = try JSONValue(parsing: string(text)) } catch { throw PluginError.invalid("instance config is not JSON: \(error)") }
    var pollGroups: [String: [String]] = [:]
    for (group, members) in json["poll_groups"]?.objectValue ?? [:] {
        pollGroups[group] = members.arrayValue?.compactMap(\.stringValue) ?? []
    }
    return InstanceConfig(
        id: json["id"]?.stringValue ?? "",
        parameters: Parameters(json["parameters"]?.objectValue ?? [:]),
        profile: json["profile"],
        connection: json["connection"],
        pollGroups: pollGroups,
        dataDirectory: json["data_directory"]?.stringValue
    )
}

/// [thread-safe] `validate` (ABI 1.2): the class's static `validate`, inside
/// the same catch-all as every other call, so a thrown error is a refusal.
private let validateInstance: @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> sy_status = {
    className, configJSON, error, capacity in
    guarded(error, capacity) {
        let name = string(className)
        let (type, ownChecks) = registry.withLock { ($0.classes[name], $0.validating.contains(name)) }
        guard let type else { throw PluginError(.unsupported, "this plugin has no class \"\(name)\"") }
        // Without checks of its own, the config is not even parsed.
        guard ownChecks else { return }
        do { try type.validate(instanceConfig(configJSON)) } catch is AcceptsEverything {}
    }
}

private let configureInstance: @convention(c) (sy_instance?, UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> sy_status = {
    instance, parametersJSON, error, capacity in
    var result = Reconfiguration.applied
    let status = guarded(error, capacity) {
        let json: JSONValue
        do { json = try JSONValue(parsing: string(parametersJSON)) } catch { throw PluginError.invalid("parameters are not JSON: \(error)") }
        let box = InstanceBox.from(instance)
        let parameters = Parameters(json.objectValue ?? [:])
        try parameters.check(against: type(of: box.object).parameters)
        result = try box.object.configure(parameters)
    }
    if status == SY_OK, case .needsRecreate = result { return SY_ERR_NEEDS_RECREATE }
    return status
}

private let destroyInstance: @convention(c) (sy_instance?) -> Void = { instance in
    guard let instance else { return }
    Unmanaged<InstanceBox>.fromOpaque(instance).release()
}

private let executeController: @convention(c) (sy_instance?, UnsafePointer<sy_cycle_context>?, UnsafeMutablePointer<CChar>?, Int) -> sy_status = {
    instance, cycle, error, capacity in
    guarded(error, capacity) {
        guard let cycle, let controller = InstanceBox.from(instance).controller else { throw PluginError(.unsupported, "not a controller") }
        let c = cycle.pointee
        try controller.execute(CycleInfo(index: c.cycle_index, deadlineNs: c.deadline_ns, wallClockNs: c.wall_clock_ns, periodNs: c.period_ns))
    }
}

private let startDriver: @convention(c) (sy_instance?, UnsafeMutablePointer<CChar>?, Int) -> sy_status = { instance, error, capacity in
    guarded(error, capacity) { try InstanceBox.from(instance).driver?.start() }
}

private let pollDriver: @convention(c) (sy_instance?, UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> sy_status = {
    instance, group, error, capacity in
    guarded(error, capacity) { try InstanceBox.from(instance).driver?.poll(group: string(group)) }
}

private let writeDriver: @convention(c) (sy_instance?, UnsafePointer<sy_setpoint>?, Int, UnsafeMutablePointer<CChar>?, Int) -> sy_status = {
    instance, setpoints, count, error, capacity in
    guarded(error, capacity) {
        let list = (0..<count).map { i -> Setpoint in
            let s = setpoints![i]
            let value: Double = s.value.type == SY_VALUE_F64 ? s.value.f64 : Double(s.value.i64)
            return Setpoint(channel: s.channel, value: value)
        }
        try InstanceBox.from(instance).driver?.write(list)
    }
}

private let stopDriver: @convention(c) (sy_instance?) -> Void = { instance in
    InstanceBox.from(instance).driver?.stop()
}

private struct Table<T>: @unchecked Sendable {
    // @unchecked: allocated once, immutable afterwards, never freed.
    let pointer: UnsafePointer<T>
    init(_ value: T) {
        let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
        p.initialize(to: value)
        pointer = UnsafePointer(p)
    }
}

private let driverTableStorage = Table(sy_driver_api(
    struct_size: UInt32(MemoryLayout<sy_driver_api>.size), start: startDriver, poll: pollDriver, write: writeDriver, stop: stopDriver))
private let controllerTableStorage = Table(sy_controller_api(
    struct_size: UInt32(MemoryLayout<sy_controller_api>.size), execute: executeController))
private var driverTable: UnsafePointer<sy_driver_api> { driverTableStorage.pointer }
private var controllerTable: UnsafePointer<sy_controller_api> { controllerTableStorage.pointer }
