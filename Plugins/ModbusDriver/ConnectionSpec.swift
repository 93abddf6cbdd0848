import SwitchyardJSON
import SwitchyardModbusIO
import SwitchyardPluginKit

/// A device's `connection` object, read and checked.
struct ConnectionSpec: Sendable {
    enum Transport: Sendable {
        case tcp(host: String, port: Int)
        case rtu(ModbusConnection.SerialSettings)
    }

    var transport: Transport
    var unitId: Int
    var timeoutMs: Int?

    static let parameters: [Parameter] = [
        .string("protocol", "tcp, or rtu for a serial line", oneOf: ["tcp", "rtu"], default: "tcp"),
        .string("host", "TCP: the device's host name or address", optional: true),
        .integer("port", "TCP: port", min: 1, max: 65535, default: 502),
        .integer("unit_id", "Unit (slave) id; default: the profile's transport.default_unit_id", min: 0, max: 255, optional: true),
        .string("device", "RTU: the serial device, e.g. /dev/ttyUSB0", optional: true),
        .integer("baud", "RTU: baud rate", min: 300, max: 921_600, default: 9600),
        .string("parity", "RTU: parity", oneOf: ["none", "even", "odd"], default: "none"),
        .integer("data_bits", "RTU: data bits", min: 5, max: 8, default: 8),
        .integer("stop_bits", "RTU: stop bits", min: 1, max: 2, default: 1),
        .integer("timeout_ms", "Answer timeout; default: the profile's transport.timeout_ms", min: 1, max: 60_000, optional: true),
    ]

    init(_ json: [String: JSONValue], defaultUnitId: Int) throws(PluginError) {
        func int(_ key: String, _ fallback: Int) -> Int { json[key]?.numberValue.map { Int($0) } ?? fallback }
        unitId = int("unit_id", defaultUnitId)
        timeoutMs = json["timeout_ms"]?.numberValue.map { Int($0) }
        switch json["protocol"]?.stringValue ?? "tcp" {
        case "rtu":
            guard let device = json["device"]?.stringValue, !device.isEmpty else {
                throw .invalid("connection.device: is required for protocol rtu (the serial device, e.g. /dev/ttyUSB0)")
            }
            let parity = ModbusConnection.SerialSettings.Parity(rawValue: json["parity"]?.stringValue ?? "none") ?? .none
            transport = .rtu(.init(device: device, baud: int("baud", 9600), parity: parity, dataBits: int("data_bits", 8), stopBits: int("stop_bits", 1)))
        default:
            guard let host = json["host"]?.stringValue, !host.isEmpty else {
                throw .invalid("connection.host: is required for protocol tcp")
            }
            transport = .tcp(host: host, port: int("port", 502))
        }
    }

    var description: String {
        switch transport {
        case .tcp(let host, let port): "\(host):\(port) unit \(unitId)"
        case .rtu(let s): "\(s.device) (\(Link.describe(s))) unit \(unitId)"
        }
    }
}
