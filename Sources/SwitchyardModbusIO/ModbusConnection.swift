import CModbus

#if canImport(Glibc)
import Glibc
#endif

/// A Modbus client connection on libmodbus, TCP or RTU. Not thread-safe: a
/// connection is used by one thread at a time — a device's worker ([io]),
/// or for a line or gateway shared by several devices, whoever holds the
/// link's lock (the driver's `Link`).
public final class ModbusConnection {
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Kind: Sendable, Equatable {
            /// The device answered exception 2: the address does not exist.
            case illegalDataAddress
            /// Exception 1: the device does not support the function.
            case illegalFunction
            /// Exception 3: the device refused the value.
            case illegalDataValue
            /// Exceptions 4, 6, 0x0A, 0x0B: the unit failed or is busy, or a
            /// gateway has no path to it. The connection itself is fine
            /// (other units behind the same gateway go on).
            case unitFailure
            /// No answer, a broken connection, a malformed answer.
            case io
        }

        public var kind: Kind
        public var message: String
        public var description: String { message }

        /// The device cannot be read now (reconnect with backoff), as
        /// opposed to a refusal of one request.
        public var failsDevice: Bool { kind == .io || kind == .unitFailure }

        public init(kind: Kind, message: String) {
            self.kind = kind
            self.message = message
        }
    }

    /// Serial settings of an RTU line.
    public struct SerialSettings: Sendable, Hashable {
        public enum Parity: String, Sendable, CaseIterable {
            case none, even, odd
            var code: CChar { switch self { case .none: 78; case .even: 69; case .odd: 79 } } // N E O
        }

        public var device: String
        public var baud: Int
        public var parity: Parity
        public var dataBits: Int
        public var stopBits: Int

        public init(device: String, baud: Int = 9600, parity: Parity = .none, dataBits: Int = 8, stopBits: Int = 1) {
            self.device = device
            self.baud = baud
            self.parity = parity
            self.dataBits = dataBits
            self.stopBits = stopBits
        }
    }

    private let context: OpaquePointer
    public let endpoint: String
    public private(set) var unitId: Int

    /// A Modbus TCP connection to `host:port`, unit `unitId`; `connect()` opens it.
    public init(host: String, port: Int, unitId: Int, timeoutMs: Int = 1000) throws(Failure) {
        guard let ctx = modbus_new_tcp(host, Int32(port)) else {
            throw Failure(kind: .io, message: "cannot create a Modbus TCP context for \(host):\(port): \(Self.lastError())")
        }
        context = ctx
        endpoint = "\(host):\(port)"
        self.unitId = unitId
        configure(unitId: unitId, timeoutMs: timeoutMs)
    }

    /// A Modbus RTU connection on a serial line; `connect()` opens it.
    public init(serial: SerialSettings, unitId: Int, timeoutMs: Int = 1000) throws(Failure) {
        guard let ctx = modbus_new_rtu(serial.device, Int32(serial.baud), serial.parity.code, Int32(serial.dataBits), Int32(serial.stopBits)) else {
            throw Failure(kind: .io, message: "cannot create a Modbus RTU context for \(serial.device) (\(serial.baud) \(serial.dataBits)\(serial.parity.rawValue.prefix(1).uppercased())\(serial.stopBits)): \(Self.lastError())")
        }
        context = ctx
        endpoint = serial.device
        self.unitId = unitId
        configure(unitId: unitId, timeoutMs: timeoutMs)
    }

    private func configure(unitId: Int, timeoutMs: Int) {
        modbus_set_slave(context, Int32(unitId))
        modbus_set_response_timeout(context, UInt32(timeoutMs / 1000), UInt32(timeoutMs % 1000) * 1000)
        // A byte gap longer than this inside one answer is a broken answer.
        modbus_set_byte_timeout(context, 0, 500_000)
    }

    deinit {
        modbus_close(context)
        modbus_free(context)
    }

    public func connect() throws(Failure) {
        guard modbus_connect(context) == 0 else { throw failure("connect") }
    }

    public func close() { modbus_close(context) }

    /// Drops whatever is left of a broken answer.
    public func flush() { _ = modbus_flush(context) }

    /// The unit (slave) id of the next requests; several devices on one RTU
    /// line share a connection and set their own before each request.
    public func setUnit(_ unitId: Int) {
        guard unitId != self.unitId else { return }
        modbus_set_slave(context, Int32(unitId))
        self.unitId = unitId
    }

    public func setTimeout(ms: Int) {
        modbus_set_response_timeout(context, UInt32(ms / 1000), UInt32(ms % 1000) * 1000)
    }

    /// FC3 (holding) or FC4 (input): `count` registers from `address`.
    public func readRegisters(input: Bool = false, address: Int, count: Int) throws(Failure) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: count)
        let n = out.withUnsafeMutableBufferPointer { buf in
            input ? modbus_read_input_registers(context, Int32(address), Int32(count), buf.baseAddress)
                  : modbus_read_registers(context, Int32(address), Int32(count), buf.baseAddress)
        }
        try check(n, count, "read \(input ? "input" : "holding") registers \(address)+\(count)")
        return out
    }

    /// FC1 (coils) or FC2 (discrete inputs): `count` bits from `address`, as 0/1.
    public func readBits(discrete: Bool = false, address: Int, count: Int) throws(Failure) -> [UInt16] {
        var out = [UInt8](repeating: 0, count: count)
        let n = out.withUnsafeMutableBufferPointer { buf in
            discrete ? modbus_read_input_bits(context, Int32(address), Int32(count), buf.baseAddress)
                     : modbus_read_bits(context, Int32(address), Int32(count), buf.baseAddress)
        }
        try check(n, count, "read \(discrete ? "discrete inputs" : "coils") \(address)+\(count)")
        return out.map { UInt16($0 == 0 ? 0 : 1) }
    }

    /// FC6 for one register, FC16 for several (as the profile says).
    public func writeRegisters(address: Int, values: [UInt16], single: Bool) throws(Failure) {
        let rc: Int32
        if single && values.count == 1 {
            rc = modbus_write_register(context, Int32(address), values[0])
        } else {
            rc = values.withUnsafeBufferPointer { modbus_write_registers(context, Int32(address), Int32(values.count), $0.baseAddress) }
        }
        guard rc >= 0 else { throw failure("write registers \(address)+\(values.count)") }
    }

    /// FC5 for one coil, FC15 for several.
    public func writeCoils(address: Int, values: [Bool], single: Bool) throws(Failure) {
        let rc: Int32
        if single && values.count == 1 {
            rc = modbus_write_bit(context, Int32(address), values[0] ? 1 : 0)
        } else {
            var bytes = values.map { UInt8($0 ? 1 : 0) }
            rc = bytes.withUnsafeMutableBufferPointer { modbus_write_bits(context, Int32(address), Int32(values.count), $0.baseAddress) }
        }
        guard rc >= 0 else { throw failure("write coils \(address)+\(values.count)") }
    }

    /// A read's result: the whole answer, a short one (no errno to trust),
    /// or libmodbus's error.
    private func check(_ n: Int32, _ count: Int, _ what: String) throws(Failure) {
        guard n != Int32(count) else { return }
        if n >= 0 { throw Failure(kind: .io, message: "\(endpoint) unit \(unitId): \(what): short answer (\(n) of \(count))") }
        throw failure(what)
    }

    private func failure(_ what: String) -> Failure {
        let code = errno
        let kind: Failure.Kind = code == sy_modbus_errno_illegal_data_address() ? .illegalDataAddress
            : code == sy_modbus_errno_illegal_function() ? .illegalFunction
            : code == sy_modbus_errno_illegal_data_value() ? .illegalDataValue
            : sy_modbus_errno_is_unit_failure(code) != 0 ? .unitFailure : .io
        return Failure(kind: kind, message: "\(endpoint) unit \(unitId): \(what): \(Self.lastError(code))")
    }

    static func lastError(_ code: Int32 = errno) -> String {
        String(cString: modbus_strerror(code))
    }
}
