/// The standard channels that controllers bind to, independent of vendor
/// points. Power is in W. Signs follow the site's point of view:
/// - `ess.ActivePower`, `ess.SetActivePower`: positive = discharge (the
///   battery exports), negative = charge;
/// - `meter.ActivePower` at the grid connection: positive = import;
/// - `pv.ActivePower`: positive = production;
/// - `load.ActivePower`: positive = consumption.
/// So at a site with one of each, grid = load − pv − battery.
public struct StandardChannel: Sendable, Hashable {
    public var name: String
    public var unit: String
    public var writable: Bool
    public var meaning: String

    public var family: String { String(name.prefix { $0 != "." }) }

    public static let all: [StandardChannel] = [
        .init(name: "ess.ActivePower", unit: "W", writable: false, meaning: "battery power, positive = discharge"),
        .init(name: "ess.SetActivePower", unit: "W", writable: true, meaning: "battery power setpoint, positive = discharge"),
        .init(name: "ess.Soc", unit: "%", writable: false, meaning: "state of charge"),
        .init(name: "ess.Capacity", unit: "Wh", writable: false, meaning: "usable energy capacity"),
        .init(name: "ess.MaxChargePower", unit: "W", writable: false, meaning: "largest charge power now allowed (positive number)"),
        .init(name: "ess.MaxDischargePower", unit: "W", writable: false, meaning: "largest discharge power now allowed"),
        .init(name: "ess.Temperature", unit: "degC", writable: false, meaning: "battery temperature"),
        .init(name: "ess.Cycles", unit: "", writable: false, meaning: "full equivalent cycles"),
        .init(name: "meter.ActivePower", unit: "W", writable: false, meaning: "grid power, positive = import"),
        .init(name: "meter.ImportEnergy", unit: "Wh", writable: false, meaning: "energy imported from the grid"),
        .init(name: "meter.ExportEnergy", unit: "Wh", writable: false, meaning: "energy exported to the grid"),
        .init(name: "meter.Frequency", unit: "Hz", writable: false, meaning: "grid frequency"),
        .init(name: "meter.Voltage", unit: "V", writable: false, meaning: "phase voltage (average)"),
        .init(name: "pv.ActivePower", unit: "W", writable: false, meaning: "PV power, positive = production"),
        .init(name: "pv.SetActivePowerLimit", unit: "W", writable: true, meaning: "PV power limit (curtailment)"),
        .init(name: "pv.Energy", unit: "Wh", writable: false, meaning: "energy produced"),
        .init(name: "load.ActivePower", unit: "W", writable: false, meaning: "consumption, positive = consuming"),
    ]

    private static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    public static func named(_ name: String) -> StandardChannel? { byName[name] }

    public static let families: Set<String> = Set(all.map(\.family))
}
