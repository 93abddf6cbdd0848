import Foundation
import Testing
import SwitchyardEdgeService
import SwitchyardHost
import SwitchyardTestSupport

/// The class of issue 14, item 2: a watched folder that holds other files.
/// Only the config file itself, profiles (`.json`) and plugins (`.so`)
/// may trigger a reload; editors' temporary files must not, and their
/// save by rename must.
@Suite(.serialized) struct FileWatcherTests {
    /// Long enough for the watcher (debounce 50 ms, polls every 100 ms) to
    /// report a change it had seen, with a wide margin for a busy machine.
    static let quietMs: UInt32 = 1_500

    struct Folders {
        let root = TestPaths.temporaryDirectory()
        var config: String { root + "/site/edge.json" }
        var profiles: String { root + "/profiles" }
        var plugins: String { root + "/plugins" }

        init() throws {
            for d in [root + "/site", profiles, profiles + "/vendor", plugins] {
                try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            }
            try write("{}", config)
            try write("{}", profiles + "/vendor/meter.json")
        }

        func watcher() throws -> FileWatcher {
            try #require(FileWatcher(files: [config], folders: [
                .init(path: profiles, suffix: ".json", recursive: true),
                .init(path: plugins, suffix: ".so", recursive: false),
            ], debounceMs: 50))
        }
    }

    static func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: false, encoding: .utf8) }
    func write(_ text: String, _ path: String) throws { try Self.write(text, path) }

    static func rename(_ from: String, _ to: String) throws {
        guard Foundation.rename(from, to) == 0 else { throw CFixture.FixtureError(message: "rename \(from) → \(to) failed") }
    }

    /// Waits for a reported change (true) or, for `quietMs`, for none.
    func settles(_ w: FileWatcher) -> Bool {
        for _ in 0..<(Self.quietMs / 50) {
            if w.takeChange() { return true }
            usleep(50_000)
        }
        return false
    }

    @Test func otherFilesBesideTheConfigAndInWatchedFoldersDoNotReload() throws {
        let f = try Folders()
        let w = try f.watcher()
        defer { w.stop() }
        let site = f.root + "/site"
        // Other files created, written, renamed, deleted beside the config.
        try write("notes", site + "/notes.txt")
        try Self.rename(site + "/notes.txt", site + "/notes.old")
        unlink(site + "/notes.old")
        try write("{}", site + "/other.json")
        // What vim does around a save, without the save: probe file, swap, backup.
        try write("", site + "/4913")
        unlink(site + "/4913")
        try write("swap", site + "/.edge.json.swp")
        try write("{}", site + "/edge.json~")
        // sed -i's temporary file before its rename.
        try write("{}", site + "/sedX1b2c3")
        unlink(site + "/sedX1b2c3")
        // Profile and plugin folders: files of another kind, hidden files.
        try write("readme", f.profiles + "/README.md")
        try write("{}", f.profiles + "/vendor/.#meter.json")
        try write("x", f.plugins + "/notes.txt")
        try write("x", f.plugins + "/libX.so.tmp")
        #expect(!settles(w), "a file that is neither the config, a profile nor a plugin triggered a reload")
    }

    @Test func savesByRenameAndInPlaceAreSeen() throws {
        let f = try Folders()
        let w = try f.watcher()
        defer { w.stop() }
        let site = f.root + "/site"
        // An atomic save / sed -i: a temporary file renamed over the config.
        try write(#"{"version": 2}"#, site + "/.edge.json.tmp")
        try Self.rename(site + "/.edge.json.tmp", f.config)
        #expect(settles(w), "a save by rename over the config was missed")
        // vim's default save: the old file renamed to a backup, the new one written.
        try Self.rename(f.config, f.config + "~")
        try write(#"{"version": 3}"#, f.config)
        unlink(f.config + "~")
        #expect(settles(w), "a save by writing a new file was missed")
        // In place.
        try write(#"{"version": 4}"#, f.config)
        #expect(settles(w), "a write in place was missed")
        // A profile in a sub-folder, edited by rename; a new plugin library.
        try write("{}", f.profiles + "/vendor/meter.json.new")
        try Self.rename(f.profiles + "/vendor/meter.json.new", f.profiles + "/vendor/meter.json")
        #expect(settles(w), "a profile saved by rename was missed")
        try write("elf", f.plugins + "/libNew.so")
        #expect(settles(w), "a new plugin library was missed")
        // One burst, one change.
        #expect(!settles(w))
    }
}
