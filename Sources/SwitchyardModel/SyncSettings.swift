import SwitchyardJSON

/// The `sync` section of a config: how the edge's sync agent keeps this
/// config in step with the server, and how it judges a new version.
public struct SyncSettings: Sendable, Hashable {
    /// Seconds between conditional polls (spec 000: `sync_interval`, 5 minutes).
    public var intervalS: Int = 300
    /// Healthy cycles a new version must run before it is confirmed.
    public var probationCycles: Int = 10
    /// Seconds between heartbeats that carry cycle metrics.
    public var metricsIntervalS: Int = 300
    /// The least time between two heartbeats that report a state change.
    public var stateReportMinS: Int = 10

    public static let keys = ["interval_s", "probation_cycles", "metrics_interval_s", "state_report_min_s"]

    public init() {}

    init(_ value: JSONValue, at path: JSONPath, issues: IssueList) {
        guard var r = ObjectReader(value, at: path, issues: issues) else { return }
        intervalS = r.integer("interval_s", min: 5, max: 86_400) ?? intervalS
        probationCycles = r.integer("probation_cycles", min: 1, max: 100_000) ?? probationCycles
        metricsIntervalS = r.integer("metrics_interval_s", min: 1, max: 86_400) ?? metricsIntervalS
        stateReportMinS = r.integer("state_report_min_s", min: 0, max: 3_600) ?? stateReportMinS
        r.rejectUnknownKeys()
    }
}
