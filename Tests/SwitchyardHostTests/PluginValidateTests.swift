import Foundation
import Testing
import SwitchyardHost
import SwitchyardModel
import SwitchyardTestSupport

/// The plugins' own checks (ABI 1.2 `validate`) run wherever a config is
/// validated: a refusal that used to show only at apply (or never, for
/// `check`) is an issue at the instance's parameters, naming the instance.
@Suite struct PluginValidateTests {
    let dir = TestPaths.temporaryDirectory()

    /// The shipped plugins, with the repository's profiles and `extraProfiles`.
    static func catalogs(extraProfiles: [String] = []) -> (PluginCatalog, ProfileCatalog) {
        (PluginCatalog.load(directories: TestPaths.pluginDirectories), ProfileCatalog.load(directories: [TestPaths.profileDirectory] + extraProfiles))
    }

    static func site(pv: String = #"{"sunrise_hour": 6, "sunset_hour": 18}"#, balancing: String = #"{"min_soc": 10, "max_soc": 90}"#,
                     peak: String = #"{"threshold_watts": 5000}"#) -> String {
        """
        {"version": 1, "edge_id": "e",
         "scheduler": {"controllers": [
           {"id": "peak", "class": "PeakShavingController", "execution_order": 1, "parameters": \(peak)},
           {"id": "balance", "class": "BalancingController", "execution_order": 2, "parameters": \(balancing)}]},
         "devices": [
           {"device_id": "battery", "profile": "simulated_battery"},
           {"device_id": "grid", "profile": "simulated_grid_meter"},
           {"device_id": "roof", "profile": "simulated_pv", "parameters": \(pv)}]}
        """
    }

    @Test func theShippedPluginsRefuseTheirInconsistentParametersWhenAConfigIsValidated() throws {
        let (plugins, profiles) = Self.catalogs()
        #expect(plugins.errors.isEmpty, "\(plugins.errors)")
        for id in ["switchyard.simulated-devices", "switchyard.balancing", "switchyard.peak-shaving", "switchyard.example-c"] {
            #expect(plugins.plugins.first { $0.id == id }?.validates == true, "\(id) has validate")
        }
        _ = try plugins.validate(EdgeConfig(parsing: Self.site(), file: nil), profiles: profiles)

        let bad = try EdgeConfig(parsing: Self.site(pv: #"{"sunrise_hour": 19, "sunset_hour": 7}"#,
                                                    balancing: #"{"min_soc": 90, "max_soc": 50}"#,
                                                    peak: #"{"threshold_watts": 5000, "recharge_level_watts": 6000}"#), file: nil)
        // The schema alone accepts it: every value is within its own range.
        _ = try ConfigValidator(classes: plugins.classes, profiles: profiles.profiles).resolve(bad)
        do {
            _ = try plugins.validate(bad, profiles: profiles)
            Issue.record("an empty daylight window and SoC window were accepted")
        } catch {
            let byPath = Dictionary(uniqueKeysWithValues: error.issues.map { ($0.path.description, $0.message) })
            #expect(error.issues.count == 3, "\(error)")
            let pv = byPath["devices[2].parameters"] ?? ""
            #expect(pv.contains("(device roof) SimulatedPV of switchyard.simulated-devices") && pv.contains("sunset_hour (7.0) must be after sunrise_hour (19.0)"), "\(pv)")
            let balance = byPath["scheduler.controllers[1].parameters"] ?? ""
            #expect(balance.contains("(controller balance) BalancingController") && balance.contains("min_soc (90.0) must be below max_soc (50.0)"), "\(balance)")
            let peak = byPath["scheduler.controllers[0].parameters"] ?? ""
            #expect(peak.contains("(controller peak) PeakShavingController") && peak.contains("recharge_level_watts (6000.0) must not exceed threshold_watts (5000.0)"), "\(peak)")
        }
    }

    @Test func theEdgeRefusesToApplyWhatAPluginRefusesAndKeepsRunning() throws {
        let site = try SiteHarness(config: Self.site())
        let before = site.host.status().generation
        #expect(throws: ValidationError.self) { try site.apply(Self.site(balancing: #"{"min_soc": 80, "max_soc": 80}"#)) }
        #expect(site.host.status().generation == before, "the running config keeps running")
        #expect(site.host.status().lastApplyError?.contains("min_soc (80.0) must be below max_soc (80.0)") == true)
    }

    @Test func theCDriverRefusesAProfileWithoutItsChannels() throws {
        let profiles = dir + "/profiles"
        try FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: true)
        try #"{"id": "short_sensor", "driver": "ExampleCSensor", "channels": [{"name": "Temperature"}, {"name": "Setpoint", "access": "write"}]}"#
            .write(toFile: profiles + "/short.json", atomically: true, encoding: .utf8)
        let (plugins, catalog) = Self.catalogs(extraProfiles: [profiles])
        let config = try EdgeConfig(parsing: #"{"version": 1, "edge_id": "e", "devices": [{"device_id": "s", "profile": "short_sensor"}]}"#, file: nil)
        #expect {
            _ = try plugins.validate(config, profiles: catalog)
        } throws: { error in
            "\(error)" == #"devices[0].parameters: (device s) ExampleCSensor of switchyard.example-c 1.0.0 refused it: profile: no channel "SetpointEcho" (ExampleCSensor needs Temperature, Setpoint and SetpointEcho)"#
        }
    }

    /// A C fixture driver; `validate` is the C text of its validate
    /// function's body (`c` is the class name, `j` the instance config).
    static func fixture(minor: String = "SY_ABI_MINOR", size: String = "sizeof(sy_plugin_descriptor)", id: String, validate: String) -> String {
        CFixture.plugin(id: id, minor: minor, size: size, manifest: #"{"classes":[{"name":"FixtureSensor","parameters":{"type":"object","properties":{"gain":{"type":"number","default":1}}}}]}"#,
                        validate: validate)
    }

    /// A catalog holding only `source`, the profiles holding a profile for
    /// its class, and a config with one device of it.
    func fixtureSite(_ source: String, name: String, gain: Double = 1) throws -> (PluginCatalog, ProfileCatalog, EdgeConfig) {
        let plugins = dir + "/plugins-\(name)"
        let profiles = dir + "/profiles-\(name)"
        for d in [plugins, profiles] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        _ = try CFixture.build(source, name: name, in: plugins)
        try #"{"id": "fixture", "driver": "FixtureSensor", "channels": [{"name": "Value"}]}"#.write(toFile: profiles + "/fixture.json", atomically: true, encoding: .utf8)
        let config = try EdgeConfig(parsing: #"{"version": 1, "edge_id": "e", "devices": [{"device_id": "f", "profile": "fixture", "parameters": {"gain": \#(gain)}}]}"#, file: nil)
        let catalog = PluginCatalog.load(directories: [plugins])
        #expect(catalog.errors.isEmpty, "\(catalog.errors)")
        return (catalog, ProfileCatalog.load(directories: [profiles]), config)
    }

    @Test func aPluginBuiltAgainstABI11HasNoValidateAndStillLoadsAndValidates() throws {
        // Its descriptor ends before `validate` (80 bytes, minor 1): the host
        // must not read past it. The pointer placed there would abort.
        let (plugins, profiles, config) = try fixtureSite(Self.fixture(minor: "1", size: "80", id: "test.abi11", validate: "abort();"), name: "abi11")
        #expect(plugins.plugins.first?.abiMinor == 1)
        #expect(plugins.plugins.first?.validates == false)
        let resolved = try plugins.validate(config, profiles: profiles)
        #expect(resolved.devices.map(\.id) == ["f"])
    }

    @Test func aRefusalCarriesThePluginsMessageAndAnAcceptedConfigPasses() throws {
        let body = #"if (strstr(j, "\"gain\":3") == NULL) return SY_OK; snprintf(e, n, "gain (3) is unlucky: use 2 or 4"); return SY_ERR_INVALID;"#
        let (plugins, profiles, config) = try fixtureSite(Self.fixture(id: "test.refuses", validate: body), name: "refuses", gain: 3)
        #expect(plugins.plugins.first?.validates == true)
        #expect {
            _ = try plugins.validate(config, profiles: profiles)
        } throws: { error in
            "\(error)" == "devices[0].parameters: (device f) FixtureSensor of test.refuses 1.0.0 refused it: gain (3) is unlucky: use 2 or 4"
        }
        let good = try EdgeConfig(parsing: #"{"version": 1, "edge_id": "e", "devices": [{"device_id": "f", "profile": "fixture", "parameters": {"gain": 2}}]}"#, file: nil)
        #expect(try plugins.validate(good, profiles: profiles).devices.count == 1)
    }

    /// The kit exports `validate` only for a plugin with a class that
    /// declares one, so the host does not encode and the plugin does not
    /// parse (a Modbus device's whole profile) configs nobody checks.
    @Test func aSwiftPluginWithoutChecksOfItsOwnExportsNoValidate() {
        let (plugins, _) = Self.catalogs()
        #expect(plugins.plugins.first { $0.id == "switchyard.modbus" }?.validates == false, "\(plugins.plugins.map(\.id))")
        #expect(plugins.plugins.first { $0.id == "switchyard.test-probe" }?.validates == false)
        #expect(plugins.plugins.first { $0.id == "switchyard.simulated-devices" }?.validates == true, "SimulatedPV has its own")
    }

    /// validate is pure: a config a plugin accepted is not sent to it again
    /// (an apply that keeps most devices), a changed one is.
    @Test func anAcceptedConfigIsNotCheckedAgain() throws {
        let counter = dir + "/calls"
        let body = #"FILE *f = fopen("\#(counter)", "a"); if (f) { fputs("x", f); fclose(f); } return SY_OK;"#
        let (plugins, profiles, config) = try fixtureSite(Self.fixture(id: "test.counts", validate: body), name: "counts")
        _ = try plugins.validate(config, profiles: profiles)
        _ = try plugins.validate(config, profiles: profiles)
        #expect(try String(contentsOfFile: counter, encoding: .utf8) == "x")
        let changed = try EdgeConfig(parsing: #"{"version": 1, "edge_id": "e", "devices": [{"device_id": "f", "profile": "fixture", "parameters": {"gain": 5}}]}"#, file: nil)
        _ = try plugins.validate(changed, profiles: profiles)
        #expect(try String(contentsOfFile: counter, encoding: .utf8) == "xx")
    }

    @Test func aValidateThatNeverReturnsIsARefusalAndIsNotCalledAgain() throws {
        // Counts its calls in a file, then blocks for good.
        let counter = dir + "/calls"
        let body = #"FILE *f = fopen("\#(counter)", "a"); if (f) { fputs("x", f); fclose(f); } for (;;) pause();"#
        let (plugins, profiles, config) = try fixtureSite(Self.fixture(id: "test.hangs", validate: body), name: "hangs")
        for _ in 0..<2 {
            #expect {
                _ = try plugins.validate(config, profiles: profiles, timeoutNs: 300_000_000)
            } throws: { error in
                let text = "\(error)"
                return text.hasPrefix("devices[0].parameters: (device f) FixtureSensor of test.hangs 1.0.0 refused it: its validate did not return")
                    && text.contains("validate must not block")
            }
        }
        // The first round's thread may be slow to start on a loaded machine.
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: counter) { Thread.sleep(forTimeInterval: 0.1) }
        #expect(try String(contentsOfFile: counter, encoding: .utf8) == "x", "called once, then left alone")
    }
}
