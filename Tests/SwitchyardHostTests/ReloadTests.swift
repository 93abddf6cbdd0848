import Foundation
import Testing
import SwitchyardHost
import SwitchyardModel
import SwitchyardTestSupport

/// A C controller that writes `VALUE` to the channel named by its "output"
/// parameter; built as version 1.0.0 and then, to the same path, as 1.1.0.
func versionedController(version: String, value: Int) -> String {
    """
    #include <stdlib.h>
    #include <string.h>
    #include "switchyard_plugin.h"
    typedef struct { const sy_host_api *h; sy_channel out; } ctl;
    static sy_status c_create(const sy_host_api *h, const char *cls, const char *json, sy_instance *o, char *e, size_t n) {
        const char *p = strstr(json, "\\"output\\":\\"");
        if (!p) return SY_ERR_INVALID;
        char address[128] = {0};
        p += strlen("\\"output\\":\\"");
        for (size_t i = 0; i < sizeof address - 1 && p[i] && p[i] != '"'; i++) address[i] = p[i];
        ctl *c = calloc(1, sizeof *c);
        c->h = h;
        c->out = h->channel(h->context, address, e, n);
        if (c->out < 0) { free(c); return SY_ERR_INVALID; }
        *o = c;
        return SY_OK;
    }
    static sy_status c_configure(sy_instance i, const char *p, char *e, size_t n) { return SY_OK; }
    static void c_destroy(sy_instance i) { free(i); }
    static sy_status c_execute(sy_instance i, const sy_cycle_context *cx, char *e, size_t n) {
        ctl *c = i;
        sy_value v = { SY_VALUE_F64, SY_QUALITY_GOOD, 0, \(value), 0 };
        c->h->write(c->h->context, c->out, &v);
        return SY_OK;
    }
    static const sy_controller_api api = { sizeof(sy_controller_api), c_execute };
    static const sy_plugin_descriptor d = { SY_ABI_MAJOR, SY_ABI_MINOR, sizeof(sy_plugin_descriptor), SY_KIND_CONTROLLER,
        "test.versioned", "\(version)",
        "{\\"classes\\":[{\\"name\\":\\"VersionedController\\",\\"parameters\\":{\\"type\\":\\"object\\",\\"properties\\":{\\"output\\":{\\"type\\":\\"string\\"}}}}]}",
        c_create, c_configure, c_destroy, NULL, &api };
    const sy_plugin_descriptor *switchyard_plugin_entry_v1(void) { return &d; }
    """
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
        _ = try CFixture.build(versionedController(version: "1.0.0", value: 1), name: "versioned", in: plugins)
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
        _ = try CFixture.build(versionedController(version: "1.1.0", value: 2), name: "versioned", in: plugins)
        try host.reload(config, pluginCacheDirectory: dir + "/cache")
        let swapped = try #require(host.status().plugins.first { $0.id == "test.versioned" })
        #expect(swapped.version == "1.1.0")
        // Both controllers of the class changed version at the same boundary:
        // the first cycle after it delivers the old value, then both new.
        cycle()
        cycle()
        #expect(host.reading("a/SetpointEcho")?.value == 2)
        #expect(host.reading("b/SetpointEcho")?.value == 2)
        #expect(host.plugins.plugin(forClass: "VersionedController")?.loadedFrom.hasPrefix(dir + "/cache/") == true)

        // A reload with nothing changed keeps every instance and image.
        let before = host.plugins.plugin(forClass: "VersionedController")
        try host.reload(config, pluginCacheDirectory: dir + "/cache")
        #expect(host.plugins.plugin(forClass: "VersionedController") === before)
    }

    @Test func twoVersionsInOneFolderLoadTheHigherOne() throws {
        let dir = TestPaths.temporaryDirectory()
        _ = try CFixture.build(versionedController(version: "1.10.0", value: 10), name: "versioned-new", in: dir)
        _ = try CFixture.build(versionedController(version: "1.9.0", value: 9), name: "versioned-old", in: dir)
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
        let host = EdgeHost(plugins: PluginCatalog.load(directories: [TestPaths.pluginDirectory]),
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
        #expect(throws: ValidationError.self) { try host.reload(config, pluginCacheDirectory: dir + "/cache") }
        #expect(host.profiles.profiles["edited_generic"]?.channels.count == 6)
    }
}
