import SwitchyardModel

/// A controller's state as the supervisor reports it.
public struct ControllerStatus: Sendable, Hashable {
    public enum State: String, Sendable {
        case running
        /// Disabled by the supervisor after failing; may come back with auto-recovery.
        case disabled
    }

    public var id: String
    public var className: String
    public var plugin: String
    public var pluginVersion: String
    public var executionOrder: Int
    public var state: State = .running
    public var consecutiveFailures = 0
    public var totalFailures = 0
    public var timesDisabled = 0
    public var lastError: String?
}

/// A controller in the running config, with the supervisor's bookkeeping.
/// Owned by the cycle thread.
final class ControllerSlot {
    /// Updated at the swap when a new config keeps this instance.
    var config: ResolvedConfig.Controller
    let instance: PluginInstance
    var status: ControllerStatus
    var disabledUntilNs: Int64?

    init(config: ResolvedConfig.Controller, instance: PluginInstance) {
        self.config = config
        self.instance = instance
        status = ControllerStatus(id: config.config.id, className: config.config.className, plugin: config.plugin.pluginId,
                                  pluginVersion: config.plugin.pluginVersion, executionOrder: config.config.executionOrder)
    }
}

/// An alarm that fired or cleared.
public struct AlarmEvent: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case raised, cleared
    }

    public var alarmId: String
    public var kind: Kind
    public var severity: AlarmRule.Severity
    public var channel: String
    public var value: Double?
    public var atNs: Int64
    public var notification: [String]
}

/// One alarm rule bound to its channel handle.
struct AlarmSlot {
    let rule: AlarmRule
    let handle: Int32?
    var active = false

    /// The event if the alarm changes state with this value.
    mutating func evaluate(_ value: Double?, nowNs: Int64) -> AlarmEvent? {
        guard let value else { return nil }  // no decision on a value we do not have
        let holds = rule.condition.holds(value, rule.threshold)
        if !active && holds {
            active = true
            return AlarmEvent(alarmId: rule.id, kind: .raised, severity: rule.severity, channel: rule.channel, value: value, atNs: nowNs, notification: rule.notification)
        }
        if active && !holds && clearsWithHysteresis(value) {
            active = false
            return AlarmEvent(alarmId: rule.id, kind: .cleared, severity: rule.severity, channel: rule.channel, value: value, atNs: nowNs, notification: rule.notification)
        }
        return nil
    }

    private func clearsWithHysteresis(_ value: Double) -> Bool {
        let h = rule.hysteresis
        switch rule.condition {
        case .less, .lessOrEqual: return value >= rule.threshold + h
        case .greater, .greaterOrEqual: return value <= rule.threshold - h
        case .equal, .notEqual: return true
        }
    }
}
