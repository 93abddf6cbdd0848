/// Bits appended most significant first into bytes; the last byte is padded
/// with zeros.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    /// Bits used in the last byte (0: the next bit starts a new byte).
    private var used = 0

    init(reservingCapacity capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Appends the low `count` bits of `value` (0…64).
    mutating func write(_ value: UInt64, bits count: Int) {
        var remaining = count
        while remaining > 0 {
            if used == 0 { bytes.append(0) }
            let room = 8 - used
            let take = min(room, remaining)
            let shift = remaining - take
            let part = UInt8(truncatingIfNeeded: (value >> UInt64(shift)) & ((1 << UInt64(take)) - 1))
            bytes[bytes.count - 1] |= part << UInt8(room - take)
            used = (used + take) & 7
            remaining -= take
        }
    }

    mutating func write(bit: Bool) { write(bit ? 1 : 0, bits: 1) }

    /// Whole bytes, little-endian base-128 (a count, a length).
    mutating func writeVarint(_ value: UInt64) {
        var v = value
        repeat {
            let more = v >= 0x80
            write(UInt64(v & 0x7F) | (more ? 0x80 : 0), bits: 8)
            v >>= 7
        } while v != 0
    }
}

/// Reads what `BitWriter` wrote. Reading past the end is an error, never a
/// trap: a corrupt chunk is reported and skipped.
struct BitReader {
    struct Truncated: Error {}

    private let bytes: [UInt8]
    private var position = 0  // in bits

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var bitsLeft: Int { bytes.count * 8 - position }

    mutating func read(bits count: Int) throws(Truncated) -> UInt64 {
        guard count <= bitsLeft else { throw Truncated() }
        var value: UInt64 = 0
        var remaining = count
        while remaining > 0 {
            let byte = bytes[position >> 3]
            let offset = position & 7
            let take = min(8 - offset, remaining)
            let part = (UInt64(byte) >> UInt64(8 - offset - take)) & ((1 << UInt64(take)) - 1)
            value = value << UInt64(take) | part
            position += take
            remaining -= take
        }
        return value
    }

    mutating func readBit() throws(Truncated) -> Bool { try read(bits: 1) == 1 }

    /// Counts leading one bits up to `limit` (a prefix code's bucket).
    mutating func readOnes(upTo limit: Int) throws(Truncated) -> Int {
        var n = 0
        while n < limit, try readBit() { n += 1 }
        return n
    }

    mutating func readVarint() throws(Truncated) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            let byte = try read(bits: 8)
            guard shift < 64 else { throw Truncated() }
            value |= (byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        throw Truncated()
    }
}

/// Signed to unsigned so that small magnitudes of either sign stay small.
@inline(__always) func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
@inline(__always) func unzigzag(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }
