/// The pack archive: an uncompressed POSIX ustar archive holding only
/// regular files, `pack.json` first, then every file of the manifest in its
/// order. Written deterministically (mode 0644, owner 0, time 0), so the
/// same folder builds the same bytes. `tar -tvf` lists it.
///
/// Why ustar, uncompressed: the edge reads archives with this small strict
/// reader and no new library (zlib, libarchive), and a reader of a few
/// hundred lines can refuse everything a pack does not need: links,
/// folders, devices, extended headers, absolute or climbing paths,
/// duplicates, oversize entries (docs/packs.md).
public enum PackArchive {
    /// What a reader accepts at most; anything beyond is refused, not truncated.
    public struct Limits: Sendable, Hashable {
        public var maximumEntries: Int
        public var maximumFileBytes: Int
        public var maximumTotalBytes: Int

        public init(maximumEntries: Int, maximumFileBytes: Int, maximumTotalBytes: Int) {
            self.maximumEntries = maximumEntries
            self.maximumFileBytes = maximumFileBytes
            self.maximumTotalBytes = maximumTotalBytes
        }

        /// 4,096 files, 128 MiB per file, 256 MiB in all.
        public static let standard = Limits(maximumEntries: 4096, maximumFileBytes: 128 << 20, maximumTotalBytes: 256 << 20)
    }

    public struct Entry: Sendable, Hashable {
        public var path: String
        public var bytes: [UInt8]
        public init(path: String, bytes: [UInt8]) {
            self.path = path
            self.bytes = bytes
        }
    }

    static let block = 512

    /// The archive of `entries`, in their order. Refuses a path a reader would refuse.
    public static func write(_ entries: [Entry]) throws(PackError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.reduce(1024) { $0 + block + ($1.bytes.count + block - 1) / block * block })
        for entry in entries {
            if let problem = PackPath.problem(entry.path) { throw PackError(.unsafePath, field: entry.path, problem) }
            guard let (prefix, name) = split(entry.path) else {
                throw PackError(.unsafePath, field: entry.path, "cannot be stored in a ustar header (a name of at most 100 bytes after a folder of at most 155)")
            }
            var header = [UInt8](repeating: 0, count: block)
            put(name, at: 0, in: &header)
            put("0000644", at: 100, in: &header)
            put("0000000", at: 108, in: &header)
            put("0000000", at: 116, in: &header)
            put(octal(entry.bytes.count, width: 11), at: 124, in: &header)
            put("00000000000", at: 136, in: &header)
            header[156] = UInt8(ascii: "0")
            put("ustar", at: 257, in: &header)
            put("00", at: 263, in: &header)
            put(prefix, at: 345, in: &header)
            let sum = checksum(header)
            put(octal(sum, width: 6), at: 148, in: &header)
            header[155] = UInt8(ascii: " ")
            out += header
            out += entry.bytes
            out += [UInt8](repeating: 0, count: (block - entry.bytes.count % block) % block)
        }
        out += [UInt8](repeating: 0, count: 2 * block)
        return out
    }

    /// The entries of `archive`, in order, after every structural check.
    /// Says nothing about trust: `PackReader` checks them against the signed manifest.
    public static func read(_ archive: [UInt8], file: String, limits: Limits = .standard) throws(PackError) -> [Entry] {
        func refuse(_ field: String?, _ message: String) -> PackError { PackError(.invalidArchive, file: file, field: field, message) }
        guard archive.count % block == 0 else {
            throw refuse(nil, "is \(archive.count) bytes, not a whole number of 512-byte blocks: not a pack archive, or cut short")
        }
        var entries: [Entry] = []
        var seen: Set<String> = []
        var total = 0
        var offset = 0
        while true {
            guard offset + block <= archive.count else { throw refuse(nil, "ends without the two zero blocks that close an archive: cut short?") }
            let header = Array(archive[offset..<(offset + block)])
            if header.allSatisfy({ $0 == 0 }) {
                guard archive[offset...].allSatisfy({ $0 == 0 }), archive.count - offset >= 2 * block else {
                    throw refuse(nil, "has data after its end marker at byte \(offset)")
                }
                return entries
            }
            let at = "entry \(entries.count + 1) (byte \(offset))"
            guard Array(header[257..<263]) == Array("ustar\0".utf8), Array(header[263..<265]) == Array("00".utf8) else {
                throw refuse(at, "is not a POSIX ustar header (magic \"ustar\\0\" \"00\")")
            }
            guard let stored = number(header[148..<156]), stored == checksum(header) else {
                throw refuse(at, "header checksum does not match: the archive is damaged")
            }
            let path = try name(header, at: at, file: file)
            let what = "\(at) \"\(path.echoed())\""
            switch header[156] {
            case 0, UInt8(ascii: "0"): break
            case UInt8(ascii: "1"), UInt8(ascii: "2"): throw refuse(what, "is a link; packs hold only regular files")
            case UInt8(ascii: "5"): throw refuse(what, "is a folder entry; packs hold only regular files")
            case UInt8(ascii: "x"), UInt8(ascii: "g"): throw refuse(what, "is a pax extended header; packs do not use them")
            default: throw refuse(what, "has type '\(Unicode.Scalar(header[156]))'; packs hold only regular files")
            }
            guard header[157..<257].allSatisfy({ $0 == 0 }) else { throw refuse(what, "names a link target; packs hold only regular files") }
            if let problem = PackPath.problem(path) { throw PackError(.unsafePath, file: file, field: what, problem) }
            guard seen.insert(path).inserted else { throw refuse(what, "is a second entry of the same name") }
            guard entries.count < limits.maximumEntries else { throw refuse(what, "is more than \(limits.maximumEntries) entries") }
            guard let size = number(header[124..<136]) else { throw refuse(what, "size field is not an octal number") }
            guard size <= limits.maximumFileBytes else { throw refuse(what, "is \(size) bytes; a file may be at most \(limits.maximumFileBytes)") }
            total += size
            guard total <= limits.maximumTotalBytes else { throw refuse(what, "brings the content to \(total) bytes; at most \(limits.maximumTotalBytes)") }
            let start = offset + block
            let padded = (size + block - 1) / block * block
            guard start + padded <= archive.count else { throw refuse(what, "is \(size) bytes but the archive ends before: cut short") }
            guard archive[(start + size)..<(start + padded)].allSatisfy({ $0 == 0 }) else { throw refuse(what, "padding after the file is not zero") }
            entries.append(Entry(path: path, bytes: Array(archive[start..<(start + size)])))
            offset = start + padded
        }
    }

    /// `prefix` + `/` + `name`, each a NUL-padded field of its own.
    static func name(_ header: [UInt8], at: String, file: String) throws(PackError) -> String {
        func field(_ range: Range<Int>) -> [UInt8]? {
            let bytes = Array(header[range])
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            // Nothing but NULs after the terminator: no hidden second name.
            return bytes[end...].allSatisfy { $0 == 0 } ? Array(bytes[..<end]) : nil
        }
        guard let name = field(0..<100), let prefix = field(345..<500) else {
            throw PackError(.invalidArchive, file: file, field: at, "name field holds bytes after its end")
        }
        let bytes = prefix.isEmpty ? name : prefix + [UInt8(ascii: "/")] + name
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PackError(.unsafePath, file: file, field: at, "name is not UTF-8")
        }
        return text
    }

    static func split(_ path: String) -> (prefix: String, name: String)? {
        let bytes = Array(path.utf8)
        if bytes.count <= 100 { return ("", path) }
        for i in bytes.indices.reversed() where bytes[i] == UInt8(ascii: "/") && i <= 155 && bytes.count - i - 1 <= 100 {
            return (String(decoding: bytes[..<i], as: UTF8.self), String(decoding: bytes[(i + 1)...], as: UTF8.self))
        }
        return nil
    }

    static func put(_ text: String, at offset: Int, in header: inout [UInt8]) {
        for (i, byte) in text.utf8.enumerated() { header[offset + i] = byte }
    }

    static func octal(_ value: Int, width: Int) -> String {
        let digits = String(value, radix: 8)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The sum of the header's bytes with the checksum field read as spaces.
    static func checksum(_ header: [UInt8]) -> Int {
        header.enumerated().reduce(0) { $0 + ((148..<156).contains($1.offset) ? 32 : Int($1.element)) }
    }

    /// An octal field: digits, then NULs or spaces; nil for anything else.
    static func number(_ field: ArraySlice<UInt8>) -> Int? {
        var value = 0
        var digits = 0
        var ended = false
        for byte in field {
            if byte == 0 || byte == UInt8(ascii: " ") {
                ended = true
                continue
            }
            guard !ended, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7"), digits < 11 else { return nil }
            value = value * 8 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}
