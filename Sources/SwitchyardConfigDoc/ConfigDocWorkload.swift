import SwitchyardJSON

/// A synthetic, realistic config split into four layers, for benchmarks and
/// tests: an organization layer with the core cycle, controllers and alarms;
/// a group layer that tunes some of them; a site layer with the Modbus
/// devices; an edge layer with a few exceptions (one device moved, one
/// alarm deleted). With the defaults the effective document is about 50 KB.
///
/// Deterministic: the same arguments always give the same documents.
public struct ConfigDocWorkload: Sendable {
    public let layers: [ConfigLayer]

    public init(devices: Int = 100, controllers: Int = 20, alarms: Int = 40) {
        let organization: JSONValue = .object([
            "core_cycle": ["period_ms": 1000, "supervisor": ["overrun_alert_threshold": 2, "auto_recovery": true]],
            "scheduler": .object(["controllers": .array((0..<controllers).map(ConfigDocWorkload.controller))]),
            "alarms": .array((0..<alarms).map(ConfigDocWorkload.alarm)),
            "sync": ["interval_s": 300, "staged_apply": true],
        ])
        let group: JSONValue = .object([
            "scheduler": .object(["controllers": .array(stride(from: 0, to: controllers, by: 4).map { index in
                .object(["id": .string("ctrl\(index)"), "parameters": ["threshold_watts": .number(Double(48_000 + index))]])
            })]),
            "alarms": .array(stride(from: 0, to: alarms, by: 5).map { index in
                .object(["id": .string("alarm\(index)"), "severity": "critical"])
            }),
        ])
        let site: JSONValue = .object([
            "modbus_devices": .array((0..<devices).map(ConfigDocWorkload.device)),
            "site": ["timezone": "Europe/Berlin", "grid_limit_watts": 120_000],
        ])
        var edgeMembers: [String: JSONValue] = ["core_cycle": ["period_ms": 500]]
        if devices > 0 {
            edgeMembers["modbus_devices"] = [["device_id": "dev0", "connection": ["host": "192.168.7.10"]]]
        }
        if alarms > 1 {
            edgeMembers["alarms"] = [["id": "alarm1", "$delete": true]]
        }
        layers = [
            ConfigLayer(scope: .organization, id: "org-1", name: "Acme Energy", version: 12, document: organization),
            ConfigLayer(scope: .group, id: "grp-eu", name: "EU region", version: 3, document: group),
            ConfigLayer(scope: .site, id: "site-a", name: "Site A", version: 7, document: site),
            ConfigLayer(scope: .edge, id: "edge-a1", name: "Edge A1", version: 2, document: .object(edgeMembers)),
        ]
    }

    /// One round of a server's work for a change: merge the layers, hash the
    /// result, and diff it against `previous`. Returns the patch size in
    /// bytes, so that a benchmark's work cannot be optimized away.
    public func resolveDigestAndDiff(previous: JSONValue) throws(ConfigLayerError) -> Int {
        let document = try LayerMerge().effectiveDocument(of: layers)
        let digest = ConfigDigest(of: document)
        return JSONDiff.patch(from: previous, to: document).encodedSize + digest.bytes.count
    }

    static func controller(_ index: Int) -> JSONValue {
        .object([
            "id": .string("ctrl\(index)"),
            "class": index % 2 == 0 ? "PeakShavingController" : "BalancingController",
            "enabled": true,
            "execution_order": .number(Double(index + 1)),
            "parameters": [
                "threshold_watts": .number(Double(50_000 + 100 * index)),
                "recharge_enabled": true,
                "ramp_watts_per_s": 2000,
                "priority": "self_consumption",
            ],
        ])
    }

    static func alarm(_ index: Int) -> JSONValue {
        .object([
            "id": .string("alarm\(index)"),
            "source": .string("dev\(index % 10).temperature_c"),
            "condition": ["operator": ">", "threshold": .number(Double(60 + index % 15)), "for_s": 30],
            "severity": "warning",
            "notify": ["ops-team", "site-manager"],
        ])
    }

    static func device(_ index: Int) -> JSONValue {
        .object([
            "device_id": .string("dev\(index)"),
            "profile": index % 3 == 0 ? "tesla_powerwall_2" : "sma_sunny_tripower_10",
            "enabled": true,
            "connection": [
                "protocol": "tcp",
                "host": .string("10.0.\(index / 250).\(index % 250 + 1)"),
                "port": 502,
                "unit_id": .number(Double(index % 247 + 1)),
                "timeout_ms": 1000,
                "retries": 3,
            ],
            "polling": ["period_ms": 1000, "priority": index % 4 == 0 ? "high" : "normal"],
            "points": [
                ["name": "active_power_w", "register": .number(Double(30775 + index)), "scale": 1],
                ["name": "energy_wh", "register": .number(Double(30529 + index)), "scale": 1],
            ],
            "tags": ["pv", .string("feeder\(index % 5)")],
        ])
    }
}
