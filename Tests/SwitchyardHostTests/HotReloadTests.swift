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
        let h = try SiteHarness(config: twoDeviceSite(version: 1, probes: "[]", genParameters: #"{"amplitude": 10, "offset": 1000}"#), extraProfiles: fixtureProfiles)
        h.run(cycles: 5)
        let before = Dictionary(uniqueKeysWithValues: h.host.status().devices.map { ($0.deviceId, $0.polls) })
        try h.apply(twoDeviceSite(version: 2, probes: "[]", genParameters: #"{"amplitude": 10, "offset": 2000}"#))
        h.run(cycles: 5)
        let after = Dictionary(uniqueKeysWithValues: h.host.status().devices.map { ($0.deviceId, $0.polls) })
        #expect(after["a"] == 5, "a was restarted with its new parameters")
        #expect(after["b"] == before["b"]! + 5, "b kept polling without a gap")
        let v = try #require(h.value("a/Value"))
        #expect(abs(v - 2000) <= 10, "a publishes with its new parameters")
    }

    @Test func aNewPeriodTakesEffectFromTheNextCycle() throws {
        let h = try SiteHarness(config: twoDeviceSite(version: 1, probes: "[]"), extraProfiles: fixtureProfiles)
        h.run(cycles: 2)
        #expect(h.host.status().statistics.periodNs == 1_000_000_000)
        // 1000 → 5000 ms: devices poll every 5 s from now on, and their values
        // stay good (the stale window follows the interval).
        try h.apply(twoDeviceSite(version: 2, probes: "[]", periodMs: 5000))
        #expect(h.host.status().periodMs == 5000)
        #expect(h.host.status().statistics.periodNs == 5_000_000_000)
        h.run(cycles: 4)
        #expect(h.host.status().devices.allSatisfy { $0.polls == 6 }, "kept (2 polls), then one per 5 s cycle")
        #expect(h.quality("a/Value") == .good)
        // Back to 1000 ms: re-timed again, not left at 5 s.
        try h.apply(twoDeviceSite(version: 3, probes: "[]", periodMs: 1000))
        h.run(cycles: 6)
        let polls = h.host.status().devices.map(\.polls)
        #expect(polls.allSatisfy { $0 >= 11 }, "one poll per 1 s cycle again: \(polls)")
        #expect(h.quality("a/Value") == .good)
    }

    @Test func aControllerBoundToARelaidDeviceBindsAgain() throws {
        // Device a's profile changes so that its channels are laid out anew:
        // the probe writing to a/Setpoint must resolve it again, not keep a
        // handle no device serves.
        let dir = TestPaths.temporaryDirectory()
        let generic = try String(contentsOfFile: fixtureProfiles[0] + "/test_generic.json", encoding: .utf8)
        try generic.replacingOccurrences(of: "\"id\": \"test_generic\"", with: "\"id\": \"relaid\"")
            .replacingOccurrences(of: "{ \"name\": \"Value\" },", with: "")
            .write(toFile: dir + "/relaid.json", atomically: true, encoding: .utf8)
        let h = try SiteHarness(config: twoDeviceSite(version: 1, probes: "[\(counting("p", device: "a", gain: 3))]"), extraProfiles: fixtureProfiles + [dir])
        h.run(cycles: 3)
        let relaid = twoDeviceSite(version: 2, probes: "[\(counting("p", device: "a", gain: 3))]")
            .replacingOccurrences(of: #"{"device_id": "a", "profile": "test_generic""#, with: #"{"device_id": "a", "profile": "relaid""#)
        try h.apply(relaid)
        h.run(cycles: 3)
        #expect(h.value("a/SetpointEcho") == 3)
        #expect(h.value("a/CounterEcho") == 2, "p was created anew after the relayout")
        // a/Value is gone from the profile: it reads as not available, not as its last value.
        h.run(cycles: 1)
        #expect(h.host.reading("a/Value") == nil)
    }

    @Test func aDisabledControllerGetsAFreshStartFromANewConfig() throws {
        let off = #", "mode": "fail""#
        let h = try SiteHarness(config: twoDeviceSite(version: 1, probes: "[\(counting("p", device: "a", extra: off))]").replacingOccurrences(
            of: "\"period_ms\": 1000}", with: "\"period_ms\": 1000, \"supervisor\": {\"auto_recovery\": false, \"controller_failure_limit\": 2}}"),
                                extraProfiles: fixtureProfiles)
        h.run(cycles: 3)
        #expect(h.controller("p")?.state == .disabled)
        try h.apply(twoDeviceSite(version: 2, probes: "[\(counting("p", device: "a", gain: 4))]"))  // mode back to ok, hot
        h.run(cycles: 2)
        #expect(h.controller("p")?.state == .running)
        #expect(h.value("a/SetpointEcho") == 4)
    }
}
