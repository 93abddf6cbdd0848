import Testing
import SwitchyardTelemetry
import SwitchyardTestSupport

/// Issue 16, item 8: the chunk codec round-trips every sample bit for bit.
@Suite struct SampleChunkTests {
    static func roundTrip(_ samples: [Sample], sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let bytes = SampleChunk.encode(samples)
        let back = try SampleChunk.decode(bytes)
        #expect(back.count == samples.count, sourceLocation: sourceLocation)
        for (a, b) in zip(samples, back) where !a.isIdentical(to: b) {
            Issue.record("\(a) came back as \(b)", sourceLocation: sourceLocation)
            break
        }
        return bytes.count
    }

    @Test func specialValuesRoundTripBitForBit() throws {
        let nanPayload = Double(bitPattern: 0x7FF8_0000_0000_1234)
        let values: [Double] = [0, -0.0, .nan, nanPayload, .infinity, -.infinity, .greatestFiniteMagnitude, -.leastNonzeroMagnitude,
                                1, 1, 1, 230.1, 230.10000000000002, 1e300, -1e-300, .pi]
        let samples = values.enumerated().map { Sample(timeMs: 1_767_225_600_000 + Int64($0.offset) * 1000, value: $0.element,
                                                       quality: $0.offset % 5 == 0 ? 3 : 0) }
        _ = try Self.roundTrip(samples)
        _ = try Self.roundTrip([])
        _ = try Self.roundTrip([samples[2]])
    }

    @Test func irregularTimestampsLongGapsAndExtremesRoundTrip() throws {
        var rng = SeededGenerator(seed: 16)
        var t: Int64 = 1_767_225_600_000
        var samples: [Sample] = []
        for i in 0..<5_000 {
            let step: Int64 = switch i % 500 {
            case 0: 86_400_000 * 30  // a month offline
            case 1: 0  // two samples in one ms
            default: Int64.random(in: 900...1_100, using: &rng)
            }
            t += step
            samples.append(Sample(timeMs: t, value: Double(i % 7)))
        }
        _ = try Self.roundTrip(samples)
        _ = try Self.roundTrip([Sample(timeMs: .min, value: 1), Sample(timeMs: .max, value: 2), Sample(timeMs: 0, value: 3), Sample(timeMs: .min, value: 4)])
        _ = try Self.roundTrip([Sample(timeMs: 5, value: 1), Sample(timeMs: 3, value: 1), Sample(timeMs: 4, value: 1)])  // time going back
    }

    @Test func integerAndDecimalChannelsUseFewBytesAndRandomFloatsStayExact() throws {
        var rng = SeededGenerator(seed: 7)
        let start: Int64 = 1_767_225_600_000
        // A register value scaled as a driver scales it: raw * 0.1.
        var raw = 2300
        let voltage = (0..<3_600).map { i -> Sample in
            raw += Int.random(in: -2...2, using: &rng)
            return Sample(timeMs: start + Int64(i) * 1000, value: Double(raw) * 0.1)
        }
        let voltageBytes = try Self.roundTrip(voltage)
        #expect(Double(voltageBytes) / 3_600 < 1.0, "\(voltageBytes) bytes")
        // An integer counter.
        let counter = (0..<3_600).map { Sample(timeMs: start + Int64($0) * 1000, value: Double($0 / 10)) }
        #expect(Double(try Self.roundTrip(counter)) / 3_600 < 0.5)
        // Random doubles: no compression to speak of, but exact.
        let noise = (0..<3_600).map { Sample(timeMs: start + Int64($0) * 1000, value: Double.random(in: -1e6...1e6, using: &rng)) }
        #expect(Double(try Self.roundTrip(noise)) / 3_600 < 9.5)
    }

    /// Scaled integers whose change needs more than 34 bits take the widest
    /// bucket, which must not be mistaken for the escape to a raw double.
    @Test func decimalsWithHugeJumpsRoundTrip() throws {
        var rng = SeededGenerator(seed: 11)
        var k: Int64 = 0
        var samples: [Sample] = []
        for i in 0..<2_000 {
            k += i % 100 == 99 ? Int64.random(in: -4_000_000_000_000...4_000_000_000_000, using: &rng) : Int64.random(in: -1...1, using: &rng)
            samples.append(Sample(timeMs: Int64(i) * 1000, value: Double(k) * 0.1))
        }
        samples[500].value = .nan  // escapes among them
        samples[501].value = -0.0  // a decimal to the eye, but 0 as an integer is +0
        let bytes = try Self.roundTrip(samples)
        #expect(Double(bytes) / 2_000 < 2.5, "the scaled mode was chosen: \(bytes) bytes")
    }

    @Test func corruptOrTruncatedChunksAreErrorsNotTraps() throws {
        let samples = (0..<200).map { Sample(timeMs: Int64($0) * 1000, value: Double($0) * 0.5, quality: $0 == 50 ? 2 : 0) }
        let bytes = SampleChunk.encode(samples)
        for cut in [0, 1, 2, 3, bytes.count / 2, bytes.count - 1] {
            #expect(throws: SampleChunk.Corrupt.self) { try SampleChunk.decode(Array(bytes.prefix(cut))) }
        }
        var rng = SeededGenerator(seed: 99)
        for _ in 0..<2_000 {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                damaged[Int.random(in: 0..<damaged.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
            _ = try? SampleChunk.decode(damaged)  // any answer but a trap
        }
        #expect(throws: SampleChunk.Corrupt.self) { try SampleChunk.decode([9, 1, 0]) }
        #expect(throws: SampleChunk.Corrupt.self) { try SampleChunk.decode([1, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0]) }
    }
}
