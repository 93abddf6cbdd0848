/// One recorded value of a channel: when (ms since the Unix epoch), what,
/// and its quality (the host's `sy_quality` code; 0 is good).
public struct Sample: Sendable, Equatable {
    public var timeMs: Int64
    public var value: Double
    public var quality: UInt8

    public init(timeMs: Int64, value: Double, quality: UInt8 = 0) {
        self.timeMs = timeMs
        self.value = value
        self.quality = quality
    }

    /// Equal bit for bit: NaN payloads and -0 included.
    public func isIdentical(to other: Sample) -> Bool {
        timeMs == other.timeMs && value.bitPattern == other.value.bitPattern && quality == other.quality
    }
}

/// The compressed form of a run of one channel's samples, as stored. Format
/// (docs/telemetry.md): a version byte, the count, the value mode, then one
/// bit stream of timestamps (delta of delta in prefix-coded buckets), values
/// (XOR against the previous value as in Gorilla, or scaled integers when
/// every value is a decimal of a few places, as register values are) and
/// qualities (one bit while unchanged). Every sample round-trips bit for
/// bit: NaN, ±infinity, -0, irregular timestamps and long gaps included.
public enum SampleChunk {
    public static let formatVersion: UInt8 = 1
    /// More samples than this in one chunk is a corrupt count.
    public static let maximumCount = 1 << 20

    public struct Corrupt: Error, Sendable, CustomStringConvertible {
        public var reason: String
        public var description: String { "corrupt telemetry chunk: \(reason)" }
    }

    /// How values are written.
    enum ValueMode: Equatable {
        case xor
        /// value == Double(k) / 10^d (`divide`) or Double(k) * 10^-d.
        case scaled(decimals: Int, divide: Bool)
    }

    public static func encode(_ samples: [Sample]) -> [UInt8] {
        let xor = encode(samples, mode: .xor)
        guard let scale = bestScale(samples) else { return xor }
        let scaled = encode(samples, mode: scale)
        return scaled.count < xor.count ? scaled : xor
    }

    public static func decode(_ bytes: [UInt8]) throws(Corrupt) -> [Sample] {
        do {
            return try decodeStreams(bytes)
        } catch let error as Corrupt {
            throw error
        } catch {
            throw Corrupt(reason: "it ends early")
        }
    }

    // MARK: Encoding

    static func encode(_ samples: [Sample], mode: ValueMode) -> [UInt8] {
        var w = BitWriter(reservingCapacity: samples.count * 2 + 16)
        w.write(UInt64(formatVersion), bits: 8)
        w.writeVarint(UInt64(samples.count))
        switch mode {
        case .xor: w.write(0, bits: 8)
        case .scaled(let d, let divide): w.write(UInt64(1 | d << 1 | (divide ? 0x80 : 0)), bits: 8)
        }
        guard !samples.isEmpty else { return w.bytes }

        // Timestamps: the first in full, then the first delta, then deltas of deltas.
        w.writeVarint(zigzag(samples[0].timeMs))
        var delta: Int64 = 0
        for i in 1..<samples.count {
            let d = samples[i].timeMs &- samples[i - 1].timeMs
            if i == 1 { w.writeVarint(zigzag(d)) } else { writeBucketed(&w, zigzag(d &- delta), buckets: timeBuckets) }
            delta = d
        }

        switch mode {
        case .xor: writeXOR(&w, samples)
        case .scaled(let d, let divide): writeScaled(&w, samples, decimals: d, divide: divide)
        }

        var quality: UInt8 = 0
        for s in samples {
            if s.quality == quality {
                w.write(bit: false)
            } else {
                w.write(bit: true)
                w.write(UInt64(s.quality), bits: 8)
                quality = s.quality
            }
        }
        return w.bytes
    }

    /// Bucket widths of the prefix code '0', '10', '110', …: a value that
    /// fits none is written in full after all ones.
    static let timeBuckets = [0, 8, 14, 24]
    /// The last bucket takes any value, so its prefix ends in a zero too:
    /// all ones (one more than the buckets) is the escape to a raw double.
    static let integerBuckets = [0, 3, 7, 14, 24, 34, 64]

    static func writeBucketed(_ w: inout BitWriter, _ value: UInt64, buckets: [Int]) {
        for (i, width) in buckets.enumerated() where width == 64 || value < (1 << UInt64(width)) {
            w.write((1 << UInt64(i + 1)) - 2, bits: i + 1)  // i ones, then a zero
            w.write(value, bits: width)
            return
        }
        w.write((1 << UInt64(buckets.count)) - 1, bits: buckets.count)
        w.write(value, bits: 64)
    }

    static func readBucketed(_ r: inout BitReader, buckets: [Int]) throws -> UInt64 {
        let ones = try r.readOnes(upTo: buckets.count)
        return try r.read(bits: ones == buckets.count ? 64 : buckets[ones])
    }

    static func writeXOR(_ w: inout BitWriter, _ samples: [Sample]) {
        var previous = samples[0].value.bitPattern
        w.write(previous, bits: 64)
        var leading = 65, trailing = 0  // no window yet
        for s in samples.dropFirst() {
            let bits = s.value.bitPattern
            let x = bits ^ previous
            previous = bits
            if x == 0 {
                w.write(bit: false)
                continue
            }
            let lz = min(x.leadingZeroBitCount, 63), tz = x.trailingZeroBitCount
            if leading <= lz, trailing <= tz, 64 - leading - trailing > 0 {
                w.write(0b10, bits: 2)
                w.write(x >> UInt64(trailing), bits: 64 - leading - trailing)
            } else {
                let length = 64 - lz - tz
                w.write(0b11, bits: 2)
                w.write(UInt64(lz), bits: 6)
                w.write(UInt64(length - 1), bits: 6)
                w.write(x >> UInt64(tz), bits: length)
                leading = lz
                trailing = tz
            }
        }
    }

    static func writeScaled(_ w: inout BitWriter, _ samples: [Sample], decimals: Int, divide: Bool) {
        var previous: Int64 = 0
        for s in samples {
            if let k = scaledInteger(s.value, decimals: decimals, divide: divide) {
                writeBucketed(&w, zigzag(k &- previous), buckets: integerBuckets)
                previous = k
            } else {
                // Escape (a value that is no such decimal: NaN, ∞, -0, noise): all ones, then the raw bits.
                w.write((1 << UInt64(integerBuckets.count)) - 1, bits: integerBuckets.count)
                w.write(s.value.bitPattern, bits: 64)
            }
        }
    }

    static let powersOfTen: [Double] = (0...9).map { d in (0..<d).reduce(1.0) { a, _ in a * 10 } }
    static let inversePowersOfTen: [Double] = [1, 0.1, 0.01, 0.001, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9]

    /// The integer `k` whose scaling gives exactly `value`, if there is one.
    static func scaledInteger(_ value: Double, decimals: Int, divide: Bool) -> Int64? {
        guard value.isFinite else { return nil }
        let rounded = (value * powersOfTen[decimals]).rounded()
        guard abs(rounded) < 9_007_199_254_740_992 else { return nil }  // 2^53: exact as a Double
        // Back from the integer the decoder will see: -0 becomes 0 there, so it escapes.
        let k = Int64(rounded)
        let back = divide ? Double(k) / powersOfTen[decimals] : Double(k) * inversePowersOfTen[decimals]
        guard back.bitPattern == value.bitPattern else { return nil }
        return k
    }

    /// The scaling that represents the most of (a spread of) the values,
    /// fewest decimals first; nil when none represents most of them.
    static func bestScale(_ samples: [Sample]) -> ValueMode? {
        guard !samples.isEmpty else { return nil }
        let step = max(1, samples.count / 128)
        let probe = stride(from: 0, to: samples.count, by: step).map { samples[$0].value }
        var best: (mode: ValueMode, fits: Int)?
        for d in 0...6 {
            for divide in [true, false] where d > 0 || divide {
                let fits = probe.reduce(0) { $0 + (scaledInteger($1, decimals: d, divide: divide) == nil ? 0 : 1) }
                if fits > (best?.fits ?? 0) { best = (.scaled(decimals: d, divide: divide), fits) }
            }
            if best?.fits == probe.count { break }
        }
        guard let best, best.fits * 2 > probe.count else { return nil }
        return best.mode
    }

    // MARK: Decoding

    static func decodeStreams(_ bytes: [UInt8]) throws -> [Sample] {
        var r = BitReader(bytes)
        let version = try r.read(bits: 8)
        guard version == formatVersion else { throw Corrupt(reason: "format version \(version), expected \(formatVersion)") }
        let count64 = try r.readVarint()
        guard count64 <= UInt64(maximumCount) else { throw Corrupt(reason: "count \(count64) above \(maximumCount)") }
        let count = Int(count64)
        let modeByte = try r.read(bits: 8)
        let mode: ValueMode
        if modeByte == 0 {
            mode = .xor
        } else if modeByte & 1 == 1, (modeByte >> 1) & 0x3F <= 9 {
            mode = .scaled(decimals: Int((modeByte >> 1) & 0x3F), divide: modeByte & 0x80 != 0)
        } else {
            throw Corrupt(reason: "value mode \(modeByte)")
        }
        guard count > 0 else { return [] }
        // Each sample takes at least 3 bits: a count beyond the bytes is corrupt.
        guard count <= r.bitsLeft / 3 + 1 else { throw Corrupt(reason: "count \(count) for \(bytes.count) bytes") }

        var times = [Int64](repeating: 0, count: count)
        times[0] = unzigzag(try r.readVarint())
        var delta: Int64 = 0
        for i in 1..<count {
            if i == 1 {
                delta = unzigzag(try r.readVarint())
            } else {
                delta = delta &+ unzigzag(try readBucketed(&r, buckets: timeBuckets))
            }
            times[i] = times[i - 1] &+ delta
        }

        var values = [Double](repeating: 0, count: count)
        switch mode {
        case .xor:
            var previous = try r.read(bits: 64)
            values[0] = Double(bitPattern: previous)
            var leading = 0, trailing = 0
            for i in 1..<count {
                if try r.readBit() {
                    if try r.readBit() {
                        leading = Int(try r.read(bits: 6))
                        let length = Int(try r.read(bits: 6)) + 1
                        guard leading + length <= 64 else { throw Corrupt(reason: "XOR window \(leading)+\(length) bits") }
                        trailing = 64 - leading - length
                    } else if leading + trailing >= 64 {
                        throw Corrupt(reason: "XOR window reused before one was set")
                    }
                    let meaningful = try r.read(bits: 64 - leading - trailing)
                    previous ^= meaningful << UInt64(trailing)
                }
                values[i] = Double(bitPattern: previous)
            }
        case .scaled(let d, let divide):
            var previous: Int64 = 0
            for i in 0..<count {
                let ones = try r.readOnes(upTo: integerBuckets.count)
                if ones == integerBuckets.count {
                    values[i] = Double(bitPattern: try r.read(bits: 64))
                    continue
                }
                previous = previous &+ unzigzag(try r.read(bits: integerBuckets[ones]))
                let k = Double(previous)
                values[i] = divide ? k / powersOfTen[d] : k * inversePowersOfTen[d]
            }
        }

        var samples: [Sample] = []
        samples.reserveCapacity(count)
        var quality: UInt8 = 0
        for i in 0..<count {
            if try r.readBit() { quality = UInt8(try r.read(bits: 8)) }
            samples.append(Sample(timeMs: times[i], value: values[i], quality: quality))
        }
        return samples
    }
}
