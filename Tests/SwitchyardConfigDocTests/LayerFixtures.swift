import SwitchyardConfigDoc
import SwitchyardJSON

/// Four small layers over the spec 000 document.
enum LayerFixtures {
    static func layer(_ scope: ConfigScope, _ id: String, _ text: String, version: Int = 1) throws -> ConfigLayer {
        ConfigLayer(scope: scope, id: id, name: id.uppercased(), version: version, document: try JSONValue(parsing: text))
    }

    static func organization() throws -> ConfigLayer {
        try layer(.organization, "acme", #"""
            {
              "core_cycle": {"period_ms": 1000, "supervisor": {"overrun_alert_threshold": 2, "auto_recovery": true}},
              "scheduler": {"controllers": [
                {"id": "ctrlBalancing0", "class": "BalancingController", "enabled": true, "execution_order": 1,
                 "parameters": {"target_grid_power": 0, "priority": "self_consumption"}},
                {"id": "ctrlPeakShaving0", "class": "PeakShavingController", "enabled": true, "execution_order": 2,
                 "parameters": {"threshold_watts": 50000, "recharge_enabled": true}}
              ]},
              "alarms": [{"id": "hot", "threshold": 70}, {"id": "cold", "threshold": -10}],
              "tags": ["fleet"]
            }
            """#, version: 12)
    }

    static func group() throws -> ConfigLayer {
        try layer(.group, "eu", #"""
            {"scheduler": {"controllers": [{"id": "ctrlPeakShaving0", "parameters": {"threshold_watts": 49000}}]}}
            """#, version: 3)
    }

    static func site() throws -> ConfigLayer {
        try layer(.site, "site-a", #"""
            {
              "core_cycle": {"supervisor": {"auto_recovery": null}},
              "scheduler": {"controllers": [{"id": "ctrlPeakShaving0", "parameters": {"threshold_watts": 48000}}]},
              "modbus_devices": [
                {"device_id": "bms_main", "profile": "tesla_powerwall_2", "connection": {"host": "192.168.1.100", "port": 502}},
                {"device_id": "meter", "profile": "eastron_sdm630", "connection": {"host": "192.168.1.101", "port": 502}},
                {"device_id": "pv", "profile": "sma_sunny_tripower_10", "connection": {"host": "192.168.1.102", "port": 502}}
              ],
              "tags": ["site-a", "pv"]
            }
            """#, version: 7)
    }

    static func edge() throws -> ConfigLayer {
        try layer(.edge, "edge-1", #"""
            {
              "core_cycle": {"period_ms": 500},
              "modbus_devices": [
                {"device_id": "pv", "connection": {"host": "10.0.0.9"}},
                {"device_id": "meter", "$delete": true},
                {"device_id": "ev", "profile": "abb_terra", "connection": {"host": "10.0.0.20", "port": 502}}
              ],
              "alarms": [{"id": "cold", "$delete": true}]
            }
            """#, version: 2)
    }

    static func all() throws -> [ConfigLayer] {
        [try organization(), try group(), try site(), try edge()]
    }
}
