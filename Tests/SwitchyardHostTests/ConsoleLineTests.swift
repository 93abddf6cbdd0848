import Testing
import SwitchyardHost
import SwitchyardTestSupport

/// The once-a-second line names only what the site has: no `grid -` for a
/// site without a meter (issue 14, item 8).
@Suite struct ConsoleLineTests {
    @Test func aSiteWithoutStandardDevicesShowsNoPlaceholders() throws {
        let site = try SiteHarness(config: genericSite(controllers: "[]"), extraProfiles: fixtureProfiles)
        site.run(cycles: 2)
        let line = ConsoleLine().render(site.host)
        #expect(!line.contains("grid"), "\(line)")
        #expect(!line.contains("pv"), "\(line)")
        #expect(!line.contains("battery"), "\(line)")
        #expect(line.contains("cycle "), "\(line)")
    }

    @Test func theDemoSiteShowsGridPVAndBattery() throws {
        let site = try SiteHarness(config: DemoSite.configText)
        site.run(cycles: 3)
        let line = ConsoleLine().render(site.host)
        #expect(line.contains("grid "), "\(line)")
        #expect(line.contains("pv "), "\(line)")
        #expect(line.contains("battery "), "\(line)")
        #expect(line.contains("SoC "), "\(line)")
    }
}
