import CSwitchyardPlugin
import SwitchyardJSON

/// One live instance of a plugin class: owns the host table handed to the
/// plugin and the error buffers, and turns every ABI call into Swift.
///
/// Two error buffers, so that a driver's [io] calls and [control] calls never
/// share one. Nothing here allocates on the success path of `execute`.
final class PluginInstance: @unchecked Sendable {
    // @unchecked: each buffer is used by one thread class only ([cycle]/[control]
    // vs [io]), as the ABI's threading rules guarantee.
    let plugin: LoadedPlugin
    let className: String
    let context: InstanceContext
    private let table: UnsafeMutablePointer<sy_host_api>
    private let instance: sy_instance
    private let controlError = UnsafeMutablePointer<CChar>.allocate(capacity: PluginInstance.errorCapacity)
    private let ioError = UnsafeMutablePointer<CChar>.allocate(capacity: PluginInstance.errorCapacity)
    private var destroyed = false
    static let errorCapacity = 1024

    private init(plugin: LoadedPlugin, className: String, context: InstanceContext, table: UnsafeMutablePointer<sy_host_api>, instance: sy_instance) {
        self.plugin = plugin
        self.className = className
        self.context = context
        self.table = table
        self.instance = instance
    }

    /// [control] Creates an instance; the error names the plugin and its message.
    static func create(plugin: LoadedPlugin, className: String, config: JSONValue, context: InstanceContext) throws(HostError) -> PluginInstance {
        let table = context.makeTable()
        let error = UnsafeMutablePointer<CChar>.allocate(capacity: errorCapacity)
        defer { error.deallocate() }
        error[0] = 0
        var out: sy_instance?
        let status = config.canonicalText.withCString { json in
            className.withCString { name in
                plugin.descriptor.pointee.create(table, name, json, &out, error, errorCapacity)
            }
        }
        guard status == SY_OK, let out else {
            table.deinitialize(count: 1)
            table.deallocate()
            let message = String(cString: error)
            throw HostError(.instanceCreation, "\(plugin.id) \(plugin.version): \(className) refused to start (\(statusName(status)))\(message.isEmpty ? "" : ": \(message)")")
        }
        return PluginInstance(plugin: plugin, className: className, context: context, table: table, instance: out)
    }

    enum Reconfigure: Equatable {
        case applied
        case needsRecreate
        case failed(String)
    }

    /// [control]
    func configure(_ parameters: JSONValue) -> Reconfigure {
        controlError[0] = 0
        let status = parameters.canonicalText.withCString {
            plugin.descriptor.pointee.configure(instance, $0, controlError, Self.errorCapacity)
        }
        switch status {
        case SY_OK: return .applied
        case SY_ERR_NEEDS_RECREATE: return .needsRecreate
        default: return .failed(message(status, controlError))
        }
    }

    /// [cycle] nil on success, else the error.
    @inline(__always)
    func execute(_ cycle: UnsafePointer<sy_cycle_context>) -> String? {
        let status = plugin.descriptor.pointee.controller.pointee.execute(instance, cycle, controlError, Self.errorCapacity)
        return status == SY_OK ? nil : message(status, controlError)
    }

    /// [io] The status and, on failure, the message.
    func start() -> (sy_status, String?) {
        ioError[0] = 0
        let status = plugin.descriptor.pointee.driver.pointee.start(instance, ioError, Self.errorCapacity)
        return (status, status == SY_OK ? nil : message(status, ioError))
    }

    func poll(_ group: String) -> (sy_status, String?) {
        ioError[0] = 0
        let status = group.withCString { plugin.descriptor.pointee.driver.pointee.poll(instance, $0, ioError, Self.errorCapacity) }
        return (status, status == SY_OK ? nil : message(status, ioError))
    }

    func write(_ setpoints: [sy_setpoint]) -> (sy_status, String?) {
        ioError[0] = 0
        let status = setpoints.withUnsafeBufferPointer {
            plugin.descriptor.pointee.driver.pointee.write(instance, $0.baseAddress, $0.count, ioError, Self.errorCapacity)
        }
        return (status, status == SY_OK ? nil : message(status, ioError))
    }

    func stop() {
        plugin.descriptor.pointee.driver.pointee.stop(instance)
    }

    /// [control] Destroys the instance; later calls are a bug.
    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        plugin.descriptor.pointee.destroy(instance)
    }

    deinit {
        destroy()
        table.deinitialize(count: 1)
        table.deallocate()
        controlError.deallocate()
        ioError.deallocate()
    }

    private func message(_ status: sy_status, _ buffer: UnsafeMutablePointer<CChar>) -> String {
        let text = String(cString: buffer)
        return text.isEmpty ? statusName(status) : "\(text) (\(statusName(status)))"
    }
}

func statusName(_ status: sy_status) -> String {
    switch status {
    case SY_OK: "ok"
    case SY_ERR_INVALID: "invalid"
    case SY_ERR_NEEDS_RECREATE: "needs recreate"
    case SY_ERR_IO: "I/O error"
    case SY_ERR_UNAVAILABLE: "unavailable"
    case SY_ERR_CONFLICT: "conflict"
    case SY_ERR_INTERNAL: "internal error"
    case SY_ERR_UNSUPPORTED: "unsupported"
    default: "status \(status)"
    }
}
