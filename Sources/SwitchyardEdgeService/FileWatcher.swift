import Synchronization
import SwitchyardHost

#if canImport(Glibc)
import Glibc
#endif

/// Watches files and folders with inotify and reports a change once things
/// have been quiet for `debounceMs`: an editor's save (write a temporary
/// file, rename it over the old one) or a copied pack of profiles produces
/// one reload, not twenty.
///
/// Only events that name what is watched count: a watched file by its name
/// (it is watched through its folder, so that a save by rename is seen: the
/// rename lands as "moved to <name>"), and in a watched folder the files
/// with the folder's suffix (`.json` for profiles, `.so` for plugins) that
/// are not hidden. Anything else in those folders — other files, editors'
/// swap, backup and probe files (`.x.swp`, `x~`, `4913`), the temporary
/// file of `sed -i` or of an atomic save before its rename — is ignored.
public final class FileWatcher: Sendable {
    /// A folder whose files of one kind are watched.
    public struct Folder: Sendable, Hashable {
        public var path: String
        /// Files whose names end with this count (`.json`, `.so`).
        public var suffix: String
        /// With the sub-folders it has now (not ones made later).
        public var recursive: Bool

        public init(path: String, suffix: String, recursive: Bool) {
            self.path = path
            self.suffix = suffix
            self.recursive = recursive
        }
    }

    /// What one inotify watch (one folder) reacts to.
    struct Rule: Sendable, Equatable {
        var names: Set<String> = []
        var suffixes: Set<String> = []

        /// Whether an event naming `name` in this folder is a change.
        func matches(_ name: String) -> Bool {
            if names.contains(name) { return true }
            guard !name.hasPrefix(".") else { return false }
            return suffixes.contains { name.hasSuffix($0) }
        }
    }

    private let fd: Int32
    private let rules: [Int32: Rule]
    private let changed = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let debounceNs: Int64

    /// Starts watching `files` (each by its name, through its folder) and
    /// `folders`. Nil if inotify is not available.
    public init?(files: [String], folders: [Folder], debounceMs: Int = 300) {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        debounceNs = Int64(debounceMs) * 1_000_000
        var byFolder: [String: Rule] = [:]
        for file in files {
            byFolder[FileSystem.dirname(file), default: Rule()].names.insert(FileSystem.basename(file))
        }
        for folder in folders {
            for path in folder.recursive ? FileSystem.folders(under: folder.path) : [folder.path] {
                byFolder[path, default: Rule()].suffixes.insert(folder.suffix)
            }
        }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB)
        var rules: [Int32: Rule] = [:]
        for (folder, rule) in byFolder {
            let wd = inotify_add_watch(fd, folder, mask)
            // Two paths of one folder (a link, `a/./b`) share a watch: merge.
            if wd >= 0 { rules[wd] = rules[wd].map { Rule(names: $0.names.union(rule.names), suffixes: $0.suffixes.union(rule.suffixes)) } ?? rule }
        }
        self.rules = rules
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
                var relevant = false
                while true {
                    let n = read(fd, &buffer, buffer.count)
                    if n <= 0 { break }
                    if Self.anyRelevant(buffer[0..<n], rules: rules) { relevant = true }
                }
                if relevant { pendingSince = clock.monotonicNs() }
            } else if let since = pendingSince, clock.monotonicNs() - since >= debounceNs {
                pendingSince = nil
                changed.store(true, ordering: .releasing)
            }
        }
    }

    /// Walks the `struct inotify_event` records of one read: `wd`, `mask`,
    /// `cookie`, `len` (4 bytes each), then `len` bytes of NUL-padded name.
    /// An overflowed queue counts as a change: what was lost is unknown.
    static func anyRelevant(_ bytes: ArraySlice<UInt8>, rules: [Int32: Rule]) -> Bool {
        var i = bytes.startIndex
        // In the host's byte order.
        func word(_ at: Int) -> UInt32 {
            bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at - bytes.startIndex, as: UInt32.self) }
        }
        while i + 16 <= bytes.endIndex {
            let wd = Int32(bitPattern: word(i))
            let mask = word(i + 4)
            let length = Int(word(i + 12))
            let nameStart = i + 16
            let nameEnd = min(nameStart + length, bytes.endIndex)
            i = nameEnd
            if mask & UInt32(IN_Q_OVERFLOW) != 0 { return true }
            guard let rule = rules[wd], length > 0 else { continue }
            let name = String(decoding: bytes[nameStart..<nameEnd].prefix { $0 != 0 }, as: UTF8.self)
            if rule.matches(name) { return true }
        }
        return false
    }
}
