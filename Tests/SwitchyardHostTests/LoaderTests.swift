import Foundation
import Testing
import SwitchyardHost
import SwitchyardTestSupport

/// Every way a plugin can be broken, each refused with a message that names
/// the file, what was expected and what was found; none takes the host down.
@Suite struct LoaderTests {
    let dir = TestPaths.temporaryDirectory()

    func refusal(_ path: String) -> PluginLoadError? {
        do {
            _ = try LoadedPlugin.load(path)
            return nil
        } catch {
            return error
        }
    }

    @Test func loadsAValidCPlugin() throws {
        let path = try CFixture.build(CFixture.plugin(), name: "good", in: dir)
        let plugin = try LoadedPlugin.load(path)
        #expect(plugin.id == "test.fixture")
        #expect(plugin.version == "1.0.0")
        #expect(plugin.kind == .driver)
        #expect(plugin.manifest.classes.map(\.name) == ["FixtureSensor"])
    }

    @Test func aPluginBuiltAgainstABI10StillLoads() throws {
        // ABI 1.1 grew only the host's table (publish_text); a 1.0 plugin
        // declares minor 0 and never looks past `publish`.
        let path = try CFixture.build(CFixture.plugin(minor: "0"), name: "abi10", in: dir)
        let plugin = try LoadedPlugin.load(path)
        #expect(plugin.abiMinor == 0)
        #expect(plugin.kind == .driver)
    }

    @Test func refusesAMissingFile() {
        let e = refusal(dir + "/nope.so")
        #expect(e?.reason == .missingFile)
        #expect(e?.description == "\(dir)/nope.so: no such file: No such file or directory")
    }

    @Test func refusesFilesThatAreNotSharedObjects() throws {
        let text = dir + "/libtext.so"
        try "not a library".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(refusal(text)?.description == "\(text): not a loadable shared object: expected an ELF shared object, found no ELF header")

        let c = dir + "/obj.c"
        try "int x;".write(toFile: c, atomically: true, encoding: .utf8)
        try CFixture.run("/usr/bin/cc", ["-c", c, "-o", dir + "/libobj.so"])
        #expect(refusal(dir + "/libobj.so")?.description == "\(dir)/libobj.so: not a loadable shared object: expected an ELF shared object (ET_DYN), found a relocatable object (.o)")
    }

    @Test func refusesALibraryWithoutTheEntry() throws {
        let path = try CFixture.build("int something(void) { return 1; }", name: "noentry", in: dir, exportsOnlyEntry: false)
        #expect(refusal(path)?.description == "\(path): not a Switchyard plugin: no entry symbol: expected exported function switchyard_plugin_entry_v1, "
            + "found no such symbol in the dynamic symbol table")
        #expect(!(try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)).contains(path), "refused from its symbol table, never mapped")
    }

    /// A plugin folder may hold a plugin's own dependencies: they are no
    /// errors, and they are not opened (their constructors do not run).
    @Test func aLibraryInAFolderThatIsNoPluginIsSkippedUnopened() throws {
        let good = try CFixture.build(CFixture.plugin(), name: "good", in: dir)
        let other = try CFixture.build("int helper(void) { return 1; }", name: "helper", in: dir, exportsOnlyEntry: false)
        let catalog = PluginCatalog.load(directories: [dir], cacheDirectory: dir + "/cache")
        #expect(catalog.errors.isEmpty, "\(catalog.errors)")
        #expect(catalog.plugins.map(\.path) == [good])
        #expect(catalog.skipped.map(\.file) == [other])
        #expect(!(try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)).contains("libhelper"), "never mapped, not even its copy")
        #expect(PluginCatalog.load(directories: [], files: [other]).errors.map(\.file) == [other], "named on its own, it is an error")
    }

    @Test func refusesOtherABIVersionsBeforeReadingAnythingElse() throws {
        // A major-2 descriptor's other fields are garbage to this host; the
        // loader must stop at the version.
        let major = try CFixture.build(CFixture.plugin(major: "2", size: "3"), name: "major2", in: dir)
        #expect(refusal(major)?.description == "\(major): plugin ABI major version does not match the host (abi_major): expected 1, found 2; rebuild the plugin against this host's switchyard_plugin.h")
        let minor = try CFixture.build(CFixture.plugin(minor: "7"), name: "minor7", in: dir)
        #expect(refusal(minor)?.description == "\(minor): plugin needs a newer host (ABI minor version too new) (abi_minor): expected at most 2, found 7; upgrade the host, or rebuild the plugin against ABI 1.2")
        let small = try CFixture.build(CFixture.plugin(size: "12"), name: "small", in: dir)
        #expect(refusal(small)?.reason == .badDescriptor)
        #expect(refusal(small)?.field == "struct_size")
        #expect(refusal(small)?.found == "12")
    }

    @Test func refusesBadDescriptorsAndManifests() throws {
        let noId = try CFixture.build(CFixture.plugin(id: "NULL"), name: "noid", in: dir)
        #expect(refusal(noId)?.field == "plugin_id")
        let badVersion = try CFixture.build(CFixture.plugin(version: "1.0"), name: "badversion", in: dir)
        #expect(refusal(badVersion)?.description == "\(badVersion): invalid plugin descriptor (plugin_version): expected a semantic version like 1.2.0, found \"1.0\"")
        let badKind = try CFixture.build(CFixture.plugin(kind: "9"), name: "badkind", in: dir)
        #expect(refusal(badKind)?.field == "kind")
        let notJSON = try CFixture.build(CFixture.plugin(manifest: "{classes"), name: "notjson", in: dir)
        #expect(refusal(notJSON)?.reason == .badManifest)
        #expect(refusal(notJSON)?.description.contains("invalid JSON at line 1, column 2") == true)
        let badSchema = try CFixture.build(CFixture.plugin(manifest: #"{"classes":[{"name":"X","parameters":{"type":"object","properties":{"p":{"minimum":"zero"}}}}]}"#), name: "badschema", in: dir)
        #expect(refusal(badSchema)?.description == "\(badSchema): invalid plugin manifest (manifest_json): classes[0].parameters.properties.p.minimum: expected number, got string \"zero\"")
    }

    @Test func refusesDuplicatePluginIdsAndClassesButKeepsTheRest() throws {
        let first = try CFixture.build(CFixture.plugin(id: "dup.id"), name: "a", in: dir)
        let sameId = try CFixture.build(CFixture.plugin(id: "dup.id", manifest: #"{"classes":[{"name":"Other"}]}"#), name: "b", in: dir)
        let sameClass = try CFixture.build(CFixture.plugin(id: "other.id"), name: "c", in: dir)
        let broken = dir + "/libd.so"
        try "junk".write(toFile: broken, atomically: true, encoding: .utf8)
        let catalog = PluginCatalog.load(directories: [dir])
        #expect(catalog.plugins.map(\.path) == [first])
        let reasons = Dictionary(uniqueKeysWithValues: catalog.errors.map { ($0.file, $0) })
        #expect(reasons[sameId]?.description == "\(sameId): duplicate plugin id (plugin_id): found \"dup.id\" 1.0.0, already loaded from \(first) (1.0.0)")
        #expect(reasons[sameClass]?.description == "\(sameClass): duplicate class (classes): found class \"FixtureSensor\", already provided by dup.id from \(first)")
        #expect(reasons[broken]?.reason == .notSharedObject)
        #expect(catalog.classes["FixtureSensor"]?.pluginId == "dup.id")
    }

    /// The shipped build folder (what an edge loads by default) holds the
    /// shipped plugins only; the test-only probe is built apart
    /// (Tests/Plugins/TestProbe, into .build/test-plugins).
    @Test func theShippedFolderHoldsNoTestPlugin() {
        let shipped = PluginCatalog.load(directories: [TestPaths.pluginDirectory])
        #expect(shipped.plugins.count >= 5)
        #expect(shipped.classes["ProbeController"] == nil,
                "\(TestPaths.pluginDirectory) holds the test probe: a stale copy from a build before issue 24? `make test-plugins` removes it")
        #expect(!FileManager.default.fileExists(atPath: TestPaths.pluginDirectory + "/libTestProbe.so"))
        let test = PluginCatalog.load(directories: [TestPaths.testPluginDirectory])
        #expect(test.classes["ProbeController"]?.pluginId == "switchyard.test-probe")
    }

    @Test func loadsEveryBuiltPluginTogether() {
        let catalog = PluginCatalog.load(directories: TestPaths.pluginDirectories)
        #expect(catalog.errors.isEmpty, "\(catalog.errors)")
        let ids = Set(catalog.plugins.map(\.id))
        #expect(ids.isSuperset(of: ["switchyard.balancing", "switchyard.peak-shaving", "switchyard.simulated-devices", "switchyard.example-c", "switchyard.test-probe"]))
    }
}
