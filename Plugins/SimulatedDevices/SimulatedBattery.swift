import SwitchyardPluginKit

/// A battery with a capacity, SoC integration, charge and discharge limits
/// and a round-trip efficiency (split evenly between charging and
/// discharging). Follows `ess.SetActivePower` within its limits; stops
/// discharging when empty and charging when full. Like a real inverter it
/// says when it does not do what it was asked: the read-back of
/// `SetActivePower` is the setpoint it accepted (capped to its power
/// limits), the `setpoint` diagnostic says what was asked and why it was
/// capped or held, and the log says so when that starts and when it ends.
final class SimulatedBattery: Driver {
    static let className = "SimulatedBattery"
    static let summary = "Simulated battery: SoC integration, power limits, efficiency"
    static let parameters: [Parameter] = [
        .number("capacity_wh", "Usable capacity", min: 1, default: 10_000, unit: "Wh"),
        .number("initial_soc", "State of charge at start", min: 0, max: 100, default: 50, unit: "%"),
        .number("max_charge_w", "Largest charge power", min: 0, default: 5_000, unit: "W"),
        .number("max_discharge_w", "Largest discharge power", min: 0, default: 5_000, unit: "W"),
        .number("efficiency", "Round-trip efficiency", min: 0.5, max: 1, default: 0.92),
        .string("site", "Simulated site this device belongs to", default: "default"),
    ]

    let host: HostContext
    let world: SiteWorld
    let deviceId: String
    let key = SiteWorld.newKey()
    let capacityWh: Double
    let maxChargeW: Double
    let maxDischargeW: Double
    let legEfficiency: Double
    var energyWh: Double
    var powerW = 0.0
    /// The setpoint asked for, and the one accepted (within the power limits).
    var askedW = 0.0
    var setpointW = 0.0
    /// Why the battery does not run at the setpoint asked for (nil: it does).
    var limitation: String?
    var lastUpdateNs: Int64?
    var cycles = 0.0
    let activePower, soc, capacity, maxCharge, maxDischarge, setActivePower, cyclesChannel: Channel

    init(host: HostContext, config: InstanceConfig) throws {
        self.host = host
        deviceId = config.id
        let p = config.parameters
        capacityWh = try p.double("capacity_wh")
        maxChargeW = try p.double("max_charge_w")
        maxDischargeW = try p.double("max_discharge_w")
        legEfficiency = try p.double("efficiency").squareRoot()
        energyWh = capacityWh * (try p.double("initial_soc")) / 100
        world = SiteWorld.named(try p.string("site"))
        activePower = try host.channel("ess.ActivePower")
        soc = try host.channel("ess.Soc")
        capacity = try host.channel("ess.Capacity")
        maxCharge = try host.channel("ess.MaxChargePower")
        maxDischarge = try host.channel("ess.MaxDischargePower")
        setActivePower = try host.channel("ess.SetActivePower")
        cyclesChannel = try host.channel("ess.Cycles")
        world.state.withLock { $0.batteryPowerW[key] = 0 }
    }

    deinit { world.leave(key) }

    /// Integrates energy up to now at the current power.
    func advance(to nowNs: Int64) {
        defer { lastUpdateNs = nowNs }
        guard let last = lastUpdateNs, nowNs > last else { return }
        let hours = Double(nowNs - last) / 3.6e12
        if powerW > 0 {
            energyWh -= powerW * hours / legEfficiency
        } else {
            energyWh -= powerW * hours * legEfficiency
        }
        cycles += abs(powerW) * hours / (2 * capacityWh)
        energyWh = min(max(energyWh, 0), capacityWh)
        follow()
    }

    /// Sets the actual power from the setpoint, within the limits of now,
    /// and says when that differs from what was asked.
    func follow() {
        setpointW = min(max(askedW, -maxChargeW), maxDischargeW)
        var target = setpointW
        var why: String? = if askedW > maxDischargeW {
            "capped to \(watts(maxDischargeW)) (max_discharge_w)"
        } else if askedW < -maxChargeW {
            "capped to \(watts(-maxChargeW)) (max_charge_w)"
        } else { nil }
        if energyWh <= 0 && target > 0 {
            target = 0
            why = "holding 0 W: empty"
        }
        if energyWh >= capacityWh && target < 0 {
            target = 0
            why = "holding 0 W: full"
        }
        limit(why)
        powerW = target
        let id = key
        let p = powerW
        world.state.withLock { $0.batteryPowerW[id] = p }
    }

    func poll(group: String) throws {
        advance(to: host.monotonicNs)
        host.publish(activePower, powerW)
        host.publish(soc, energyWh / capacityWh * 100)
        host.publish(capacity, capacityWh)
        host.publish(maxCharge, energyWh >= capacityWh ? 0 : maxChargeW)
        host.publish(maxDischarge, energyWh <= 0 ? 0 : maxDischargeW)
        host.publish(setActivePower, setpointW)
        if let limitation { host.report("setpoint", "asked \(watts(askedW)), \(limitation)") }
        host.publish(cyclesChannel, cycles)
    }

    func write(_ setpoints: [Setpoint]) throws {
        for s in setpoints {
            guard s.channel == setActivePower.handle else {
                throw PluginError.invalid("channel \(s.channel) is not writable on a simulated battery")
            }
            guard s.value.isFinite else { throw PluginError.invalid("setpoint \(s.value) is not a number") }
            advance(to: host.monotonicNs)
            askedW = s.value
            follow()
        }
    }

    /// Notes a change of limitation: logged when it starts, changes kind or
    /// ends (not every cycle a controller asks again), and shown in status.
    private func limit(_ why: String?) {
        // `why` names the limit, not the value asked: the same text is the same limitation.
        guard why != limitation else { return }
        limitation = why
        if let why {
            host.log(.info, "asked \(watts(askedW)), \(why)")
        } else {
            host.log(.info, "following the setpoint again (\(watts(askedW)))")
            host.report("setpoint", nil)
        }
    }
}

private func watts(_ w: Double) -> String {
    guard abs(w) < 1e15 else { return "\(w) W" }
    let tenths = (w * 10).rounded()
    return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int(tenths / 10)) W" : "\(tenths / 10) W"
}
