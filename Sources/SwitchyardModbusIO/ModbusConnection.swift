import CModbus

#if canImport(Glibc)
import Glibc
#endif

/// A Modbus connection on libmodbus. Not thread-safe: one connection belongs
/// to one device worker thread ([io]), which is the only caller.
public final class ModbusConnection {
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Kind: Sendable, Equatable {
            /// The device answered exception 2: the address does not exist.
            case illegalDataAddress
            /// Exception 1: the device does not support the function.
            case illegalFunction
            /// No answer, a broken connection, a malformed answer.
            case io
        }

        public var kind: Kind
        public var message: String
        public var description: String { message }
    }

    private let context: OpaquePointer
    public let endpoint: String

    /// A Modbus TCP connection to `host:port`, unit `unitId`; `connect()` opens it.
    public init(host: String, port: Int, unitId: Int, timeoutMs: Int = 1000) throws(Failure) {
        guard let ctx = modbus_new_tcp(host, Int32(port)) else {
            throw Failure(kind: .io, message: "cannot create a Modbus TCP context for \(host):\(port): \(Self.lastError())")
        }
        context = ctx
        endpoint = "\(host):\(port) unit \(unitId)"
        modbus_set_slave(ctx, Int32(unitId))
        modbus_set_response_timeout(ctx, UInt32(timeoutMs / 1000), UInt32(timeoutMs % 1000) * 1000)
    }

    deinit {
        modbus_close(context)
        modbus_free(context)
    }

    public func connect() throws(Failure) {
        guard modbus_connect(context) == 0 else { throw failure("connect") }
    }

    public func close() { modbus_close(context) }

    /// FC3 (holding) or FC4 (input): `count` registers from `address`.
    public func readRegisters(input: Bool = false, address: Int, count: Int) throws(Failure) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: count)
        let n = out.withUnsafeMutableBufferPointer { buf in
            input ? modbus_read_input_registers(context, Int32(address), Int32(count), buf.baseAddress)
                  : modbus_read_registers(context, Int32(address), Int32(count), buf.baseAddress)
        }
        guard n == Int32(count) else { throw failure("read \(input ? "input" : "holding") \(address)+\(count)") }
        return out
    }

    /// FC6 for one register, FC16 for several (as the profile says).
    public func writeRegisters(address: Int, values: [UInt16], single: Bool) throws(Failure) {
        let rc: Int32
        if single && values.count == 1 {
            rc = modbus_write_register(context, Int32(address), values[0])
        } else {
            rc = values.withUnsafeBufferPointer { modbus_write_registers(context, Int32(address), Int32(values.count), $0.baseAddress) }
        }
        guard rc >= 0 else { throw failure("write \(address)+\(values.count)") }
    }

    private func failure(_ what: String) -> Failure {
        let code = errno
        let kind: Failure.Kind = code == sy_modbus_errno_illegal_data_address() ? .illegalDataAddress
            : code == sy_modbus_errno_illegal_function() ? .illegalFunction : .io
        return Failure(kind: kind, message: "\(endpoint): \(what): \(Self.lastError(code))")
    }

    private static func lastError(_ code: Int32 = errno) -> String {
        String(cString: modbus_strerror(code))
    }
}
