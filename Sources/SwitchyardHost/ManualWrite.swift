import CSwitchyardPlugin
import Synchronization

/// What became of a setpoint written by hand (`switchyard-edge write`,
/// `POST /write`).
public enum ManualWriteOutcome: Sendable, Equatable {
    /// The driver took it. `notes`: what the driver logged while writing
    /// (e.g. the Modbus driver's `Setpoint: asked 4205, wrote 4210 (…)`).
    case written(notes: [String])
    /// A controller set the channel in the cycle that took the request;
    /// `--force` writes anyway.
    case ownedByController(String)
    /// The driver or its write rules refused the value (limits, a device
    /// exception, a read-back mismatch), or the channel cannot be written.
    case refused(String)
    /// No such channel in the running config.
    case unknownChannel(String)
    /// The device could not take it: not connected, an I/O failure, no
    /// answer in time.
    case failed(String)

    public var isWritten: Bool { if case .written = self { true } else { false } }
}

/// One hand write on its way: the cycle takes it at its write phase (step 4),
/// the device worker delivers it alone — apart from the controllers'
/// setpoints, so that its result is its own — and the outcome is logged as
/// the audit line: who, which channel, the value asked, what the driver
/// said it wrote, the result. [thread-safe]
public final class ManualWriteTicket: Sendable {
    public let address: String
    public let value: Double
    public let force: Bool
    /// Who asked (e.g. `switchyard-edge write (user alice)`), for the audit.
    public let requestedBy: String
    private let log: LogQueue
    private let outcomeSlot = Mutex<ManualWriteOutcome?>(nil)
    private let done = WakeSignal()

    init(address: String, value: Double, force: Bool, requestedBy: String, log: LogQueue) {
        self.address = address
        self.value = value
        self.force = force
        self.requestedBy = requestedBy
        self.log = log
    }

    /// The outcome, once there is one.
    public var outcome: ManualWriteOutcome? { outcomeSlot.withLock { $0 } }

    /// Waits (on the real clock) for the outcome; nil if none came in time.
    public func wait(timeoutNs: Int64) -> ManualWriteOutcome? {
        let clock = SystemClock()
        let deadline = clock.monotonicNs() + timeoutNs
        while true {
            if let o = outcome { return o }
            if clock.monotonicNs() >= deadline { return nil }
            done.wait(untilNs: min(deadline, clock.monotonicNs() + 100_000_000))
        }
    }

    /// Settles the ticket once (later calls are ignored) and writes the audit line.
    func finish(_ outcome: ManualWriteOutcome) {
        let first = outcomeSlot.withLock { slot -> Bool in
            guard slot == nil else { return false }
            slot = outcome
            return true
        }
        guard first else { return }
        done.signal()
        let result: String = switch outcome {
        case .written(let notes): "written" + (notes.isEmpty ? " as asked" : "; driver: " + notes.joined(separator: "; "))
        case .ownedByController(let owner): "refused: \(owner) set it in this cycle (force to write anyway)"
        case .refused(let why): "refused: \(why)"
        case .unknownChannel(let why): "refused: \(why)"
        case .failed(let why): "failed: \(why)"
        }
        log.emit(outcome.isWritten ? .notice : .warning, "manual write",
                 "\(address) = \(fixedOrWhole(value)) asked by \(requestedBy)\(force ? " (forced)" : ""): \(result)")
    }
}

/// A value as people write it: 4205, 0.5.
func fixedOrWhole(_ v: Double) -> String {
    v.rounded() == v && abs(v) < 1e15 ? String(Int64(v)) : String(v)
}
