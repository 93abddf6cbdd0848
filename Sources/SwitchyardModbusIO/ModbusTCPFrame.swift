/// Modbus TCP framing as values: the request ADU a client sends and the
/// checks every answer must pass before a word of it is believed.
///
/// libmodbus 3.1.6 (Debian 12) takes an answer over TCP whose unit id differs
/// from the request's, and one with protocol id 1 (its check of the protocol
/// id is `&&` where it needs `||`); it reads as many bytes as the function
/// code promises, not as many as the MBAP header says, so an over-long
/// answer leaves bytes that become the start of the next one. Behind a
/// gateway shared by several units that makes one unit's values another's.
/// So the driver frames Modbus TCP itself (`ModbusConnection`), with these
/// checks, and keeps libmodbus for opening connections and for RTU, where
/// libmodbus checks the unit id and the CRC of every answer.
public enum ModbusTCPFrame {
    /// The MBAP header: transaction id, protocol id, length, unit id.
    public static let headerSize = 7
    /// The largest PDU Modbus allows (253 bytes) plus the unit id.
    public static let maximumLength = 254

    public struct Header: Equatable, Sendable {
        public var transaction: UInt16
        public var protocolId: UInt16
        /// The bytes that follow the length field: the unit id and the PDU.
        public var length: Int
        public var unit: UInt8

        public init(transaction: UInt16, protocolId: UInt16, length: Int, unit: UInt8) {
            self.transaction = transaction
            self.protocolId = protocolId
            self.length = length
            self.unit = unit
        }
    }

    /// A request ADU: the header and `pdu` (function code and data).
    public static func request(transaction: UInt16, unit: UInt8, pdu: [UInt8]) -> [UInt8] {
        let length = pdu.count + 1
        return [UInt8(transaction >> 8), UInt8(transaction & 0xFF), 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), unit] + pdu
    }

    public static func header(_ bytes: some Collection<UInt8>) -> Header? {
        guard bytes.count >= headerSize else { return nil }
        let b = Array(bytes.prefix(headerSize))
        return Header(transaction: UInt16(b[0]) << 8 | UInt16(b[1]), protocolId: UInt16(b[2]) << 8 | UInt16(b[3]),
                      length: Int(b[4]) << 8 | Int(b[5]), unit: b[6])
    }

    /// Why an answer's header is not the answer to the request sent, or nil.
    public static func problem(with answer: Header, transaction: UInt16, unit: UInt8) -> String? {
        if answer.protocolId != 0 { return "answer with protocol id \(answer.protocolId) (Modbus is 0)" }
        if answer.transaction != transaction { return "answer for transaction \(answer.transaction), expected \(transaction)" }
        if answer.unit != unit { return "answer from unit \(answer.unit), asked unit \(unit)" }
        if answer.length < 3 || answer.length > maximumLength { return "answer header gives a length of \(answer.length) (3…\(maximumLength))" }
        return nil
    }

    /// What a request asks for, so that its answer can be checked.
    public enum Expectation: Equatable, Sendable {
        /// FC1–4: `byteCount` bytes of data.
        case read(byteCount: Int)
        /// FC5 and FC6: the request echoed.
        case echo
        /// FC15 and FC16: address and quantity echoed.
        case writeMultiple
    }

    /// The outcome of checking an answer's PDU against its request.
    public enum Answer: Equatable, Sendable {
        /// The data of a read (without function code and byte count), or
        /// nothing for a write.
        case data([UInt8])
        /// The device refused with this exception code.
        case exception(UInt8)
        /// The answer is not a valid answer to the request.
        case malformed(String)
    }

    /// Checks an answer PDU (function code onwards) against the request PDU.
    public static func check(_ answer: [UInt8], request: [UInt8], expecting e: Expectation) -> Answer {
        guard let function = answer.first, let asked = request.first else { return .malformed("empty answer") }
        if function == asked | 0x80 {
            guard answer.count == 2 else { return .malformed("exception answer of \(answer.count) bytes (2 expected)") }
            return .exception(answer[1])
        }
        guard function == asked else { return .malformed("answer with function code \(function) to a request with \(asked)") }
        switch e {
        case .read(let byteCount):
            guard answer.count >= 2 else { return .malformed("read answer without a byte count") }
            guard Int(answer[1]) == byteCount else { return .malformed("answer gives \(answer[1]) data bytes, \(byteCount) were asked for") }
            guard answer.count == 2 + byteCount else { return .malformed("answer carries \(answer.count - 2) data bytes, its byte count says \(byteCount)") }
            return .data(Array(answer[2...]))
        case .echo:
            guard answer == request else { return .malformed("the answer does not echo the write") }
            return .data([])
        case .writeMultiple:
            guard answer.count == 5, request.count >= 5, answer[1..<5] == request[1..<5] else {
                return .malformed("the answer does not echo the address and quantity written")
            }
            return .data([])
        }
    }
}
