import Testing
import SwitchyardJSON
import SwitchyardModel

/// The example document of spec 000, exactly as written there.
let specExample = """
{
  "version": 42,
  "timestamp": "2026-02-15T10:30:00Z",
  "edge_id": "site1_edge_prod",
  "core_cycle": {
    "period_ms": 1000,
    "supervisor": {
      "overrun_alert_threshold": 2,
      "auto_recovery": true
    }
  },
  "scheduler": {
    "controllers": [
      {
        "id": "ctrlBalancing0",
        "class": "BalancingController",
        "enabled": true,
        "execution_order": 1,
        "parameters": {
          "target_grid_power": 0,
          "priority": "self_consumption"
        }
      },
      {
        "id": "ctrlPeakShaving0",
        "class": "PeakShavingController",
        "enabled": true,
        "execution_order": 2,
        "parameters": {
          "threshold_watts": 50000,
          "recharge_enabled": true
        }
      }
    ]
  },
  "modbus_devices": [
    {
      "device_id": "bms_main",
      "profile": "tesla_powerwall_2",
      "connection": {
        "protocol": "tcp",
        "host": "192.168.1.100",
        "port": 502,
        "unit_id": 1
      },
      "poll_groups": {
        "fast": ["ActivePower", "Soc"],
        "slow": ["Temperature", "Cycles"]
      }
    },
    {
      "device_id": "inverter_pv",
      "profile": "sma_sunny_tripower",
      "connection": {
        "protocol": "tcp",
        "host": "192.168.1.101",
        "port": 502,
        "unit_id": 2
      }
    }
  ],
  "alarms": [
    {
      "id": "alarm_soc_low",
      "channel": "bms_main/Soc",
      "condition": "<",
      "threshold": 20,
      "severity": "warning",
      "notification": ["email", "dashboard"]
    }
  ]
}
"""

@Suite struct ConfigTests {
    @Test func readsTheSpecExampleAsWritten() throws {
        let c = try EdgeConfig(parsing: specExample, file: "spec.json")
        #expect(c.version == 42)
        #expect(c.edgeId == "site1_edge_prod")
        #expect(c.coreCycle.periodMs == 1000)
        #expect(c.coreCycle.supervisor.overrunAlertThreshold == 2)
        #expect(c.coreCycle.supervisor.autoRecovery)
        #expect(c.executionPlan.map(\.id) == ["ctrlBalancing0", "ctrlPeakShaving0"])
        #expect(c.controllers[1].parameters["threshold_watts"] == 50000)
        #expect(c.devices.map(\.deviceId) == ["bms_main", "inverter_pv"])
        #expect(c.devices[0].pollGroups["fast"] == ["ActivePower", "Soc"])
        #expect(c.alarms[0].condition == .less)
        #expect(c.alarms[0].notification == ["email", "dashboard"])
    }

    @Test func reportsEveryProblemWithFileAndPath() throws {
        let text = """
        {"version": -1, "edge_id": "e", "core_cycle": {"period_ms": "fast", "supervisor": {"overrun_alert_treshold": 2}},
         "scheduler": {"controllers": [{"id": "a", "class": "X"}, {"id": "a", "class": "Y", "execution_order": 1.5}]},
         "devices": [{"device_id": "d/1", "profile": "p"}],
         "alarms": [{"id": "x", "channel": "nodevice", "condition": "=>", "threshold": 1}],
         "extra": true}
        """
        let error = #expect(throws: ValidationError.self) { try EdgeConfig(parsing: text, file: "site.json") }
        let lines = Set(error?.issues.map(\.description) ?? [])
        #expect(lines.contains("site.json: version: must be >= 0, got -1"))
        #expect(lines.contains("site.json: core_cycle.period_ms: expected integer, got string \"fast\""))
        #expect(lines.contains("site.json: core_cycle.supervisor.overrun_alert_treshold: unknown field \"overrun_alert_treshold\" (did you mean \"overrun_alert_threshold\"?)"))
        #expect(lines.contains("site.json: scheduler.controllers[1].execution_order: expected integer, got number 1.5"))
        #expect(lines.contains("site.json: scheduler.controllers[1]: controller id \"a\" is already used at scheduler.controllers[0]"))
        #expect(lines.contains("site.json: devices[0].device_id: must not contain '/' (it separates device and channel)"))
        #expect(lines.contains("site.json: alarms[0].condition: must be one of \"<\", \"<=\", \">\", \">=\", \"==\", \"!=\"; got \"=>\""))
        #expect(lines.contains("site.json: alarms[0].channel: must be \"device_id/Channel\", got \"nodevice\""))
        #expect(lines.contains("site.json: extra: unknown field \"extra\""))
    }

    @Test func nullIsNotAnId() {
        let error = #expect(throws: ValidationError.self) {
            try EdgeConfig(parsing: #"{"version": 1, "edge_id": "e", "scheduler": {"controllers": [{"id": null, "class": "K"}]}}"#, file: nil)
        }
        #expect(error?.issues.map(\.description) == ["scheduler.controllers[0].id: is required (got null)"])
    }

    @Test func syntaxErrorsNameTheFile() {
        let error = #expect(throws: ValidationError.self) { try EdgeConfig(parsing: "{\"version\": 1,", file: "broken.json") }
        #expect(error?.description.hasPrefix("broken.json: invalid JSON at line 1, column 15") == true)
    }

    @Test func executionPlanOrdersEnabledControllersStably() throws {
        let c = try EdgeConfig(json: [
            "version": 1, "edge_id": "e",
            "scheduler": ["controllers": [
                ["id": "c", "class": "K", "execution_order": 2],
                ["id": "a", "class": "K", "execution_order": 1],
                ["id": "off", "class": "K", "execution_order": 0, "enabled": false],
                ["id": "b", "class": "K", "execution_order": 2],
            ]],
        ])
        #expect(c.executionPlan.map(\.id) == ["a", "c", "b"])
    }
}
