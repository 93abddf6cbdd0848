import CModbus

#if canImport(Glibc)
import Glibc
#endif

/// A Modbus TCP server on libmodbus: serves a register map that a
/// `ModbusServerHandler` keeps up to date, answers "illegal data address"
/// where the handler says the device has no register, and tells the handler
/// about writes. One thread (the caller of `run`) serves every client in
/// turn, as small devices do.
public final class ModbusServer: @unchecked Sendable {
    // @unchecked: the context and the register map are used by the thread
    // that calls `run` only; `registers` may be filled before `run` starts.
    public enum Table: Sendable, Equatable {
        case coils, discreteInputs, holdingRegisters, inputRegisters
    }

    /// A request as the server parsed it.
    public struct Request: Sendable, Equatable {
        public var function: UInt8
        public var table: Table
        public var address: Int
        public var count: Int
        public var isWrite: Bool
    }

    /// The server's register map (all 65,536 addresses of each table).
    public struct Registers {
        let mapping: UnsafeMutablePointer<modbus_mapping_t>

        public func get(_ table: Table, _ address: Int) -> UInt16 {
            switch table {
            case .coils: UInt16(mapping.pointee.tab_bits[address])
            case .discreteInputs: UInt16(mapping.pointee.tab_input_bits[address])
            case .holdingRegisters: mapping.pointee.tab_registers[address]
            case .inputRegisters: mapping.pointee.tab_input_registers[address]
            }
        }

        public func set(_ table: Table, _ address: Int, _ value: UInt16) {
            switch table {
            case .coils: mapping.pointee.tab_bits[address] = value == 0 ? 0 : 1
            case .discreteInputs: mapping.pointee.tab_input_bits[address] = value == 0 ? 0 : 1
            case .holdingRegisters: mapping.pointee.tab_registers[address] = value
            case .inputRegisters: mapping.pointee.tab_input_registers[address] = value
            }
        }
    }

    private let context: OpaquePointer
    private let mapping: UnsafeMutablePointer<modbus_mapping_t>
    private let listenSocket: Int32
    /// The port the server listens on (useful when 0 was asked for).
    public let port: Int

    /// Listens on `host:port` (0: any free port).
    public init(host: String = "127.0.0.1", port: Int) throws(ModbusConnection.Failure) {
        guard let ctx = modbus_new_tcp(host, Int32(port)) else {
            throw ModbusConnection.Failure(kind: .io, message: "cannot create a Modbus TCP server context: \(ModbusConnection.lastError())")
        }
        guard let map = modbus_mapping_new(65536, 65536, 65536, 65536) else {
            modbus_free(ctx)
            throw ModbusConnection.Failure(kind: .io, message: "cannot allocate the register map")
        }
        let s = modbus_tcp_listen(ctx, 32)
        guard s >= 0 else {
            let message = ModbusConnection.lastError()
            modbus_mapping_free(map)
            modbus_free(ctx)
            throw ModbusConnection.Failure(kind: .io, message: "cannot listen on \(host):\(port): \(message)")
        }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) } }
        context = ctx
        mapping = map
        listenSocket = s
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        close(listenSocket)
        modbus_mapping_free(mapping)
        modbus_free(context)
    }

    public var registers: Registers { Registers(mapping: mapping) }

    /// Serves until `shouldStop()` returns true (checked at least every
    /// 200 ms). `handler` is called on this thread only.
    public func run(handler: some ModbusServerHandler, shouldStop: () -> Bool) {
        var clients: [Int32] = []
        var query = [UInt8](repeating: 0, count: Int(MODBUS_TCP_MAX_ADU_LENGTH))
        let header = Int(modbus_get_header_length(context))
        defer { for c in clients { close(c) } }
        while !shouldStop() {
            var fds = [pollfd(fd: listenSocket, events: Int16(POLLIN), revents: 0)] + clients.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), 200)
            if ready <= 0 { continue }
            if fds[0].revents != 0 {
                var s = listenSocket
                let client = modbus_tcp_accept(context, &s)
                if client >= 0 { clients.append(client) }
            }
            for fd in fds.dropFirst() where fd.revents != 0 {
                modbus_set_socket(context, fd.fd)
                let n = query.withUnsafeMutableBufferPointer { modbus_receive(context, $0.baseAddress) }
                if n < 0 {
                    close(fd.fd)
                    clients.removeAll { $0 == fd.fd }
                    continue
                }
                if n == 0 { continue }
                guard let request = Self.parse(query, header: header) else {
                    _ = query.withUnsafeBufferPointer { modbus_reply_exception(context, $0.baseAddress, UInt32(MODBUS_EXCEPTION_ILLEGAL_FUNCTION)) }
                    continue
                }
                guard handler.willAnswer(request, registers: registers) else {
                    _ = query.withUnsafeBufferPointer { modbus_reply_exception(context, $0.baseAddress, UInt32(MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS)) }
                    continue
                }
                _ = query.withUnsafeBufferPointer { modbus_reply(context, $0.baseAddress, n, mapping) }
                if request.isWrite { handler.didWrite(request, registers: registers) }
            }
        }
    }

    static func parse(_ q: [UInt8], header h: Int) -> Request? {
        func word(_ i: Int) -> Int { Int(q[h + i]) << 8 | Int(q[h + i + 1]) }
        let fc = q[h]
        switch fc {
        case 1: return Request(function: fc, table: .coils, address: word(1), count: word(3), isWrite: false)
        case 2: return Request(function: fc, table: .discreteInputs, address: word(1), count: word(3), isWrite: false)
        case 3: return Request(function: fc, table: .holdingRegisters, address: word(1), count: word(3), isWrite: false)
        case 4: return Request(function: fc, table: .inputRegisters, address: word(1), count: word(3), isWrite: false)
        case 5: return Request(function: fc, table: .coils, address: word(1), count: 1, isWrite: true)
        case 6: return Request(function: fc, table: .holdingRegisters, address: word(1), count: 1, isWrite: true)
        case 15: return Request(function: fc, table: .coils, address: word(1), count: word(3), isWrite: true)
        case 16: return Request(function: fc, table: .holdingRegisters, address: word(1), count: word(3), isWrite: true)
        default: return nil
        }
    }
}

/// What a `ModbusServer` serves. Called on the server's thread.
public protocol ModbusServerHandler {
    /// Before a request is answered: refresh the registers it reads, or
    /// return false to answer "illegal data address".
    func willAnswer(_ request: ModbusServer.Request, registers: ModbusServer.Registers) -> Bool
    /// After a write was stored in the registers.
    func didWrite(_ request: ModbusServer.Request, registers: ModbusServer.Registers)
}
