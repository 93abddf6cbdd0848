import Testing
import SwitchyardHost
import SwitchyardModel
import SwitchyardTestSupport

/// A site with two generic devices and probes writing their gain and their
/// own cycle count: a count that keeps growing proves the instance was kept.
/// An echo shows what was written one cycle earlier (the setpoint goes to the
/// device after the cycle; its echo is read at the start of the next).
func twoDeviceSite(version: Int, probes: String, genParameters: String = "{}", periodMs: Int = 1000) -> String {
    """
    {"version": \(version), "edge_id": "hot", "core_cycle": {"period_ms": \(periodMs)},
     "scheduler": {"controllers": \(probes)},
     "devices": [{"device_id": "a", "profile": "test_generic", "parameters": \(genParameters)},
                 {"device_id": "b", "profile": "test_generic"}]}
    """
}

func counting(_ id: String, device: String, order: Int = 1, gain: Double = 1, extra: String = "") -> String {
    #"{"id": "\#(id)", "class": "ProbeController", "execution_order": \#(order), "parameters": {"output": "\#(device)/Setpoint", "counter_output": "\#(device)/Counter", "gain": \#(gain)\#(extra)}}"#
}

@Suite struct HotReloadTests {
    @Test func aHotParameterChangeReachesTheRunningInstance() throws {
        let h = try SiteHarness(config: twoDeviceSite(version: 1, probes: "[\(counting("p", device: "a", gain: 1))]"), extraProfiles: fixtureProfiles)
        h.run(cycles: 5)
        #expect(h.value("a/SetpointEcho") == 1)
        let before = try #require(h.value("a/CounterEcho"))

        try h.apply(twoDeviceSite(version: 2, probes: "[\(counting("p", device: "a", gain: 7))]"))
        h.run(cycles: 2)
        #expect(h.value("a/SetpointEcho") == 7)
        // The same instance: its own cycle count went on.
        #expect(h.value("a/CounterEcho") == before + 2)
        #expect(h.host.status().configVersion == 2)
    }

    @Test func aColdChangeRecreatesOnlyThatInstance() throws {
        let probes = { (label: String) in "[\(counting("p", device: "a", extra: #", "label": "\#(label)""#)), \(counting("q", device: "b", order: 2))]" }
        let h = try SiteHarness(config: twoDeviceSite(version: 1, probes: probes("one")), extraProfiles: fixtureProfiles)
        h.run(cycles: 5)
        #expect(h.value("a/CounterEcho") == 4)

        try h.apply(twoDeviceSite(version: 2, probes: probes("two")))  // label is not hot
        h.run(cycles: 2)
        #expect(h.value("a/CounterEcho") == 1, "p was recreated: its count starts again")
        #expect(h.value("b/CounterEcho") == 6, "q was untouched")
    }

    @Test func aPluginThatAsksForANewInstanceGetsOne() throws {
        let h = try SiteHarness(config: twoDeviceSite(version: 1, probes: "[\(counting("p", device: "a", extra: #", "recreate_above": 10"#))]"), extraProfiles: fixtureProfiles)
        h.run(cycles: 4)
        try h.apply(twoDeviceSite(version: 2, probes: "[\(counting("p", device: "a", gain: 50, extra: #", "recreate_above": 10"#))]"))
        h.run(cycles: 2)
        #expect(h.value("a/SetpointEcho") == 50)
        #expect(h.value("a/CounterEcho") == 1, "configure said needs-recreate, so a new instance runs")
    }

    @Test func aRefusedHotChangeChangesNothing() throws {
        let h = try SiteHarness(config: twoDeviceSite(version: 1, probes: "[\(counting("p", device: "a", gain: 1)), \(counting("q", device: "b", order: 2, gain: 2))]"),
                                extraProfiles: fixtureProfiles)
        h.run(cycles: 3)
        // p's change is fine, q's plugin refuses its change: neither applies.
        let refused = twoDeviceSite(version: 2, probes: "[\(counting("p", device: "a", gain: 5)), \(counting("q", device: "b", order: 2, gain: 6, extra: #", "mode": "refuse_configure""#))]")
        let error = #expect(throws: HostError.self) { try h.apply(refused) }
        #expect(error?.code == .configureRefused)
        #expect(error?.message == "scheduler.controllers[1] (controller q): parameters refused: refusing the change as asked (mode refuse_configure) (invalid)")
        h.run(cycles: 2)
        #expect(h.value("a/SetpointEcho") == 1, "p's change was rolled back")
        #expect(h.value("b/SetpointEcho") == 2)
        #expect(h.value("a/CounterEcho") == 4, "p kept running through it all")
        #expect(h.host.status().configVersion == 1)
    }

    @Test func controllersAreAddedRemovedEnabledAndReorderedAtTheNextCycle() throws {
        let h = try SiteHarness(config: twoDeviceSite(version: 1, probes: "[\(counting("p", device: "a", gain: 1))]"), extraProfiles: fixtureProfiles)
        h.run(cycles: 2)
        // Add q before p on the same setpoint: q wins from the next cycle.
        try h.apply(twoDeviceSite(version: 2, probes: "[\(counting("p", device: "a", order: 2, gain: 1)), \(counting("q", device: "a", order: 1, gain: 3))]"))
        h.run(cycles: 2)
        #expect(h.value("a/SetpointEcho") == 3)
        // Disable q: p again.
        try h.apply(twoDeviceSite(version: 3, probes: #"[\#(counting("p", device: "a", order: 2, gain: 1)), {"id": "q", "class": "ProbeController", "enabled": false, "parameters": {}}]"#))
        h.run(cycles: 2)
        #expect(h.value("a/SetpointEcho") == 1)
        #expect(h.host.status().controllers.map(\.id) == ["p"])
        // Remove everything: nothing writes; p's instance is retired.
        try h.apply(twoDeviceSite(version: 4, probes: "[]"))
        h.run(cycles: 1)  // delivers the last setpoint written before the change
        let counter = h.value("a/CounterEcho")
        h.run(cycles: 5)
        // Nothing wrote again: the echo keeps its last value and goes stale.
        #expect(h.host.reading("a/CounterEcho")?.value == counter)
        #expect(h.quality("a/CounterEcho") == .stale)
        #expect(h.host.status().controllers.isEmpty)
    }

    @Test func aChangedDeviceRestartsOnlyItsOwnWorker() throws {
        let h = try SiteHarness(config: twoDeviceSite(version: 1, probes: "[]", genParameters: #"{"amplitude": 10}"#), extraProfiles: fixtureProfiles)
        h.run(cycles: 5)
        let before = Dictionary(uniqueKeysWithValues: h.host.status().devices.map { ($0.deviceId, $0.polls) })
        try h.apply(twoDeviceSite(version: 2, probes: "[]", genParameters: #"{"amplitude": 20}"#))
        h.run(cycles: 5)
        let after = Dictionary(uniqueKeysWithValues: h.host.status().devices.map { ($0.deviceId, $0.polls) })
        #expect(after["a"] == 5, "a was restarted with its new parameters")
        #expect(after["b"] == before["b"]! + 5, "b kept polling without a gap")
        let v = try #require(h.value("a/Value"))
        #expect(abs(v) <= 20)
    }

    @Test func aNewPeriodTakesEffectFromTheNextCycle() throws {
        let h = try SiteHarness(config: twoDeviceSite(version: 1, probes: "[]"), extraProfiles: fixtureProfiles)
        h.run(cycles: 2)
        #expect(h.host.status().statistics.periodNs == 1_000_000_000)
        try h.apply(twoDeviceSite(version: 2, probes: "[]", periodMs: 250))
        #expect(h.host.status().periodMs == 250)
        #expect(h.host.status().statistics.periodNs == 250_000_000)
        #expect(h.host.status().devices.allSatisfy { $0.polls == 2 }, "a period change alone restarts no device")
    }
}
