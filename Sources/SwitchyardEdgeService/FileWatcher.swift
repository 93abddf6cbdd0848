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
            if FileSystem.isDirectory(path) {
                folders.formUnion(FileSystem.folders(under: path))
            } else {
                folders.insert(FileSystem.dirname(path))
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
        let clock = SystemClock()
        var buffer = [UInt8](repeating: 0, count: 8192)
        var pendingSince: Int64?
        while !stopped.load(ordering: .relaxed) {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 100)
            if ready > 0 {
                while read(fd, &buffer, buffer.count) > 0 {}
                pendingSince = clock.monotonicNs()
            } else if let since = pendingSince, clock.monotonicNs() - since >= debounceNs {
                pendingSince = nil
                changed.store(true, ordering: .releasing)
            }
        }
    }

}
