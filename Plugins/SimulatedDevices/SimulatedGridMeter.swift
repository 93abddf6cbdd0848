import SwitchyardPluginKit

/// The meter at the grid connection of a simulated site: grid = load − pv −
/// battery (positive = import), with import and export energy counters.
final class SimulatedGridMeter: Driver {
    static let className = "SimulatedGridMeter"
    static let summary = "Simulated grid meter: load − PV − battery, positive = import"
    static let parameters: [Parameter] = [
        .number("voltage_v", "Nominal phase voltage", min: 0, default: 230, unit: "V"),
        .number("frequency_hz", "Nominal frequency", min: 0, default: 50, unit: "Hz"),
        .string("site", "Simulated site this meter measures", default: "default"),
    ]

    let host: HostContext
    let world: SiteWorld
    let voltageV, frequencyHz: Double
    let activePower, importEnergy, exportEnergy, frequency, voltage: Channel
    var importWh = 0.0
    var exportWh = 0.0
    var last: (ns: Int64, powerW: Double)?

    init(host: HostContext, config: InstanceConfig) throws {
        self.host = host
        let p = config.parameters
        voltageV = try p.double("voltage_v")
        frequencyHz = try p.double("frequency_hz")
        world = SiteWorld.named(try p.string("site"))
        activePower = try host.channel("meter.ActivePower")
        importEnergy = try host.channel("meter.ImportEnergy")
        exportEnergy = try host.channel("meter.ExportEnergy")
        frequency = try host.channel("meter.Frequency")
        voltage = try host.channel("meter.Voltage")
    }

    func poll(group: String) throws {
        let now = host.monotonicNs
        let power = world.gridPower(wallClockNs: host.wallClockNs)
        if let last {
            let wh = last.powerW * Double(now - last.ns) / 3.6e12
            if wh > 0 { importWh += wh } else { exportWh -= wh }
        }
        last = (now, power)
        host.publish(activePower, power)
        host.publish(importEnergy, importWh)
        host.publish(exportEnergy, exportWh)
        host.publish(frequency, frequencyHz)
        host.publish(voltage, voltageV)
    }

    func write(_ setpoints: [Setpoint]) throws {
        if !setpoints.isEmpty { throw PluginError.invalid("a grid meter has no writable channel") }
    }
}
