import SwitchyardHost

/// The host's state in the Prometheus text exposition format (version 0.0.4).
public enum PrometheusText {
    public static func render(_ s: HostStatus) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
            let l = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
            out += "\(name)\(l) \(format(value))\n"
        }
        let st = s.statistics
        family("switchyard_config_version", "gauge", "Version of the running config.")
        sample("switchyard_config_version", [("edge_id", s.edgeId ?? "")], Double(s.configVersion ?? 0))
        family("switchyard_cycles_total", "counter", "Core cycles run.")
        sample("switchyard_cycles_total", [], Double(st.cycles))
        family("switchyard_cycle_overruns_total", "counter", "Cycles whose work took longer than the period.")
        sample("switchyard_cycle_overruns_total", [], Double(st.overruns))
        family("switchyard_cycle_missed_total", "counter", "Cycle deadlines skipped because the cycle was more than a period late.")
        sample("switchyard_cycle_missed_total", [], Double(st.missedCycles))
        family("switchyard_cycle_period_seconds", "gauge", "Configured cycle period.")
        sample("switchyard_cycle_period_seconds", [], Double(st.periodNs) / 1e9)
        for (name, h, help) in [("switchyard_cycle_work_seconds", st.work, "Work of a cycle."),
                                ("switchyard_cycle_lateness_seconds", st.lateness, "Lateness of cycle starts.")] {
            family(name, "summary", help)
            for q in [0.5, 0.9, 0.99] { sample(name, [("quantile", format(q))], Double(h.percentile(q)) / 1e9) }
            sample(name + "_sum", [], Double(h.sumNs) / 1e9)
            sample(name + "_count", [], Double(h.count))
        }
        family("switchyard_controller_up", "gauge", "1 while a controller runs, 0 while the supervisor has it disabled.")
        for c in s.controllers { sample("switchyard_controller_up", [("controller", c.id), ("class", c.className)], c.state == .running ? 1 : 0) }
        family("switchyard_controller_failures_total", "counter", "Failed executions of a controller.")
        for c in s.controllers { sample("switchyard_controller_failures_total", [("controller", c.id)], Double(c.totalFailures)) }
        family("switchyard_device_up", "gauge", "1 while a device's last poll succeeded (state running).")
        for d in s.devices { sample("switchyard_device_up", [("device", d.deviceId), ("profile", d.profile)], d.state == .running ? 1 : 0) }
        family("switchyard_device_polls_total", "counter", "Polls of a device.")
        for d in s.devices { sample("switchyard_device_polls_total", [("device", d.deviceId)], Double(d.polls)) }
        family("switchyard_device_poll_failures_total", "counter", "Failed polls of a device.")
        for d in s.devices { sample("switchyard_device_poll_failures_total", [("device", d.deviceId)], Double(d.pollFailures)) }
        family("switchyard_device_connects_total", "counter", "Successful connects (driver starts) of a device.")
        for d in s.devices { sample("switchyard_device_connects_total", [("device", d.deviceId)], Double(d.connects)) }
        family("switchyard_device_consecutive_failures", "gauge", "Failed attempts (connects or polls) since the device's last successful poll.")
        for d in s.devices { sample("switchyard_device_consecutive_failures", [("device", d.deviceId)], Double(d.consecutiveFailures)) }
        family("switchyard_device_writes_total", "counter", "Setpoint deliveries the driver took.")
        for d in s.devices { sample("switchyard_device_writes_total", [("device", d.deviceId)], Double(d.writes)) }
        family("switchyard_device_writes_refused_total", "counter", "Setpoint deliveries refused by the write rules or the device.")
        for d in s.devices { sample("switchyard_device_writes_refused_total", [("device", d.deviceId)], Double(d.writesRefused)) }
        family("switchyard_device_write_failures_total", "counter", "Setpoint deliveries that failed on I/O.")
        for d in s.devices { sample("switchyard_device_write_failures_total", [("device", d.deviceId)], Double(d.writeFailures)) }
        family("switchyard_alarm_active", "gauge", "1 for every active alarm.")
        for a in s.activeAlarms { sample("switchyard_alarm_active", [("alarm", a)], 1) }
        family("switchyard_plugin_info", "gauge", "Loaded plugins and their versions.")
        for p in s.plugins { sample("switchyard_plugin_info", [("plugin", p.id), ("version", p.version), ("kind", p.kind.rawValue)], 1) }
        return out
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.rounded() == v && abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
