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
        /// The exception code of a device's refusal (1–11), nil for any
        /// other failure.
        public var exception: UInt8?
        public var description: String { message }

        /// Exception 6: the device is busy; the same request may succeed
        /// a moment later.
        public var isBusy: Bool { exception == 6 }

        /// The device cannot be read now (reconnect with backoff), as
        /// opposed to a refusal of one request.
        public var failsDevice: Bool { kind == .io || kind == .unitFailure }

        public init(kind: Kind, message: String, exception: UInt8? = nil) {
            self.kind = kind
            self.message = message
            self.exception = exception
        }

        /// The kind of failure an exception code stands for.
        public static func kind(ofException code: UInt8) -> Kind {
            switch code {
            case 1: .illegalFunction
            case 2: .illegalDataAddress
            case 3: .illegalDataValue
            case 4, 5, 6, 0x0A, 0x0B: .unitFailure
            default: .io
            }
        }

        /// The name the Modbus specification gives an exception code.
        public static func name(ofException code: UInt8) -> String {
            switch code {
            case 1: "Illegal function"
            case 2: "Illegal data address"
            case 3: "Illegal data value"
            case 4: "Server device failure"
            case 5: "Acknowledge (processing a long request)"
            case 6: "Server device busy"
            case 8: "Memory parity error"
            case 0x0A: "Gateway path unavailable"
            case 0x0B: "Gateway target device failed to respond"
            default: "Unknown exception"
            }
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
    /// Modbus TCP is framed here (see `ModbusTCPFrame`); RTU by libmodbus.
    private let isTCP: Bool
    private var transaction: UInt16 = 0
    /// The longest a request may take, from sending it to the last byte of
    /// its answer.
    public private(set) var timeoutMs: Int

    /// A Modbus TCP connection to `host:port`, unit `unitId`; `connect()` opens it.
    public init(host: String, port: Int, unitId: Int, timeoutMs: Int = 1000) throws(Failure) {
        guard let ctx = modbus_new_tcp(host, Int32(clamping: port)) else {
            throw Failure(kind: .io, message: "cannot create a Modbus TCP context for \(host):\(port): \(Self.lastError())")
        }
        context = ctx
        endpoint = "\(host):\(port)"
        self.unitId = unitId
        self.timeoutMs = timeoutMs
        isTCP = true
        configure(unitId: unitId, timeoutMs: timeoutMs)
    }

    /// A Modbus RTU connection on a serial line; `connect()` opens it.
    public init(serial: SerialSettings, unitId: Int, timeoutMs: Int = 1000) throws(Failure) {
        guard let ctx = modbus_new_rtu(serial.device, Int32(clamping: serial.baud), serial.parity.code, Int32(clamping: serial.dataBits), Int32(clamping: serial.stopBits)) else {
            throw Failure(kind: .io, message: "cannot create a Modbus RTU context for \(serial.device) (\(serial.baud) \(serial.dataBits)\(serial.parity.rawValue.prefix(1).uppercased())\(serial.stopBits)): \(Self.lastError())")
        }
        context = ctx
        endpoint = serial.device
        self.unitId = unitId
        self.timeoutMs = timeoutMs
        isTCP = false
        configure(unitId: unitId, timeoutMs: timeoutMs)
    }

    private func configure(unitId: Int, timeoutMs: Int) {
        modbus_set_slave(context, Int32(clamping: unitId))
        setTimeout(ms: timeoutMs)
    }

    deinit {
        modbus_close(context)
        modbus_free(context)
    }

    /// Opens the connection; over TCP the connect itself is bounded by the timeout.
    public func connect() throws(Failure) {
        guard modbus_connect(context) == 0 else { throw failure("connect") }
    }

    public func close() { modbus_close(context) }

    /// Drops whatever is left of a broken or late answer.
    public func flush() {
        if isTCP { discardPending() } else { _ = modbus_flush(context) }
    }

    /// The unit (slave) id of the next requests; several devices on one RTU
    /// line share a connection and set their own before each request.
    public func setUnit(_ unitId: Int) {
        guard unitId != self.unitId else { return }
        modbus_set_slave(context, Int32(clamping: unitId))
        self.unitId = unitId
    }

    /// Over TCP `ms` bounds each whole request. Over RTU libmodbus waits
    /// `ms` for the first byte of an answer and at most a byte gap (a tenth
    /// of `ms`, 20–500 ms) for each of the next ones: a frame ends at a gap.
    public func setTimeout(ms: Int) {
        let ms = min(max(ms, 1), 600_000)
        timeoutMs = ms
        modbus_set_response_timeout(context, UInt32(ms / 1000), UInt32(ms % 1000) * 1000)
        let gapMs = min(max(ms / 10, 20), 500)
        modbus_set_byte_timeout(context, UInt32(gapMs / 1000), UInt32(gapMs % 1000) * 1000)
    }

    /// FC3 (holding) or FC4 (input): `count` registers from `address`.
    public func readRegisters(input: Bool = false, address: Int, count: Int) throws(Failure) -> [UInt16] {
        let what = "read \(input ? "input" : "holding") registers \(address)+\(count)"
        if isTCP {
            let data = try transact(Self.pdu(input ? 4 : 3, address, count), expecting: .read(byteCount: 2 * count), what)
            return (0..<count).map { UInt16(data[2 * $0]) << 8 | UInt16(data[2 * $0 + 1]) }
        }
        var out = [UInt16](repeating: 0, count: count)
        let n = out.withUnsafeMutableBufferPointer { buf in
            input ? modbus_read_input_registers(context, Int32(address), Int32(count), buf.baseAddress)
                  : modbus_read_registers(context, Int32(address), Int32(count), buf.baseAddress)
        }
        try check(n, count, what)
        return out
    }

    /// FC1 (coils) or FC2 (discrete inputs): `count` bits from `address`, as 0/1.
    public func readBits(discrete: Bool = false, address: Int, count: Int) throws(Failure) -> [UInt16] {
        let what = "read \(discrete ? "discrete inputs" : "coils") \(address)+\(count)"
        if isTCP {
            let data = try transact(Self.pdu(discrete ? 2 : 1, address, count), expecting: .read(byteCount: (count + 7) / 8), what)
            return (0..<count).map { UInt16(data[$0 / 8] >> UInt8($0 % 8) & 1) }
        }
        var out = [UInt8](repeating: 0, count: count)
        let n = out.withUnsafeMutableBufferPointer { buf in
            discrete ? modbus_read_input_bits(context, Int32(address), Int32(count), buf.baseAddress)
                     : modbus_read_bits(context, Int32(address), Int32(count), buf.baseAddress)
        }
        try check(n, count, what)
        return out.map { UInt16($0 == 0 ? 0 : 1) }
    }

    /// FC6 for one register, FC16 for several (as the profile says).
    public func writeRegisters(address: Int, values: [UInt16], single: Bool) throws(Failure) {
        let what = "write registers \(address)+\(values.count)"
        if isTCP {
            if single && values.count == 1 {
                _ = try transact(Self.pdu(6, address, Int(values[0])), expecting: .echo, what)
            } else {
                let data = values.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
                _ = try transact(Self.pdu(16, address, values.count) + [UInt8(data.count)] + data, expecting: .writeMultiple, what)
            }
            return
        }
        let rc: Int32
        if single && values.count == 1 {
            rc = modbus_write_register(context, Int32(address), values[0])
        } else {
            rc = values.withUnsafeBufferPointer { modbus_write_registers(context, Int32(address), Int32(values.count), $0.baseAddress) }
        }
        guard rc >= 0 else { throw failure(what) }
    }

    /// FC5 for one coil, FC15 for several.
    public func writeCoils(address: Int, values: [Bool], single: Bool) throws(Failure) {
        let what = "write coils \(address)+\(values.count)"
        if isTCP {
            if single && values.count == 1 {
                _ = try transact(Self.pdu(5, address, values[0] ? 0xFF00 : 0), expecting: .echo, what)
            } else {
                var packed = [UInt8](repeating: 0, count: (values.count + 7) / 8)
                for (i, v) in values.enumerated() where v { packed[i / 8] |= 1 << UInt8(i % 8) }
                _ = try transact(Self.pdu(15, address, values.count) + [UInt8(packed.count)] + packed, expecting: .writeMultiple, what)
            }
            return
        }
        let rc: Int32
        if single && values.count == 1 {
            rc = modbus_write_bit(context, Int32(address), values[0] ? 1 : 0)
        } else {
            var bytes = values.map { UInt8($0 ? 1 : 0) }
            rc = bytes.withUnsafeMutableBufferPointer { modbus_write_bits(context, Int32(address), Int32(values.count), $0.baseAddress) }
        }
        guard rc >= 0 else { throw failure(what) }
    }

    // MARK: Modbus TCP

    /// A PDU of a function code and two 16-bit fields (address, and count or value).
    private static func pdu(_ function: UInt8, _ a: Int, _ b: Int) -> [UInt8] {
        [function, UInt8(truncatingIfNeeded: a >> 8), UInt8(truncatingIfNeeded: a), UInt8(truncatingIfNeeded: b >> 8), UInt8(truncatingIfNeeded: b)]
    }

    /// Sends one request and reads its whole answer within `timeoutMs`,
    /// checking the header (transaction, protocol, unit, length) and the
    /// PDU against the request. A device that trickles its answer byte by
    /// byte gets the same deadline as one that stays silent.
    private func transact(_ pdu: [UInt8], expecting: ModbusTCPFrame.Expectation, _ what: String) throws(Failure) -> [UInt8] {
        let socket = modbus_get_socket(context)
        guard socket >= 0 else { throw Failure(kind: .io, message: "\(endpoint) unit \(unitId): \(what): not connected") }
        let deadline = Self.nowNs() + Int64(timeoutMs) * 1_000_000
        func fail(_ reason: String) -> Failure { Failure(kind: .io, message: "\(endpoint) unit \(unitId): \(what): \(reason)") }

        transaction &+= 1
        let unit = UInt8(truncatingIfNeeded: unitId)
        try send(socket, ModbusTCPFrame.request(transaction: transaction, unit: unit, pdu: pdu), deadline: deadline, fail)
        let answer = try receiveFrame(socket, unit: unit, deadline: deadline, fail)
        switch ModbusTCPFrame.check(answer, request: pdu, expecting: expecting) {
        case .data(let data): return data
        case .malformed(let reason): throw fail(reason)
        case .exception(let code):
            throw Failure(kind: Failure.kind(ofException: code),
                          message: "\(endpoint) unit \(unitId): \(what): exception \(code) (\(Failure.name(ofException: code)))", exception: code)
        }
    }

    /// Reads one answer frame and returns its PDU. Reads whatever has
    /// arrived (usually the whole frame in one call), so that bytes beyond
    /// the length the header gives are seen: an answer with trailing bytes
    /// is refused, and the connection with it (`Link` closes it on `.io`).
    private func receiveFrame(_ socket: Int32, unit: UInt8, deadline: Int64, _ fail: (String) -> Failure) throws(Failure) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: ModbusTCPFrame.headerSize - 1 + ModbusTCPFrame.maximumLength + 1)
        var have = 0
        var need = ModbusTCPFrame.headerSize
        while true {
            try wait(socket, for: Int16(POLLIN), deadline: deadline, fail,
                     have == 0 ? "timed out: no answer within \(timeoutMs) ms" : "timed out: the answer was incomplete after \(timeoutMs) ms")
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(socket, $0.baseAddress! + have, $0.count - have, Int32(MSG_DONTWAIT)) }
            if n == 0 { throw fail("the device closed the connection") }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
                throw fail("receive: \(String(cString: strerror(errno)))")
            }
            have += n
            if have >= ModbusTCPFrame.headerSize, need == ModbusTCPFrame.headerSize {
                guard let header = ModbusTCPFrame.header(buffer.prefix(ModbusTCPFrame.headerSize)) else { throw fail("no answer header") }
                if let problem = ModbusTCPFrame.problem(with: header, transaction: transaction, unit: unit) { throw fail(problem) }
                need = ModbusTCPFrame.headerSize - 1 + header.length
            }
            if have > need { throw fail("the answer is longer than its header says (trailing bytes)") }
            if have == need { return Array(buffer[ModbusTCPFrame.headerSize..<need]) }
        }
    }

    private func send(_ socket: Int32, _ bytes: [UInt8], deadline: Int64, _ fail: (String) -> Failure) throws(Failure) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    try wait(socket, for: Int16(POLLOUT), deadline: deadline, fail, "could not send within \(timeoutMs) ms")
                    continue
                }
                throw fail("send: \(String(cString: strerror(errno)))")
            }
            sent += n
        }
    }

    private func wait(_ socket: Int32, for events: Int16, deadline: Int64, _ fail: (String) -> Failure, _ timeout: String) throws(Failure) {
        while true {
            let left = deadline - Self.nowNs()
            if left <= 0 { throw fail(timeout) }
            var p = pollfd(fd: socket, events: events, revents: 0)
            let rc = poll(&p, 1, Int32(clamping: (left + 999_999) / 1_000_000))
            if rc > 0 { return }
            if rc < 0 && errno != EINTR { throw fail("poll: \(String(cString: strerror(errno)))") }
        }
    }

    private func discardPending() {
        let socket = modbus_get_socket(context)
        guard socket >= 0 else { return }
        var sink = [UInt8](repeating: 0, count: 512)
        while sink.withUnsafeMutableBytes({ recv(socket, $0.baseAddress, 512, Int32(MSG_DONTWAIT)) }) > 0 {}
    }

    static func nowNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    // MARK: libmodbus (RTU)

    /// A read's result: the whole answer, a short one (no errno to trust),
    /// or libmodbus's error.
    private func check(_ n: Int32, _ count: Int, _ what: String) throws(Failure) {
        guard n != Int32(count) else { return }
        if n >= 0 { throw Failure(kind: .io, message: "\(endpoint) unit \(unitId): \(what): short answer (\(n) of \(count))") }
        throw failure(what)
    }

    private func failure(_ what: String) -> Failure {
        let code = errno
        let exception = sy_modbus_exception_code(code)
        if exception > 0 {
            let e = UInt8(exception)
            return Failure(kind: Failure.kind(ofException: e), message: "\(endpoint) unit \(unitId): \(what): \(Self.lastError(code))", exception: e)
        }
        return Failure(kind: .io, message: "\(endpoint) unit \(unitId): \(what): \(Self.lastError(code))")
    }

    static func lastError(_ code: Int32 = errno) -> String {
        String(cString: modbus_strerror(code))
    }
}
