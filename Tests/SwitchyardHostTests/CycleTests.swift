import Testing
import SwitchyardHost
import SwitchyardModel
import SwitchyardTestSupport

let fixtureProfiles = [TestPaths.packageRoot + "/Tests/Fixtures/profiles"]

/// A config with one generic test device "gen" and the given controllers.
func genericSite(controllers: String, supervisor: String = "{}", alarms: String = "[]", version: Int = 1) -> String {
    """
    {"version": \(version), "edge_id": "test",
     "core_cycle": {"period_ms": 1000, "supervisor": \(supervisor)},
     "scheduler": {"controllers": \(controllers)},
     "devices": [{"device_id": "gen", "profile": "test_generic"}],
     "alarms": \(alarms)}
    """
}

func probe(_ id: String, order: Int, gain: Double = 1, mode: String = "ok", output: String = "gen/Setpoint", extra: String = "") -> String {
    #"{"id": "\#(id)", "class": "ProbeController", "execution_order": \#(order), "parameters": {"output": "\#(output)", "gain": \#(gain), "mode": "\#(mode)"\#(extra)}}"#
}

@Suite struct CycleTests {
    @Test func theFirstControllerToSetASetpointWins() throws {
        let site = try SiteHarness(config: genericSite(controllers: "[\(probe("a", order: 2, gain: 1)), \(probe("b", order: 1, gain: 2))]"), extraProfiles: fixtureProfiles)
        site.run(cycles: 3)
        #expect(site.value("gen/SetpointEcho") == 2)

        try site.apply(genericSite(controllers: "[\(probe("a", order: 1, gain: 1)), \(probe("b", order: 2, gain: 2))]", version: 2))
        site.run(cycles: 3)
        #expect(site.value("gen/SetpointEcho") == 1)
    }

    @Test func disabledControllersDoNotRun() throws {
        let off = #"{"id": "off", "class": "ProbeController", "enabled": false, "execution_order": 0, "parameters": {"output": "gen/Setpoint", "gain": 9}}"#
        let site = try SiteHarness(config: genericSite(controllers: "[\(off), \(probe("on", order: 1, gain: 3))]"), extraProfiles: fixtureProfiles)
        site.run(cycles: 3)
        #expect(site.value("gen/SetpointEcho") == 3)
        #expect(site.host.status().controllers.map(\.id) == ["on"])
    }

    @Test func aControllerThatKeepsFailingIsDisabledAndRecovers() throws {
        let supervisor = #"{"controller_failure_limit": 3, "auto_recovery": true, "recovery_delay_ms": 5000}"#
        let site = try SiteHarness(config: genericSite(controllers: "[\(probe("p", order: 1, gain: 4, mode: "fail_first", extra: #", "fail_cycles": 3"#))]", supervisor: supervisor),
                                   extraProfiles: fixtureProfiles)
        site.run(cycles: 3)
        var status = try #require(site.controller("p"))
        #expect(status.state == .disabled)
        #expect(status.consecutiveFailures == 3)
        #expect(status.timesDisabled == 1)
        #expect(status.lastError == "failing cycle 3 of 3 as asked (invalid)")
        #expect(site.value("gen/SetpointEcho") == nil)

        site.run(cycles: 4)  // still inside the 5 s recovery delay
        #expect(site.controller("p")?.state == .disabled)
        site.run(cycles: 3)
        status = try #require(site.controller("p"))
        #expect(status.state == .running)
        #expect(status.consecutiveFailures == 0)
        #expect(site.value("gen/SetpointEcho") == 4)
    }

    @Test func withoutAutoRecoveryAFailedControllerStaysDisabled() throws {
        let supervisor = #"{"controller_failure_limit": 2, "auto_recovery": false}"#
        let site = try SiteHarness(config: genericSite(controllers: "[\(probe("p", order: 1, mode: "fail"))]", supervisor: supervisor), extraProfiles: fixtureProfiles)
        site.run(cycles: 100)
        let status = try #require(site.controller("p"))
        #expect(status.state == .disabled)
        #expect(status.totalFailures == 2)
    }

    @Test func aFailedApplyChangesNothing() throws {
        let site = try SiteHarness(config: genericSite(controllers: "[\(probe("p", order: 1, gain: 5))]"), extraProfiles: fixtureProfiles)
        site.run(cycles: 2)
        let generation = site.host.status().generation

        // A plugin refuses to create its instance: nothing changes.
        let refused = genericSite(controllers: "[\(probe("p", order: 1, gain: 6)), \(probe("q", order: 2, mode: "refuse_create"))]", version: 2)
        let error = #expect(throws: HostError.self) { try site.apply(refused) }
        #expect(error?.code == .instanceCreation)
        #expect(error?.message == "scheduler.controllers[1] (controller q): switchyard.test-probe 0.1.0: ProbeController refused to start (invalid): refusing to start as asked (mode refuse_create)")

        // An invalid document: nothing changes either.
        #expect(throws: ValidationError.self) { try site.apply(genericSite(controllers: "[\(probe("p", order: 1, mode: "sometimes"))]", version: 3)) }

        site.run(cycles: 2)
        let status = site.host.status()
        #expect(status.generation == generation)
        #expect(status.configVersion == 1)
        #expect(status.lastApplyError?.contains("mode: must be one of") == true)
        #expect(site.value("gen/SetpointEcho") == 5)
    }

    @Test func aDeviceThatStopsAnsweringIsMarkedFaultAndRetried() throws {
        let config = """
        {"version": 1, "edge_id": "t", "core_cycle": {"period_ms": 1000},
         "devices": [{"device_id": "gen", "profile": "test_generic", "parameters": {"fail_polls_from_s": 5}}]}
        """
        let site = try SiteHarness(config: config, extraProfiles: fixtureProfiles)
        site.run(cycles: 3)
        #expect(site.quality("gen/Value") == .good)
        site.run(cycles: 10)
        #expect(site.quality("gen/Value") == .fault)
        let device = try #require(site.host.status().devices.first)
        #expect(device.state == .faulted)
        #expect(device.lastError?.contains("simulated device stopped answering") == true)
        // It reconnected several times, with growing back-off between attempts.
        #expect(device.reconnects >= 2)
        #expect(device.reconnects <= 8)
    }

    @Test func alarmsRaiseAndClearWithHysteresis() throws {
        let alarms = #"[{"id": "high", "channel": "gen/SetpointEcho", "condition": ">", "threshold": 10, "hysteresis": 2, "severity": "critical"}]"#
        let site = try SiteHarness(config: genericSite(controllers: "[\(probe("p", order: 1, gain: 11))]", alarms: alarms), extraProfiles: fixtureProfiles)
        site.run(cycles: 3)
        #expect(site.host.status().activeAlarms == ["high"])
        // 9 is below the threshold but inside the hysteresis band: still
        // active, and the config change neither clears nor raises it again.
        try site.apply(genericSite(controllers: "[\(probe("p", order: 1, gain: 9))]", alarms: alarms, version: 2))
        site.run(cycles: 3)
        #expect(site.host.status().activeAlarms == ["high"])
        try site.apply(genericSite(controllers: "[\(probe("p", order: 1, gain: 7))]", alarms: alarms, version: 3))
        site.run(cycles: 3)
        #expect(site.host.status().activeAlarms == [])
        let events = site.host.status().recentAlarmEvents
        #expect(events.map(\.kind) == [.raised, .cleared])
        #expect(events.map(\.value) == [11, 7])
    }
}

@Suite struct HistogramTests {
    @Test func percentilesAreWithinABucket() {
        var h = DurationHistogram()
        for i in 1...1000 { h.record(Int64(i) * 1000) }
        #expect(h.count == 1000)
        #expect(h.maxNs == 1_000_000)
        let p50 = h.percentile(0.5)
        #expect(p50 >= 500_000 && p50 <= 500_000 * 9 / 8)
        let p99 = h.percentile(0.99)
        #expect(p99 >= 990_000 && p99 <= 1_000_000)
        #expect(h.percentile(1) == 1_000_000)
    }
}
