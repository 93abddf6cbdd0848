import CSwitchyardPlugin
import Logging
import Synchronization
import SwitchyardModel

/// Where device I/O runs.
public enum DeviceIOMode: Sendable {
    /// Each device on its own thread: production.
    case threads
    /// Device workers step at the start of each cycle, on the thread running
    /// the cycle. Only for tests and benchmarks with a `ManualClock`, where it
    /// makes a whole site deterministic.
    case inline
}

/// The edge runtime: holds the loaded plugins and profiles, applies configs
/// as transactions at cycle boundaries, runs the core cycle, and reports what
/// it is doing.
///
/// Threads: `apply`, `validate`, `start`, `stop` and `status` are [control]
/// and may be called from any one thread at a time; the cycle runs on its own
/// thread after `start()`, or on the caller's thread in `runCycle()`.
public final class EdgeHost: @unchecked Sendable {
    // @unchecked: mutable state is either behind a Mutex, or owned by the
    // cycle thread (`engine`), which CycleBound checks in debug builds.
    private let catalogs: Mutex<(plugins: PluginCatalog, profiles: ProfileCatalog)>
    /// The plugins the running config was built from.
    public var plugins: PluginCatalog { catalogs.withLock { $0.plugins } }
    /// The profiles the running config was built from.
    public var profiles: ProfileCatalog { catalogs.withLock { $0.profiles } }
    public let clock: any CycleClock
    public let deviceIO: DeviceIOMode
    public let log: LogQueue
    let directory = ChannelDirectory()
    let cycleState = CycleState()

    private let pending = Mutex<PreparedConfig?>(nil)
    /// Hand writes waiting for the next write phase (`submitWrite`).
    let manualWrites = Mutex<[(handle: Int32, ticket: ManualWriteTicket)]>([])
    private let dataDirectory: String?
    private let applyLock = Mutex<Int>(0)  // the last generation prepared
    private let reloadLock = Mutex<Int>(0)
    private let shared = Mutex(SharedStatus())
    private let running = Atomic<Bool>(false)
    /// Cycles started since the host was created (never reset).
    let cyclesStarted = Atomic<UInt64>(0)
    private var cycleThread: OSThread?
    /// Wakes the cycle thread from its sleep to a deadline (for stop).
    private let cycleWake = WakeSignal()
    private var engine = Engine()
    /// The context handed to controllers: allocated once, rewritten each cycle.
    private let cycleContext = UnsafeMutablePointer<sy_cycle_context>.allocate(capacity: 1)

    /// State the cycle thread owns.
    private struct Engine {
        var current: PreparedConfig?
        var controllers: [ControllerSlot] = []
        var workerOf: [DeviceWorker?] = []
        var alarms: [AlarmSlot] = []
        var cycleIndex: UInt64 = 0
        var touchedWorkers: [DeviceWorker] = []
    }

    enum ApplyOutcome {
        case applied
        /// A hot configure failed; nothing changed. `recreate` names the
        /// controllers whose plugin asked for a new instance instead.
        case refused(String, recreate: Set<String>)
    }

    /// What the cycle thread publishes for other threads.
    struct SharedStatus {
        var statistics = CycleStatistics()
        var controllers: [ControllerStatus] = []
        var appliedGeneration = 0
        /// The cycle (counting cycles started, from 1) that began with the latest swap.
        var appliedAtCycle: UInt64 = 0
        var running: PreparedConfig?
        var retired: [Retirement] = []
        /// How the swap of each staged generation ended.
        var outcomes: [Int: ApplyOutcome] = [:]
        var lastApplyError: String?
        var alarmEvents: [AlarmEvent] = []
        var activeAlarms: Set<String> = []
    }

    /// `dataDirectory`: where drivers may keep files across restarts (each
    /// device gets `<dataDirectory>/devices/<device_id>`); nil: nowhere.
    public init(plugins: PluginCatalog, profiles: ProfileCatalog, clock: any CycleClock = SystemClock(),
                deviceIO: DeviceIOMode = .threads, logger: Logger = Logger(label: "switchyard.edge"), dataDirectory: String? = nil) {
        self.dataDirectory = dataDirectory
        self.catalogs = Mutex((plugins, profiles))
        self.clock = clock
        self.deviceIO = deviceIO
        self.log = LogQueue(logger: logger)
        cycleContext.initialize(to: sy_cycle_context())
    }

    deinit {
        stop()
        cycleContext.deallocate()
    }

    /// Checks a config against the loaded plugins and profiles (or the
    /// given ones), including the plugins' own checks (`validate`, ABI 1.2;
    /// `PluginCatalog.validate`).
    public func validate(_ config: EdgeConfig, plugins: PluginCatalog? = nil, profiles: ProfileCatalog? = nil) throws(ValidationError) -> ResolvedConfig {
        let current = catalogs.withLock { $0 }
        return try (plugins ?? current.plugins).validate(config, profiles: profiles ?? current.profiles)
    }

    /// [control] Loads the plugin and profile folders again and applies
    /// `config` with them: new plugin versions and edited profiles take
    /// effect at one cycle boundary, or not at all. Changed plugin files are
    /// mapped from versioned copies under `pluginCacheDirectory`.
    @discardableResult
    public func reload(_ config: EdgeConfig, pluginCacheDirectory: String) throws -> Int {
        // One reload at a time: two would each map their own copy of a new
        // library, and the second would recreate what the first just swapped in.
        try reloadLock.withLock { _ in
            let current = catalogs.withLock { $0 }
            let plugins = current.plugins.reload(cacheDirectory: pluginCacheDirectory)
            let profiles = ProfileCatalog.load(directories: current.profiles.directories, previous: current.profiles)
            do {
                return try apply(config, plugins: plugins, profiles: profiles)
            } catch {
                // A refused file is often the reason ("unknown profile" because
                // its file did not parse): say so.
                let refused = plugins.errors.map { "plugin refused: \($0)" } + profiles.errors.map { "profile refused: \($0)" }
                guard !refused.isEmpty else { throw error }
                let message = "\(error)\n" + refused.joined(separator: "\n")
                reportRefusal(message)
                throw HostError(.invalidConfig, message)
            }
        }
    }

    /// Records why a change was refused before it reached `apply` (a config
    /// file that does not parse, say), for `status().lastApplyError`.
    public func reportRefusal(_ message: String) {
        shared.withLock { $0.lastApplyError = message }
    }

    /// [control] Validates `config`, creates the instances it needs (keeping
    /// the running ones that did not change), and stages it for the next
    /// cycle boundary, where hot parameter changes are applied through
    /// `configure`. If the cycle is running, waits until the swap; if not,
    /// swaps at once. Then starts the new device workers and retires what the
    /// new config no longer uses. On any error nothing changes and the
    /// running config keeps running.
    ///
    /// Returns the generation number of the applied config.
    ///
    /// With `plugins` or `profiles`, the config is built from those catalogs,
    /// which replace the host's only if the apply succeeds.
    @discardableResult
    public func apply(_ config: EdgeConfig, plugins newPlugins: PluginCatalog? = nil, profiles newProfiles: ProfileCatalog? = nil,
                      timeoutNs: Int64 = 10_000_000_000) throws -> Int {
        try applyLock.withLock { lastGeneration in
            let plugins = newPlugins ?? self.plugins
            let profiles = newProfiles ?? self.profiles
            let resolved: ResolvedConfig
            do {
                resolved = try validate(config, plugins: plugins, profiles: profiles)
            } catch {
                shared.withLock { $0.lastApplyError = "\(error)" }
                throw error
            }
            var recreate: Set<String> = []
            var recreateDevices: Set<String> = []
            // At most twice: a second time only when a plugin answered a hot
            // change with "needs recreate" (or a driver refused one), now
            // with a new instance for it.
            for attempt in 0..<2 {
                let saved = directory.checkpoint()
                let prepared: PreparedConfig
                do {
                    prepared = try PreparedConfig.build(resolved, generation: lastGeneration + 1, running: shared.withLock { $0.running },
                                                        recreate: recreate, recreateDevices: recreateDevices,
                                                        directory: directory, clock: clock, log: log,
                                                        cycle: cycleState, plugins: plugins, dataDirectory: dataDirectory)
                } catch {
                    directory.restore(saved)
                    shared.withLock { $0.lastApplyError = "\(error)" }
                    throw error
                }
                lastGeneration += 1
                let superseded = pending.withLock { slot -> PreparedConfig? in
                    defer { slot = prepared }
                    return slot
                }
                if let superseded { shared.withLock { $0.retired.append(superseded.created) } }
                if prepared.takesEffectImmediately { cycleWake.signal() }
                let outcome: ApplyOutcome
                if running.load(ordering: .acquiring) {
                    do {
                        outcome = try waitForOutcome(prepared.generation, timeoutNs: .max / 4)
                    } catch {
                        // Take the config back unless the cycle has it already;
                        // then nothing changed. If it has, its outcome is near.
                        let reclaimed = pending.withLock { p -> Bool in
                            guard p === prepared else { return false }
                            p = nil
                            return true
                        }
                        guard !reclaimed else {
                            directory.restore(saved)
                            shared.withLock { s in
                                s.retired.append(prepared.created)
                                s.lastApplyError = "\(error)"
                            }
                            retireOld()
                            throw error
                        }
                        outcome = try waitForOutcome(prepared.generation, timeoutNs: timeoutNs)
                    }
                } else {
                    // No cycle is running, so this is a cycle boundary: swap now.
                    runApplyPhase()
                    outcome = shared.withLock { $0.outcomes.removeValue(forKey: prepared.generation) } ?? .applied
                }
                switch outcome {
                case .applied:
                    catalogs.withLock { $0 = (plugins, profiles) }
                    for (worker, groups, stale) in prepared.retime { worker.retime(groups, staleAfterNs: stale) }
                    if running.load(ordering: .acquiring) {
                        handOver(to: prepared.created.workers)
                    } else {
                        // Before start(), start() starts every worker of the running config.
                        retireOld()
                    }
                    // Drivers take their hot parameter changes now, each on
                    // its worker's thread; one that cannot gets a new
                    // instance in a second pass.
                    let refused = configureDevices(prepared.reconfigureDevices)
                    if refused.isEmpty || attempt == 1 { return prepared.generation }
                    recreateDevices.formUnion(refused)
                case .refused(let message, let ids):
                    directory.restore(saved)
                    retireOld()
                    if ids.isEmpty { throw HostError(.configureRefused, message) }
                    recreate.formUnion(ids)
                }
            }
            throw HostError(.configureRefused, "the change could not be applied hot, nor with new instances")
        }
    }

    /// [control] Makes the planned hot parameter changes of kept drivers and
    /// returns the devices whose driver did not take theirs.
    private func configureDevices(_ changes: [(DeviceWorker, ResolvedConfig.Device)]) -> Set<String> {
        var refused: Set<String> = []
        for (worker, device) in changes {
            let changed = PreparedConfig.changedKeys(worker.device.parameters, device.parameters).sorted().joined(separator: ", ")
            switch worker.configure(device, timeoutNs: 30_000_000_000) {
            case .applied:
                log.emit(.info, "device \(device.id)", "hot parameter change applied (\(changed)) without restarting the driver")
            case .needsRecreate:
                log.emit(.info, "device \(device.id)", "the driver asked for a new instance to change \(changed)")
                refused.insert(device.id)
            case .failed(let message):
                log.emit(.warning, "device \(device.id)", "the driver refused a hot change of \(changed): \(message); creating a new instance")
                refused.insert(device.id)
            }
        }
        return refused
    }

    /// Starts the new workers and retires the old ones without blocking the
    /// caller on a device: an old worker may be stuck in I/O until its
    /// driver's timeout. A device that is replaced is handed over on a thread
    /// of its own — the old worker stops (and its instance is destroyed)
    /// before the new one starts, so two drivers never talk to one device at
    /// once. Setpoints for the new worker queue until it starts.
    private func handOver(to started: [DeviceWorker]) {
        let retired = shared.withLock { s -> [Retirement] in
            defer { s.retired.removeAll() }
            return s.retired
        }
        var successors = Dictionary(started.map { ($0.device.id, $0) }, uniquingKeysWith: { a, _ in a })
        for r in retired {
            for slot in r.controllers { slot.instance.destroy() }
            for old in r.workers {
                let next = successors.removeValue(forKey: old.device.id)
                OSThread.detach(name: "handover") {
                    old.stopThread()
                    old.instance.destroy()
                    next?.startThread()
                }
            }
        }
        for worker in successors.values { worker.startThread() }
    }

    private func waitForOutcome(_ generation: Int, timeoutNs requested: Int64) throws(HostError) -> ApplyOutcome {
        let real = SystemClock()
        // The swap happens at the next cycle start: allow two periods at least.
        let period = shared.withLock { $0.running?.periodNs } ?? 0
        let timeoutNs = max(requested, 2 * period + 1_000_000_000)
        let deadline = real.monotonicNs() + timeoutNs
        while true {
            if let outcome = shared.withLock({ $0.outcomes.removeValue(forKey: generation) }) { return outcome }
            if real.monotonicNs() > deadline {
                throw HostError(.timeout, "the cycle did not take the new config within \(timeoutNs / 1_000_000) ms")
            }
            real.sleep(untilNs: real.monotonicNs() + 500_000)
        }
    }

    private func startWorkers(_ workers: [DeviceWorker]) {
        guard deviceIO == .threads else { return }
        for worker in workers { worker.startThread() }
    }

    /// [control] Stops and destroys the instances of configs the cycle no
    /// longer runs.
    private func retireOld() {
        let retired = shared.withLock { s -> [Retirement] in
            defer { s.retired.removeAll() }
            return s.retired
        }
        for r in retired { r.destroy(threads: deviceIO == .threads) }
    }

    // MARK: - Running

    /// Starts the cycle on its own thread, on absolute deadlines. Requires a
    /// config to have been applied.
    public func start() throws(HostError) {
        guard pending.withLock({ $0 != nil }) || shared.withLock({ $0.running != nil }) else {
            throw HostError(.notRunning, "no config has been applied")
        }
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // Take the staged config now, so its workers start with the cycle.
        runApplyPhase()
        if let current = shared.withLock({ $0.running }) { startWorkers(current.workers) }
        retireOld()
        cycleThread = OSThread(name: "core-cycle") { [self] in
            cycleState.bound.claim()
            var deadline = clock.monotonicNs()
            while running.load(ordering: .relaxed) {
                sleepUntil(deadline)
                guard running.load(ordering: .relaxed) else { break }
                let period = max(engine.current?.periodNs ?? 1_000_000_000, 1_000_000)
                let late = clock.monotonicNs() - deadline
                if late >= period {
                    // More than a period behind: skip the missed deadlines
                    // rather than running a burst of cycles.
                    let missed = late / period
                    deadline += missed * period
                    shared.withLock { $0.statistics.missedCycles += UInt64(missed) }
                }
                runCycle(deadlineNs: deadline)
                deadline += engine.current?.periodNs ?? period
            }
        }
    }

    /// Sleeps to the deadline; on the system clock, `stop()` can cut it short.
    private func sleepUntil(_ deadlineNs: Int64) {
        guard clock is SystemClock else { return clock.sleep(untilNs: deadlineNs) }
        while running.load(ordering: .relaxed), clock.monotonicNs() < deadlineNs {
            cycleWake.wait(untilNs: deadlineNs)
            // `apply: immediate`: a hot change is swapped in now, between
            // cycles; the next cycle still starts at its deadline.
            if pending.withLock({ $0?.takesEffectImmediately == true }) { runApplyPhase() }
        }
    }

    /// Stops the cycle, then every device worker, and destroys all instances.
    public func stop() {
        if running.exchange(false, ordering: .acquiringAndReleasing) {
            cycleWake.signal()
            cycleThread?.join()
            cycleThread = nil
        }
        let last = shared.withLock { s -> PreparedConfig? in
            defer { s.running = nil }
            return s.running
        }
        if let last { shared.withLock { $0.retired.append(Retirement(workers: last.workers, controllers: last.controllers)) } }
        if let staged = pending.withLock({ p -> PreparedConfig? in defer { p = nil }; return p }) {
            shared.withLock { $0.retired.append(staged.created) }
        }
        engine = Engine()
        retireOld()
        log.flush()
    }

    public var isRunning: Bool { running.load(ordering: .relaxed) }

    private func runApplyPhase() {
        guard let next = pending.withLock({ p -> PreparedConfig? in defer { p = nil }; return p }) else { return }

        // Hot parameter changes first, all or nothing: if one plugin refuses,
        // the ones already changed get their old parameters back and the
        // running config stays as it was.
        var changed: [PreparedConfig.Reconfiguration] = []
        for r in next.reconfigure {
            let outcome = r.slot.instance.configure(r.new)
            if outcome == .applied {
                changed.append(r)
                continue
            }
            for done in changed.reversed() where done.slot.instance.configure(done.old) != .applied {
                log.emit(.error, "host", "controller \(done.slot.config.config.id) did not take back its previous parameters; it may run with the refused ones")
            }
            let id = r.slot.config.config.id
            let (message, recreate): (String, Set<String>) = switch outcome {
            case .needsRecreate: ("controller \(id) cannot take the change hot", [id])
            case .failed(let reason): ("\(r.slot.config.config.path) (controller \(id)): parameters refused: \(reason)", [])
            case .applied: ("", [])
            }
            shared.withLock { s in
                s.outcomes[next.generation] = .refused(message, recreate: recreate)
                s.retired.append(next.created)
                if recreate.isEmpty { s.lastApplyError = message }
            }
            log.emit(recreate.isEmpty ? .error : .info, "host", "config version \(next.resolved.config.version) not applied: \(message)")
            return
        }

        let previous = engine.current
        engine.current = next
        engine.controllers = next.controllers
        for (slot, config) in zip(next.controllers, next.controllerConfigs) {
            slot.config = config
            slot.status.executionOrder = config.config.executionOrder
            // A new config gives a controller the supervisor disabled a fresh start.
            if slot.status.state == .disabled {
                slot.status.state = .running
                slot.status.consecutiveFailures = 0
                slot.disabledUntilNs = nil
            }
        }
        // What the previous config ran and this one does not is retired.
        var retirement = Retirement()
        if let previous {
            retirement.workers = previous.workers.filter { old in !next.workers.contains { $0 === old } }
            retirement.controllers = previous.controllers.filter { old in !next.controllers.contains { $0 === old } }
        }
        // An alarm that is still configured keeps its state: a config change
        // must not raise it again or clear it silently.
        let wasActive = Set(engine.alarms.filter(\.active).map(\.rule.id))
        engine.alarms = next.alarms.map { slot in
            var slot = slot
            slot.active = wasActive.contains(slot.rule.id)
            return slot
        }
        let stillActive = Set(engine.alarms.filter(\.active).map(\.rule.id))
        cycleState.image.resize(to: directory)
        engine.workerOf = [DeviceWorker?](repeating: nil, count: directory.count)
        // Channels no device of this config publishes read as not available,
        // never as their last value.
        let published = Set(next.workers.flatMap(\.page.handles))
        for h in cycleState.image.snapshot.indices where !published.contains(Int32(h)) {
            cycleState.image.snapshot[h] = .unavailable
        }
        for worker in next.workers {
            for handle in worker.page.handles { engine.workerOf[Int(handle)] = worker }
            // Carry over the last values of a device that is being replaced, so
            // controllers do not see a gap while the new worker connects.
            if let old = retirement.workers.first(where: { $0.device.id == worker.device.id }) {
                old.page.values.withLock { oldValues in
                    worker.page.values.withLock { newValues in
                        for (i, h) in worker.page.handles.enumerated() {
                            if let slot = old.page.slot(of: h) { newValues[i] = oldValues[slot] }
                        }
                    }
                }
                old.page.texts.withLock { oldTexts in
                    worker.page.texts.withLock { newTexts in
                        for (i, h) in worker.page.handles.enumerated() {
                            if let slot = old.page.slot(of: h) { newTexts[i] = oldTexts[slot] }
                        }
                    }
                }
            }
        }
        shared.withLock { s in
            if !retirement.isEmpty { s.retired.append(retirement) }
            s.outcomes[next.generation] = .applied
            s.running = next
            s.appliedGeneration = next.generation
            s.appliedAtCycle = cyclesStarted.load(ordering: .relaxed)
            s.lastApplyError = nil
            s.controllers = next.controllers.map(\.status)
            s.statistics.periodNs = next.periodNs
            s.activeAlarms = stillActive
        }
        let kept = next.workers.count - next.created.workers.count
        log.emit(.info, "host", "applied config version \(next.resolved.config.version) (generation \(next.generation)): \(next.workers.count) devices (\(kept) kept running), \(next.controllers.count) controllers (\(next.reconfigure.count) reconfigured hot, \(next.created.controllers.count) new)")
    }

    /// Runs one cycle whose deadline was `deadlineNs` (default: now). The
    /// cycle thread calls this; tests call it directly with a ManualClock.
    public func runCycle(deadlineNs: Int64? = nil) {
        let startNs = clock.monotonicNs()
        let deadline = deadlineNs ?? startNs
        if !running.load(ordering: .relaxed) { cycleState.bound.claim() }
        cyclesStarted.add(1, ordering: .relaxed)

        // 1. apply
        runApplyPhase()
        guard let current = engine.current else { return }
        if deviceIO == .inline {
            for worker in current.workers { worker.step(nowNs: startNs) }
        }

        // 2. process image
        for worker in current.workers {
            worker.page.copy(into: &cycleState.image.snapshot, nowNs: startNs)
        }

        // 3. controllers
        engine.cycleIndex += 1
        cycleContext.pointee = sy_cycle_context(
            struct_size: UInt32(MemoryLayout<sy_cycle_context>.size), cycle_index: engine.cycleIndex,
            deadline_ns: deadline, wall_clock_ns: clock.wallClockNs(), period_ns: current.periodNs)
        var statusChanged = false
        do {
            let context = UnsafePointer(cycleContext)
            for slot in engine.controllers {
                if slot.status.state == .disabled {
                    guard let until = slot.disabledUntilNs, startNs >= until else { continue }
                    slot.status.state = .running
                    slot.status.consecutiveFailures = 0
                    slot.disabledUntilNs = nil
                    statusChanged = true
                    log.emit(.info, "supervisor", "controller \(slot.status.id) re-enabled (auto_recovery)")
                }
                if let error = slot.instance.execute(context) {
                    statusChanged = true
                    recordFailure(slot, error, nowNs: startNs, supervisor: current.supervisor)
                } else if slot.status.consecutiveFailures > 0 {
                    slot.status.consecutiveFailures = 0
                    statusChanged = true
                }
            }
        }

        // 4. write: hand setpoints to the device workers without blocking.
        // Hand writes come after the controllers: one for a channel a
        // controller set this cycle is refused unless forced, and a forced
        // one replaces the controller's setpoint.
        // Swapped out, not copied: an empty queue costs no allocation per cycle.
        let manual = manualWrites.withLock { m in
            var taken: [(handle: Int32, ticket: ManualWriteTicket)] = []
            if !m.isEmpty { swap(&taken, &m) }
            return taken
        }
        var forced: [Int32] = []
        for (handle, ticket) in manual {
            let i = Int(handle)
            guard i < engine.workerOf.count, let worker = engine.workerOf[i] else {
                ticket.finish(.failed("no device of the running config serves \(ticket.address) any more"))
                continue
            }
            if cycleState.image.written[i] {
                guard ticket.force else {
                    ticket.finish(.ownedByController(cycleState.image.writers[i]))
                    continue
                }
                forced.append(handle)
            }
            var value = sy_value.unavailable
            value.type = SY_VALUE_F64
            value.quality = SY_QUALITY_GOOD
            value.f64 = ticket.value
            worker.enqueueManual(sy_setpoint(channel: handle, value: value), ticket)
            if !engine.touchedWorkers.contains(where: { $0 === worker }) { engine.touchedWorkers.append(worker) }
        }
        for handle in cycleState.image.writtenHandles {
            guard let worker = engine.workerOf[Int(handle)] else { continue }
            if !forced.isEmpty, forced.contains(handle) { continue }
            worker.enqueue(sy_setpoint(channel: handle, value: cycleState.image.setpoints[Int(handle)]))
            if !engine.touchedWorkers.contains(where: { $0 === worker }) { engine.touchedWorkers.append(worker) }
        }
        cycleState.image.clearWrites()
        if deviceIO == .threads { for worker in engine.touchedWorkers { worker.wake() } }
        engine.touchedWorkers.removeAll(keepingCapacity: true)

        // 5. alarms
        var events: [AlarmEvent] = []
        for i in engine.alarms.indices {
            let value = engine.alarms[i].handle.flatMap { h -> Double? in
                let v = cycleState.image.snapshot[Int(h)]
                return v.quality == SY_QUALITY_GOOD ? v.number : nil
            }
            if let event = engine.alarms[i].evaluate(value, nowNs: startNs) { events.append(event) }
        }
        for event in events {
            log.emit(event.kind == .raised ? .warning : .info, "alarm",
                     "\(event.alarmId) \(event.kind.rawValue) (\(event.severity.rawValue)): \(event.channel) = \(event.value.map { fixed($0, 2) } ?? "n/a")")
        }

        // Supervisor: measure, count overruns, publish status.
        let workNs = clock.monotonicNs() - startNs
        let latenessNs = startNs - deadline
        let controllers = statusChanged ? engine.controllers.map(\.status) : nil
        let threshold = current.supervisor.overrunAlertThreshold
        let alert = shared.withLock { s -> Bool in
            s.statistics.cycles += 1
            s.statistics.work.record(workNs)
            s.statistics.lateness.record(latenessNs)
            s.statistics.lastWorkNs = workNs
            var raised = false
            if workNs > current.periodNs {
                s.statistics.overruns += 1
                s.statistics.consecutiveOverruns += 1
                if s.statistics.consecutiveOverruns >= threshold && !s.statistics.overrunAlertActive {
                    s.statistics.overrunAlertActive = true
                    s.statistics.overrunAlerts += 1
                    raised = true
                }
            } else {
                s.statistics.consecutiveOverruns = 0
                s.statistics.overrunAlertActive = false
            }
            if let controllers { s.controllers = controllers }
            if !events.isEmpty {
                s.alarmEvents.append(contentsOf: events)
                if s.alarmEvents.count > 256 { s.alarmEvents.removeFirst(s.alarmEvents.count - 256) }
                for e in events {
                    if e.kind == .raised { s.activeAlarms.insert(e.alarmId) } else { s.activeAlarms.remove(e.alarmId) }
                }
            }
            return raised
        }
        if alert {
            log.emit(.error, "supervisor", "\(threshold) consecutive cycles overran the \(current.periodNs / 1_000_000) ms period (last took \(workNs / 1_000) µs)")
        }
    }

    func sharedSnapshot() -> SharedStatus { shared.withLock { $0 } }

    func withShared<T>(_ body: (inout SharedStatus) -> T) -> T { shared.withLock { body(&$0) } }

    private func recordFailure(_ slot: ControllerSlot, _ error: String, nowNs: Int64, supervisor: EdgeConfig.Supervisor) {
        slot.status.consecutiveFailures += 1
        slot.status.totalFailures += 1
        slot.status.lastError = error
        if slot.status.consecutiveFailures == 1 {
            log.emit(.warning, "controller \(slot.status.id)", "execute failed: \(error)")
        }
        guard slot.status.consecutiveFailures >= supervisor.controllerFailureLimit else { return }
        slot.status.state = .disabled
        slot.status.timesDisabled += 1
        slot.disabledUntilNs = supervisor.autoRecovery ? Nanoseconds.adding(nowNs, Nanoseconds.milliseconds(supervisor.recoveryDelayMs)) : nil
        let recovery = supervisor.autoRecovery ? "; retrying in \(supervisor.recoveryDelayMs) ms (auto_recovery)" : "; stays disabled until the config changes (auto_recovery is off)"
        log.emit(.error, "supervisor", "controller \(slot.status.id) disabled after \(slot.status.consecutiveFailures) failed cycles: \(error)\(recovery)")
    }
}
