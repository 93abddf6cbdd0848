/// The rules for a path inside a pack, the same in the manifest, in an
/// archive and in a folder: relative, `/`-separated, no empty, `.` or `..`
/// component, at most 255 bytes (what a ustar header holds without
/// extensions), of letters, digits and `. _ - +` only, so a path means the
/// same file on every file system and can never leave the install folder.
public enum PackPath {
    public static let maximumBytes = 255
    /// The manifest's own name, at the root of every pack.
    public static let manifest = "pack.json"

    /// Nil when `path` is allowed; otherwise why not.
    public static func problem(_ path: String) -> String? {
        if path.isEmpty { return "is empty" }
        if path.hasPrefix("/") { return "\"\(path.echoed())\" is absolute; paths in a pack are relative to its root" }
        if path.utf8.count > maximumBytes { return "is \(path.utf8.count) bytes long; at most \(maximumBytes)" }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { return "\"\(path.echoed())\" has an empty component (// or a trailing /)" }
            if component == ".." { return "\"\(path.echoed())\" climbs out of the pack (..)" }
            if component == "." { return "\"\(path.echoed())\" has a \".\" component" }
        }
        if let bad = path.unicodeScalars.first(where: { !($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-+/".unicodeScalars.contains($0))) }) {
            return "\"\(path.echoed())\" holds \(bad.debugDescription); paths use letters, digits, '.', '_', '-', '+' and '/'"
        }
        return nil
    }
}

extension String {
    /// At most 100 characters of `self` for a message, so a hostile path cannot flood a log.
    func echoed() -> String { count <= 100 ? self : String(prefix(100)) + "…" }
}

/// A platform a plugin binary is built for.
public enum PackPlatform: String, Sendable, Hashable, CaseIterable {
    case linuxX86_64 = "linux-x86_64"
    case linuxAarch64 = "linux-aarch64"

    /// The platform this process runs on; nil on one packs do not know.
    public static var current: PackPlatform? {
        #if os(Linux) && arch(x86_64)
        .linuxX86_64
        #elseif os(Linux) && arch(arm64)
        .linuxAarch64
        #else
        nil
        #endif
    }

    /// The ELF `e_machine` of binaries for this platform (EM_X86_64, EM_AARCH64).
    public var elfMachine: UInt16 {
        switch self {
        case .linuxX86_64: 62
        case .linuxAarch64: 183
        }
    }
}
