import SwitchyardPluginKit

/// PV following a daily sine between sunrise and sunset, with deterministic
/// clouds, and an optional power limit (curtailment).
final class SimulatedPV: Driver {
    static let className = "SimulatedPV"
    static let summary = "Simulated PV: daily curve with clouds, curtailment"
    static let parameters: [Parameter] = [
        .number("peak_w", "Peak power at solar noon in clear sky", min: 0, default: 8_000, unit: "W"),
        .number("sunrise_hour", "Local hour of sunrise", min: 0, max: 24, default: 6),
        .number("sunset_hour", "Local hour of sunset", min: 0, max: 24, default: 18),
        .number("cloudiness", "0 = clear sky, 1 = power drops to nothing in the worst clouds", min: 0, max: 1, default: 0.2),
        .number("utc_offset_hours", "Offset of local time from UTC", min: -14, max: 14, default: 0),
        .integer("seed", "Seed of the cloud noise", min: 0, default: 1),
        .string("site", "Simulated site this device belongs to", default: "default"),
    ]

    let host: HostContext
    let world: SiteWorld
    let deviceId: String
    let key = SiteWorld.newKey()
    let activePower, limit: Channel
    var energyWh = 0.0
    var lastNs: Int64?
    let energy: Channel

    init(host: HostContext, config: InstanceConfig) throws {
        self.host = host
        deviceId = config.id
        let p = config.parameters
        let model = PVModel(
            peakW: try p.double("peak_w"), sunriseHour: try p.double("sunrise_hour"), sunsetHour: try p.double("sunset_hour"),
            cloudiness: try p.double("cloudiness"), utcOffsetHours: try p.double("utc_offset_hours"), seed: UInt64(try p.int("seed")))
        try Self.checkDaylight(sunrise: model.sunriseHour, sunset: model.sunsetHour)
        world = SiteWorld.named(try p.string("site"))
        activePower = try host.channel("pv.ActivePower")
        limit = try host.channel("pv.SetActivePowerLimit")
        energy = try host.channel("pv.Energy")
        let id = key
        world.state.withLock { $0.pv[id] = model }
    }

    deinit { world.leave(key) }

    /// A day without daylight is refused at validation, not at the first apply.
    static func validate(_ config: InstanceConfig) throws {
        try checkDaylight(sunrise: config.parameters.double("sunrise_hour"), sunset: config.parameters.double("sunset_hour"))
    }

    static func checkDaylight(sunrise: Double, sunset: Double) throws(PluginError) {
        guard sunset > sunrise else {
            throw .invalid("sunset_hour (\(sunset)) must be after sunrise_hour (\(sunrise)): the day would have no daylight")
        }
    }

    func poll(group: String) throws {
        let now = host.monotonicNs
        let wall = host.wallClockNs
        let id = key
        let (power, limitW) = world.state.withLock { s in (s.pv[id]?.power(wallClockNs: wall) ?? 0, s.pv[id]?.limitW ?? .infinity) }
        if let lastNs { energyWh += power * Double(now - lastNs) / 3.6e12 }
        lastNs = now
        host.publish(activePower, power)
        host.publish(energy, energyWh)
        if limitW.isFinite { host.publish(limit, limitW) }
    }

    func write(_ setpoints: [Setpoint]) throws {
        for s in setpoints where s.channel == limit.handle {
            guard s.value >= 0 else { throw PluginError.invalid("power limit must be >= 0 W, got \(s.value)") }
            let id = key
            world.state.withLock { $0.pv[id]?.limitW = s.value }
        }
    }
}
