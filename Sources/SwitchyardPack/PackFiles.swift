#if canImport(Glibc)
import Glibc
#endif

/// The file operations packs need, on libc (the edge does not use
/// Foundation for files). Every error names the path.
public enum PackFiles {
    /// The whole file, refused when larger than `limitBytes`.
    public static func read(_ path: String, limitBytes: Int) throws(PackError) -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw PackError(.io, file: path, String(cString: strerror(errno))) }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if bytes.count > limitBytes { throw PackError(.io, file: path, "is larger than \(limitBytes) bytes") }
            if n < chunk.count {
                if ferror(f) != 0 { throw PackError(.io, file: path, "read error") }
                return bytes
            }
        }
    }

    /// Writes `bytes` to a temporary file beside `path`, then renames it, so
    /// `path` is never seen half written. `mode`: the file's permissions.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(PackError) {
        let temporary = path + ".part-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw PackError(.io, file: temporary, String(cString: strerror(errno))) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 {
                close(fd)
                unlink(temporary)
                throw PackError(.io, file: temporary, "write error: \(String(cString: strerror(errno)))")
            }
            written += n
        }
        // The mode given to open() is reduced by the umask; a private key must be exactly 0600.
        fchmod(fd, mode)
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw PackError(.io, file: path, String(cString: strerror(errno)))
        }
    }

    /// Creates `path` only if it does not exist (for keys: never overwrite one).
    public static func create(_ bytes: [UInt8], at path: String, mode: mode_t) throws(PackError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw PackError(.io, file: path, errno == EEXIST ? "already exists; not overwritten" : String(cString: strerror(errno)))
        }
        defer { close(fd) }
        fchmod(fd, mode)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw PackError(.io, file: path, "write error") }
    }

    /// The permission bits of `path` (following links); nil when it cannot be read.
    public static func mode(_ path: String) -> UInt32? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return UInt32(st.st_mode) & 0o7777
    }

    public enum Kind: Sendable { case file, directory, link, other, missing }

    /// What is at `path`, without following a symbolic link.
    public static func kind(_ path: String) -> Kind {
        var st = stat()
        guard lstat(path, &st) == 0 else { return .missing }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFLNK: return .link
        default: return .other
        }
    }

    /// The files below `folder`, as paths relative to it, sorted; hidden
    /// entries (names starting with `.`) are left out. A symbolic link or
    /// special file is refused: a pack folder holds regular files only.
    public static func listFiles(in folder: String) throws(PackError) -> [String] {
        var out: [String] = []
        try walk(folder, relative: "", into: &out)
        return out.sorted()
    }

    private static func walk(_ folder: String, relative: String, into out: inout [String]) throws(PackError) {
        guard let dir = opendir(folder) else { throw PackError(.io, file: folder, String(cString: strerror(errno))) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if name.hasPrefix(".") { continue }
            names.append(name)
        }
        closedir(dir)
        for name in names {
            let path = folder + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            switch kind(path) {
            case .file: out.append(rel)
            case .directory: try walk(path, relative: rel, into: &out)
            case .link: throw PackError(.unsafePath, file: path, "is a symbolic link; a pack folder holds regular files only")
            case .other, .missing: throw PackError(.unsafePath, file: path, "is not a regular file")
            }
        }
    }
}
