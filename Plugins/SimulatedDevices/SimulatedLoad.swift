import SwitchyardPluginKit

/// A household or small-business load: a base, a morning and an evening
/// peak, and deterministic noise.
final class SimulatedLoad: Driver {
    static let className = "SimulatedLoad"
    static let summary = "Simulated load: base, morning and evening peaks, noise"
    static let parameters: [Parameter] = [
        .number("base_w", "Base consumption", min: 0, default: 1_500, unit: "W"),
        .number("morning_peak_w", "Extra consumption at the morning peak (07:30)", min: 0, default: 3_000, unit: "W"),
        .number("evening_peak_w", "Extra consumption at the evening peak (19:00)", min: 0, default: 6_000, unit: "W"),
        .number("noise", "Relative amplitude of the noise", min: 0, max: 1, default: 0.15),
        .number("utc_offset_hours", "Offset of local time from UTC", min: -14, max: 14, default: 0),
        .integer("seed", "Seed of the noise", min: 0, default: 2),
        .string("site", "Simulated site this device belongs to", default: "default"),
    ]

    let host: HostContext
    let world: SiteWorld
    let deviceId: String
    let key = SiteWorld.newKey()
    let activePower: Channel

    init(host: HostContext, config: InstanceConfig) throws {
        self.host = host
        deviceId = config.id
        let p = config.parameters
        let model = LoadModel(
            baseW: try p.double("base_w"), morningPeakW: try p.double("morning_peak_w"), eveningPeakW: try p.double("evening_peak_w"),
            noise: try p.double("noise"), utcOffsetHours: try p.double("utc_offset_hours"), seed: UInt64(try p.int("seed")))
        world = SiteWorld.named(try p.string("site"))
        activePower = try host.channel("load.ActivePower")
        let id = key
        world.state.withLock { $0.loads[id] = model }
    }

    deinit { world.leave(key) }

    func poll(group: String) throws {
        let wall = host.wallClockNs
        let id = key
        host.publish(activePower, world.state.withLock { $0.loads[id]?.power(wallClockNs: wall) ?? 0 })
    }

    func write(_ setpoints: [Setpoint]) throws {
        if !setpoints.isEmpty { throw PluginError.invalid("a simulated load has no writable channel") }
    }
}
