import Testing
import SwitchyardHost
import SwitchyardTestSupport

/// Hand writes (issue 14, item 3) at the host: injected at the write phase,
/// refused when a controller owns the channel in that cycle unless forced.
@Suite struct ManualWriteTests {
    @Test func aHandWriteReachesTheDevice() throws {
        let site = try SiteHarness(config: genericSite(controllers: "[]"), extraProfiles: fixtureProfiles)
        site.run(cycles: 1)
        let ticket = site.host.submitWrite("gen/Setpoint", value: 42, force: false, requestedBy: "test")
        #expect(ticket.outcome == nil)
        site.run(cycles: 2)
        #expect(ticket.outcome == .written(notes: []))
        #expect(site.value("gen/SetpointEcho") == 42)
        #expect(site.host.status().devices.first?.writes == 1)
    }

    @Test func aChannelAControllerSetsIsRefusedUnlessForced() throws {
        let site = try SiteHarness(config: genericSite(controllers: "[\(probe("p", order: 1, gain: 3))]"), extraProfiles: fixtureProfiles)
        site.run(cycles: 2)
        let polite = site.host.submitWrite("gen/Setpoint", value: 42, force: false, requestedBy: "test")
        site.run(cycles: 2)
        #expect(polite.outcome == .ownedByController("controller p"))
        #expect(site.value("gen/SetpointEcho") == 3)

        let forced = site.host.submitWrite("gen/Setpoint", value: 42, force: true, requestedBy: "test")
        site.run(cycles: 1)
        // Inline, the worker delivers at the start of the next cycle: the
        // forced value replaced the controller's in the cycle that took it.
        #expect(forced.outcome == nil)
        site.run(cycles: 1)
        #expect(forced.outcome == .written(notes: []))
        #expect(site.value("gen/SetpointEcho") == 42)
        site.run(cycles: 2)
        #expect(site.value("gen/SetpointEcho") == 3)  // the controller sets it again
    }

    @Test func unknownReadOnlyAndNonNumbersAreRefusedAtOnce() throws {
        let site = try SiteHarness(config: genericSite(controllers: "[]"), extraProfiles: fixtureProfiles)
        site.run(cycles: 1)
        guard case .unknownChannel(let unknown)? = site.host.submitWrite("gen/Nope", value: 1, force: false, requestedBy: "t").outcome else {
            Issue.record("an unknown channel was taken"); return
        }
        #expect(unknown.contains("no channel \"gen/Nope\""))
        guard case .refused(let ro)? = site.host.submitWrite("gen/Value", value: 1, force: false, requestedBy: "t").outcome else {
            Issue.record("a read-only channel was taken"); return
        }
        #expect(ro.contains("gen/Value is read-only in profile test_generic"))
        guard case .refused? = site.host.submitWrite("gen/Setpoint", value: .nan, force: false, requestedBy: "t").outcome else {
            Issue.record("NaN was taken"); return
        }
    }
}
