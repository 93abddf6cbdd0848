import Synchronization
import SwitchyardHost

#if canImport(Glibc)
import Glibc
#endif

/// Watches files and folders with inotify and reports a change once things
/// have been quiet for `debounceMs`: an editor's save (write a temporary
/// file, rename it over the old one) or a copied pack of profiles produces
/// one reload, not twenty.
public final class FileWatcher: Sendable {
    private let fd: Int32
    private let changed = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let debounceNs: Int64

    /// Starts watching `paths` (files, or folders with the sub-folders they
    /// have now) and `flat` folders (without sub-folders). A file is watched
    /// through its folder, so that replacing it by rename is seen.
    public init?(paths: [String], flat: [String] = [], debounceMs: Int = 300) {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        debounceNs = Int64(debounceMs) * 1_000_000
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB)
        var folders: Set<String> = []
        for path in paths {
            if isDirectory(path) {
                folders.formUnion(Self.folders(under: path))
            } else {
                folders.insert(parent(path))
            }
        }
        folders.formUnion(flat)
        for folder in folders { inotify_add_watch(fd, folder, mask) }
        OSThread.detach(name: "file-watcher") { [self] in run() }
    }

    deinit { close(fd) }

    /// True once per settled burst of changes.
    public func takeChange() -> Bool {
        changed.exchange(false, ordering: .acquiringAndReleasing)
    }

    public func stop() { stopped.store(true, ordering: .relaxed) }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 8192)
        var pendingSince: Int64?
        while !stopped.load(ordering: .relaxed) {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 100)
            if ready > 0 {
                while read(fd, &buffer, buffer.count) > 0 {}
                pendingSince = monotonicNs()
            } else if let since = pendingSince, monotonicNs() - since >= debounceNs {
                pendingSince = nil
                changed.store(true, ordering: .releasing)
            }
        }
    }

    private static func folders(under path: String) -> [String] {
        var out = [path]
        guard let dir = opendir(path) else { return out }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name.hasPrefix(".") { continue }
            let child = path + "/" + name
            if isDirectory(child) { out += folders(under: child) }
        }
        return out
    }
}

private func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

private func parent(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

private func monotonicNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

