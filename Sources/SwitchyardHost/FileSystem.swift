#if canImport(Glibc)
import Glibc
#endif
import SwitchyardJSON

/// The few file operations the host needs, on libc directly: the host module
/// does not use Foundation, to keep the edge's footprint small (the process
/// still maps FoundationEssentials, which swift-argument-parser links).
public enum FileSystem {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    public static func readText(_ path: String, limitBytes: Int = 16 << 20) throws(Failure) -> String {
        guard let f = fopen(path, "rb") else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if bytes.count > limitBytes { throw Failure(path: path, reason: "larger than \(limitBytes) bytes") }
            if n < chunk.count {
                if ferror(f) != 0 { throw Failure(path: path, reason: "read error") }
                break
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let offset = JSONValue.firstInvalidUTF8Offset(in: bytes) ?? 0
            throw Failure(path: path, reason: "not valid UTF-8 text (byte offset \(offset))")
        }
        return text
    }

    public static func writeText(_ text: String, to path: String) throws(Failure) {
        guard let f = fopen(path, "wb") else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        defer { fclose(f) }
        let bytes = Array(text.utf8)
        guard fwrite(bytes, 1, bytes.count, f) == bytes.count else { throw Failure(path: path, reason: "write error") }
    }

    /// Copies a file (creating the destination's folder), keeping it executable.
    public static func copy(_ source: String, to destination: String) throws(Failure) {
        makeDirectories(dirname(destination))
        guard let input = fopen(source, "rb") else { throw Failure(path: source, reason: String(cString: strerror(errno))) }
        defer { fclose(input) }
        let temporary = destination + ".part-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard let output = fopen(temporary, "wb") else { throw Failure(path: temporary, reason: String(cString: strerror(errno))) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, input)
            if n > 0 && fwrite(chunk, 1, n, output) != n {
                fclose(output)
                throw Failure(path: temporary, reason: "write error")
            }
            if n < chunk.count { break }
        }
        fclose(output)
        chmod(temporary, 0o755)
        guard rename(temporary, destination) == 0 else { throw Failure(path: destination, reason: String(cString: strerror(errno))) }
    }

    /// `mkdir -p`.
    public static func makeDirectories(_ path: String) {
        guard !path.isEmpty, !isDirectory(path) else { return }
        makeDirectories(dirname(path))
        mkdir(path, 0o755)
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Files under `directory` whose names end with `suffix`, sorted, optionally
    /// descending into sub-folders (hidden ones are skipped).
    public static func files(in directory: String, suffix: String, recursive: Bool) -> [String] {
        var out: [String] = []
        for (path, isFolder) in entries(of: directory) {
            if isFolder {
                if recursive { out += files(in: path, suffix: suffix, recursive: true) }
            } else if path.hasSuffix(suffix) {
                out.append(path)
            }
        }
        return out.sorted()
    }

    /// `directory` and every folder below it (hidden ones skipped).
    public static func folders(under directory: String) -> [String] {
        [directory] + entries(of: directory).filter(\.isFolder).flatMap { folders(under: $0.path) }
    }

    /// The entries of one folder, hidden ones skipped, with whether each is a folder.
    private static func entries(of directory: String) -> [(path: String, isFolder: Bool)] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var out: [(String, Bool)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name.hasPrefix(".") { continue }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            out.append((path, isDirectory(path)))
        }
        return out
    }

    /// The folder the running executable is in (where SwiftPM also puts the
    /// plugin libraries it builds).
    public static func executableDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "." }
        let path = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return dirname(path)
    }

    /// The absolute path with symbolic links and `..` resolved; nil if it does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    public static func dirname(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func basename(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

extension String {
    /// Without leading and trailing whitespace and newlines: a key or token
    /// read from a file or the environment. The standard library's
    /// `isWhitespace`, not Foundation's `CharacterSet`, which costs an edge
    /// about 0.3 MB of Foundation's pages for this one call.
    public var trimmedWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
