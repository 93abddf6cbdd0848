import SwitchyardPluginKit

/// A site with no hardware: a battery, PV, a load and the grid meter that
/// sees them, plus a generic many-channel device for benchmarks and tests.
/// Deterministic for a given seed and host clock.
@c @implementation
public func switchyard_plugin_entry_v1() -> UnsafePointer<sy_plugin_descriptor>! {
    PluginExport.drivers(
        id: "switchyard.simulated-devices", version: "1.0.0",
        SimulatedBattery.self, SimulatedPV.self, SimulatedLoad.self, SimulatedGridMeter.self, SimulatedGeneric.self)
}
