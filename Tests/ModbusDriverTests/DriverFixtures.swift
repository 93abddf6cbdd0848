import Foundation
import SwitchyardHost
import SwitchyardTestSupport

/// A profile exercising every type, layout and rule, written to a fresh
/// profile folder; and the registers a device following it holds.
enum DriverFixture {
    static let profile = #"""
    {
      "id": "test_modbus_device", "driver": "modbus", "source": "Switchyard tests",
      "transport": { "default_unit_id": 1, "timeout_ms": 300 },
      "poll_groups": { "fast": { "interval_ms": 1000 }, "info": { "interval_ms": "once" } },
      "points": [
        { "name": "I16", "address": 0, "type": "int16", "scale": { "point": "SF" }, "group": "fast" },
        { "name": "SF", "address": 1, "type": "int16", "internal": true, "group": "fast" },
        { "name": "U32Swapped", "address": 2, "type": "uint32", "word_order": "little", "group": "fast" },
        { "name": "F32ByteSwapped", "address": 4, "type": "float32", "byte_order": "little", "group": "fast" },
        { "name": "I64", "address": 6, "type": "int64", "group": "fast" },
        { "name": "F64", "address": 10, "type": "float64", "group": "info" },
        { "name": "Label", "address": 14, "type": "string", "length": 4, "group": "info" },
        { "name": "Status", "address": 18, "type": "enum", "values": { "307": "ok", "35": "fault" }, "group": "fast" },
        { "name": "Flags", "address": 19, "type": "bitfield", "bits": { "0": "a", "2": "c" }, "group": "fast" },
        { "name": "Bit3", "address": 20, "type": "bit", "bit": 3, "group": "fast" },
        { "name": "Missing", "address": 21, "type": "int16", "not_available": [32768], "group": "fast" },
        { "name": "Percent", "address": 22, "type": "uint16", "range": [0, 100], "group": "fast" },
        { "name": "BatteryPower", "address": 23, "type": "int16", "channel": "ess.ActivePower", "sign": "inverted", "unit": "W", "group": "fast" },
        { "name": "GapA", "address": 30, "type": "uint16", "group": "fast" },
        { "name": "GapB", "address": 32, "type": "uint16", "group": "fast" },
        { "name": "Absent", "address": 40, "type": "uint16", "group": "fast" },
        { "name": "Voltage", "table": "input_register", "address": 0, "type": "uint16", "scale": 0.1, "unit": "V", "group": "fast" },
        { "name": "Relay", "table": "coil", "address": 0, "type": "bit", "group": "fast" },
        { "name": "Door", "table": "discrete_input", "address": 0, "type": "bit", "group": "fast" },
        { "name": "Setpoint", "address": 50, "type": "int16", "access": "read_write", "group": "fast",
          "write": { "min": -5000, "max": 5000, "step": 10, "function": "single", "read_back": true } },
        { "name": "Setpoint32", "address": 52, "type": "int32", "access": "write",
          "write": { "function": "multiple" } },
        { "name": "Limited", "address": 54, "type": "uint16", "access": "write",
          "write": { "min_interval_ms": 60000, "on_change_only": true } }
      ]
    }
    """#

    /// The registers of a device that matches the profile (hand-computed).
    static var unit: PymodbusServer.Unit {
        PymodbusServer.Unit(
            holding: [
                0: [1234, 0xFFFF],              // I16 = 1234 × 10^-1
                2: [0x2345, 0x0001],            // 0x00012345 word-swapped = 74565
                4: [0xF642, 0x79E9],            // 123.456 as float32, bytes swapped in each register
                6: [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFB], // -5
                10: [0x3FF8, 0, 0, 0],           // 1.5
                14: [0x4142, 0x3132, 0, 0],      // "AB12"
                18: [307, 0b101, 0x0008, 0x8000, 500, 100],
                30: [7], 32: [9],                // 31 is a hole the device does not have
                50: [0, 0, 0, 0, 0],
            ],
            input: [0: [2301]], coils: [0: [1]], discrete: [0: [1]])
    }

    static func folder() throws -> String {
        let dir = TestPaths.temporaryDirectory()
        try profile.write(toFile: dir + "/test_modbus_device.json", atomically: true, encoding: .utf8)
        return dir
    }

    static func config(devices: [String], controllers: [String] = [], periodMs: Int = 1000) -> String {
        """
        { "version": 1, "edge_id": "modbus_test", "core_cycle": { "period_ms": \(periodMs) },
          "scheduler": { "controllers": [\(controllers.joined(separator: ","))] },
          "modbus_devices": [\(devices.joined(separator: ","))] }
        """
    }

    static func tcpDevice(_ id: String, port: Int, unit: Int = 1, profile: String = "test_modbus_device") -> String {
        #"{ "device_id": "\#(id)", "profile": "\#(profile)", "connection": { "protocol": "tcp", "host": "127.0.0.1", "port": \#(port), "unit_id": \#(unit) } }"#
    }

    static func probe(_ id: String, output: String, gain: Double) -> String {
        #"{ "id": "\#(id)", "class": "ProbeController", "parameters": { "output": "\#(output)", "gain": \#(gain) } }"#
    }
}
