import CSwitchyardPlugin
import SwitchyardJSON
import SwitchyardModel

/// A config ready to be swapped in at a cycle boundary: every instance it
/// needs exists. Built against the running config, it reuses what did not
/// change — a device whose profile, connection, parameters, poll groups and
/// plugin are the same keeps its worker and never stops polling; a controller
/// whose class, plugin and parameters are the same keeps its instance — and
/// plans a hot `configure` for controllers and devices whose only changes
/// are to hot parameters. Everything else is created anew. If creating anything fails,
/// nothing has changed and what was created is destroyed.
final class PreparedConfig: @unchecked Sendable {
    // @unchecked: built on the control thread, handed over whole to the cycle
    // thread through a Mutex; afterwards the control thread only starts and
    // stops workers (thread-safe) and reads the immutable members.
    let resolved: ResolvedConfig
    let generation: Int
    /// In execution order; created here or reused from the running config.
    let controllers: [ControllerSlot]
    let workers: [DeviceWorker]
    let alarms: [AlarmSlot]
    /// What this config created (destroyed if it is never swapped in).
    let created: Retirement
    /// Hot parameter changes, applied through `configure` at the swap.
    let reconfigure: [Reconfiguration]
    /// The settings each controller runs with in this config.
    let controllerConfigs: [ResolvedConfig.Controller]
    /// Kept workers whose poll intervals change (applied after the swap).
    let retime: [(DeviceWorker, [ResolvedConfig.Device.PollGroup], [Int64?])]
    /// Kept workers whose drivers take a hot parameter change (`configure`,
    /// made after the swap on each worker's thread).
    let reconfigureDevices: [(DeviceWorker, ResolvedConfig.Device)]

    struct Reconfiguration {
        let slot: ControllerSlot
        let old: JSONValue
        let new: JSONValue
        /// The controller's config says `"apply": "immediate"`.
        var immediate = false
    }

    var periodNs: Int64 { Nanoseconds.milliseconds(resolved.config.coreCycle.periodMs) }

    /// Only hot parameter changes, each to a controller marked `"apply":
    /// "immediate"`: the cycle thread swaps it in as soon as it is staged,
    /// between cycles, instead of at the next cycle's start.
    var takesEffectImmediately: Bool { created.isEmpty && !reconfigure.isEmpty && reconfigure.allSatisfy(\.immediate) }
    var supervisor: EdgeConfig.Supervisor { resolved.config.coreCycle.supervisor }

    init(resolved: ResolvedConfig, generation: Int, controllers: [ControllerSlot], controllerConfigs: [ResolvedConfig.Controller],
         workers: [DeviceWorker], alarms: [AlarmSlot], created: Retirement, reconfigure: [Reconfiguration],
         retime: [(DeviceWorker, [ResolvedConfig.Device.PollGroup], [Int64?])],
         reconfigureDevices: [(DeviceWorker, ResolvedConfig.Device)] = []) {
        self.retime = retime
        self.reconfigureDevices = reconfigureDevices
        self.resolved = resolved
        self.generation = generation
        self.controllers = controllers
        self.controllerConfigs = controllerConfigs
        self.workers = workers
        self.alarms = alarms
        self.created = created
        self.reconfigure = reconfigure
    }

    /// [control] Builds `resolved` against `running`. Device channels are
    /// registered first, so that new controllers can resolve them in `create`.
    /// `recreate` names controllers that must get a new instance even if only
    /// hot parameters changed (their plugin refused the hot change before).
    /// `recreateDevices` names devices whose driver refused a hot change.
    static func build(_ resolved: ResolvedConfig, generation: Int, running: PreparedConfig?, recreate: Set<String> = [],
                      recreateDevices: Set<String> = [],
                      directory: ChannelDirectory, clock: any CycleClock, log: LogQueue, cycle: CycleState,
                      plugins: PluginCatalog, dataDirectory: String? = nil) throws(HostError) -> PreparedConfig {
        var failures: [String] = []
        var workers: [DeviceWorker] = []
        var created = Retirement()
        // Devices recreated with another channel layout: controllers bound to
        // their old channels must resolve them again.
        var relaidOut = false
        var retime: [(DeviceWorker, [ResolvedConfig.Device.PollGroup], [Int64?])] = []
        var reconfigureDevices: [(DeviceWorker, ResolvedConfig.Device)] = []
        let runningWorkers = Dictionary((running?.workers ?? []).map { ($0.device.id, $0) }, uniquingKeysWith: { a, _ in a })
        // Devices in the config without a running driver, and why: a
        // controller reading one of their channels is told this, not that
        // the channel does not exist.
        var unstarted: [String: String] = [:]
        for device in resolved.devices where !device.config.enabled { unstarted[device.id] = "is disabled (enabled: false)" }
        for device in resolved.devices where device.config.enabled {
            guard let plugin = plugins.plugin(forClass: device.profile.driver) else {
                failures.append("\(device.config.path): driver class \(device.profile.driver) is not loaded")
                unstarted[device.id] = "did not start: driver class \(device.profile.driver) is not loaded"
                continue
            }
            if let old = runningWorkers[device.id], old.device.profile.channels != device.profile.channels { relaidOut = true }
            if let old = runningWorkers[device.id], old.instance.plugin === plugin {
                let running = old.device
                if running.runsTheSame(as: device) {
                    workers.append(old)
                    if old.pollGroups != device.pollGroups {
                        retime.append((old, device.pollGroups, staleWindows(device, handles: old.page.handles)))
                    }
                    continue
                }
                // Only hot parameters changed: the driver keeps running and
                // takes them through `configure`.
                var same = running
                same.parameters = device.parameters
                if !recreateDevices.contains(device.id), same.runsTheSame(as: device),
                   changedKeys(running.parameters, device.parameters).isSubset(of: device.plugin.entry.parameters.hotParameters) {
                    workers.append(old)
                    reconfigureDevices.append((old, device))
                    if old.pollGroups != device.pollGroups {
                        retime.append((old, device.pollGroups, staleWindows(device, handles: old.page.handles)))
                    }
                    continue
                }
            }
            let handles = directory.register(device: device.id, profile: device.profile)
            let stale = staleWindows(device, handles: handles)
            let page = DevicePage(deviceId: device.id, handles: handles, staleAfterNs: stale)
            let context = InstanceContext(source: "device \(device.id)", deviceId: device.id, page: page, directory: directory,
                                          clock: clock, log: log, cycle: cycle)
            do {
                let instance = try PluginInstance.create(plugin: plugin, className: device.profile.driver,
                                                      config: device.instanceConfig(dataDirectory: dataDirectory), context: context)
                let worker = DeviceWorker(device: device, instance: instance, page: page, clock: clock, log: log)
                workers.append(worker)
                created.workers.append(worker)
            } catch {
                failures.append("\(device.config.path) (device \(device.id)): \(error.message)")
                unstarted[device.id] = "did not start (\(error.message))"
            }
        }

        var controllers: [ControllerSlot] = []
        var configs: [ResolvedConfig.Controller] = []
        var reconfigure: [Reconfiguration] = []
        let byId = Dictionary(uniqueKeysWithValues: resolved.controllers.map { ($0.config.id, $0) })
        var runningSlots: [String: (slot: ControllerSlot, config: ResolvedConfig.Controller)] = [:]
        if let running {
            for (slot, config) in zip(running.controllers, running.controllerConfigs) { runningSlots[config.config.id] = (slot, config) }
        }
        let available = Set(workers.flatMap(\.page.handles))
        if running != nil, Set(running!.workers.map(\.device.id)) != Set(workers.map(\.device.id)) { relaidOut = true }
        for planned in resolved.config.executionPlan {
            guard let controller = byId[planned.id], let plugin = plugins.plugin(forClass: controller.config.className) else { continue }
            if !relaidOut, let old = runningSlots[controller.config.id], old.slot.instance.plugin === plugin,
               old.config.config.className == controller.config.className {
                let changed = changedKeys(old.config.parameters, controller.parameters)
                if changed.isEmpty {
                    controllers.append(old.slot)
                    configs.append(controller)
                    continue
                }
                if !recreate.contains(controller.config.id), changed.isSubset(of: controller.plugin.entry.parameters.hotParameters) {
                    controllers.append(old.slot)
                    configs.append(controller)
                    reconfigure.append(Reconfiguration(slot: old.slot, old: old.config.parameters, new: controller.parameters,
                                                       immediate: controller.config.apply == .immediate))
                    continue
                }
            }
            let context = InstanceContext(source: "controller \(controller.config.id)", deviceId: nil, page: nil, directory: directory,
                                          clock: clock, log: log, cycle: cycle, available: available, unstarted: unstarted)
            do {
                let instance = try PluginInstance.create(plugin: plugin, className: controller.config.className, config: controller.instanceConfig,
                                                         context: context)
                let slot = ControllerSlot(config: controller, instance: instance)
                controllers.append(slot)
                configs.append(controller)
                created.controllers.append(slot)
            } catch {
                failures.append("\(controller.config.path) (controller \(controller.config.id)): \(error.message)")
            }
        }

        guard failures.isEmpty else {
            created.destroy(threads: false)
            throw HostError(.instanceCreation, failures.joined(separator: "\n"))
        }
        let alarms = resolved.config.alarms.map { AlarmSlot(rule: $0, handle: directory.handle(for: $0.channel)) }
        return PreparedConfig(resolved: resolved, generation: generation, controllers: controllers, controllerConfigs: configs,
                              workers: workers, alarms: alarms, created: created, reconfigure: reconfigure, retime: retime,
                              reconfigureDevices: reconfigureDevices)
    }

    /// The parameter names whose values differ.
    static func changedKeys(_ a: JSONValue, _ b: JSONValue) -> Set<String> {
        let x = a.objectValue ?? [:]
        let y = b.objectValue ?? [:]
        return Set(x.keys).union(y.keys).filter { x[$0] != y[$0] }
    }

    /// A value is stale after three of its poll intervals without a fresh one.
    private static func staleWindows(_ device: ResolvedConfig.Device, handles: [Int32]) -> [Int64?] {
        let periodic = device.pollGroups.compactMap(\.intervalMs)
        let longest = periodic.max()
        return device.profile.channels.map { channel -> Int64? in
            if channel.access == .write { return nil }
            let group = device.pollGroups.first { $0.channels.contains(channel.name) || $0.channels.contains(channel.standard ?? "\u{0}") }
            if let group { return group.intervalMs.map { Nanoseconds.milliseconds($0, times: 3) } }
            return longest.map { Nanoseconds.milliseconds($0, times: 3) }
        }
    }
}

/// Instances that are no longer needed: stopped and destroyed by the control
/// thread once the cycle has let go of them.
struct Retirement: @unchecked Sendable {
    // @unchecked: a retirement changes hands once, from the thread that
    // stopped using the instances to the control thread that destroys them.
    var workers: [DeviceWorker] = []
    var controllers: [ControllerSlot] = []

    var isEmpty: Bool { workers.isEmpty && controllers.isEmpty }

    /// Stops the workers (joining their threads if they run) and destroys
    /// every instance.
    func destroy(threads: Bool) {
        // Every worker is asked first, so that devices stuck in I/O wait
        // out their requests together, not one after the other.
        if threads { for worker in workers { worker.requestStop() } }
        for worker in workers {
            if threads { worker.joinThread() } else { worker.shutDown() }
            worker.instance.destroy()
        }
        for slot in controllers { slot.instance.destroy() }
    }
}

extension ResolvedConfig.Device {
    /// True when a worker running `self` can keep running for `other`: the
    /// same profile document, connection, parameters and poll groups (their
    /// intervals may differ: a worker takes new intervals without a restart).
    func runsTheSame(as other: ResolvedConfig.Device) -> Bool {
        profile.document == other.profile.document && profile.driver == other.profile.driver
            && config.connection == other.config.connection && parameters == other.parameters
            && pollGroups.map { [$0.name] + $0.channels } == other.pollGroups.map { [$0.name] + $0.channels }
    }
}
