/// A battery and the grid meter it works against, bound through standard
/// channels (`ess.*`, `meter.*`), for controllers that steer a battery. It
/// reads one cycle's values and knows the power window the battery allows
/// now, including SoC limits.
///
/// A channel the bound devices do not have is nil, and the controller runs
/// without it: no meter or no battery power means no picture of the site
/// (the controller holds the battery at 0 W), no setpoint means nothing to
/// steer. `missing` says what is absent so the controller can report it.
public struct BatterySite: Sendable {
    /// The battery's `ess.ActivePower` (W, positive = discharge).
    public let batteryPower: Channel?
    /// The battery's `ess.Soc` (%).
    public let soc: Channel?
    /// The battery's `ess.MaxChargePower` (W): the charge it allows now.
    public let maxCharge: Channel?
    /// The battery's `ess.MaxDischargePower` (W): the discharge it allows now.
    public let maxDischarge: Channel?
    /// The battery's `ess.SetActivePower` (W, positive = discharge): the setpoint.
    public let setpoint: Channel?
    /// The meter's `meter.ActivePower` (W, positive = import).
    public let gridPower: Channel?
    /// The channels the bound devices lack, e.g. `bms/ess.SetActivePower`.
    public let missing: [String]

    /// [thread-safe] The parameters every battery controller declares: which battery and
    /// meter (bound by the host's validator to devices implementing `ess.*`
    /// and `meter.*`), and the SoC window.
    public static func parameters(minSoc: Double, maxSoc: Double = 100, verb: String = "steer") -> [Parameter] {
        [
            .device("battery", "Battery to \(verb) (a device with ess.* channels)", family: "ess"),
            .device("meter", "Meter at the grid connection (a device with meter.* channels); without one the controller holds the battery at 0 W",
                    family: "meter", optional: true),
            .number("min_soc", "No discharge at or below this state of charge", min: 0, max: 100, default: minSoc, unit: "%", hot: true),
            .number("max_soc", "No charge at or above this state of charge", min: 0, max: 100, default: maxSoc, unit: "%", hot: true),
        ]
    }

    /// [thread-safe] The SoC window of `parameters`, checked: throws
    /// `PluginError(.invalid, …)` unless `min_soc` is below `max_soc`.
    public static func socWindow(_ p: Parameters) throws -> (min: Double, max: Double) {
        let minSoc = try p.double("min_soc")
        let maxSoc = try p.double("max_soc")
        guard minSoc < maxSoc else { throw PluginError.invalid("min_soc (\(minSoc)) must be below max_soc (\(maxSoc))") }
        return (minSoc, maxSoc)
    }

    /// [thread-safe] Binding to another battery or meter needs a new instance: the
    /// channels are resolved once, at creation.
    public static func needsRebinding(_ new: Parameters, _ old: Parameters) -> Bool {
        !new.changed(from: old).isDisjoint(with: ["battery", "meter"])
    }

    /// [control] Resolves the channels named by the `battery` and `meter` parameters.
    public init(host: HostContext, parameters: Parameters) throws {
        try self.init(host: host, battery: parameters.string("battery"), meter: parameters.optionalString("meter"))
    }

    /// [control] Resolves the channels of `battery` and `meter`.
    public init(host: HostContext, battery: String, meter: String?) throws {
        var missing: [String] = []
        func bind(_ address: String) -> Channel? {
            if let c = try? host.channel(address) { return c }
            missing.append(address)
            return nil
        }
        batteryPower = bind(battery + "/ess.ActivePower")
        soc = bind(battery + "/ess.Soc")
        maxCharge = bind(battery + "/ess.MaxChargePower")
        maxDischarge = bind(battery + "/ess.MaxDischargePower")
        setpoint = bind(battery + "/ess.SetActivePower")
        if let meter {
            gridPower = bind(meter + "/meter.ActivePower")
        } else {
            gridPower = nil
            missing.append("a grid meter (no meter parameter, and no device with meter.* channels)")
        }
        self.missing = missing
    }

    /// [control] Logs what the site lacks, once, as a warning.
    public func reportMissing(_ host: HostContext) {
        guard !missing.isEmpty else { return }
        host.log(.warning, "running without \(missing.joined(separator: ", ")): " + (setpoint == nil ? "nothing to steer" : "the battery is held at 0 W while the picture is incomplete"))
    }

    /// [cycle] Commands the battery, if it takes a setpoint.
    @discardableResult
    public func command(_ host: HostContext, _ watts: Double) -> HostContext.WriteResult {
        guard let setpoint else { return .refused("no ess.SetActivePower") }
        return host.write(setpoint, watts)
    }

    /// One cycle's view of the site. nil members had no good value.
    public struct Reading: Sendable {
        /// Grid power (W, positive = import).
        public var gridW: Double?
        /// Battery power (W, positive = discharge).
        public var batteryW: Double?
        /// State of charge (%).
        public var socPercent: Double?
        /// The charge power the battery allows now (W).
        public var maxChargeW: Double?
        /// The discharge power the battery allows now (W).
        public var maxDischargeW: Double?

        /// Grid power as it would be with the battery idle: the site's own
        /// net consumption (load − PV).
        public var netLoadW: Double? {
            guard let gridW, let batteryW else { return nil }
            return gridW + batteryW
        }
    }

    /// [cycle] This cycle's values of the bound channels (good ones only).
    public func read(_ host: HostContext) -> Reading {
        func v(_ c: Channel?) -> Double? { c.flatMap { host.value($0) } }
        return Reading(gridW: v(gridPower), batteryW: v(batteryPower), socPercent: v(soc), maxChargeW: v(maxCharge), maxDischargeW: v(maxDischarge))
    }

    /// [thread-safe] The battery power allowed now, as a closed range (negative = charge),
    /// from the battery's own limits, optional caps and SoC limits: no
    /// discharge at or below `minSoc`, no charge at or above `maxSoc`.
    public static func window(_ r: Reading, minSoc: Double, maxSoc: Double,
                              chargeCapW: Double = .infinity, dischargeCapW: Double = .infinity) -> ClosedRange<Double> {
        var charge = min(r.maxChargeW ?? 0, chargeCapW)
        var discharge = min(r.maxDischargeW ?? 0, dischargeCapW)
        if let soc = r.socPercent {
            if soc <= minSoc { discharge = 0 }
            if soc >= maxSoc { charge = 0 }
        } else {
            charge = 0
            discharge = 0
        }
        return -max(charge, 0)...max(discharge, 0)
    }
}

extension Comparable {
    /// [thread-safe] `self`, limited to `range`.
    public func clamped(to range: ClosedRange<Self>) -> Self {
        min(max(self, range.lowerBound), range.upperBound)
    }
}
