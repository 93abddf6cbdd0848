import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel

/// The JSON shapes of the local status port.
enum StatusDocument {
    static func status(_ s: HostStatus, sync: JSONValue? = nil) -> JSONValue {
        let st = s.statistics
        func ms(_ ns: Int64) -> JSONValue { .number(Double(ns) / 1e6) }
        var doc: [String: JSONValue] = [
            "edge_id": s.edgeId.map(JSONValue.string) ?? .null,
            "config_version": s.configVersion.map { .number(Double($0)) } ?? .null,
            "generation": .number(Double(s.generation)),
            "period_ms": s.periodMs.map { .number(Double($0)) } ?? .null,
            "last_apply_error": s.lastApplyError.map(JSONValue.string) ?? .null,
            "cycle": [
                "cycles": .number(Double(st.cycles)),
                "overruns": .number(Double(st.overruns)),
                "missed": .number(Double(st.missedCycles)),
                "overrun_alert_active": .bool(st.overrunAlertActive),
                "work_ms": ["last": ms(st.lastWorkNs), "mean": ms(st.work.meanNs), "p50": ms(st.work.percentile(0.5)),
                            "p99": ms(st.work.percentile(0.99)), "max": ms(st.work.maxNs)],
                "lateness_ms": ["p50": ms(st.lateness.percentile(0.5)), "p99": ms(st.lateness.percentile(0.99)), "max": ms(st.lateness.maxNs)],
            ],
            "plugins": .array(s.plugins.map { p in
                ["id": .string(p.id), "version": .string(p.version), "kind": .string(p.kind.rawValue), "file": .string(p.path),
                 "loaded_from": .string(p.loadedFrom), "classes": .array(p.classes.map(JSONValue.string))]
            }),
            "devices": .array(s.devices.map { d in
                ["device_id": .string(d.deviceId), "profile": .string(d.profile), "plugin": .string(d.plugin), "state": .string(d.state.rawValue),
                 "polls": .number(Double(d.polls)), "poll_failures": .number(Double(d.pollFailures)), "writes": .number(Double(d.writes)),
                 "writes_refused": .number(Double(d.writesRefused)), "write_failures": .number(Double(d.writeFailures)),
                 "reconnects": .number(Double(d.reconnects)),
                 "last_error": d.lastError.map(JSONValue.string) ?? .null, "last_write_error": d.lastWriteError.map(JSONValue.string) ?? .null,
                 "last_write_failure": d.lastWriteFailure.map { ["message": .string($0.message), "at": .string(utcText($0.wallClockNs))] } ?? .null,
                 "connects": .number(Double(d.connects)), "consecutive_failures": .number(Double(d.consecutiveFailures)),
                 "last_failure": d.lastFailure.map { ["message": .string($0.message), "at": .string(utcText($0.wallClockNs))] } ?? .null,
                 "backoff_ms": d.backoffMs.map { .number(Double($0)) } ?? .null,
                 "diagnostics": .object(d.diagnostics.mapValues(JSONValue.string))]
            }),
            "controllers": .array(s.controllers.map { c in
                ["id": .string(c.id), "class": .string(c.className), "plugin": .string(c.plugin), "plugin_version": .string(c.pluginVersion),
                 "execution_order": .number(Double(c.executionOrder)), "state": .string(c.state.rawValue),
                 "consecutive_failures": .number(Double(c.consecutiveFailures)), "total_failures": .number(Double(c.totalFailures)),
                 "times_disabled": .number(Double(c.timesDisabled)), "last_error": c.lastError.map(JSONValue.string) ?? .null]
            }),
            "alarms": ["active": .array(s.activeAlarms.map(JSONValue.string))],
        ]
        if let sync { doc["sync"] = sync }
        return .object(doc)
    }

    /// `GET /channels`: every channel of the running config, in the order
    /// the devices registered them (docs/configuration.md section 11).
    static func channels(_ host: EdgeHost) -> JSONValue {
        let states = Dictionary(host.status().devices.map { ($0.deviceId, $0.state.rawValue) }, uniquingKeysWith: { a, _ in a })
        return .array(host.channels.compactMap { c in
            // A channel of a device the running config no longer has.
            guard let r = host.reading(c.address) else { return nil }
            return ["address": .string(c.address), "device_id": .string(c.deviceId), "name": .string(c.name),
                    "standard": c.standard.map(JSONValue.string) ?? .null, "unit": c.unit.map(JSONValue.string) ?? .null,
                    "type": .string(c.isText ? "text" : "number"), "writable": .bool(c.writable),
                    "value": r.value.flatMap { $0.isFinite ? JSONValue.number($0) : nil } ?? .null,
                    "text": r.text.map(JSONValue.string) ?? .null,
                    "quality": .string(r.quality.jsonName),
                    "device_state": states[c.deviceId].map(JSONValue.string) ?? .null]
        })
    }
}

/// RFC 3339 UTC time of a wall-clock reading (ns since the epoch), to the second.
func utcText(_ wallClockNs: Int64) -> String { UTCTime.iso8601(wallClockNs / 1_000_000_000) }
