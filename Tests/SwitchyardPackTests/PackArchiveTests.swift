import SwitchyardPack
import Testing

@Suite struct PackArchiveTests {
    let entries = [PackArchive.Entry(path: "pack.json", bytes: Array("{}".utf8)),
                   PackArchive.Entry(path: "a/b.json", bytes: Array(repeating: 7, count: 1000)),
                   PackArchive.Entry(path: String(repeating: "d", count: 120) + "/" + String(repeating: "n", count: 90), bytes: [])]

    /// Rewrites the header at `offset` with `edit`, then fixes its checksum,
    /// so only the edited rule can refuse it.
    func patched(_ archive: [UInt8], header offset: Int = 0, _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
        var bytes = archive
        var header = Array(bytes[offset..<(offset + 512)])
        edit(&header)
        for i in 148..<156 { header[i] = 32 }
        let sum = header.reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        for i in 0..<8 { header[148 + i] = 0 }
        for (i, d) in (Array(repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits).enumerated() { header[148 + i] = d }
        header[155] = 32
        bytes.replaceSubrange(offset..<(offset + 512), with: header)
        return bytes
    }

    func setName(_ name: String) -> (inout [UInt8]) -> Void {
        { header in
            for i in 0..<100 { header[i] = 0 }
            for i in 345..<500 { header[i] = 0 }
            for (i, b) in name.utf8.enumerated() { header[i] = b }
        }
    }

    func refusal(_ archive: [UInt8], limits: PackArchive.Limits = .standard) -> PackError? {
        PackFixtures.refusal { () throws(PackError) in try PackArchive.read(archive, file: "x.pack.tar", limits: limits) }
    }

    @Test func roundTripsDeterministically() throws {
        let archive = try PackArchive.write(entries)
        #expect(try PackArchive.read(archive, file: "x") == entries)
        #expect(try PackArchive.write(entries) == archive)
    }

    @Test func refusesWhatAPackNeverHolds() throws {
        let archive = try PackArchive.write(entries)
        let cases: [(String, [UInt8], PackError.Code)] = [
            ("climbing path", patched(archive, setName("../../etc/passwd")), .unsafePath),
            ("absolute path", patched(archive, setName("/etc/passwd")), .unsafePath),
            ("symbolic link", patched(archive) { $0[156] = UInt8(ascii: "2") }, .invalidArchive),
            ("hard link", patched(archive) { $0[156] = UInt8(ascii: "1") }, .invalidArchive),
            ("folder", patched(archive) { $0[156] = UInt8(ascii: "5") }, .invalidArchive),
            ("pax header", patched(archive) { $0[156] = UInt8(ascii: "x") }, .invalidArchive),
            ("duplicate", patched(archive, header: 2560, setName("pack.json")), .invalidArchive),
            ("damaged header", { var a = archive; a[10] ^= 1; return a }(), .invalidArchive),
            ("cut short", Array(archive.prefix(1536)), .invalidArchive),
            ("not whole blocks", Array(archive.dropLast(100)), .invalidArchive),
            ("data after the end", archive + [UInt8](repeating: 1, count: 512), .invalidArchive),
            ("not ustar", patched(archive) { $0[257] = UInt8(ascii: "X") }, .invalidArchive),
        ]
        for (name, bytes, code) in cases {
            let error = refusal(bytes)
            #expect(error?.code == code, "\(name): \(String(describing: error))")
            #expect(error?.file == "x.pack.tar", "\(name)")
        }
        #expect(refusal(archive, limits: .init(maximumEntries: 2, maximumFileBytes: 1 << 20, maximumTotalBytes: 1 << 20))?.code == .invalidArchive)
        #expect(refusal(archive, limits: .init(maximumEntries: 10, maximumFileBytes: 999, maximumTotalBytes: 1 << 20))?.code == .invalidArchive)
        #expect(refusal(archive, limits: .init(maximumEntries: 10, maximumFileBytes: 1 << 20, maximumTotalBytes: 1001))?.code == .invalidArchive)
    }

    @Test func writerRefusesUnsafePaths() {
        for path in ["../x", "/x", "a//b", "a/./b", "sp ace", "a\\b"] {
            let error = PackFixtures.refusal { () throws(PackError) in try PackArchive.write([.init(path: path, bytes: [])]) }
            #expect(error?.code == .unsafePath, "\(path)")
        }
    }
}
