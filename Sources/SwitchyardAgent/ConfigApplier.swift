import SwitchyardEdgeService
import SwitchyardHost
import SwitchyardModel

/// What the agent asks of the site it keeps in sync. `HostApplier` is the
/// real one; the benchmark's simulated edges use their own.
public protocol ConfigApplier: Sendable {
    /// Checks a config against the local plugins and profiles; the error
    /// names the path and the reason.
    func validate(_ config: EdgeConfig) throws
    /// Applies through the hot-reload path, at a cycle boundary, and starts
    /// the cycle if it does not run yet. Returns why it was refused, or nil.
    func apply(_ config: EdgeConfig, reason: String) -> String?
    func sample() -> HealthSample
}

/// Applies configs to the edge's `EdgeHost` through `EdgeService`, the same
/// path a file reload takes.
public struct HostApplier: ConfigApplier {
    public let service: EdgeService

    public init(service: EdgeService) {
        self.service = service
    }

    public func validate(_ config: EdgeConfig) throws {
        _ = try service.host.validate(config)
    }

    public func apply(_ config: EdgeConfig, reason: String) -> String? {
        if case .refused(let why) = service.apply(config, reason: reason, reloadCatalogs: false) { return why }
        guard !service.host.isRunning else { return nil }
        do {
            try service.host.start()
            return nil
        } catch {
            return "the cycle did not start: \(error)"
        }
    }

    public func sample() -> HealthSample {
        let s = service.host.status()
        return HealthSample(
            cycles: s.statistics.cycles, overrunAlerts: s.statistics.overrunAlerts, overruns: s.statistics.overruns,
            controllers: Dictionary(s.controllers.map {
                ($0.id, HealthSample.Controller(totalFailures: $0.totalFailures, disabled: $0.state == .disabled, lastError: $0.lastError))
            }, uniquingKeysWith: { a, _ in a }),
            faultedDevices: Dictionary(s.devices.filter { $0.state == .faulted }.map { ($0.deviceId, $0.lastError ?? "no reason given") },
                                       uniquingKeysWith: { a, _ in a }),
            configVersion: s.configVersion, periodMs: s.periodMs,
            workP99Ms: Double(s.statistics.work.percentile(0.99)) / 1e6, cycleRunning: service.host.isRunning,
            deviceTexts: Self.texts(service.host))
    }

    /// The texts of the running config's text channels that are good.
    static func texts(_ host: EdgeHost) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for c in host.channels where c.isText {
            guard let r = host.reading(c.address), r.quality == .good, let text = r.text else { continue }
            out[c.deviceId, default: [:]][c.name] = text
        }
        return out
    }
}
