import Logging
import SwitchyardModel

/// Where the edge finds its plugins and profiles, and loading them.
public struct EdgeSetup: Sendable {
    public var pluginDirectories: [String]
    public var profileDirectories: [String]

    /// Plugins: the folder of the running executable, where the build puts
    /// them. Profiles: `./DeviceProfiles`.
    public static var defaultPluginDirectories: [String] { [FileSystem.executableDirectory()] }
    public static let defaultProfileDirectories = ["DeviceProfiles"]

    public init(pluginDirectories: [String] = [], profileDirectories: [String] = []) {
        self.pluginDirectories = pluginDirectories.isEmpty ? Self.defaultPluginDirectories : pluginDirectories
        self.profileDirectories = profileDirectories.isEmpty ? Self.defaultProfileDirectories : profileDirectories
    }

    /// Loads both catalogs; problems with single files are in their `errors`.
    /// With `pluginCacheDirectory`, plugins are mapped from copies there.
    public func load(pluginCacheDirectory: String? = nil) throws(HostError) -> (PluginCatalog, ProfileCatalog) {
        for d in pluginDirectories where !FileSystem.isDirectory(d) {
            throw HostError(.invalidConfig, "\(d): no such plugin folder (give the folder with --plugins DIR; "
                + "without it the folder of the running executable is used)")
        }
        for d in profileDirectories where !FileSystem.isDirectory(d) {
            throw HostError(.invalidConfig, "\(d): no such profile folder (give the folder with --profiles DIR; "
                + "without it ./DeviceProfiles in the working directory is used)")
        }
        return (PluginCatalog.load(directories: pluginDirectories, cacheDirectory: pluginCacheDirectory),
                ProfileCatalog.load(directories: profileDirectories))
    }

    /// Reads and parses a config file.
    public static func readConfig(_ path: String) throws -> EdgeConfig {
        let text: String
        do { text = try FileSystem.readText(path) } catch { throw HostError(.invalidConfig, error.description) }
        return try EdgeConfig(parsing: text, file: path)
    }
}

/// The site `make run` starts when no config is given: a battery, PV, a house
/// load and the grid meter, all simulated, with peak shaving and balancing.
/// The same document is in examples/simulated-site.json (a test keeps them equal).
public enum DemoSite {
    public static let configText = """
    {
      "version": 1,
      "timestamp": "2026-11-23T00:00:00Z",
      "edge_id": "demo_edge",
      "core_cycle": {
        "period_ms": 1000,
        "supervisor": { "overrun_alert_threshold": 2, "auto_recovery": true }
      },
      "scheduler": {
        "controllers": [
          {
            "id": "ctrlPeakShaving0",
            "class": "PeakShavingController",
            "enabled": true,
            "execution_order": 1,
            "parameters": {
              "threshold_watts": 6000,
              "recharge_enabled": false,
              "battery": "battery",
              "meter": "grid"
            }
          },
          {
            "id": "ctrlBalancing0",
            "class": "BalancingController",
            "enabled": true,
            "execution_order": 2,
            "parameters": {
              "target_grid_power": 0,
              "priority": "self_consumption",
              "battery": "battery",
              "meter": "grid",
              "min_soc": 20
            }
          }
        ]
      },
      "devices": [
        { "device_id": "battery", "profile": "simulated_battery",
          "parameters": { "capacity_wh": 13500, "initial_soc": 60, "max_charge_w": 5000, "max_discharge_w": 5000 } },
        { "device_id": "pv", "profile": "simulated_pv", "parameters": { "peak_w": 8000 } },
        { "device_id": "house", "profile": "simulated_load" },
        { "device_id": "grid", "profile": "simulated_grid_meter" }
      ],
      "alarms": [
        { "id": "alarm_soc_low", "channel": "battery/Soc", "condition": "<", "threshold": 20,
          "severity": "warning", "notification": ["dashboard"], "hysteresis": 2 },
        { "id": "alarm_grid_peak", "channel": "grid/ActivePower", "condition": ">", "threshold": 6500,
          "severity": "critical", "notification": ["email", "dashboard"], "hysteresis": 200 }
      ]
    }
    """

    public static func config() -> EdgeConfig {
        // The embedded document is tested; failing here is a build defect.
        do { return try EdgeConfig(parsing: configText, file: "embedded demo site") } catch { fatalError("\(error)") }
    }
}
