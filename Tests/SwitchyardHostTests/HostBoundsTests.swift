#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel
import SwitchyardTestSupport

/// The reported crashes, through the host: refused when out of range, and at
/// the edge of their range prepared and run in inline mode.
@Suite struct HostBoundsTests {
    private func load(pollIntervalMs: String, parameters: String = "{}") -> String {
        #"{"version":1,"edge_id":"e","devices":[{"device_id":"h","profile":"simulated_load","poll_interval_ms":\#(pollIntervalMs),"parameters":\#(parameters)}]}"#
    }

    @Test func aPollIntervalThatOverflowedIsRefusedAndTheLongestRuns() throws {
        let site = try SiteHarness(config: load(pollIntervalMs: "1000"))
        site.run(cycles: 2)
        let error = #expect(throws: ValidationError.self) { try site.apply(load(pollIntervalMs: "3074457345619")) }
        #expect(error?.description == "test config: devices[0].poll_interval_ms: must be <= 86400000, got 3074457345619")
        site.run(cycles: 2)
        #expect(site.value("h/ActivePower") != nil, "the running config stays")

        // A day, the longest interval: stale after three days, polled once meanwhile.
        try site.apply(load(pollIntervalMs: "86400000"))
        site.run(cycles: 3)
        site.clock.advance(byNs: 4 * 86_400_000_000_000)
        site.run(cycles: 2)
        #expect(site.host.status().periodMs == 1000)
        #expect(site.quality("h/ActivePower") == .good)
    }

    @Test func aRecoveryDelayThatOverflowedIsRefusedAndTheLongestRecovers() throws {
        let failing = "[\(probe("p", order: 1, gain: 4, mode: "fail_first", extra: #", "fail_cycles": 2"#))]"
        let error = #expect(throws: ValidationError.self) {
            _ = try SiteHarness(config: genericSite(controllers: failing, supervisor: #"{"controller_failure_limit": 2, "recovery_delay_ms": 9223372036855}"#),
                                extraProfiles: fixtureProfiles)
        }
        #expect(error?.description == "test config: core_cycle.supervisor.recovery_delay_ms: must be <= 86400000, got 9223372036855")

        let site = try SiteHarness(config: genericSite(controllers: failing, supervisor: #"{"controller_failure_limit": 2, "recovery_delay_ms": 86400000}"#),
                                   extraProfiles: fixtureProfiles)
        site.run(cycles: 3)
        #expect(site.controller("p")?.state == .disabled)
        site.clock.advance(byNs: 86_400_000_000_000)
        site.run(cycles: 2)
        #expect(site.controller("p")?.state == .running)
        #expect(site.value("gen/SetpointEcho") == 4)
    }

    @Test func aSeedBeyondIntIsRefusedBeforeThePluginSeesIt() throws {
        let site = try SiteHarness(config: load(pollIntervalMs: "1000", parameters: #"{"seed": 9007199254740991}"#))
        site.run(cycles: 2)
        #expect(site.value("h/ActivePower") != nil)
        for seed in ["9223372036854775808", "1e308"] {
            let error = #expect(throws: ValidationError.self) { try site.apply(load(pollIntervalMs: "1000", parameters: #"{"seed": \#(seed)}"#)) }
            #expect(error?.description.hasPrefix("devices[0].parameters.seed: must be <= 9007199254740991, got ") == true)
        }
        site.run(cycles: 2)
        #expect(site.value("h/ActivePower") != nil)
    }

    /// Found by the property test: an alarm on a channel whose value is huge
    /// (a simulated device's amplitude of 1e308) trapped in the alarm's log
    /// line, on the cycle thread.
    @Test func anAlarmOnAHugeValueIsLoggedWithoutATrap() throws {
        let config = """
        {"version": 1, "edge_id": "t", "devices": [{"device_id": "gen", "profile": "test_generic", "parameters": {"amplitude": 1e308, "offset": 1e308}}],
         "alarms": [{"id": "big", "channel": "gen/Value", "condition": ">", "threshold": 0}]}
        """
        let site = try SiteHarness(config: config, extraProfiles: fixtureProfiles)
        site.run(cycles: 3)
        #expect(site.host.status().activeAlarms == ["big"])
        #expect(fixed(1e308, 2) == "1e308")
        #expect(fixed(-9.3e18, 0) == "-9.3e18")
        #expect(fixed(1234.5678, 2) == "1234.57")
    }

    @Test func configDurationsSaturateInsteadOfTrapping() {
        #expect(Nanoseconds.milliseconds(1000) == 1_000_000_000)
        #expect(Nanoseconds.milliseconds(86_400_000, times: 3) == 259_200_000_000_000)
        #expect(Nanoseconds.milliseconds(3_074_457_345_619, times: 3) == Nanoseconds.ceiling)
        #expect(Nanoseconds.milliseconds(Int.max, times: 3) == Nanoseconds.ceiling)
        #expect(Nanoseconds.milliseconds(1, times: .max) == Nanoseconds.ceiling)
        #expect(Nanoseconds.milliseconds(-5) == 0)
        #expect(Nanoseconds.adding(.max - 1, 5) == .max)
        #expect(Nanoseconds.adding(.min + 1, -5) == .min)
        #expect(Nanoseconds.adding(1_000, Nanoseconds.ceiling) == 1_000 + Nanoseconds.ceiling)
        // Ages from timestamps a plugin supplies.
        #expect(Nanoseconds.subtracting(0, .min) == .max)
        #expect(Nanoseconds.subtracting(-10, .max) == .min)
        #expect(Nanoseconds.subtracting(10, 3) == 7)
    }

    /// `check` reads the config file with FileSystem.readText: invalid UTF-8
    /// is refused with where it is.
    @Test func aFileThatIsNotUTF8NamesTheByteOffset() throws {
        let path = TestPaths.temporaryDirectory() + "/bad.json"
        let bytes = Array(#"{"version":1,"edge_id":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8)
        let file = try #require(fopen(path, "wb"))
        _ = fwrite(bytes, 1, bytes.count, file)
        fclose(file)
        let error = #expect(throws: FileSystem.Failure.self) { try FileSystem.readText(path) }
        #expect(error?.reason == "not valid UTF-8 text (byte offset 24)")
    }
}
