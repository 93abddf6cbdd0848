import Foundation
import Testing
import SwitchyardHost
import SwitchyardModel
import SwitchyardTestSupport

/// A C driver whose first poll publishes and whose later polls hang for
/// `hang_ms`: a device that stops answering without closing the connection.
let hangingDriver = """
#include <stdlib.h>
#include <unistd.h>
#include "switchyard_plugin.h"
typedef struct { const sy_host_api *h; sy_channel v; int polls; } dev;
static sy_status dev_create(const sy_host_api *h, const char *c, const char *j, sy_instance *o, char *e, size_t n) {
    dev *d = calloc(1, sizeof *d); d->h = h; d->v = h->channel(h->context, "Value", e, n);
    if (d->v < 0) { free(d); return SY_ERR_INVALID; }
    *o = d; return SY_OK;
}
static sy_status dev_configure(sy_instance i, const char *p, char *e, size_t n) { return SY_OK; }
static void dev_destroy(sy_instance i) { free(i); }
static sy_status dev_start(sy_instance i, char *e, size_t n) { return SY_OK; }
static sy_status dev_poll(sy_instance i, const char *g, char *e, size_t n) {
    dev *d = i;
    if (d->polls++ > 0) { usleep(1500 * 1000); return SY_OK; }
    sy_value v = { SY_VALUE_F64, SY_QUALITY_GOOD, d->h->monotonic_ns(d->h->context), 7, 0 };
    return d->h->publish(d->h->context, d->v, &v);
}
static sy_status dev_write(sy_instance i, const sy_setpoint *s, size_t c, char *e, size_t n) { return SY_OK; }
static void dev_stop(sy_instance i) {}
static const sy_driver_api driver = { sizeof(sy_driver_api), dev_start, dev_poll, dev_write, dev_stop };
static const sy_plugin_descriptor d = { SY_ABI_MAJOR, SY_ABI_MINOR, sizeof(sy_plugin_descriptor), SY_KIND_DRIVER,
    "test.hanging", "1.0.0", "{\\"classes\\":[{\\"name\\":\\"HangingDevice\\"}]}", dev_create, dev_configure, dev_destroy, &driver, NULL };
const sy_plugin_descriptor *switchyard_plugin_entry_v1(void) { return &d; }
"""

@Suite(.serialized) struct ThreadedTests {
    @Test func aHangingDeviceSlowsNobodyElse() throws {
        let dir = TestPaths.temporaryDirectory()
        _ = try CFixture.build(hangingDriver, name: "hanging", in: dir)
        try #"{"id": "hanging", "driver": "HangingDevice", "channels": [{"name": "Value"}]}"#.write(toFile: dir + "/hanging.json", atomically: true, encoding: .utf8)
        let plugins = PluginCatalog.load(directories: TestPaths.pluginDirectories + [dir])
        let profiles = ProfileCatalog.load(directories: fixtureProfiles + [dir])
        let host = EdgeHost(plugins: plugins, profiles: profiles)
        try host.apply(EdgeConfig(parsing: """
            {"version": 1, "edge_id": "t", "core_cycle": {"period_ms": 50},
             "scheduler": {"controllers": [{"id": "p", "class": "ProbeController", "parameters": {"output": "gen/Setpoint", "counter_output": "gen/Counter"}}]},
             "devices": [{"device_id": "stuck", "profile": "hanging", "poll_interval_ms": 100},
                         {"device_id": "gen", "profile": "test_generic", "poll_interval_ms": 50}]}
            """, file: nil))
        try host.start()
        Thread.sleep(forTimeInterval: 1.2)
        let status = host.status()
        let stuck = host.reading("stuck/Value")
        let healthy = host.reading("gen/Value")
        let echo = host.reading("gen/CounterEcho")
        host.stop()

        // The cycle kept its 50 ms rhythm: about 24 cycles in 1.2 s.
        #expect(status.statistics.cycles + status.statistics.missedCycles >= 20)
        // The healthy device kept polling and took setpoints.
        #expect(healthy?.quality == .good)
        #expect((echo?.value ?? 0) >= 15)
        // The hung device's last value went stale after three poll intervals.
        #expect(stuck?.value == 7)
        #expect(stuck?.quality == .stale)
    }

    @Test func aChangeToAHungDeviceDoesNotBlockTheControlPlane() throws {
        let dir = TestPaths.temporaryDirectory()
        _ = try CFixture.build(hangingDriver, name: "hanging", in: dir)
        try #"{"id": "hanging", "driver": "HangingDevice", "channels": [{"name": "Value"}]}"#.write(toFile: dir + "/hanging.json", atomically: true, encoding: .utf8)
        let host = EdgeHost(plugins: PluginCatalog.load(directories: TestPaths.pluginDirectories + [dir]),
                            profiles: ProfileCatalog.load(directories: fixtureProfiles + [dir]))
        func config(_ version: Int, interval: Int, offset: Int) throws -> EdgeConfig {
            try EdgeConfig(parsing: """
                {"version": \(version), "edge_id": "t", "core_cycle": {"period_ms": 50},
                 "devices": [{"device_id": "stuck", "profile": "hanging", "poll_interval_ms": \(interval)},
                             {"device_id": "gen", "profile": "test_generic", "parameters": {"offset": \(offset)}}]}
                """, file: nil)
        }
        try host.apply(config(1, interval: 100, offset: 100))
        try host.start()
        defer { host.stop() }
        Thread.sleep(forTimeInterval: 0.4)  // the stuck device is now inside its 1.5 s poll
        // Replace both devices while the old stuck worker cannot stop for a while.
        let clock = SystemClock()
        let t0 = clock.monotonicNs()
        try host.apply(config(2, interval: 200, offset: 5000))
        let applyMs = Double(clock.monotonicNs() - t0) / 1e6
        #expect(applyMs < 500, "apply took \(applyMs) ms: it waited for a stuck device")
        #expect(host.status().configVersion == 2)
        // The healthy device was handed over at once and publishes its new values.
        Thread.sleep(forTimeInterval: 0.4)
        let v = try #require(host.reading("gen/Value"))
        #expect(v.quality == .good && abs(v.value! - 5000) <= 100)
    }

    @Test func cyclesStartOnAbsoluteDeadlines() throws {
        let plugins = PluginCatalog.load(directories: TestPaths.pluginDirectories)
        let host = EdgeHost(plugins: plugins, profiles: ProfileCatalog.load(directories: fixtureProfiles))
        try host.apply(EdgeConfig(parsing: #"{"version": 1, "edge_id": "t", "core_cycle": {"period_ms": 20}, "devices": [{"device_id": "gen", "profile": "test_generic"}]}"#, file: nil))
        try host.start()
        Thread.sleep(forTimeInterval: 1.0)
        let status = host.status()
        host.stop()
        let s = status.statistics
        // 50 deadlines in a second; each one either ran or was counted as missed.
        #expect(s.cycles + s.missedCycles >= 45 && s.cycles + s.missedCycles <= 52, "\(s.cycles) cycles, \(s.missedCycles) missed")
        // One worker thread per device, polling on its 20 ms grid: about 50
        // polls, not twice that (apply before start must not start it twice).
        let polls = try #require(status.devices.first?.polls)
        #expect(polls >= 40 && polls <= 55, "\(polls) polls")
    }
}

/// A clock on which every reading costs `stepNs`: cycles appear to take as
/// long as the number of clock reads they make, deterministically.
final class SteppingClock: CycleClock, @unchecked Sendable {
    // @unchecked: used from one test thread only (inline device I/O).
    var nowNs: Int64 = 1_000_000_000
    var stepNs: Int64 = 0

    func monotonicNs() -> Int64 {
        nowNs += stepNs
        return nowNs
    }

    func wallClockNs() -> Int64 { 1_767_225_600_000_000_000 + nowNs }
    func sleep(untilNs deadlineNs: Int64) { nowNs = max(nowNs, deadlineNs) }
}

@Suite struct SupervisorTests {
    @Test func overrunsAreCountedAndAlertedAtTheThreshold() throws {
        let clock = SteppingClock()
        let host = EdgeHost(plugins: PluginCatalog.load(directories: TestPaths.pluginDirectories),
                            profiles: ProfileCatalog.load(directories: fixtureProfiles), clock: clock, deviceIO: .inline)
        try host.apply(EdgeConfig(parsing: """
            {"version": 1, "edge_id": "t", "core_cycle": {"period_ms": 10, "supervisor": {"overrun_alert_threshold": 3}},
             "devices": [{"device_id": "gen", "profile": "test_generic"}]}
            """, file: nil))
        func cycle() {
            host.runCycle(deadlineNs: clock.nowNs)
            clock.nowNs += 10_000_000
        }
        // Fast cycles: no overrun.
        for _ in 0..<5 { cycle() }
        #expect(host.status().statistics.overruns == 0)
        // Every clock read now costs 5 ms: a cycle takes well over its 10 ms.
        clock.stepNs = 5_000_000
        for _ in 0..<2 { cycle() }
        var s = host.status().statistics
        #expect(s.overruns == 2)
        #expect(s.overrunAlerts == 0)
        cycle()
        s = host.status().statistics
        #expect(s.overruns == 3)
        #expect(s.overrunAlerts == 1)
        #expect(s.overrunAlertActive)
        // Still overrunning: one alert, not one per cycle.
        for _ in 0..<3 { cycle() }
        #expect(host.status().statistics.overrunAlerts == 1)
        // Back to normal: the alert clears, and a new streak alerts again.
        clock.stepNs = 0
        cycle()
        #expect(host.status().statistics.overrunAlertActive == false)
        #expect(host.status().statistics.consecutiveOverruns == 0)
        host.stop()
    }
}

@Suite(.serialized) struct ApplyModeTests {
    /// A running host with a 3 s period and one probe controller, whose
    /// `apply` mode is `mode`; returns (cycles started before the hot change,
    /// the cycle the change took effect in) after applying gain 2.
    func hotChange(apply mode: String) throws -> (before: UInt64, appliedAt: UInt64, gain: Double?) {
        let host = EdgeHost(plugins: PluginCatalog.load(directories: TestPaths.pluginDirectories),
                            profiles: ProfileCatalog.load(directories: fixtureProfiles))
        func config(version: Int, gain: Int) throws -> EdgeConfig {
            try EdgeConfig(parsing: """
                {"version": \(version), "edge_id": "t", "core_cycle": {"period_ms": 3000},
                 "scheduler": {"controllers": [{"id": "p", "class": "ProbeController", "apply": "\(mode)",
                                                "parameters": {"output": "gen/Setpoint", "gain": \(gain)}}]},
                 "devices": [{"device_id": "gen", "profile": "test_generic", "poll_interval_ms": 50}]}
                """, file: nil)
        }
        try host.apply(config(version: 1, gain: 1))
        try host.start()
        defer { host.stop() }
        // Just after a cycle started: the next deadline is almost a period away.
        while host.status().cyclesStarted < 1 { Thread.sleep(forTimeInterval: 0.01) }
        let before = host.status().cyclesStarted
        try host.apply(config(version: 2, gain: 2))
        let after = host.status()
        return (before, after.appliedAtCycle, after.configVersion.map(Double.init))
    }

    @Test func anImmediateHotChangeIsSwappedInBetweenCycles() throws {
        let (before, appliedAt, version) = try hotChange(apply: "immediate")
        #expect(version == 2)
        #expect(appliedAt == before, "swapped in after cycle \(before) ran, without waiting for cycle \(before + 1)")
    }

    @Test func aNextCycleHotChangeWaitsForTheNextCycleStart() throws {
        let (before, appliedAt, version) = try hotChange(apply: "next_cycle")
        #expect(version == 2)
        #expect(appliedAt == before + 1, "swapped in at the start of the next cycle")
    }
}
