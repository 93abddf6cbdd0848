import Testing
import SwitchyardModbusProfile

@Suite struct CodecTests {
    /// 123.456 as float32 is 0x42F6E979: the same value in the four layouts devices use.
    @Test(arguments: [
        (ByteOrder.big, WordOrder.big, [UInt16(0x42F6), 0xE979]),     // ABCD
        (.big, .little, [0xE979, 0x42F6]),                             // CDAB, "word swap"
        (.little, .big, [0xF642, 0x79E9]),                             // BADC, "byte swap"
        (.little, .little, [0x79E9, 0xF642]),                          // DCBA
    ])
    func float32InEveryLayout(byteOrder: ByteOrder, wordOrder: WordOrder, registers: [UInt16]) throws {
        guard case .number(let v) = RegisterCodec.decode(registers[...], as: .float32, byteOrder: byteOrder, wordOrder: wordOrder) else {
            Issue.record("not a number")
            return
        }
        #expect(abs(v - 123.456) < 1e-4)
        #expect(RegisterCodec.encode(v, as: .float32, byteOrder: byteOrder, wordOrder: wordOrder) == registers)
    }

    @Test func integersOfEveryWidth() {
        #expect(RegisterCodec.decode([0x8000], as: .int16) == .number(-32768))
        #expect(RegisterCodec.decode([0x8000], as: .uint16) == .number(32768))
        #expect(RegisterCodec.decode([0xFFFF, 0xFFFE], as: .int32) == .number(-2))
        #expect(RegisterCodec.decode([0xFFFE, 0xFFFF], as: .int32, wordOrder: .little) == .number(-2))
        #expect(RegisterCodec.decode([0x0001, 0x0000], as: .uint32) == .number(65536))
        #expect(RegisterCodec.decode([0x0102, 0x0304, 0x0506, 0x0708], as: .uint64) == .number(Double(0x0102030405060708 as UInt64)))
        #expect(RegisterCodec.decode([0x0708, 0x0506, 0x0304, 0x0102], as: .uint64, wordOrder: .little) == .number(Double(0x0102030405060708 as UInt64)))
        #expect(RegisterCodec.decode([0xFFFF, 0xFFFF, 0xFFFF, 0xFFFB], as: .int64) == .number(-5))
        #expect(RegisterCodec.decode([0x3FF8, 0, 0, 0], as: .float64) == .number(1.5))
        #expect(RegisterCodec.decode([0x0000, 0x0000, 0x0000, 0xF83F], as: .float64, byteOrder: .little, wordOrder: .little) == .number(1.5))
    }

    @Test func bitsStringsAndRawPatterns() {
        #expect(RegisterCodec.decode([0x0008], as: .bit, bit: 3) == .number(1))
        #expect(RegisterCodec.decode([0x0008], as: .bit, bit: 2) == .number(0))
        #expect(RegisterCodec.decode([0x534D, 0x4100, 0x0000], as: .string) == .text("SMA"))
        #expect(RegisterCodec.decode([0x4D53, 0x0041], as: .string, byteOrder: .little) == .text("SMA"))
        #expect(RegisterCodec.decode([0x4142, 0x2020], as: .string) == .text("AB"))
        // A sentinel is compared on the raw pattern: SunSpec's "not implemented" int32.
        #expect(RegisterCodec.rawPattern([0x8000, 0x0000]) == 0x8000_0000)
        #expect(RegisterCodec.rawPattern([0x0000, 0x8000], wordOrder: .little) == 0x8000_0000)
    }

    @Test func encodingRefusesWhatDoesNotFit() {
        #expect(RegisterCodec.encode(70000, as: .uint16) == nil)
        #expect(RegisterCodec.encode(-1, as: .uint32) == nil)
        #expect(RegisterCodec.encode(1.5, as: .int16) == nil)
        #expect(RegisterCodec.encode(.nan, as: .float32) == nil)
        #expect(RegisterCodec.encode(-2, as: .int32) == [0xFFFF, 0xFFFE])
        #expect(RegisterCodec.encode(-2, as: .int32, wordOrder: .little) == [0xFFFE, 0xFFFF])
        #expect(RegisterCodec.encode(258, as: .uint16, byteOrder: .little) == [0x0201])
        for type in [ValueType.int16, .uint16, .int32, .uint32, .int64, .uint64, .float32, .float64] {
            for byteOrder in ByteOrder.allCases {
                for wordOrder in WordOrder.allCases {
                    let regs = RegisterCodec.encode(1234, as: type, byteOrder: byteOrder, wordOrder: wordOrder)!
                    #expect(regs.count == type.registerCount)
                    #expect(RegisterCodec.decode(regs[...], as: type, byteOrder: byteOrder, wordOrder: wordOrder) == .number(1234), "\(type) \(byteOrder) \(wordOrder)")
                }
            }
        }
    }

    @Test func scaling() {
        #expect(Scale.point("W_SF").apply(1234, scaleFactor: -1) == 123.4)
        #expect(Scale.point("W_SF").apply(1234, scaleFactor: 2) == 123_400)
        #expect(Scale.point("W_SF").apply(1234, scaleFactor: nil) == nil)
        #expect(Scale.point("W_SF").apply(1234, scaleFactor: -32768) == nil, "a scale factor that is itself 'not implemented'")
        #expect(Scale.powerOfTen(-2).apply(5000) == 50)
        #expect(Scale.factor(0.1).apply(2301, offset: -40) == 190.10000000000002 || Scale.factor(0.1).apply(2301, offset: -40) == 190.1)
        #expect(Scale.powerOfTen(-1).raw(for: 123.4) == 1234)
        #expect(Scale.point("SF").raw(for: 5000, scaleFactor: 1) == 500)
    }
}
