import CSwitchyardPlugin
import SwitchyardJSON
import SwitchyardModel

/// A config whose every instance has been created and configured, waiting
/// for a cycle boundary. Building one is the whole transaction: if any step
/// fails nothing has changed, and dropping it destroys what was created.
final class PreparedConfig: @unchecked Sendable {
    // @unchecked: built on the control thread, handed over whole to the cycle
    // thread through a Mutex, never touched by the control thread afterwards
    // except to start and stop the workers, which are thread-safe.
    let resolved: ResolvedConfig
    let generation: Int
    let controllers: [ControllerSlot]
    let workers: [DeviceWorker]
    let alarms: [AlarmSlot]

    var periodNs: Int64 { Int64(resolved.config.coreCycle.periodMs) * 1_000_000 }
    var supervisor: EdgeConfig.Supervisor { resolved.config.coreCycle.supervisor }

    init(resolved: ResolvedConfig, generation: Int, controllers: [ControllerSlot], workers: [DeviceWorker], alarms: [AlarmSlot]) {
        self.resolved = resolved
        self.generation = generation
        self.controllers = controllers
        self.workers = workers
        self.alarms = alarms
    }

    /// [control] Creates every instance of `resolved`. Device channels are
    /// registered first, so that controllers can resolve them in `create`.
    static func build(_ resolved: ResolvedConfig, generation: Int, directory: ChannelDirectory, clock: any CycleClock,
                      log: LogQueue, cycle: CycleState, plugins: PluginCatalog) throws(HostError) -> PreparedConfig {
        var failures: [String] = []
        var workers: [DeviceWorker] = []
        for device in resolved.devices where device.config.enabled {
            let handles = directory.register(device: device.id, profile: device.profile)
            let stale = staleWindows(device, handles: handles)
            let page = DevicePage(deviceId: device.id, handles: handles, staleAfterNs: stale)
            let context = InstanceContext(source: "device \(device.id)", deviceId: device.id, page: page, directory: directory,
                                          clock: clock, log: log, cycle: cycle)
            guard let plugin = plugins.plugin(forClass: device.profile.driver) else {
                failures.append("\(device.config.path): driver class \(device.profile.driver) is not loaded")
                continue
            }
            var config: [String: JSONValue] = [
                "id": .string(device.id),
                "device_id": .string(device.id),
                "profile": device.profile.document,
                "parameters": device.parameters,
                "poll_groups": .object(Dictionary(uniqueKeysWithValues: device.pollGroups.map { ($0.name, .array($0.channels.map(JSONValue.string))) })),
            ]
            if let connection = device.config.connection { config["connection"] = connection }
            do {
                let instance = try PluginInstance.create(plugin: plugin, className: device.profile.driver, config: .object(config), context: context)
                workers.append(DeviceWorker(device: device, instance: instance, page: page, clock: clock, log: log))
            } catch {
                failures.append("\(device.config.path) (device \(device.id)): \(error.message)")
            }
        }

        var controllers: [ControllerSlot] = []
        let byId = Dictionary(uniqueKeysWithValues: resolved.controllers.map { ($0.config.id, $0) })
        for planned in resolved.config.executionPlan {
            guard let controller = byId[planned.id], let plugin = plugins.plugin(forClass: controller.config.className) else { continue }
            let context = InstanceContext(source: "controller \(controller.config.id)", deviceId: nil, page: nil, directory: directory,
                                          clock: clock, log: log, cycle: cycle)
            let config: JSONValue = ["id": .string(controller.config.id), "parameters": controller.parameters]
            do {
                let instance = try PluginInstance.create(plugin: plugin, className: controller.config.className, config: config, context: context)
                controllers.append(ControllerSlot(config: controller, instance: instance))
            } catch {
                failures.append("\(controller.config.path) (controller \(controller.config.id)): \(error.message)")
            }
        }

        guard failures.isEmpty else {
            // Dropping the created instances destroys them.
            throw HostError(.instanceCreation, failures.joined(separator: "\n"))
        }
        let alarms = resolved.config.alarms.map { AlarmSlot(rule: $0, handle: directory.handle(for: $0.channel)) }
        return PreparedConfig(resolved: resolved, generation: generation, controllers: controllers, workers: workers, alarms: alarms)
    }

    /// A value is stale after three of its poll intervals without a fresh one.
    private static func staleWindows(_ device: ResolvedConfig.Device, handles: [Int32]) -> [Int64?] {
        let periodic = device.pollGroups.compactMap(\.intervalMs)
        let longest = periodic.max()
        return device.profile.channels.map { channel -> Int64? in
            if channel.access == .write { return nil }
            let group = device.pollGroups.first { $0.channels.contains(channel.name) || $0.channels.contains(channel.standard ?? "\u{0}") }
            if let group { return group.intervalMs.map { Int64($0) * 3_000_000 } }
            return longest.map { Int64($0) * 3_000_000 }
        }
    }
}
