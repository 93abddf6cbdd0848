import SwitchyardModel

/// What the agent needs to know about the running site to judge a new
/// version's probation and to report metrics.
public struct HealthSample: Sendable {
    public struct Controller: Sendable {
        public var totalFailures: Int
        public var disabled: Bool
        public var lastError: String?
        public init(totalFailures: Int, disabled: Bool, lastError: String?) {
            self.totalFailures = totalFailures
            self.disabled = disabled
            self.lastError = lastError
        }
    }

    /// Cycles completed since the process started.
    public var cycles: UInt64
    public var overrunAlerts: UInt64
    public var overruns: UInt64
    public var controllers: [String: Controller]
    /// Devices whose worker reports a fault, with the reason.
    public var faultedDevices: [String: String]
    public var configVersion: Int?
    public var periodMs: Int?
    public var workP99Ms: Double
    public var cycleRunning: Bool
    /// Per device, its text channels' texts (serial number, firmware…):
    /// what an operator asks for first, carried to the heartbeats.
    public var deviceTexts: [String: [String: String]]

    public init(cycles: UInt64, overrunAlerts: UInt64, overruns: UInt64, controllers: [String: Controller], faultedDevices: [String: String],
                configVersion: Int?, periodMs: Int?, workP99Ms: Double, cycleRunning: Bool, deviceTexts: [String: [String: String]] = [:]) {
        self.deviceTexts = deviceTexts
        self.cycles = cycles
        self.overrunAlerts = overrunAlerts
        self.overruns = overruns
        self.controllers = controllers
        self.faultedDevices = faultedDevices
        self.configVersion = configVersion
        self.periodMs = periodMs
        self.workP99Ms = workP99Ms
        self.cycleRunning = cycleRunning
    }
}

/// Judges a version in probation: it is confirmed after `cycles` healthy
/// cycles, and fails at the first sign that the change hurt the site.
///
/// Healthy means, counted from the sample taken right after the swap: no new
/// overrun alert (the supervisor's threshold of consecutive overruns), no
/// controller failing or disabled, and no device that the new version
/// created or changed in fault. Faults that were there before the change
/// (a meter that was already unreachable) do not count against it.
public struct Probation: Sendable {
    public enum Verdict: Sendable, Equatable {
        case pending(healthyCycles: Int)
        case healthy
        case failed(String)
    }

    public let version: Int
    public let cycles: Int
    public let baseline: HealthSample
    /// Devices the new version added or changed; worked out only when a
    /// device falls into fault during the probation.
    public let changedDevices: @Sendable () -> Set<String>

    public init(version: Int, cycles: Int, baseline: HealthSample, changedDevices: @autoclosure @escaping @Sendable () -> Set<String>) {
        self.version = version
        self.cycles = cycles
        self.baseline = baseline
        self.changedDevices = changedDevices
    }

    public func judge(_ now: HealthSample) -> Verdict {
        if now.overrunAlerts > baseline.overrunAlerts {
            return .failed("the cycle overran its period \(now.overrunAlerts - baseline.overrunAlerts) time(s) past the alert threshold during probation")
        }
        for (id, controller) in now.controllers.sorted(by: { $0.key < $1.key }) {
            let before = baseline.controllers[id]?.totalFailures ?? 0
            if controller.disabled {
                return .failed("controller \(id) was disabled after failing: \(controller.lastError ?? "no reason given")")
            }
            if controller.totalFailures > before {
                return .failed("controller \(id) failed \(controller.totalFailures - before) cycle(s) during probation: \(controller.lastError ?? "no reason given")")
            }
        }
        let newFaults = now.faultedDevices.filter { baseline.faultedDevices[$0.key] == nil }
        if !newFaults.isEmpty {
            let changed = changedDevices()
            for (id, reason) in newFaults.sorted(by: { $0.key < $1.key }) where changed.contains(id) {
                return .failed("device \(id), added or changed by this version, is in fault: \(reason)")
            }
        }
        // The baseline is taken before the swap: the cycle that swapped ran the old config.
        let done = now.cycles > baseline.cycles ? Int(now.cycles - baseline.cycles) - 1 : 0
        return done >= cycles ? .healthy : .pending(healthyCycles: done)
    }

    /// Devices whose entry differs between two configs (or is new).
    public static func changedDevices(from old: EdgeConfig?, to new: EdgeConfig) -> Set<String> {
        let before = Dictionary((old?.devices ?? []).map { ($0.deviceId, $0) }, uniquingKeysWith: { a, _ in a })
        func same(_ a: DeviceConfig, _ b: DeviceConfig) -> Bool {
            (a.profile, a.enabled, a.connection, a.parameters, a.pollGroups, a.pollIntervalMs)
                == (b.profile, b.enabled, b.connection, b.parameters, b.pollGroups, b.pollIntervalMs)
        }
        return Set(new.devices.filter { d in before[d.deviceId].map { !same($0, d) } ?? true }.map(\.deviceId))
    }
}
