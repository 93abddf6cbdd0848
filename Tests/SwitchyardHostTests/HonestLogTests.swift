import Foundation
import Testing
import SwitchyardHost
import SwitchyardModel
import SwitchyardTestSupport

/// A C driver with one writable channel that refuses setpoints above 100,
/// and a C controller that logs the same warning every cycle.
private let refusingPlugins = (driver: """
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "switchyard_plugin.h"
static sy_status dev_create(const sy_host_api *h, const char *c, const char *j, sy_instance *o, char *e, size_t n) {
    if (strstr(j, "\\"refuse_create\\":true")) { snprintf(e, n, "cannot open /dev/ttyUSB7"); return SY_ERR_IO; }
    *o = malloc(1); return SY_OK;
}
static sy_status dev_configure(sy_instance i, const char *p, char *e, size_t n) { return SY_OK; }
static void dev_destroy(sy_instance i) { free(i); }
static sy_status dev_start(sy_instance i, char *e, size_t n) { return SY_OK; }
static sy_status dev_poll(sy_instance i, const char *g, char *e, size_t n) { return SY_OK; }
static sy_status dev_write(sy_instance i, const sy_setpoint *s, size_t c, char *e, size_t n) {
    for (size_t k = 0; k < c; k++)
        if (s[k].value.f64 > 100) { snprintf(e, n, "setpoint %g out of range 0..100", s[k].value.f64); return SY_ERR_INVALID; }
    return SY_OK;
}
static void dev_stop(sy_instance i) {}
static const sy_driver_api driver = { sizeof(sy_driver_api), dev_start, dev_poll, dev_write, dev_stop };
static const sy_plugin_descriptor d = { SY_ABI_MAJOR, SY_ABI_MINOR, sizeof(sy_plugin_descriptor), SY_KIND_DRIVER,
    "test.refusing", "1.0.0", "{\\"classes\\":[{\\"name\\":\\"RefusingDevice\\",\\"parameters\\":{\\"type\\":\\"object\\","
    "\\"properties\\":{\\"refuse_create\\":{\\"type\\":\\"boolean\\",\\"default\\":false}}}}]}",
    dev_create, dev_configure, dev_destroy, &driver, NULL };
const sy_plugin_descriptor *switchyard_plugin_entry_v1(void) { return &d; }
""", controller: """
#include <stdlib.h>
#include "switchyard_plugin.h"
typedef struct { const sy_host_api *h; } ctl;
static sy_status c_create(const sy_host_api *h, const char *c, const char *j, sy_instance *o, char *e, size_t n) {
    ctl *x = malloc(sizeof *x); x->h = h; *o = x; return SY_OK;
}
static sy_status c_configure(sy_instance i, const char *p, char *e, size_t n) { return SY_OK; }
static void c_destroy(sy_instance i) { free(i); }
static sy_status c_execute(sy_instance i, const sy_cycle_context *cycle, char *e, size_t n) {
    ctl *x = i; x->h->log(x->h->context, SY_LOG_WARNING, "the meter looks stuck"); return SY_OK;
}
static const sy_controller_api api = { sizeof(sy_controller_api), c_execute };
static const sy_plugin_descriptor d = { SY_ABI_MAJOR, SY_ABI_MINOR, sizeof(sy_plugin_descriptor), SY_KIND_CONTROLLER,
    "test.nagging", "1.0.0", "{\\"classes\\":[{\\"name\\":\\"NaggingController\\"}]}",
    c_create, c_configure, c_destroy, NULL, &api };
const sy_plugin_descriptor *switchyard_plugin_entry_v1(void) { return &d; }
""")

/// Issue 24, item 7: logs an operator can read. A refusal repeated every
/// cycle is logged once, then once a minute with a count; a refused plugin
/// is named by the file the user placed; a controller bound to a device that
/// did not start says so.
@Suite(.serialized) struct HonestLogTests {
    static func fixture() throws -> String {
        let dir = TestPaths.temporaryDirectory()
        _ = try CFixture.build(refusingPlugins.driver, name: "refusing", in: dir)
        _ = try CFixture.build(refusingPlugins.controller, name: "nagging", in: dir)
        try #"{"id": "refusing", "driver": "RefusingDevice", "channels": [{"name": "Setpoint", "access": "write"}]}"#
            .write(toFile: dir + "/refusing.json", atomically: true, encoding: .utf8)
        return dir
    }

    static func config(_ version: Int, gain: Double, nagging: Bool = false, refuseCreate: Bool = false) throws -> EdgeConfig {
        let nag = nagging ? #", {"id": "nag", "class": "NaggingController"}"# : ""
        return try EdgeConfig(parsing: """
            {"version": \(version), "edge_id": "t", "core_cycle": {"period_ms": 100},
             "scheduler": {"controllers": [{"id": "p", "class": "ProbeController", "parameters": {"output": "d/Setpoint", "gain": \(gain)}}\(nag)]},
             "devices": [{"device_id": "d", "profile": "refusing", "poll_interval_ms": 100, "parameters": {"refuse_create": \(refuseCreate)}}]}
            """, file: nil)
    }

    @Test func aSetpointRefusedEveryCycleIsLoggedOnceThenOnceAMinuteWithACount() throws {
        let dir = try Self.fixture()
        let clock = ManualClock(startNs: 1_000_000_000)
        let log = LogCapture()
        let host = EdgeHost(plugins: PluginCatalog.load(directories: TestPaths.pluginDirectories + [dir]),
                            profiles: ProfileCatalog.load(directories: [dir]), clock: clock, deviceIO: .inline, logger: log.logger())
        defer { host.stop() }
        func run(_ n: Int) { for _ in 0..<n { host.runCycle(deadlineNs: clock.monotonicNs()); clock.advance(byNs: 100_000_000) } }
        func refusals() -> [String] {
            host.log.flush()
            return log.lines.filter { $0.source == "device d" && $0.message.hasPrefix("setpoint write refused") }.map(\.message)
        }

        try host.apply(Self.config(1, gain: 500))
        run(300)  // 30 s, a refusal every cycle
        #expect(host.status().devices[0].writesRefused >= 290)
        #expect(refusals() == ["setpoint write refused: setpoint 500 out of range 0..100 (invalid)"], "\(refusals())")

        // Another value, refused too: the same kind of line, still held back.
        try host.apply(Self.config(2, gain: 600))
        run(100)
        #expect(refusals().count == 1, "\(refusals())")
        run(300)  // 70 s in all: one more line, with the count of those held back
        let lines = refusals()
        #expect(lines.count == 2, "\(lines)")
        if lines.count == 2 {
            #expect(lines[1].hasPrefix("setpoint write refused: setpoint 600 out of range 0..100 (invalid) (59"), "\(lines[1])")
            #expect(lines[1].hasSuffix(" more like it in the last 60 s)"), "\(lines[1])")
        }

        // Accepted again: said once; a new refusal is then logged at once.
        try host.apply(Self.config(3, gain: 50))
        run(5)
        host.log.flush()
        #expect(log.lines.contains { $0.message.hasPrefix("setpoint writes accepted again after ") })
        try host.apply(Self.config(4, gain: 700))
        run(3)
        #expect(refusals().count == 3)
        #expect(refusals().last == "setpoint write refused: setpoint 700 out of range 0..100 (invalid)")
    }

    @Test func aPluginWarningRepeatedEveryCycleIsLoggedOnceAMinute() throws {
        let dir = try Self.fixture()
        let clock = ManualClock(startNs: 1_000_000_000)
        let log = LogCapture()
        let host = EdgeHost(plugins: PluginCatalog.load(directories: TestPaths.pluginDirectories + [dir]),
                            profiles: ProfileCatalog.load(directories: [dir]), clock: clock, deviceIO: .inline, logger: log.logger())
        defer { host.stop() }
        try host.apply(Self.config(1, gain: 1, nagging: true))
        for _ in 0..<1_250 { host.runCycle(deadlineNs: clock.monotonicNs()); clock.advance(byNs: 100_000_000) }  // 125 s
        host.log.flush()
        let lines = log.lines.filter { $0.source == "controller nag" }.map(\.message)
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.first == "the meter looks stuck")
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("the meter looks stuck (repeated 599 times in the last 60 s)") }, "\(lines)")
    }

    @Test func aRefusedPluginIsNamedByTheFileTheUserPlacedNotTheEdgesCopy() throws {
        let plugins = TestPaths.temporaryDirectory()
        let cache = TestPaths.temporaryDirectory()
        try "not a library".write(toFile: plugins + "/libBroken.so", atomically: true, encoding: .utf8)
        let catalog = PluginCatalog.load(directories: [plugins], cacheDirectory: cache)
        #expect(catalog.errors.count == 1)
        let text = catalog.errors.first?.description ?? ""
        #expect(text.hasPrefix(plugins + "/libBroken.so: not a loadable shared object"), "\(text)")
        #expect(!text.contains(cache), "\(text)")

        // The same on a reload, where the dropped file is new.
        _ = try CFixture.build(CFixture.plugin(major: "99"), name: "newer", in: plugins)
        let reloaded = catalog.reload(cacheDirectory: cache)
        let newer = reloaded.errors.first { $0.file.hasSuffix("libnewer.so") }
        #expect(newer?.file == plugins + "/libnewer.so", "\(reloaded.errors)")
        #expect(newer.map { !$0.description.contains(cache) } == true)
    }

    @Test func aMissingFolderNamesTheOptionThatSetsIt() {
        do {
            _ = try EdgeSetup(profileDirectories: ["no/such/profiles"]).load()
            Issue.record("loaded a missing profile folder")
        } catch {
            #expect(error.description.hasPrefix("no/such/profiles: no such profile folder (give the folder with --profiles DIR;"), "\(error)")
        }
        do {
            _ = try EdgeSetup(pluginDirectories: ["no/such/plugins"]).load()
            Issue.record("loaded a missing plugin folder")
        } catch {
            #expect(error.description.hasPrefix("no/such/plugins: no such plugin folder (give the folder with --plugins DIR;"), "\(error)")
        }
    }

    @Test func aControllerOnADeviceThatDidNotStartSaysSo() throws {
        let dir = try Self.fixture()
        let host = EdgeHost(plugins: PluginCatalog.load(directories: TestPaths.pluginDirectories + [dir]),
                            profiles: ProfileCatalog.load(directories: [dir]), clock: ManualClock(startNs: 1), deviceIO: .inline)
        defer { host.stop() }
        do {
            try host.apply(Self.config(1, gain: 1, refuseCreate: true))
            Issue.record("applied a config whose device has no driver")
        } catch {
            let text = "\(error)"
            #expect(text.contains("ProbeController refused to start (unavailable): d/Setpoint is unavailable: device d did not start (test.refusing 1.0.0: RefusingDevice refused to start (I/O error): cannot open /dev/ttyUSB7)"), "\(text)")
            #expect(!text.contains("no channel \"d/Setpoint\" in the config"), "\(text)")
        }
    }
}

/// Issue 24, item 8: the simulated battery says when it caps a setpoint, as a
/// real inverter's read-back would.
@Suite struct BatteryCapTests {
    static func config(_ version: Int, gain: Double) -> String {
        """
        {"version": \(version), "edge_id": "t", "core_cycle": {"period_ms": 1000},
         "scheduler": {"controllers": [{"id": "p", "class": "ProbeController", "parameters": {"output": "battery/SetActivePower", "gain": \(gain)}}]},
         "devices": [{"device_id": "battery", "profile": "simulated_battery",
                      "parameters": {"max_discharge_w": 5000, "max_charge_w": 4000, "initial_soc": 50, "site": "battery-cap-test"}}]}
        """
    }

    @Test func aCappedSetpointShowsInTheReadBackTheStatusAndTheLogOnce() throws {
        let log = LogCapture()
        let site = try SiteHarness(config: Self.config(1, gain: 8000), logger: log.logger())
        site.run(cycles: 20)
        #expect(site.value("battery/SetActivePower") == 5000)
        #expect(site.value("battery/ActivePower") == 5000)
        #expect(site.device("battery")?.diagnostics["setpoint"] == "asked 8000 W, capped to 5000 W (max_discharge_w)")
        let capped = site.logged(log).filter { $0.contains("capped to") }
        #expect(capped == ["asked 8000 W, capped to 5000 W (max_discharge_w)"], "\(capped)")

        // Within the limits again: the read-back follows, the diagnostic goes, the log says so once.
        try site.apply(Self.config(2, gain: -2500.25))
        site.run(cycles: 5)
        #expect(site.value("battery/SetActivePower") == -2500.25)
        #expect(site.device("battery")?.diagnostics["setpoint"] == nil)
        #expect(site.logged(log).filter { $0.hasPrefix("following the setpoint again") } == ["following the setpoint again (-2500.3 W)"])
    }
}
