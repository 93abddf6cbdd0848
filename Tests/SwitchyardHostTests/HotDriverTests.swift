import Foundation
import Testing
import SwitchyardHost
import SwitchyardModel
import SwitchyardTestSupport

/// A C driver that counts its `create` and `configure` calls (across
/// instances) and publishes the counts, its gain, and whether `configure`
/// ran on the thread that polls.
let countingDriver = """
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "switchyard_plugin.h"
static int creates, configures;
typedef struct { const sy_host_api *h; sy_channel c, k, g, t; double gain; pthread_t poller; int polled, same; } dev;
static double number(const char *json, const char *key) {
    char pattern[64]; snprintf(pattern, sizeof pattern, "\\"%s\\":", key);
    const char *p = strstr(json, pattern);
    return p ? atof(p + strlen(pattern)) : 0;
}
static sy_status dev_create(const sy_host_api *h, const char *c, const char *j, sy_instance *o, char *e, size_t n) {
    dev *d = calloc(1, sizeof *d); d->h = h;
    d->c = h->channel(h->context, "Creates", e, n); d->k = h->channel(h->context, "Configures", e, n);
    d->g = h->channel(h->context, "Gain", e, n); d->t = h->channel(h->context, "SameThread", e, n);
    d->gain = number(j, "gain"); creates++;
    *o = d; return SY_OK;
}
static sy_status dev_configure(sy_instance i, const char *p, char *e, size_t n) {
    dev *d = i;
    if (number(p, "limit") > 100) return SY_ERR_NEEDS_RECREATE;
    if (number(p, "reject") == 1) { snprintf(e, n, "reject is 1"); return SY_ERR_INVALID; }
    configures++; d->gain = number(p, "gain");
    d->same = d->polled && pthread_equal(d->poller, pthread_self());
    return SY_OK;
}
static void dev_destroy(sy_instance i) { free(i); }
static sy_status dev_start(sy_instance i, char *e, size_t n) { return SY_OK; }
static void put(dev *d, sy_channel c, double v) {
    sy_value x = { SY_VALUE_F64, SY_QUALITY_GOOD, d->h->monotonic_ns(d->h->context), v, 0 };
    d->h->publish(d->h->context, c, &x);
}
static sy_status dev_poll(sy_instance i, const char *g, char *e, size_t n) {
    dev *d = i; d->poller = pthread_self(); d->polled = 1;
    put(d, d->c, creates); put(d, d->k, configures); put(d, d->g, d->gain); put(d, d->t, d->same);
    return SY_OK;
}
static sy_status dev_write(sy_instance i, const sy_setpoint *s, size_t c, char *e, size_t n) { return SY_OK; }
static void dev_stop(sy_instance i) {}
static const sy_driver_api driver = { sizeof(sy_driver_api), dev_start, dev_poll, dev_write, dev_stop };
static const sy_plugin_descriptor d = { SY_ABI_MAJOR, SY_ABI_MINOR, sizeof(sy_plugin_descriptor), SY_KIND_DRIVER,
    "test.counting", "1.0.0",
    "{\\"classes\\":[{\\"name\\":\\"CountingDevice\\",\\"parameters\\":{\\"type\\":\\"object\\",\\"properties\\":{"
    "\\"gain\\":{\\"type\\":\\"number\\",\\"default\\":1,\\"hot\\":true},"
    "\\"limit\\":{\\"type\\":\\"number\\",\\"default\\":0,\\"hot\\":true},"
    "\\"reject\\":{\\"type\\":\\"number\\",\\"default\\":0,\\"hot\\":true},"
    "\\"label\\":{\\"type\\":\\"string\\",\\"default\\":\\"a\\"}}}}]}",
    dev_create, dev_configure, dev_destroy, &driver, NULL };
const sy_plugin_descriptor *switchyard_plugin_entry_v1(void) { return &d; }
"""

/// Issue 24, item 1: a driver's hot parameters reach it through `configure`;
/// its instance (and its connection and state) is kept.
@Suite(.serialized) struct HotDriverTests {
    static func fixture() throws -> (plugins: String, profiles: String) {
        let dir = TestPaths.temporaryDirectory()
        _ = try CFixture.build(countingDriver, name: "counting", in: dir)
        try #"{"id": "counting", "driver": "CountingDevice", "channels": [{"name": "Creates"}, {"name": "Configures"}, {"name": "Gain"}, {"name": "SameThread"}]}"#
            .write(toFile: dir + "/counting.json", atomically: true, encoding: .utf8)
        return (dir, dir)
    }

    static func config(_ version: Int, _ parameters: String) throws -> EdgeConfig {
        try EdgeConfig(parsing: """
            {"version": \(version), "edge_id": "t", "core_cycle": {"period_ms": 100},
             "devices": [{"device_id": "d", "profile": "counting", "poll_interval_ms": 100, "parameters": {\(parameters)}}]}
            """, file: nil)
    }

    @Test func aHotParameterReachesTheDriverThroughConfigureAndTheInstanceIsKept() throws {
        let (pluginDir, profileDir) = try Self.fixture()
        let clock = ManualClock(startNs: 1_000_000_000)
        let log = LogCapture()
        let host = EdgeHost(plugins: PluginCatalog.load(directories: [pluginDir]), profiles: ProfileCatalog.load(directories: [profileDir]),
                            clock: clock, deviceIO: .inline, logger: log.logger())
        defer { host.stop() }
        func run(_ n: Int) { for _ in 0..<n { host.runCycle(deadlineNs: clock.monotonicNs()); clock.advance(byNs: 100_000_000) } }
        func value(_ name: String) -> Double? { host.reading("d/" + name)?.value }

        try host.apply(Self.config(1, #""gain": 1"#))
        run(3)
        #expect(value("Creates") == 1)
        #expect(value("Configures") == 0)
        #expect(value("Gain") == 1)
        let polls = host.status().devices[0].polls

        // A hot parameter: configure, the same instance, polling goes on.
        try host.apply(Self.config(2, #""gain": 2"#))
        run(3)
        #expect(value("Creates") == 1)
        #expect(value("Configures") == 1)
        #expect(value("Gain") == 2)
        #expect(host.status().devices[0].polls > polls)
        host.log.flush()
        #expect(log.lines.map(\.message).contains { $0.contains("hot parameter change applied (gain) without restarting the driver") })

        // The same config again: nothing to do.
        try host.apply(Self.config(3, #""gain": 2"#))
        run(2)
        #expect(value("Configures") == 1)
        #expect(value("Creates") == 1)

        // A parameter that is not hot: a new instance.
        try host.apply(Self.config(4, #""gain": 2, "label": "b""#))
        run(3)
        #expect(value("Creates") == 2)

        // The driver asks for a new instance: it gets one, with the change.
        try host.apply(Self.config(5, #""gain": 3, "label": "b", "limit": 200"#))
        run(3)
        #expect(value("Creates") == 3)
        #expect(value("Gain") == 3)

        // The driver refuses a hot change: a new instance takes it (or refuses it at create).
        try host.apply(Self.config(6, #""gain": 4, "label": "b", "reject": 1"#))
        run(3)
        #expect(value("Creates") == 4)
        #expect(value("Gain") == 4)
        host.log.flush()
        #expect(log.lines.map(\.message).contains { $0.contains("the driver refused a hot change of gain, limit, reject: reject is 1 (invalid); creating a new instance") }, "\(log.lines.map(\.message).filter { $0.contains("device") })")
    }

    @Test func withThreadsConfigureRunsOnTheWorkersThreadBetweenItsPolls() throws {
        let (pluginDir, profileDir) = try Self.fixture()
        let host = EdgeHost(plugins: PluginCatalog.load(directories: [pluginDir]), profiles: ProfileCatalog.load(directories: [profileDir]))
        defer { host.stop() }
        try host.apply(Self.config(1, #""gain": 1"#))
        try host.start()
        func value(_ name: String) -> Double? { host.reading("d/" + name)?.value }
        func waitFor(_ condition: () -> Bool) {
            let deadline = Date().addingTimeInterval(10)
            while !condition() && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        }
        waitFor { value("Creates") == 1 }
        try host.apply(Self.config(2, #""gain": 5"#))
        waitFor { value("Gain") == 5 }
        #expect(value("Gain") == 5)
        #expect(value("Creates") == 1)
        #expect(value("Configures") == 1)
        #expect(value("SameThread") == 1)
    }
}
