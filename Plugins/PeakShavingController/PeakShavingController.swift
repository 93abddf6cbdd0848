import SwitchyardPluginKit

@c @implementation
public func switchyard_plugin_entry_v1() -> UnsafePointer<sy_plugin_descriptor>! {
    PluginExport.controllers(id: "switchyard.peak-shaving", version: "1.0.0", PeakShavingController.self)
}

/// Keeps grid import at or below a threshold by discharging the battery, and
/// (with `recharge_enabled`) recharges it while import is below the recharge
/// level, never pushing import above that level.
///
/// When neither applies the controller is idle. An idle controller writes no
/// setpoint, so that a controller later in `execution_order` (balancing, say)
/// can use the battery, except in the first idle cycle after acting, when it
/// commands 0 W so that the battery never keeps discharging on its own last
/// setpoint (`yield_when_idle: false` commands 0 W in every idle cycle).
final class PeakShavingController: Controller {
    static let className = "PeakShavingController"
    static let summary = "Discharges the battery to keep grid import below a threshold; recharges below the recharge level"
    static let parameters: [Parameter] = [
        .number("threshold_watts", "Grid import not to exceed", min: 0, unit: "W", hot: true),
        .boolean("recharge_enabled", "Recharge while import is below recharge_level_watts", default: true, hot: true),
        .number("recharge_level_watts", "Recharge only up to this grid import (default: 80 % of the threshold)", min: 0, optional: true, unit: "W", hot: true),
        .number("recharge_power_w", "Cap on recharge power (0 = the battery's limit)", min: 0, default: 0, unit: "W", hot: true),
        .boolean("yield_when_idle", "Leave the battery to later controllers when idle", default: true, hot: true),
    ] + BatterySite.parameters(minSoc: 5, verb: "discharge")

    let host: HostContext
    let site: BatterySite
    var settings: Settings
    var parameters: Parameters
    var wasActive = false

    struct Settings {
        var threshold: Double
        var rechargeEnabled: Bool
        var rechargeLevel: Double
        var rechargeCap: Double
        var minSoc: Double
        var maxSoc: Double
        var yieldWhenIdle: Bool

        init(_ p: Parameters) throws {
            threshold = try p.double("threshold_watts")
            rechargeEnabled = try p.bool("recharge_enabled")
            rechargeLevel = p.optionalDouble("recharge_level_watts") ?? threshold * 0.8
            guard rechargeLevel <= threshold else {
                throw PluginError.invalid("recharge_level_watts (\(rechargeLevel)) must not exceed threshold_watts (\(threshold))")
            }
            let cap = try p.double("recharge_power_w")
            rechargeCap = cap > 0 ? cap : .infinity
            (minSoc, maxSoc) = try BatterySite.socWindow(p)
            yieldWhenIdle = try p.bool("yield_when_idle")
        }
    }

    init(host: HostContext, config: InstanceConfig) throws {
        self.host = host
        site = try BatterySite(host: host, parameters: config.parameters)
        site.reportMissing(host)
        settings = try Settings(config.parameters)
        parameters = config.parameters
    }

    /// What `Settings` refuses (an empty SoC window, say) is refused when
    /// the config is validated, before any apply.
    static func validate(_ config: InstanceConfig) throws {
        _ = try Settings(config.parameters)
    }

    func configure(_ new: Parameters) throws -> Reconfiguration {
        if BatterySite.needsRebinding(new, parameters) { return .needsRecreate }
        settings = try Settings(new)
        parameters = new
        return .applied
    }

    func execute(_ cycle: CycleInfo) throws {
        let r = site.read(host)
        guard let netLoad = r.netLoadW else {
            // Without a picture of the site, do not steer; release the battery if we held it.
            if wasActive { site.command(host, 0) }
            wasActive = false
            return
        }
        let window = BatterySite.window(r, minSoc: settings.minSoc, maxSoc: settings.maxSoc, chargeCapW: settings.rechargeCap)
        if netLoad > settings.threshold {
            site.command(host, (netLoad - settings.threshold).clamped(to: 0...window.upperBound))
            wasActive = true
        } else if settings.rechargeEnabled && netLoad < settings.rechargeLevel && window.lowerBound < 0 {
            site.command(host, -(settings.rechargeLevel - netLoad).clamped(to: 0...(-window.lowerBound)))
            wasActive = true
        } else {
            if wasActive || !settings.yieldWhenIdle { site.command(host, 0) }
            wasActive = false
        }
    }
}
