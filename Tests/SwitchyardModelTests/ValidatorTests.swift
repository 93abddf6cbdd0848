import Testing
import SwitchyardJSON
import SwitchyardModel

/// A catalog like the real plugins declare, built from manifest JSON.
func catalog() throws -> [String: PluginClassInfo] {
    let controllers = try PluginManifest(parsing: """
    {"classes": [
      {"name": "PeakShavingController", "parameters": {"type": "object", "required": ["threshold_watts", "battery", "meter"], "properties": {
        "threshold_watts": {"type": "number", "minimum": 0, "hot": true, "unit": "W"},
        "recharge_enabled": {"type": "boolean", "default": true, "hot": true},
        "battery": {"type": "string", "device": "ess"},
        "meter": {"type": "string", "device": "meter"}}}},
      {"name": "BalancingController", "parameters": {"type": "object", "properties": {
        "target_grid_power": {"type": "number", "default": 0},
        "priority": {"type": "string", "enum": ["self_consumption", "charge_only"], "default": "self_consumption"}}}}
    ]}
    """)
    let drivers = try PluginManifest(parsing: #"{"classes": [{"name": "SimulatedBattery", "parameters": {"type": "object", "properties": {"capacity_wh": {"type": "number", "minimum": 1, "default": 10000}}}}, {"name": "SimulatedGridMeter"}]}"#)
    var out: [String: PluginClassInfo] = [:]
    for c in controllers.classes { out[c.name] = PluginClassInfo(pluginId: "test.controllers", pluginVersion: "1.0.0", kind: .controller, entry: c) }
    for c in drivers.classes { out[c.name] = PluginClassInfo(pluginId: "test.drivers", pluginVersion: "1.0.0", kind: .driver, entry: c) }
    return out
}

func profiles() throws -> [String: DeviceProfile] {
    let battery = try DeviceProfile(parsing: """
    {"id": "bat", "driver": "SimulatedBattery", "channels": [
      {"name": "ActivePower", "standard": "ess.ActivePower"}, {"name": "Soc", "standard": "ess.Soc"},
      {"name": "SetActivePower", "standard": "ess.SetActivePower", "access": "write"}]}
    """, file: "bat.json")
    let meter = try DeviceProfile(parsing: #"{"id": "meter", "driver": "SimulatedGridMeter", "channels": [{"name": "ActivePower", "standard": "meter.ActivePower"}]}"#, file: "meter.json")
    return ["bat": battery, "meter": meter]
}

func config(_ controllers: String, alarms: String = "[]", devices: String? = nil) throws -> EdgeConfig {
    try EdgeConfig(parsing: """
    {"version": 3, "edge_id": "e1",
     "scheduler": {"controllers": \(controllers)},
     "devices": \(devices ?? #"[{"device_id": "b1", "profile": "bat"}, {"device_id": "g", "profile": "meter"}]"#),
     "alarms": \(alarms)}
    """, file: nil)
}

@Suite struct ValidatorTests {
    @Test func namesThePathOfABadParameter() throws {
        let c = try config("""
        [{"id": "b", "class": "BalancingController", "parameters": {}},
         {"id": "p", "class": "PeakShavingController", "parameters": {"threshold_watts": -5, "battery": "b1", "meter": "g"}}]
        """)
        let error = #expect(throws: ValidationError.self) { try ConfigValidator(classes: catalog(), profiles: profiles()).resolve(c) }
        #expect(error?.issues.map(\.description) == ["scheduler.controllers[1].parameters.threshold_watts: must be >= 0, got -5"])
    }

    @Test func fillsDefaultsAndAcceptsAValidConfig() throws {
        let c = try config(#"[{"id": "p", "class": "PeakShavingController", "parameters": {"threshold_watts": 5000, "battery": "b1", "meter": "g"}}]"#)
        let r = try ConfigValidator(classes: catalog(), profiles: profiles()).resolve(c)
        #expect(r.controllers[0].parameters["recharge_enabled"] == true)
        #expect(r.devices[0].parameters["capacity_wh"] == 10000)
        #expect(r.devices.map(\.pollGroups[0].name) == ["default", "default"])
    }

    @Test func reportsUnknownClassesParametersEnumsTypesAndBindings() throws {
        let c = try config("""
        [{"id": "a", "class": "BalancingControler", "parameters": {}},
         {"id": "b", "class": "SimulatedBattery"},
         {"id": "c", "class": "BalancingController", "parameters": {"priority": "max", "target_grid_powr": 1}},
         {"id": "d", "class": "PeakShavingController", "parameters": {"threshold_watts": "high", "battery": "g", "meter": "nope"}}]
        """, alarms: #"[{"id": "x", "channel": "b1/Temperature", "condition": ">", "threshold": 50}, {"id": "y", "channel": "zz/Soc", "condition": ">", "threshold": 1}]"#)
        let error = #expect(throws: ValidationError.self) { try ConfigValidator(classes: catalog(), profiles: profiles()).resolve(c) }
        let lines = error?.issues.map(\.description) ?? []
        #expect(lines.contains("scheduler.controllers[0].class: class \"BalancingControler\" is not provided by any loaded plugin (did you mean \"BalancingController\"?)"))
        #expect(lines.contains("scheduler.controllers[1].class: \"SimulatedBattery\" is a driver class (plugin test.drivers), not a controller"))
        #expect(lines.contains("scheduler.controllers[2].parameters.priority: must be one of \"self_consumption\", \"charge_only\"; got \"max\""))
        #expect(lines.contains("scheduler.controllers[2].parameters.target_grid_powr: unknown parameter \"target_grid_powr\" (did you mean \"target_grid_power\"?)"))
        #expect(lines.contains("scheduler.controllers[3].parameters.threshold_watts: expected number, got string \"high\""))
        #expect(lines.contains("scheduler.controllers[3].parameters.battery: device \"g\" (profile meter) implements no ess.* channel"))
        #expect(lines.contains("scheduler.controllers[3].parameters.meter: no device \"nope\" in this config (devices with meter.* channels: g)"))
        #expect(lines.contains("alarms[0].channel: device \"b1\" (profile bat) has no channel \"Temperature\""))
        #expect(lines.contains("alarms[1].channel: no device \"zz\" in this config"))
        #expect(lines.count == 9)
    }

    @Test func reportsUnknownProfilesAndPollGroupChannels() throws {
        let c = try config("[]", devices: #"[{"device_id": "b1", "profile": "batt"}, {"device_id": "b2", "profile": "bat", "poll_groups": {"fast": ["Soc", "Volts"]}}]"#)
        let error = #expect(throws: ValidationError.self) { try ConfigValidator(classes: catalog(), profiles: profiles()).resolve(c) }
        let lines = error?.issues.map(\.description) ?? []
        #expect(lines.contains("devices[0].profile: unknown profile \"batt\" (did you mean \"bat\"?); profiles are looked up by their \"id\""))
        #expect(lines.contains("devices[1].poll_groups.fast[1]: profile \"bat\" has no channel \"Volts\""))
    }

    @Test func anAlarmOnATextChannelSaysWhyItCannotWork() throws {
        var all = try profiles()
        all["inv"] = try DeviceProfile(parsing: #"{"id": "inv", "driver": "SimulatedGridMeter", "channels": [{"name": "Serial", "type": "text"}, {"name": "P"}]}"#, file: "inv.json")
        let c = try config("[]", alarms: #"[{"id": "s", "channel": "i/Serial", "condition": ">", "threshold": 1}]"#,
                           devices: #"[{"device_id": "i", "profile": "inv", "poll_groups": {}}]"#)
        let error = #expect(throws: ValidationError.self) { try ConfigValidator(classes: catalog(), profiles: all).resolve(c) }
        #expect(error?.issues.map(\.description) == ["alarms[0].channel: i/Serial is a text channel (profile inv): the process image that controllers and alarms read carries numbers only, so it would never have a value here; its text shows in /channels, switchyard-edge status and the heartbeats"])
    }

    @Test func anEnabledControllerCannotUseADisabledDevice() throws {
        let c = try config(#"[{"id": "p", "class": "PeakShavingController", "parameters": {"threshold_watts": 1, "battery": "b1", "meter": "g"}}]"#,
                           devices: #"[{"device_id": "b1", "profile": "bat", "enabled": false}, {"device_id": "g", "profile": "meter"}]"#)
        let error = #expect(throws: ValidationError.self) { try ConfigValidator(classes: catalog(), profiles: profiles()).resolve(c) }
        #expect(error?.issues.map(\.description) == ["scheduler.controllers[0].parameters.battery: device \"b1\" is disabled (enabled: false); enable it or disable this controller"])
    }

    @Test func profilePollGroupsKeepTheirChannels() throws {
        let p = try DeviceProfile(parsing: #"{"id": "m", "driver": "SimulatedGridMeter", "channels": [{"name": "ActivePower", "standard": "meter.ActivePower"}, {"name": "Energy"}], "poll_groups": {"fast": {"interval_ms": 500, "channels": ["ActivePower"]}, "slow": {"interval_ms": "once", "channels": ["Energy"]}}}"#, file: nil)
        let c = try config("[]", devices: #"[{"device_id": "g", "profile": "m"}]"#)
        let r = try ConfigValidator(classes: catalog(), profiles: ["m": p]).resolve(c)
        #expect(r.devices[0].pollGroups.map(\.name) == ["fast", "slow"])
        #expect(r.devices[0].pollGroups.map(\.channels) == [["ActivePower"], ["Energy"]])
        #expect(r.devices[0].pollGroups.map(\.intervalMs) == [500, nil])
        #expect(throws: ValidationError.self) {
            try DeviceProfile(parsing: #"{"id": "m", "driver": "D", "channels": [], "poll_groups": {"fast": {"interval_ms": 5, "channels": ["Nope"]}}}"#, file: nil)
        }
    }

    @Test func refusesBadManifests() {
        let error = #expect(throws: ValidationError.self) {
            try PluginManifest(parsing: #"{"classes": [{"name": "A", "parameters": {"type": "object", "properties": {"x": {"type": "numbr", "minimum": "0"}}}}, {"name": "A"}]}"#)
        }
        let lines = error?.issues.map(\.description) ?? []
        #expect(lines.contains("classes[0].parameters.properties.x.type: must be one of \"object\", \"number\", \"integer\", \"string\", \"boolean\", \"array\"; got \"numbr\""))
        #expect(lines.contains("classes[0].parameters.properties.x.minimum: expected number, got string \"0\""))
        #expect(lines.contains("classes[1].name: class \"A\" is declared twice"))
        #expect(throws: ValidationError.self) { try PluginManifest(parsing: #"{"classes": []}"#) }
        #expect(throws: ValidationError.self) { try PluginManifest(parsing: #"{"klasses": []}"#) }
    }

    @Test func checksProfiles() {
        let error = #expect(throws: ValidationError.self) {
            try DeviceProfile(parsing: """
            {"id": "x", "driver": "D", "channels": [
              {"name": "P", "standard": "ess.ActivPower"},
              {"name": "S", "standard": "ess.SetActivePower"},
              {"name": "P", "unit": "W"},
              {"name": "a/b"}]}
            """, file: "x.json")
        }
        let lines = error?.issues.map(\.description) ?? []
        #expect(lines.contains("x.json: channels[0].standard: unknown standard channel \"ess.ActivPower\" (did you mean \"ess.ActivePower\"?)"))
        #expect(lines.contains("x.json: channels[1].access: ess.SetActivePower is a setpoint and must be writable"))
        #expect(lines.contains("x.json: channels[2].name: channel \"P\" is declared twice"))
        #expect(lines.contains { $0.hasPrefix("x.json: channels[3].name: \"a/b\" is not a valid channel name") })
    }
}
