import Testing
import SwitchyardModbusIO

/// The checks every Modbus TCP answer passes before a word of it is used.
struct ModbusTCPFrameTests {
    @Test func aRequestCarriesItsTransactionLengthAndUnit() {
        #expect(ModbusTCPFrame.request(transaction: 0x1234, unit: 7, pdu: [3, 0, 10, 0, 2]) == [0x12, 0x34, 0, 0, 0, 6, 7, 3, 0, 10, 0, 2])
    }

    @Test func headersFromAnotherTransactionUnitOrProtocolAreRefused() {
        let good = ModbusTCPFrame.Header(transaction: 5, protocolId: 0, length: 7, unit: 1)
        #expect(ModbusTCPFrame.problem(with: good, transaction: 5, unit: 1) == nil)
        var h = good
        h.unit = 2
        #expect(ModbusTCPFrame.problem(with: h, transaction: 5, unit: 1) == "answer from unit 2, asked unit 1")
        h = good
        h.protocolId = 1
        #expect(ModbusTCPFrame.problem(with: h, transaction: 5, unit: 1)?.contains("protocol id 1") == true)
        h = good
        h.transaction = 6
        #expect(ModbusTCPFrame.problem(with: h, transaction: 5, unit: 1)?.contains("transaction 6") == true)
        for length in [0, 2, 255, 65535] {
            h = good
            h.length = length
            #expect(ModbusTCPFrame.problem(with: h, transaction: 5, unit: 1)?.contains("length") == true, "\(length)")
        }
        #expect(ModbusTCPFrame.header([0, 5, 0, 0, 0, 7]) == nil)
        #expect(ModbusTCPFrame.header([0, 5, 0, 0, 0, 7, 1]) == good)
    }

    @Test func answersAreCheckedAgainstTheirRequest() {
        let read: [UInt8] = [3, 0, 10, 0, 2]
        #expect(ModbusTCPFrame.check([3, 4, 0, 1, 0, 2], request: read, expecting: .read(byteCount: 4)) == .data([0, 1, 0, 2]))
        #expect(ModbusTCPFrame.check([0x83, 2], request: read, expecting: .read(byteCount: 4)) == .exception(2))
        #expect(ModbusTCPFrame.check([0x83, 2, 0], request: read, expecting: .read(byteCount: 4)) == .malformed("exception answer of 3 bytes (2 expected)"))
        #expect(ModbusTCPFrame.check([4, 4, 0, 1, 0, 2], request: read, expecting: .read(byteCount: 4)) == .malformed("answer with function code 4 to a request with 3"))
        #expect(ModbusTCPFrame.check([3, 6, 0, 1, 0, 2, 0, 3], request: read, expecting: .read(byteCount: 4)) == .malformed("answer gives 6 data bytes, 4 were asked for"))
        #expect(ModbusTCPFrame.check([3, 4, 0, 1, 0, 2, 9], request: read, expecting: .read(byteCount: 4)) == .malformed("answer carries 5 data bytes, its byte count says 4"))
        #expect(ModbusTCPFrame.check([3, 4, 0, 1], request: read, expecting: .read(byteCount: 4)) == .malformed("answer carries 2 data bytes, its byte count says 4"))
        #expect(ModbusTCPFrame.check([], request: read, expecting: .read(byteCount: 4)) == .malformed("empty answer"))

        let single: [UInt8] = [6, 0, 50, 0x04, 0xD2]
        #expect(ModbusTCPFrame.check(single, request: single, expecting: .echo) == .data([]))
        #expect(ModbusTCPFrame.check([6, 0, 50, 0x04, 0xD3], request: single, expecting: .echo) == .malformed("the answer does not echo the write"))
        let multiple: [UInt8] = [16, 0, 52, 0, 2, 4, 0, 1, 0, 2]
        #expect(ModbusTCPFrame.check([16, 0, 52, 0, 2], request: multiple, expecting: .writeMultiple) == .data([]))
        #expect(ModbusTCPFrame.check([16, 0, 52, 0, 1], request: multiple, expecting: .writeMultiple) != .data([]))
    }
}
