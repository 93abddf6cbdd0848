import SwitchyardPluginKit

@c @implementation
public func switchyard_plugin_entry_v1() -> UnsafePointer<sy_plugin_descriptor>! {
    PluginExport.controllers(id: "switchyard.balancing", version: "1.0.0", BalancingController.self)
}

/// Drives grid power to a target with the battery: the battery covers what
/// the site would otherwise import above the target, and absorbs what it
/// would export below it, within the battery's power limits and SoC window.
///
/// Setpoint = netLoad − target, where netLoad = grid + battery (the grid
/// power the site would have with the battery idle). When the meter or the
/// battery has no good value, the controller commands 0 W: a battery must not
/// keep discharging on a stale picture of the site.
final class BalancingController: Controller {
    static let className = "BalancingController"
    static let summary = "Keeps grid power at a target (self-consumption) with a battery"
    static let parameters: [Parameter] = [
        .number("target_grid_power", "Grid power to hold, positive = import", default: 0, unit: "W", hot: true),
        .string("priority", "self_consumption: charge and discharge; charge_only: only store surplus; discharge_only: only cover demand",
                oneOf: ["self_consumption", "charge_only", "discharge_only"], default: "self_consumption", hot: true),
        .number("max_charge_w", "Cap on charge power (0 = the battery's limit)", min: 0, default: 0, unit: "W", hot: true),
        .number("max_discharge_w", "Cap on discharge power (0 = the battery's limit)", min: 0, default: 0, unit: "W", hot: true),
    ] + BatterySite.parameters(minSoc: 10)

    let host: HostContext
    let site: BatterySite
    var settings: Settings
    var waitingForData = false

    struct Settings {
        var target: Double
        var allowCharge: Bool
        var allowDischarge: Bool
        var minSoc: Double
        var maxSoc: Double
        var chargeCap: Double
        var dischargeCap: Double

        init(_ p: Parameters) throws {
            target = try p.double("target_grid_power")
            let priority = try p.string("priority")
            allowCharge = priority != "discharge_only"
            allowDischarge = priority != "charge_only"
            (minSoc, maxSoc) = try BatterySite.socWindow(p)
            let c = try p.double("max_charge_w")
            let d = try p.double("max_discharge_w")
            chargeCap = c > 0 ? c : .infinity
            dischargeCap = d > 0 ? d : .infinity
        }
    }

    init(host: HostContext, config: InstanceConfig) throws {
        self.host = host
        site = try BatterySite(host: host, parameters: config.parameters)
        site.reportMissing(host)
        settings = try Settings(config.parameters)
        self.parameters = config.parameters
    }

    /// What `Settings` refuses (an empty SoC window, say) is refused when
    /// the config is validated, before any apply.
    static func validate(_ config: InstanceConfig) throws {
        _ = try Settings(config.parameters)
    }

    private var parameters: Parameters

    func configure(_ new: Parameters) throws -> Reconfiguration {
        if BatterySite.needsRebinding(new, parameters) { return .needsRecreate }
        settings = try Settings(new)
        parameters = new
        return .applied
    }

    func execute(_ cycle: CycleInfo) throws {
        let r = site.read(host)
        guard let netLoad = r.netLoadW else {
            if !waitingForData { host.log(.warning, "no good value from the meter or the battery: commanding 0 W") }
            waitingForData = true
            site.command(host, 0)
            return
        }
        waitingForData = false
        var window = BatterySite.window(r, minSoc: settings.minSoc, maxSoc: settings.maxSoc,
                                        chargeCapW: settings.chargeCap, dischargeCapW: settings.dischargeCap)
        if !settings.allowCharge { window = 0...window.upperBound }
        if !settings.allowDischarge { window = window.lowerBound...0 }
        site.command(host, (netLoad - settings.target).clamped(to: window))
    }
}
