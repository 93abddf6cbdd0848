import Foundation
import Testing
import SwitchyardHost
import SwitchyardModel
import SwitchyardTestSupport

/// Tests/Fixtures/plugins/versioned_controller.c, built as one version.
func buildVersioned(version: String, value: Int, name: String, in dir: String) throws {
    let source = try String(contentsOfFile: TestPaths.packageRoot + "/Tests/Fixtures/plugins/versioned_controller.c", encoding: .utf8)
    _ = try CFixture.build(source, name: name, in: dir, extraFlags: ["-DPLUGIN_VERSION=\"\(version)\"", "-DVALUE=\(value)"])
}

@Suite(.serialized) struct ReloadTests {
    func versionedSite() -> String {
        """
        {"version": 1, "edge_id": "swap", "core_cycle": {"period_ms": 1000},
         "scheduler": {"controllers": [
            {"id": "x", "class": "VersionedController", "parameters": {"output": "a/Setpoint"}},
            {"id": "y", "class": "VersionedController", "parameters": {"output": "b/Setpoint"}}]},
         "devices": [{"device_id": "a", "profile": "test_generic"}, {"device_id": "b", "profile": "test_generic"}]}
        """
    }

    @Test func aNewPluginVersionIsSwappedInAtOneBoundary() throws {
        let dir = TestPaths.temporaryDirectory()
        let plugins = dir + "/plugins"
        FileSystem.makeDirectories(plugins)
        try buildVersioned(version: "1.0.0", value: 1, name: "versioned", in: plugins)
        let clock = ManualClock()
        let host = EdgeHost(plugins: PluginCatalog.load(directories: [TestPaths.pluginDirectory, plugins]),
                            profiles: ProfileCatalog.load(directories: fixtureProfiles), clock: clock, deviceIO: .inline)
        defer { host.stop() }
        let config = try EdgeConfig(parsing: versionedSite(), file: nil)
        try host.apply(config)
        func cycle() {
            host.runCycle(deadlineNs: clock.monotonicNs())
            clock.advance(byNs: 1_000_000_000)
        }
        for _ in 0..<3 { cycle() }
        #expect(host.reading("a/SetpointEcho")?.value == 1)

        // The integrator drops a new build over the old file.
        Thread.sleep(forTimeInterval: 0.01)
        try buildVersioned(version: "1.1.0", value: 2, name: "versioned", in: plugins)
        try host.reload(config, pluginCacheDirectory: dir + "/cache")
        let swapped = try #require(host.status().plugins.first { $0.id == "test.versioned" })
        #expect(swapped.version == "1.1.0")
        // Both controllers of the class changed version at the same boundary:
        // in no cycle did one write the old value and the other the new.
        for _ in 0..<3 {
            cycle()
            #expect(host.reading("a/SetpointEcho")?.value == host.reading("b/SetpointEcho")?.value)
        }
        #expect(host.reading("a/SetpointEcho")?.value == 2)
        #expect(host.plugins.plugin(forClass: "VersionedController")?.loadedFrom.hasPrefix(dir + "/cache/") == true)

        // A reload with nothing changed keeps every instance and image.
        let before = host.plugins.plugin(forClass: "VersionedController")
        try host.reload(config, pluginCacheDirectory: dir + "/cache")
        #expect(host.plugins.plugin(forClass: "VersionedController") === before)
    }

    @Test func aSecondImageOfASwiftPluginRunsBesideTheFirst() throws {
        // The same Swift plugin mapped twice (its file replaced): two images
        // with identical type names, each with its own copy of the kit. The
        // probe checks generics, conformances and casts in every cycle.
        let dir = TestPaths.temporaryDirectory()
        let plugins = dir + "/plugins"
        FileSystem.makeDirectories(plugins)
        for name in ["TestProbe", "SimulatedDevices"] { try FileSystem.copy(TestPaths.plugin(name), to: plugins + "/lib\(name).so") }
        let clock = ManualClock()
        let host = EdgeHost(plugins: PluginCatalog.load(directories: [plugins], cacheDirectory: dir + "/cache"),
                            profiles: ProfileCatalog.load(directories: fixtureProfiles), clock: clock, deviceIO: .inline)
        defer { host.stop() }
        let config = try EdgeConfig(parsing: """
            {"version": 1, "edge_id": "swift-swap",
             "scheduler": {"controllers": [{"id": "p", "class": "ProbeController", "parameters": {"output": "a/Setpoint", "counter_output": "a/Counter", "gain": 8}}]},
             "devices": [{"device_id": "a", "profile": "test_generic"}]}
            """, file: nil)
        try host.apply(config)
        func cycles(_ n: Int) {
            for _ in 0..<n {
                host.runCycle(deadlineNs: clock.monotonicNs())
                clock.advance(byNs: 1_000_000_000)
            }
        }
        cycles(3)
        let first = try #require(host.plugins.plugin(forClass: "ProbeController"))
        Thread.sleep(forTimeInterval: 0.01)
        try FileSystem.copy(TestPaths.plugin("TestProbe"), to: plugins + "/libTestProbe.so")
        try host.reload(config, pluginCacheDirectory: dir + "/cache")
        let second = try #require(host.plugins.plugin(forClass: "ProbeController"))
        #expect(second !== first)
        #expect(second.loadedFrom != first.loadedFrom)
        cycles(3)
        #expect(host.reading("a/CounterEcho")?.value == 2, "a new instance from the second image runs")
        #expect(host.reading("a/SetpointEcho")?.value == 8)
        #expect(host.status().controllers.first?.totalFailures == 0, "\(host.status().controllers.first?.lastError ?? "")")
    }

    @Test func twoVersionsInOneFolderLoadTheHigherOne() throws {
        let dir = TestPaths.temporaryDirectory()
        try buildVersioned(version: "1.10.0", value: 10, name: "versioned-new", in: dir)
        try buildVersioned(version: "1.9.0", value: 9, name: "versioned-old", in: dir)
        let catalog = PluginCatalog.load(directories: [dir])
        #expect(catalog.errors.isEmpty)
        #expect(catalog.plugins.map(\.version) == ["1.10.0"])
        #expect(catalog.superseded.map(\.version) == ["1.9.0"])
    }

    @Test func anEditedProfileRestartsOnlyItsDevice() throws {
        let dir = TestPaths.temporaryDirectory()
        let profile = try String(contentsOfFile: fixtureProfiles[0] + "/test_generic.json", encoding: .utf8)
            .replacingOccurrences(of: "\"id\": \"test_generic\"", with: "\"id\": \"edited_generic\"")
        try profile.write(toFile: dir + "/edited.json", atomically: true, encoding: .utf8)
        let clock = ManualClock()
        let host = EdgeHost(plugins: PluginCatalog.load(directories: TestPaths.pluginDirectories),
                            profiles: ProfileCatalog.load(directories: fixtureProfiles + [dir]), clock: clock, deviceIO: .inline)
        defer { host.stop() }
        let config = try EdgeConfig(parsing: """
            {"version": 1, "edge_id": "p", "devices": [{"device_id": "a", "profile": "edited_generic"}, {"device_id": "b", "profile": "test_generic"}]}
            """, file: nil)
        try host.apply(config)
        for _ in 0..<4 {
            host.runCycle(deadlineNs: clock.monotonicNs())
            clock.advance(byNs: 1_000_000_000)
        }
        try profile.replacingOccurrences(of: "{ \"name\": \"Value\" }", with: "{ \"name\": \"Value\" }, { \"name\": \"Extra\" }")
            .write(toFile: dir + "/edited.json", atomically: true, encoding: .utf8)
        try host.reload(config, pluginCacheDirectory: dir + "/cache")
        host.runCycle(deadlineNs: clock.monotonicNs())
        let polls = Dictionary(uniqueKeysWithValues: host.status().devices.map { ($0.deviceId, $0.polls) })
        #expect(polls["a"] == 1, "a runs the edited profile from a fresh worker")
        #expect(polls["b"] == 5, "b kept polling")
        #expect(host.reading("a/Extra")?.quality == .good)

        // A broken edit is refused and the running profile stays.
        try "{ \"id\": \"edited_generic\", ".write(toFile: dir + "/edited.json", atomically: true, encoding: .utf8)
        let error = #expect(throws: HostError.self) { try host.reload(config, pluginCacheDirectory: dir + "/cache") }
        #expect(error?.message.contains("devices[0].profile: unknown profile \"edited_generic\"") == true)
        #expect(error?.message.contains("profile refused: \(dir)/edited.json: invalid JSON at line 1") == true)
        #expect(host.status().lastApplyError == error?.message)
        #expect(host.profiles.profiles["edited_generic"]?.channels.count == 6)
    }
}
