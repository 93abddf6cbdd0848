import CSwitchyardPlugin
import Synchronization
import SwitchyardJSON
import SwitchyardModel

/// What a device is doing, for status pages and tests.
public struct DeviceStatus: Sendable, Hashable {
    /// `connecting`: no poll has succeeded since the worker started or the
    /// device last failed, and fewer than `fault_after_failures` attempts
    /// in a row have failed. `running`: the last poll succeeded.
    /// `faulted`: that many attempts (connects or polls) in a row failed.
    public enum State: String, Sendable {
        case connecting, running, faulted, stopped
    }

    public var deviceId: String
    public var profile: String
    public var plugin: String
    public var state: State = .connecting
    public var polls = 0
    public var pollFailures = 0
    /// Deliveries of setpoints the driver took.
    public var writes = 0
    /// Deliveries the driver refused: its write rules, the device's
    /// exception, a read-back mismatch.
    public var writesRefused = 0
    /// Deliveries that failed on I/O (the device then reconnects).
    public var writeFailures = 0
    /// Successful connects (driver starts), the first one included.
    public var connects = 0
    /// Times the worker dropped a connection after a failure.
    public var reconnects = 0
    /// Failed attempts (connects or polls) since the last successful poll.
    public var consecutiveFailures = 0
    /// The failure the device is in now; nil once a poll succeeds again.
    public var lastError: String?
    /// The most recent failure and when it happened, kept after the device
    /// recovered.
    public var lastFailure: TimedMessage?
    /// How long the worker waits before its next attempt, while failing.
    public var backoffMs: Int?
    /// Why the last delivery was refused or failed; nil once a later one succeeded.
    public var lastWriteError: String?
    /// The last refused or failed delivery, kept after later successes.
    public var lastWriteFailure: TimedMessage?
    /// Conditions the driver reports about its device (e.g. points it
    /// stopped reading), by key.
    public var diagnostics: [String: String] = [:]
}

/// A message with the wall-clock time it was recorded.
public struct TimedMessage: Sendable, Hashable {
    public var message: String
    /// ns since the Unix epoch.
    public var wallClockNs: Int64
}

/// Runs one device: connects, polls its groups on their intervals, delivers
/// setpoints, reconnects with exponential backoff and jitter, and marks the
/// device's values fault when it fails. Every driver call happens here, on
/// the device's own thread (or, with `DeviceIOMode.inline`, in `step`), never
/// on the cycle thread.
final class DeviceWorker: @unchecked Sendable {
    // @unchecked: `schedule` and `connected`/`backoff` state are touched only by
    // the worker's own thread (or the single thread calling `step` inline);
    // everything shared is behind Mutex.
    /// The device as this worker runs it; a hot parameter change replaces it.
    var device: ResolvedConfig.Device { currentDevice.withLock { $0 } }
    private let currentDevice: Mutex<ResolvedConfig.Device>
    let instance: PluginInstance
    /// A hot parameter change waiting for the worker thread.
    private let configureRequest = Mutex<ConfigureCall?>(nil)
    let page: DevicePage
    private let clock: any CycleClock
    private let log: LogQueue
    private let inbox = Mutex<[Int32: sy_setpoint]>([:])
    /// Hand writes, each delivered on its own after the controllers' setpoints.
    private let manualInbox = Mutex<[(sy_setpoint, ManualWriteTicket)]>([])
    private let signal = WakeSignal()
    private let stopRequested = Atomic<Bool>(false)
    private let threadStarted = Atomic<Bool>(false)
    let status: Mutex<DeviceStatus>
    /// The worker's thread; starting and stopping are serialised on it.
    private let thread = Mutex<OSThread?>(nil)

    private struct Group {
        var name: String
        var intervalNs: Int64?
        var nextDueNs: Int64
        var done = false
    }

    private var groups: [Group]
    /// New poll intervals by group, taken up at the next step.
    private let pendingIntervals = Mutex<[String: Int64?]?>(nil)
    private var connected = false
    /// No connect or poll before this (the backoff after a failure).
    private var nextAttemptNs: Int64 = 0
    private var backoffNs: Int64
    private var random: UInt64
    private let faultAfterFailures: Int
    /// When the current run of failures began (host clock), for the recovery line.
    private var failingSinceNs: Int64?
    /// Setpoint deliveries refused or failed since the last one taken.
    private var writesRefusedInARow = 0

    static let initialBackoffNs: Int64 = 500_000_000
    static let maximumBackoffNs: Int64 = 60_000_000_000

    init(device: ResolvedConfig.Device, instance: PluginInstance, page: DevicePage, clock: any CycleClock, log: LogQueue) {
        self.currentDevice = Mutex(device)
        self.instance = instance
        self.page = page
        self.clock = clock
        self.log = log
        self.currentGroups = Mutex(device.pollGroups)
        self.groups = device.pollGroups.map { Group(name: $0.name, intervalNs: $0.intervalMs.map { Nanoseconds.milliseconds($0) }, nextDueNs: 0) }
        self.backoffNs = Self.initialBackoffNs
        self.random = UInt64(truncatingIfNeeded: device.id.hashValue) | 1
        self.faultAfterFailures = max(device.config.faultAfterFailures ?? 3, 1)
        self.status = Mutex(DeviceStatus(deviceId: device.id, profile: device.profile.id, plugin: device.plugin.pluginId))
    }

    /// [cycle] Queues setpoints without blocking; a newer value for the same
    /// channel replaces one not yet written.
    func enqueue(_ setpoint: sy_setpoint) {
        inbox.withLock { $0[setpoint.channel] = setpoint }
    }

    /// [cycle] Queues a hand write; the worker settles its ticket.
    func enqueueManual(_ setpoint: sy_setpoint, _ ticket: ManualWriteTicket) {
        manualInbox.withLock { $0.append((setpoint, ticket)) }
    }

    func wake() { signal.signal() }

    /// The poll groups this worker runs now (re-timed ones included).
    private let currentGroups: Mutex<[ResolvedConfig.Device.PollGroup]>
    var pollGroups: [ResolvedConfig.Device.PollGroup] { currentGroups.withLock { $0 } }

    /// [control] New poll intervals (a period change, say) without a restart:
    /// the worker takes them up at its next step; staleness follows them.
    func retime(_ pollGroups: [ResolvedConfig.Device.PollGroup], staleAfterNs: [Int64?]) {
        let intervals = Dictionary(uniqueKeysWithValues: pollGroups.map { ($0.name, $0.intervalMs.map { Nanoseconds.milliseconds($0) }) })
        currentGroups.withLock { $0 = pollGroups }
        page.staleAfterNs.withLock { $0 = staleAfterNs }
        pendingIntervals.withLock { $0 = intervals }
        signal.signal()
    }

    /// A hot parameter change handed from the control thread to the worker.
    private final class ConfigureCall: Sendable {
        let parameters: JSONValue
        let outcome = Mutex<PluginInstance.Reconfigure?>(nil)
        let done = WakeSignal()
        init(_ parameters: JSONValue) { self.parameters = parameters }
    }

    /// [control] Hands the driver a hot parameter change (`configure`) and
    /// waits for its answer. The call is made on the worker's own thread
    /// between two of its rounds, so it never overlaps a `start`, `poll`,
    /// `write` or `stop` of the same instance; without a running thread
    /// (inline mode, or before `start`) it is made here. A worker busy in a
    /// request takes it once the request is over (at most the device's
    /// timeout). On `.applied` the worker runs `device` from then on.
    func configure(_ device: ResolvedConfig.Device, timeoutNs: Int64) -> PluginInstance.Reconfigure {
        let outcome: PluginInstance.Reconfigure
        if threadStarted.load(ordering: .acquiring) && !stopRequested.load(ordering: .acquiring) {
            let call = ConfigureCall(device.parameters)
            configureRequest.withLock { $0 = call }
            signal.signal()
            // Real time: a worker in I/O is held up by the device, not by the host's clock.
            let real = SystemClock()
            call.done.wait(untilNs: real.monotonicNs() &+ timeoutNs)
            if let answer = call.outcome.withLock({ $0 }) {
                outcome = answer
            } else {
                // Not taken in time: take it back unless the worker has it now.
                let reclaimed = configureRequest.withLock { r -> Bool in
                    guard r === call else { return false }
                    r = nil
                    return true
                }
                if reclaimed {
                    outcome = .failed("the device's worker did not take the change within \(timeoutNs / 1_000_000) ms")
                } else {
                    call.done.wait(untilNs: .max / 2)
                    outcome = call.outcome.withLock { $0 } ?? .failed("the device's worker did not answer")
                }
            }
        } else {
            outcome = instance.configure(device.parameters)
        }
        if outcome == .applied { currentDevice.withLock { $0 = device } }
        return outcome
    }

    /// [io] Makes a hot parameter change handed over by `configure`.
    private func takeConfigureRequest() {
        guard let call = configureRequest.withLock({ r -> ConfigureCall? in defer { r = nil }; return r }) else { return }
        call.outcome.withLock { $0 = instance.configure(call.parameters) }
        call.done.signal()
    }

    /// Starts the worker thread: once, and never after `stopThread`.
    func startThread() {
        thread.withLock { t in
            guard !stopRequested.load(ordering: .acquiring), !threadStarted.exchange(true, ordering: .acquiringAndReleasing) else { return }
            t = OSThread(name: "dev-" + device.id) { [self] in
                while !stopRequested.load(ordering: .relaxed) {
                    let next = step(nowNs: clock.monotonicNs())
                    if stopRequested.load(ordering: .relaxed) { break }
                    signal.wait(untilNs: next)
                }
                shutDown()
            }
        }
    }

    /// Asks the thread to stop and waits for it. The driver is stopped on its
    /// own thread; a device in I/O delays this call by at most its current
    /// request (bounded by the device's timeout), so the host asks every
    /// worker first and then joins them (`Retirement.destroy`).
    func stopThread() {
        requestStop()
        joinThread()
    }

    /// Asks the thread to stop without waiting: it ends after the request
    /// it is in, and skips the polls still due in this round.
    func requestStop() {
        thread.withLock { _ in stopRequested.store(true, ordering: .releasing) }
        signal.signal()
    }

    /// Waits for the thread asked to stop.
    func joinThread() {
        let running = thread.withLock { t -> OSThread? in
            stopRequested.store(true, ordering: .releasing)
            defer { t = nil }
            return t
        }
        signal.signal()
        running?.join()
    }

    /// Stops the driver (inline mode, or after the thread has ended).
    func shutDown() {
        if connected { instance.stop() }
        connected = false
        status.withLock { $0.state = .stopped }
    }

    /// One round of work: connect if due, write pending setpoints, poll the
    /// groups that are due. Returns when the next round is due.
    @discardableResult
    func step(nowNs: Int64) -> Int64 {
        if let intervals = pendingIntervals.withLock({ p -> [String: Int64?]? in defer { p = nil }; return p }) {
            for i in groups.indices {
                guard let interval = intervals[groups[i].name] else { continue }
                groups[i].intervalNs = interval
                if let interval { groups[i].nextDueNs = min(groups[i].nextDueNs, nowNs + interval) }
            }
        }
        takeConfigureRequest()
        // After a failure nothing happens until the backoff has passed: not
        // a connect, and not a poll on a connection that is still open.
        guard nowNs >= nextAttemptNs else { return nextAttemptNs }
        if !connected {
            let (code, error) = instance.start()
            if code != SY_OK {
                failed("connect failed: \(error ?? statusName(code))", nowNs: nowNs)
                return nextAttemptNs
            }
            connected = true
            status.withLock { $0.connects += 1 }
            for i in groups.indices {
                groups[i].nextDueNs = nowNs
                groups[i].done = false
            }
            // The device is `running` only once a poll has succeeded.
        }

        let pending = inbox.withLock { box -> [sy_setpoint] in
            defer { box.removeAll(keepingCapacity: true) }
            return Array(box.values).sorted { $0.channel < $1.channel }
        }
        if !pending.isEmpty {
            let (code, error) = deliver(pending)
            if code == SY_ERR_IO {
                disconnect(nowNs: nowNs, reason: "write failed: \(error ?? "")")
                return nextAttemptNs
            }
        }
        let manual = manualInbox.withLock { box in
            var taken: [(sy_setpoint, ManualWriteTicket)] = []
            if !box.isEmpty { swap(&taken, &box) }
            return taken
        }
        // A ticket settled already (its requester gave up waiting) is not written late.
        for (setpoint, ticket) in manual where ticket.outcome == nil {
            // What the driver logs while writing is the audit's "value written".
            instance.context.capture.withLock { $0 = [] }
            let (code, error) = deliver([setpoint])
            let notes = instance.context.capture.withLock { c in defer { c = nil }; return c ?? [] }
            switch code {
            case SY_OK: ticket.finish(.written(notes: notes))
            case SY_ERR_IO: ticket.finish(.failed(error ?? statusName(code)))
            default: ticket.finish(.refused(error ?? statusName(code)))
            }
            if code == SY_ERR_IO {
                disconnect(nowNs: nowNs, reason: "write failed: \(error ?? "")")
                return nextAttemptNs
            }
        }

        var next = nowNs + 1_000_000_000
        for i in groups.indices {
            if groups[i].done { continue }
            if stopRequested.load(ordering: .relaxed) { return nowNs }
            if groups[i].nextDueNs <= nowNs {
                let (code, error) = instance.poll(groups[i].name)
                status.withLock { $0.polls += 1 }
                // A "once" group is done only when it was read; a periodic
                // group moves to its next slot either way.
                if code == SY_OK || groups[i].intervalNs != nil { advance(&groups[i], nowNs: nowNs) }
                if code != SY_OK {
                    status.withLock { $0.pollFailures += 1 }
                    let reason = "poll \(groups[i].name) failed: \(error ?? statusName(code))"
                    if code == SY_ERR_IO {
                        disconnect(nowNs: nowNs, reason: reason)
                    } else {
                        // The connection is fine, the device is not (it
                        // answered that it cannot serve): keep the
                        // connection, and back off all the same.
                        failed(reason, nowNs: nowNs)
                    }
                    return nextAttemptNs
                }
                succeeded(nowNs: nowNs)
            }
            if !groups[i].done { next = min(next, groups[i].nextDueNs) }
        }
        return next
    }

    /// The next slot of a group after a poll.
    private func advance(_ group: inout Group, nowNs: Int64) {
        guard let interval = group.intervalNs else {
            group.done = true
            return
        }
        // Stay on the grid of intervals; skip missed slots instead of bursting.
        var due = group.nextDueNs &+ interval
        if due <= nowNs { due = nowNs &+ interval }
        group.nextDueNs = due
    }

    /// A poll succeeded: the device runs, its backoff starts over, and a
    /// recovery is logged with how long the device was failing.
    private func succeeded(nowNs: Int64) {
        backoffNs = Self.initialBackoffNs
        let recovered = status.withLock { s -> (failures: Int, error: String?)? in
            defer {
                s.state = .running
                s.consecutiveFailures = 0
                s.lastError = nil
                s.backoffMs = nil
            }
            return s.state == .running ? nil : (s.consecutiveFailures, s.lastError)
        }
        if let recovered, recovered.failures > 0 {
            let downS = failingSinceNs.map { Double(nowNs - $0) / 1e9 } ?? 0
            log.emit(.info, "device \(device.id)",
                     "recovered: polling again after \(recovered.failures) failed attempt\(recovered.failures == 1 ? "" : "s") over \(fixed(downS, 1)) s (last: \(recovered.error ?? "?"))")
        }
        failingSinceNs = nil
    }

    /// Hands setpoints to the driver and counts the outcome: taken
    /// (`writes`), refused, or failed on I/O.
    private func deliver(_ setpoints: [sy_setpoint]) -> (sy_status, String?) {
        let (code, error) = instance.write(setpoints)
        let message = error ?? statusName(code)
        let wallNs = code == SY_OK ? 0 : clock.wallClockNs()
        status.withLock {
            switch code {
            case SY_OK:
                $0.writes += 1
                $0.lastWriteError = nil
                return
            case SY_ERR_IO: $0.writeFailures += 1
            default: $0.writesRefused += 1
            }
            $0.lastWriteError = message
            $0.lastWriteFailure = TimedMessage(message: message, wallClockNs: wallNs)
        }
        // A controller asks again every cycle: a refusal is logged once, then
        // at most once a minute with a count, and its end once.
        let source = "device \(device.id)"
        if code != SY_OK {
            writesRefusedInARow += 1
            let kind = "setpoint write \(code == SY_ERR_IO ? "failed" : "refused")"
            log.emitLimited(.warning, source, "\(kind): \(message)", kind: kind, nowNs: clock.monotonicNs())
        } else if writesRefusedInARow > 0 {
            log.emit(.info, source, "setpoint writes accepted again after \(writesRefusedInARow) refused or failed")
            log.forgetRepeats(of: source)
            writesRefusedInARow = 0
        }
        return (code, error)
    }

    private func disconnect(nowNs: Int64, reason: String) {
        instance.stop()
        connected = false
        status.withLock { $0.reconnects += 1 }
        failed(reason, nowNs: nowNs)
    }

    /// A connect or poll failed: the device's values turn `fault`, the next
    /// attempt waits out the backoff (full jitter over the upper half of the
    /// window, which doubles up to 60 s and starts over only after a
    /// successful poll: a device that accepts connections and then fails
    /// every read backs off like one that refuses them), and after
    /// `fault_after_failures` failures in a row the device is `faulted`.
    private func failed(_ message: String, nowNs: Int64) {
        page.mark(.fault, at: nowNs)
        if failingSinceNs == nil { failingSinceNs = nowNs }
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        let jitter = Int64(random % UInt64(backoffNs / 2 + 1))
        let wait = backoffNs / 2 + jitter
        nextAttemptNs = nowNs + wait
        backoffNs = min(backoffNs * 2, Self.maximumBackoffNs)
        let wall = clock.wallClockNs()
        let (changed, faulted) = status.withLock { s -> (Bool, Bool) in
            let changed = s.lastError != message
            s.consecutiveFailures += 1
            let wasFaulted = s.state == .faulted
            s.state = s.consecutiveFailures >= faultAfterFailures ? .faulted : .connecting
            s.lastError = message
            s.lastFailure = TimedMessage(message: message, wallClockNs: wall)
            s.backoffMs = Int(wait / 1_000_000)
            return (changed, !wasFaulted && s.state == .faulted)
        }
        if faulted {
            log.emit(.warning, "device \(device.id)", "faulted after \(faultAfterFailures) failed attempt\(faultAfterFailures == 1 ? "" : "s") in a row: \(message)")
        } else if changed {
            log.emit(.warning, "device \(device.id)", message)
        }
    }
}
