import CSwitchyardPlugin
import Synchronization
import SwitchyardModel

/// What a device is doing, for status pages and tests.
public struct DeviceStatus: Sendable, Hashable {
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
    public var reconnects = 0
    public var lastError: String?
    /// Why the last delivery was refused or failed; nil once a later one succeeded.
    public var lastWriteError: String?
    /// The last refused or failed delivery, kept after later successes.
    public var lastWriteFailure: TimedMessage?
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
    let device: ResolvedConfig.Device
    let instance: PluginInstance
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
    private var nextStartNs: Int64 = 0
    private var backoffNs: Int64
    private var random: UInt64

    static let initialBackoffNs: Int64 = 500_000_000
    static let maximumBackoffNs: Int64 = 60_000_000_000

    init(device: ResolvedConfig.Device, instance: PluginInstance, page: DevicePage, clock: any CycleClock, log: LogQueue) {
        self.device = device
        self.instance = instance
        self.page = page
        self.clock = clock
        self.log = log
        self.currentGroups = Mutex(device.pollGroups)
        self.groups = device.pollGroups.map { Group(name: $0.name, intervalNs: $0.intervalMs.map { Int64($0) * 1_000_000 }, nextDueNs: 0) }
        self.backoffNs = Self.initialBackoffNs
        self.random = UInt64(truncatingIfNeeded: device.id.hashValue) | 1
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
        let intervals = Dictionary(uniqueKeysWithValues: pollGroups.map { ($0.name, $0.intervalMs.map { Int64($0) * 1_000_000 }) })
        currentGroups.withLock { $0 = pollGroups }
        page.staleAfterNs.withLock { $0 = staleAfterNs }
        pendingIntervals.withLock { $0 = intervals }
        signal.signal()
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
    /// own thread; a device stuck in I/O delays this call (so the host makes
    /// it on a thread of its own, see `EdgeHost.handOver`).
    func stopThread() {
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
        if !connected {
            guard nowNs >= nextStartNs else { return nextStartNs }
            let (code, error) = instance.start()
            if code != SY_OK {
                fail("connect failed: \(error ?? statusName(code))", nowNs: nowNs)
                return nextStartNs
            }
            connected = true
            backoffNs = Self.initialBackoffNs
            for i in groups.indices {
                groups[i].nextDueNs = nowNs
                groups[i].done = false
            }
            status.withLock { $0.state = .running }
        }

        let pending = inbox.withLock { box -> [sy_setpoint] in
            defer { box.removeAll(keepingCapacity: true) }
            return Array(box.values).sorted { $0.channel < $1.channel }
        }
        if !pending.isEmpty {
            let (code, error) = deliver(pending)
            if code == SY_ERR_IO {
                disconnect(nowNs: nowNs, reason: "write failed: \(error ?? "")")
                return nextStartNs
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
                return nextStartNs
            }
        }

        var next = nowNs + 1_000_000_000
        for i in groups.indices {
            if groups[i].done { continue }
            if groups[i].nextDueNs <= nowNs {
                let (code, error) = instance.poll(groups[i].name)
                if code != SY_OK {
                    status.withLock { $0.pollFailures += 1 }
                    if code == SY_ERR_IO || code == SY_ERR_UNAVAILABLE {
                        disconnect(nowNs: nowNs, reason: "poll \(groups[i].name) failed: \(error ?? statusName(code))")
                        return nextStartNs
                    }
                    page.mark(.fault, at: nowNs)
                    status.withLock { $0.lastError = error }
                }
                status.withLock { $0.polls += 1 }
                if let interval = groups[i].intervalNs {
                    // Stay on the grid of intervals; skip missed slots instead of bursting.
                    var due = groups[i].nextDueNs + interval
                    if due <= nowNs { due = nowNs + interval }
                    groups[i].nextDueNs = due
                } else {
                    groups[i].done = true
                }
            }
            if !groups[i].done { next = min(next, groups[i].nextDueNs) }
        }
        return next
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
        if code != SY_OK { log.emit(.warning, "device \(device.id)", "setpoint write refused: \(message)") }
        return (code, error)
    }

    private func disconnect(nowNs: Int64, reason: String) {
        instance.stop()
        connected = false
        fail(reason, nowNs: nowNs)
        status.withLock { $0.reconnects += 1 }
    }

    private func fail(_ message: String, nowNs: Int64) {
        page.mark(.fault, at: nowNs)
        // Full jitter within the current backoff window, then double it.
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        let jitter = Int64(random % UInt64(backoffNs / 2 + 1))
        nextStartNs = nowNs + backoffNs / 2 + jitter
        backoffNs = min(backoffNs * 2, Self.maximumBackoffNs)
        let changed = status.withLock { s -> Bool in
            defer {
                s.state = .faulted
                s.lastError = message
            }
            return s.lastError != message
        }
        if changed { log.emit(.warning, "device \(device.id)", message) }
    }
}
