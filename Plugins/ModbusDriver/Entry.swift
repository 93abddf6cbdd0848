import SwitchyardPluginKit

/// The generic Modbus driver: any Modbus TCP or RTU device described by a
/// profile (driver "modbus"), no code. See docs/profiles.md.
@c @implementation
public func switchyard_plugin_entry_v1() -> UnsafePointer<sy_plugin_descriptor>! {
    PluginExport.drivers(id: "switchyard.modbus", version: "1.0.0", ModbusDevice.self)
}
