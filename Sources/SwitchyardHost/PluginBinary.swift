import CSwitchyardPlugin

#if canImport(Glibc)
import Glibc
#endif

/// What a plugin file says about itself without being opened: its ELF
/// machine and the symbols it exports. Lets a pack's binaries for another
/// platform be checked, and lints a plugin that exports more than its entry.
public struct PluginBinary: Sendable, Hashable {
    /// The ELF `e_machine` (62 x86-64, 183 AArch64).
    public let machine: UInt16
    /// The defined global and weak symbols of the dynamic symbol table, sorted.
    public let exports: [String]

    /// Whether the entry function is among the exports.
    public var exportsEntry: Bool { exports.contains(SY_ENTRY_SYMBOL) }

    /// The entry symbol's name (`switchyard_plugin_entry_v1`).
    public static var entrySymbol: String { SY_ENTRY_SYMBOL }

    /// Reads a 64-bit little-endian ELF shared object; the loader's own
    /// refusal (`PluginLoadError`) for anything else.
    public static func read(_ path: String) throws(PluginLoadError) -> PluginBinary {
        try LoadedPlugin.checkELF(path)
        guard let f = fopen(path, "rb") else { throw PluginLoadError(file: path, reason: .missingFile, detail: String(cString: strerror(errno))) }
        defer { fclose(f) }
        func read(_ count: Int, at offset: UInt64) -> [UInt8]? {
            guard count > 0, count < 256 << 20, fseeko(f, off_t(offset), SEEK_SET) == 0 else { return nil }
            var bytes = [UInt8](repeating: 0, count: count)
            return fread(&bytes, 1, count, f) == count ? bytes : nil
        }
        func integer(_ bytes: [UInt8], _ offset: Int, _ size: Int) -> UInt64 {
            (0..<size).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
        }
        let unreadable = PluginLoadError(file: path, reason: .notSharedObject, expected: "a 64-bit little-endian ELF file with a dynamic symbol table",
                                         found: "a header or section table that does not read")
        guard let header = read(64, at: 0), header[4] == 2, header[5] == 1 else { throw unreadable }
        let machine = UInt16(integer(header, 0x12, 2))
        let sectionsAt = integer(header, 0x28, 8)
        let sectionSize = Int(integer(header, 0x3A, 2))
        let sectionCount = Int(integer(header, 0x3C, 2))
        guard sectionSize >= 64, sectionCount > 0, sectionCount < 65_280, let table = read(sectionSize * sectionCount, at: sectionsAt) else { throw unreadable }
        func section(_ index: Int) -> (type: UInt64, offset: UInt64, size: UInt64, link: Int, entrySize: UInt64) {
            let base = index * sectionSize
            return (integer(table, base + 4, 4), integer(table, base + 0x18, 8), integer(table, base + 0x20, 8),
                    Int(integer(table, base + 0x28, 4)), integer(table, base + 0x38, 8))
        }
        var exports: [String] = []
        for index in 0..<sectionCount where section(index).type == 11 {  // SHT_DYNSYM
            let symbols = section(index)
            guard symbols.entrySize >= 24, symbols.link < sectionCount, let entries = read(Int(symbols.size), at: symbols.offset),
                  case let strings = section(symbols.link), let names = read(Int(strings.size), at: strings.offset) else { throw unreadable }
            for start in stride(from: 0, to: entries.count - 23, by: Int(symbols.entrySize)) {
                let binding = entries[start + 4] >> 4  // 1 STB_GLOBAL, 2 STB_WEAK
                let defined = integer(entries, start + 6, 2) != 0  // st_shndx 0: SHN_UNDEF, used not defined
                let name = Int(integer(entries, start, 4))
                guard defined, binding == 1 || binding == 2, name > 0, name < names.count else { continue }
                let end = names[name...].firstIndex(of: 0) ?? names.count
                exports.append(String(decoding: names[name..<end], as: UTF8.self))
            }
        }
        return PluginBinary(machine: machine, exports: exports.sorted())
    }
}

/// The plugin ABI this host speaks (`switchyard_plugin.h`): it loads plugins
/// of the same major and a minor up to its own.
public enum PluginABI {
    public static let major = UInt32(SY_ABI_MAJOR)
    public static let minor = UInt32(SY_ABI_MINOR)
}
