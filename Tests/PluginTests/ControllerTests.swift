import Foundation
import Testing
import SwitchyardHost
import SwitchyardTestSupport

/// A simulated site without noise or clouds, so that net load changes slowly
/// and a controller's effect can be checked to within tens of watts.
/// Each site gets its own simulated world: tests run in parallel in one process.
func site(controllers: String, battery: String = #""capacity_wh": 13500, "initial_soc": 60"#, periodMs: Int = 10_000) -> String {
    let world = UUID().uuidString
    return """
    {"version": 1, "edge_id": "t", "core_cycle": {"period_ms": \(periodMs)},
     "scheduler": {"controllers": \(controllers)},
     "devices": [
       {"device_id": "battery", "profile": "simulated_battery", "parameters": {\(battery), "max_charge_w": 5000, "max_discharge_w": 5000, "efficiency": 0.9, "site": "\(world)"}},
       {"device_id": "pv", "profile": "simulated_pv", "parameters": {"peak_w": 8000, "cloudiness": 0, "site": "\(world)"}},
       {"device_id": "house", "profile": "simulated_load", "parameters": {"base_w": 1500, "morning_peak_w": 3000, "evening_peak_w": 6000, "noise": 0, "site": "\(world)"}},
       {"device_id": "grid", "profile": "simulated_grid_meter", "parameters": {"site": "\(world)"}}]}
    """
}

/// One cycle's picture of the site, after the cycle ran.
struct Sample {
    var hour: Double
    var grid: Double
    var battery: Double
    var soc: Double
    var net: Double { grid + battery }
}

extension SiteHarness {
    /// Runs `hours` of simulated time and samples the site after every cycle.
    func day(hours: Double = 24) -> [Sample] {
        var samples: [Sample] = []
        let cycles = Int(hours * 3.6e12 / Double(periodNs))
        run(cycles: cycles) { i in
            guard let g = value("grid/ActivePower"), let b = value("battery/ActivePower"), let s = value("battery/Soc") else { return }
            samples.append(Sample(hour: Double(i) * Double(periodNs) / 3.6e12, grid: g, battery: b, soc: s))
        }
        return samples
    }
}

@Suite struct BalancingTests {
    let balancing = #"[{"id": "bal", "class": "BalancingController", "parameters": {"target_grid_power": 0, "battery": "battery", "meter": "grid", "min_soc": 10, "max_soc": 95}}]"#

    @Test func holdsTheGridAtItsTargetWithinTheBatteryLimits() throws {
        let h = try SiteHarness(config: site(controllers: balancing), startHour: 0)
        let samples = h.day()
        #expect(samples.count > 8000)
        var checked = 0
        for (prev, s) in zip(samples, samples.dropFirst()) {
            // Where the battery was free to follow (not at a power or SoC
            // limit), the grid stays at its target: what is left is the
            // change of net load during one 10 s cycle.
            let wanted = prev.net - 0
            let free = abs(wanted) < 4900 && prev.soc > 11 && prev.soc < 94
            if free {
                checked += 1
                #expect(abs(s.grid) < 30, "grid \(s.grid) W at \(s.hour) h")
            }
            // Limits: never beyond the battery's power, no discharge at or
            // below min_soc, no charge at or above max_soc.
            #expect(s.battery <= 5000.001 && s.battery >= -5000.001)
            if prev.soc <= 10 { #expect(s.battery <= 0.001, "discharging at SoC \(prev.soc) %") }
            if prev.soc >= 95 { #expect(s.battery >= -0.001, "charging at SoC \(prev.soc) %") }
        }
        // The battery was free to follow for a good part of the day (it spends
        // the small hours empty at min_soc and the afternoon full at max_soc).
        #expect(checked > 2000)
        // Overnight the house draws 1.5 kW, so the battery ran into min_soc,
        // and the midday PV surplus charged it again.
        #expect(samples.contains { $0.soc <= 10.05 })
        #expect(samples.map(\.soc).max()! > 60)
    }

    @Test func followsANewTargetAndItsPriority() throws {
        let chargeOnly = #"[{"id": "bal", "class": "BalancingController", "parameters": {"target_grid_power": 500, "priority": "charge_only", "battery": "battery", "meter": "grid"}}]"#
        let h = try SiteHarness(config: site(controllers: chargeOnly), startHour: 0)
        let samples = h.day()
        // charge_only never discharges.
        #expect(samples.allSatisfy { $0.battery <= 0.001 })
        // While there is surplus beyond the target and room in the battery,
        // the surplus is stored and the grid is held at +500 W.
        var storing = 0
        for (prev, s) in zip(samples, samples.dropFirst()) where prev.net < 400 && prev.net > 500 - 4900 && prev.soc < 99.9 {
            storing += 1
            #expect(abs(s.grid - 500) < 30, "grid \(s.grid) at \(s.hour) h")
        }
        #expect(storing > 100)
        // Where net load is above the target, charge_only leaves it to the grid.
        for (prev, s) in zip(samples, samples.dropFirst()) where prev.net > 600 { #expect(abs(s.battery) < 0.001) }
    }
}

@Suite struct ReapplyTests {
    @Test func aSimulatedSiteSurvivesAConfigChange() throws {
        let world = UUID().uuidString
        func config(_ version: Int, target: Int) -> String {
            """
            {"version": \(version), "edge_id": "t", "core_cycle": {"period_ms": 1000},
             "scheduler": {"controllers": [{"id": "bal", "class": "BalancingController", "parameters": {"target_grid_power": \(target), "battery": "battery", "meter": "grid"}}]},
             "devices": [
               {"device_id": "battery", "profile": "simulated_battery", "parameters": {"site": "\(world)"}},
               {"device_id": "house", "profile": "simulated_load", "parameters": {"noise": 0, "site": "\(world)"}},
               {"device_id": "grid", "profile": "simulated_grid_meter", "parameters": {"site": "\(world)"}}]}
            """
        }
        let h = try SiteHarness(config: config(1, target: 0), startHour: 2)
        h.run(cycles: 5)
        #expect(abs(h.value("grid/ActivePower")!) < 30)
        // The new battery instance is created before the old one is destroyed;
        // the meter must keep seeing the battery afterwards.
        try h.apply(config(2, target: 200))
        h.run(cycles: 5)
        #expect(abs(h.value("grid/ActivePower")! - 200) < 30)
        #expect(h.host.status().configVersion == 2)
    }
}

@Suite struct PeakShavingTests {
    func controller(_ extra: String, minSoc: Int = 5) -> String {
        #"[{"id": "ps", "class": "PeakShavingController", "parameters": {"threshold_watts": 5000, "battery": "battery", "meter": "grid", "min_soc": \#(minSoc)\#(extra)}}]"#
    }

    @Test func keepsImportBelowTheThresholdAndRechargesBelowTheRechargeLevel() throws {
        let h = try SiteHarness(config: site(controllers: controller(#", "recharge_enabled": true, "recharge_level_watts": 3000, "max_soc": 90"#)), startHour: 0)
        let samples = h.day()
        // Without the battery the evening peak imports about 7.5 kW.
        #expect(samples.map(\.net).max()! > 7000)
        for (prev, s) in zip(samples, samples.dropFirst()) where prev.soc > 6 {
            #expect(s.grid < 5000 + 30, "import \(s.grid) W above the threshold at \(s.hour) h (SoC \(prev.soc))")
        }
        // Recharging at night: the battery charges, and import stays at or
        // below the recharge level, until max_soc.
        let recharging = samples.filter { $0.battery < -1 }
        #expect(!recharging.isEmpty)
        for s in recharging { #expect(s.grid < 3000 + 30, "recharge pushed import to \(s.grid) W at \(s.hour) h") }
        #expect(samples.allSatisfy { $0.soc <= 90.5 })
        // It discharged only to shave: never while import was well below the threshold.
        for (prev, s) in zip(samples, samples.dropFirst()) where s.battery > 1 {
            #expect(prev.net > 5000 - 30, "discharged \(s.battery) W with net load \(prev.net) W at \(s.hour) h")
        }
    }

    @Test func respectsMinSocAndDoesNotRechargeWhenDisabled() throws {
        // A small battery runs empty during the evening peak.
        let h = try SiteHarness(config: site(controllers: controller(#", "recharge_enabled": false"#, minSoc: 20), battery: #""capacity_wh": 2000, "initial_soc": 80"#),
                                startHour: 16)
        let samples = h.day(hours: 6)
        #expect(samples.allSatisfy { $0.battery >= -0.001 }, "charged although recharge_enabled is false")
        #expect(samples.contains { $0.soc <= 20.01 })
        for (prev, s) in zip(samples, samples.dropFirst()) where prev.soc <= 20 {
            #expect(s.battery <= 0.001, "discharging at SoC \(prev.soc) %")
        }
        // Once empty, the peak goes through to the grid.
        #expect(samples.map(\.grid).max()! > 6000)
    }

    @Test func yieldsTheBatteryToALaterControllerWhenIdle() throws {
        let both = """
        [{"id": "ps", "class": "PeakShavingController", "execution_order": 1, "parameters": {"threshold_watts": 5000, "recharge_enabled": false, "battery": "battery", "meter": "grid"}},
         {"id": "bal", "class": "BalancingController", "execution_order": 2, "parameters": {"battery": "battery", "meter": "grid", "min_soc": 10}}]
        """
        let h = try SiteHarness(config: site(controllers: both), startHour: 1)
        let samples = h.day(hours: 1)
        // Night: peak shaving is idle, balancing covers the 1.5 kW base load.
        for s in samples.dropFirst(2) { #expect(abs(s.grid) < 30 && s.battery > 1400) }
    }
}

@Suite struct PluginCoexistenceTests {
    @Test func swiftPluginsWithTheirOwnKitCopiesAndACPluginRunTogether() throws {
        let config = """
        {"version": 1, "edge_id": "t", "core_cycle": {"period_ms": 1000},
         "scheduler": {"controllers": [
           {"id": "ps", "class": "PeakShavingController", "execution_order": 1, "parameters": {"threshold_watts": 5000, "battery": "battery", "meter": "grid"}},
           {"id": "bal", "class": "BalancingController", "execution_order": 2, "parameters": {"battery": "battery", "meter": "grid"}},
           {"id": "probe", "class": "ProbeController", "execution_order": 3, "parameters": {"output": "sensor/Setpoint", "gain": 42}}]},
         "devices": [
           {"device_id": "battery", "profile": "simulated_battery", "parameters": {"site": "coexistence"}},
           {"device_id": "grid", "profile": "simulated_grid_meter", "parameters": {"site": "coexistence"}},
           {"device_id": "sensor", "profile": "example_c_sensor", "parameters": {"offset": 21, "amplitude": 3}}]}
        """
        let h = try SiteHarness(config: config)
        h.run(cycles: 50)
        // The probe checks Swift generics, conformances and casts in every
        // cycle; any failure would be counted here.
        let probe = try #require(h.controller("probe"))
        #expect(probe.totalFailures == 0, "\(probe.lastError ?? "")")
        // The C driver echoed the setpoint written by a Swift controller.
        #expect(h.value("sensor/SetpointEcho") == 42)
        let t = try #require(h.value("sensor/Temperature"))
        #expect(t >= 18 && t <= 24)
        #expect(h.host.status().controllers.allSatisfy { $0.totalFailures == 0 })
        #expect(Set(h.host.status().plugins.map(\.id)).count == h.host.status().plugins.count)
    }
}
