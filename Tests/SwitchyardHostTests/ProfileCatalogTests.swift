import Foundation
import Testing
import SwitchyardHost
import SwitchyardTestSupport

/// Reloading a profile folder: only what changed is read again, and a
/// parent's change reaches the profiles that extend it.
@Suite struct ProfileCatalogTests {
    @Test func aReloadSeesChangedFilesAndTheirChildren() throws {
        let dir = TestPaths.temporaryDirectory()
        func write(_ name: String, _ text: String) throws {
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        try write("parent.json", #"{"id": "parent", "driver": "SimulatedGeneric", "channels": [{"name": "A"}]}"#)
        try write("child.json", #"{"id": "child", "extends": "parent", "channels": [{"name": "B"}]}"#)
        try write("other.json", #"{"id": "other", "driver": "SimulatedGeneric", "channels": [{"name": "X"}]}"#)
        try write("broken.json", #"{"id": "broken", "#)
        let first = ProfileCatalog.load(directories: [dir])
        #expect(first.profiles["child"]?.channels.map(\.name) == ["A", "B"])
        #expect(first.errors.count == 1)

        try write("parent.json", #"{"id": "parent", "driver": "SimulatedGeneric", "channels": [{"name": "A"}, {"name": "C"}]}"#)
        let second = ProfileCatalog.load(directories: [dir], previous: first)
        #expect(second.profiles["parent"]?.channels.map(\.name) == ["A", "C"])
        #expect(second.profiles["child"]?.channels.map(\.name) == ["A", "C", "B"])
        #expect(second.profiles["other"] == first.profiles["other"])
        #expect(second.errors.count == 1)  // the unchanged broken file is still reported

        try FileManager.default.removeItem(atPath: dir + "/parent.json")
        let third = ProfileCatalog.load(directories: [dir], previous: second)
        #expect(third.profiles["child"] == nil)
        #expect(third.errors.map(\.description).contains { $0.contains("extends unknown profile \"parent\"") })
    }
}
