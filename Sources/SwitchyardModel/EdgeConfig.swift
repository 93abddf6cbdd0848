import SwitchyardJSON

/// The config document an edge runs (spec 000, "Configuration Data Model"),
/// extended with `devices[]` for devices that are not Modbus (simulated ones)
/// and a few supervisor settings. Reading it checks structure and types;
/// `ConfigValidator` then checks it against the installed plugins and profiles.
public struct EdgeConfig: Sendable, Hashable {
    public var version: Int
    public var timestamp: String?
    public var edgeId: String
    public var coreCycle: CoreCycle
    public var controllers: [ControllerConfig]
    public var devices: [DeviceConfig]
    public var alarms: [AlarmRule]
    /// How the sync agent keeps this config in step with the server.
    public var sync: SyncSettings
    /// The document as received: what is hashed, stored and sent back.
    public var document: JSONValue

    public struct CoreCycle: Sendable, Hashable {
        public var periodMs: Int = 1000
        public var supervisor = Supervisor()
    }

    public struct Supervisor: Sendable, Hashable {
        /// Consecutive overrunning cycles that raise an alert.
        public var overrunAlertThreshold: Int = 3
        /// Re-enable a controller disabled for failing, after `recoveryDelayMs`.
        public var autoRecovery: Bool = true
        /// Consecutive failed cycles after which a controller is disabled.
        public var controllerFailureLimit: Int = 3
        public var recoveryDelayMs: Int = 30_000
    }

    /// The domain of every integer in a config (docs/configuration.md has
    /// the table). Each is far inside what the host's arithmetic handles:
    /// an interval in nanoseconds, times three, stays below 2^48.
    public enum Limits {
        /// `core_cycle.period_ms`: 10 ms to an hour.
        public static let periodMs = 10...3_600_000
        /// Poll intervals (`poll_interval_ms`, a profile's `poll_groups.*.interval_ms`): 1 ms to a day.
        public static let intervalMs = 1...86_400_000
        /// `recovery_delay_ms`: none to a day.
        public static let recoveryDelayMs = 0...86_400_000
        /// `overrun_alert_threshold`, `controller_failure_limit`: consecutive cycles.
        public static let cycleCount = 1...1_000_000
        /// `execution_order`.
        public static let executionOrder = -1_000_000...1_000_000
    }

    public static let topLevelKeys: Set<String> = [
        "version", "timestamp", "edge_id", "core_cycle", "scheduler", "modbus_devices", "devices", "alarms",
        "sync", "metadata",
    ]

    /// Parses and reads a config. `file` names the source in every issue.
    public init(parsing text: String, file: String?) throws(ValidationError) {
        let json = try JSONValue.parse(text, file: file)
        do {
            try self.init(json: json)
        } catch {
            throw file.map { error.inFile($0) } ?? error
        }
    }

    public init(json: JSONValue) throws(ValidationError) {
        try self.init(json: json, reusing: nil)
    }

    /// Reads a later version of `previous`'s document, in which only the
    /// top-level members named in `changed` differ: controllers, devices and
    /// alarms whose members did not change are taken from `previous` as
    /// they are, read and checked already. An edge taking a delta that
    /// changed one controller parameter read its hundred devices again.
    public init(json: JSONValue, previous: EdgeConfig, changed: Set<String>) throws(ValidationError) {
        try self.init(json: json, reusing: (previous, changed))
    }

    private init(json: JSONValue, reusing: (previous: EdgeConfig, changed: Set<String>)?) throws(ValidationError) {
        /// `previous`, when none of `members` changed.
        func unchanged(_ members: String...) -> EdgeConfig? {
            guard let reusing, !members.contains(where: reusing.changed.contains) else { return nil }
            return reusing.previous
        }
        let issues = IssueList()
        guard var r = ObjectReader(json, at: .root, issues: issues) else { throw ValidationError(issues.issues) }
        let root = JSONPath.root
        version = r.integer("version", min: 0, max: JSONValue.largestExactInteger) ?? 0
        if r.object["version"] == nil { issues.add(root.appending("version"), "is required") }
        timestamp = r.string("timestamp")
        edgeId = r.requiredString("edge_id") ?? ""

        coreCycle = CoreCycle()
        if let cc = r.value("core_cycle"), var c = ObjectReader(cc, at: root.appending("core_cycle"), issues: issues) {
            coreCycle.periodMs = c.integer("period_ms", min: Limits.periodMs.lowerBound, max: Limits.periodMs.upperBound) ?? 1000
            if let sv = c.value("supervisor"), var s = ObjectReader(sv, at: root.appending("core_cycle").appending("supervisor"), issues: issues) {
                var sup = Supervisor()
                sup.overrunAlertThreshold = s.integer("overrun_alert_threshold", min: Limits.cycleCount.lowerBound, max: Limits.cycleCount.upperBound) ?? sup.overrunAlertThreshold
                sup.autoRecovery = s.bool("auto_recovery") ?? sup.autoRecovery
                sup.controllerFailureLimit = s.integer("controller_failure_limit", min: Limits.cycleCount.lowerBound, max: Limits.cycleCount.upperBound) ?? sup.controllerFailureLimit
                sup.recoveryDelayMs = s.integer("recovery_delay_ms", min: Limits.recoveryDelayMs.lowerBound, max: Limits.recoveryDelayMs.upperBound) ?? sup.recoveryDelayMs
                s.rejectUnknownKeys()
                coreCycle.supervisor = sup
            }
            c.rejectUnknownKeys()
        }

        controllers = []
        let keptControllers = unchanged("scheduler")
        if let keptControllers {
            controllers = keptControllers.controllers
            _ = r.value("scheduler")
        } else if let sch = r.value("scheduler"), var s = ObjectReader(sch, at: root.appending("scheduler"), issues: issues) {
            for (i, item) in (s.array("controllers") ?? []).enumerated() {
                let path = root.appending("scheduler").appending("controllers").appending(index: i)
                if let c = ControllerConfig(item, at: path, index: i, issues: issues) { controllers.append(c) }
            }
            s.rejectUnknownKeys()
        }

        devices = []
        let keptDevices = unchanged("modbus_devices", "devices")
        if let keptDevices {
            devices = keptDevices.devices
            _ = r.value("modbus_devices")
            _ = r.value("devices")
        } else {
            for section in ["modbus_devices", "devices"] {
                for (i, item) in (r.array(section) ?? []).enumerated() {
                    let path = root.appending(section).appending(index: i)
                    if let d = DeviceConfig(item, at: path, issues: issues) { devices.append(d) }
                }
            }
        }

        alarms = []
        let keptAlarms = unchanged("alarms")
        if let keptAlarms {
            alarms = keptAlarms.alarms
            _ = r.value("alarms")
        } else {
            for (i, item) in (r.array("alarms") ?? []).enumerated() {
                if let a = AlarmRule(item, at: root.appending("alarms").appending(index: i), issues: issues) { alarms.append(a) }
            }
        }
        sync = r.value("sync").map { SyncSettings($0, at: root.appending("sync"), issues: issues) } ?? SyncSettings()
        _ = r.value("metadata")
        r.rejectUnknownKeys()

        // What was taken from `previous` was unique there.
        if keptControllers == nil { Self.checkUnique(controllers.map { ($0.id, $0.path) }, what: "controller id", issues: issues) }
        if keptDevices == nil { Self.checkUnique(devices.map { ($0.deviceId, $0.path) }, what: "device_id", issues: issues) }
        if keptAlarms == nil { Self.checkUnique(alarms.map { ($0.id, $0.path) }, what: "alarm id", issues: issues) }
        try issues.check()
        document = json
    }

    static func checkUnique(_ items: [(String, JSONPath)], what: String, issues: IssueList) {
        var seen: [String: JSONPath] = [:]
        for (id, path) in items {
            if let first = seen[id] {
                issues.add(path, "\(what) \"\(id.echoed())\" is already used at \(first)")
            } else {
                seen[id] = path
            }
        }
    }

    /// Enabled controllers in the order they run: by `execution_order`, then
    /// by their position in the document.
    public var executionPlan: [ControllerConfig] {
        controllers.filter(\.enabled).sorted { ($0.executionOrder, $0.index) < ($1.executionOrder, $1.index) }
    }
}

public struct ControllerConfig: Sendable, Hashable {
    /// When a parameter change should take effect (spec 000, "Controlled rollout").
    public enum ApplyMode: String, Sendable, CaseIterable {
        case next_cycle, immediate
    }

    public var id: String
    public var className: String
    public var enabled: Bool
    public var executionOrder: Int
    public var parameters: [String: JSONValue]
    public var apply: ApplyMode
    public var index: Int
    public var path: JSONPath

    init?(_ value: JSONValue, at path: JSONPath, index: Int, issues: IssueList) {
        guard var r = ObjectReader(value, at: path, issues: issues) else { return nil }
        let id = r.requiredString("id")
        let className = r.requiredString("class")
        enabled = r.bool("enabled") ?? true
        executionOrder = r.integer("execution_order", min: EdgeConfig.Limits.executionOrder.lowerBound, max: EdgeConfig.Limits.executionOrder.upperBound) ?? index
        parameters = r.objectMember("parameters") ?? [:]
        apply = r.choice("apply", ApplyMode.self) ?? .next_cycle
        r.rejectUnknownKeys()
        guard let id, let className else { return nil }
        self.id = id
        self.className = className
        self.index = index
        self.path = path
    }
}

public struct DeviceConfig: Sendable, Hashable {
    public var deviceId: String
    public var profile: String
    public var enabled: Bool
    public var connection: JSONValue?
    public var parameters: [String: JSONValue]
    /// Group name → channel names (spec 000: `"fast": ["ActivePower", "Soc"]`).
    public var pollGroups: [String: [String]]
    public var pollIntervalMs: Int?
    /// Consecutive failed attempts (connects or polls) after which the
    /// device is reported `faulted`; before that it is `connecting`.
    /// Default 3.
    public var faultAfterFailures: Int?
    public var path: JSONPath

    init?(_ value: JSONValue, at path: JSONPath, issues: IssueList) {
        guard var r = ObjectReader(value, at: path, issues: issues) else { return nil }
        let deviceId = r.requiredString("device_id")
        let profile = r.requiredString("profile")
        enabled = r.bool("enabled") ?? true
        connection = r.value("connection")
        if let connection, connection.objectValue == nil {
            issues.add(path.appending("connection"), "expected object, got \(connection.typeName)")
        }
        parameters = r.objectMember("parameters") ?? [:]
        pollGroups = [:]
        for (group, members) in r.objectMember("poll_groups") ?? [:] {
            let gp = path.appending("poll_groups").appending(group)
            guard case .array(let items) = members else {
                issues.add(gp, "expected an array of channel names, got \(members.typeName)")
                continue
            }
            pollGroups[group] = items.enumerated().compactMap { i, item in
                guard case .string(let s) = item else {
                    issues.add(gp.appending(index: i), "expected string, got \(item.typeName)")
                    return nil
                }
                return s
            }
        }
        pollIntervalMs = r.integer("poll_interval_ms", min: EdgeConfig.Limits.intervalMs.lowerBound, max: EdgeConfig.Limits.intervalMs.upperBound)
        faultAfterFailures = r.integer("fault_after_failures", min: 1, max: 1000)
        r.rejectUnknownKeys()
        guard let deviceId, let profile else { return nil }
        if deviceId.contains("/") { issues.add(path.appending("device_id"), "must not contain '/' (it separates device and channel)") }
        self.deviceId = deviceId
        self.profile = profile
        self.path = path
    }
}

public struct AlarmRule: Sendable, Hashable {
    public enum Condition: String, Sendable, CaseIterable {
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "==", notEqual = "!="

        public func holds(_ value: Double, _ threshold: Double) -> Bool {
            switch self {
            case .less: value < threshold
            case .lessOrEqual: value <= threshold
            case .greater: value > threshold
            case .greaterOrEqual: value >= threshold
            case .equal: value == threshold
            case .notEqual: value != threshold
            }
        }
    }

    public enum Severity: String, Sendable, CaseIterable {
        case info, warning, critical
    }

    public var id: String
    /// `device_id/Channel`.
    public var channel: String
    public var condition: Condition
    public var threshold: Double
    public var severity: Severity
    public var notification: [String]
    /// The alarm clears only once the condition is false by this margin.
    public var hysteresis: Double
    public var path: JSONPath

    init?(_ value: JSONValue, at path: JSONPath, issues: IssueList) {
        guard var r = ObjectReader(value, at: path, issues: issues) else { return nil }
        let id = r.requiredString("id")
        let channel = r.requiredString("channel")
        let condition = r.choice("condition", Condition.self)
        if r.object["condition"] == nil { issues.add(path.appending("condition"), "is required") }
        let threshold = r.number("threshold")
        if r.object["threshold"] == nil { issues.add(path.appending("threshold"), "is required") }
        severity = r.choice("severity", Severity.self) ?? .warning
        notification = r.stringArray("notification") ?? []
        hysteresis = r.number("hysteresis", min: 0) ?? 0
        r.rejectUnknownKeys()
        if let channel, channel.split(separator: "/", omittingEmptySubsequences: false).count != 2 {
            issues.add(path.appending("channel"), "must be \"device_id/Channel\", got \"\(channel.echoed())\"")
        }
        guard let id, let channel, let condition, let threshold else { return nil }
        self.id = id
        self.channel = channel
        self.condition = condition
        self.threshold = threshold
        self.path = path
    }
}
