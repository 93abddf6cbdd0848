import SwitchyardJSON

/// `switchyard-edge status` for people: the status document as a few lines,
/// and under each device the table of its channels (`GET /channels`).
public enum EdgeStatusText {
    public static func render(_ doc: JSONValue, channels: JSONValue? = nil) -> String {
        func text(_ v: JSONValue?) -> String {
            switch v {
            case .string(let s)?: s
            case .number(let n)?: JSONValue.format((n * 1000).rounded() / 1000)
            case .bool(let b)?: b ? "yes" : "no"
            default: "-"
            }
        }
        let cycle = doc["cycle"]
        var lines = [
            "edge \(text(doc["edge_id"]))  config version \(text(doc["config_version"]))  generation \(text(doc["generation"]))  period \(text(doc["period_ms"])) ms",
            "cycles \(text(cycle?["cycles"]))  overruns \(text(cycle?["overruns"]))  missed \(text(cycle?["missed"]))  work p99 \(text(cycle?["work_ms"]?["p99"])) ms  lateness p99 \(text(cycle?["lateness_ms"]?["p99"])) ms",
        ]
        if case .string(let e)? = doc["last_apply_error"] { lines.append("last refused change: \(e)") }
        for p in doc["plugins"]?.arrayValue ?? [] { lines.append("plugin     \(text(p["id"])) \(text(p["version"]))  \(text(p["kind"]))") }
        for d in doc["devices"]?.arrayValue ?? [] {
            lines.append("device     \(text(d["device_id"]))  \(text(d["state"]))  polls \(text(d["polls"]))  failures \(text(d["poll_failures"]))"
                + "  writes \(text(d["writes"])) refused \(text(d["writes_refused"])) failed \(text(d["write_failures"]))"
                + (d["backoff_ms"]?.numberValue.map { "  next try in \(Int($0)) ms" } ?? "")
                + (d["last_error"]?.stringValue.map { "  error: \($0)" } ?? "")
                + (d["last_error"]?.stringValue == nil ? (d["last_failure"]?["message"]?.stringValue.map { "  last failure \(text(d["last_failure"]?["at"])): \($0)" } ?? "") : "")
                + (d["last_write_error"]?.stringValue.map { "  last write error: \($0)" } ?? ""))
            for (key, value) in (d["diagnostics"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                lines.append("             \(key): \(text(value))")
            }
            if let id = d["device_id"]?.stringValue {
                lines += table((channels?.arrayValue ?? []).filter { $0["device_id"]?.stringValue == id })
            }
        }
        for c in doc["controllers"]?.arrayValue ?? [] {
            lines.append("controller \(text(c["id"]))  \(text(c["class"])) \(text(c["plugin_version"]))  \(text(c["state"]))  failures \(text(c["total_failures"]))" + (c["last_error"]?.stringValue.map { "  last error: \($0)" } ?? ""))
        }
        if let sync = doc["sync"] {
            let ws = text(sync["websocket"])
            let reachable = sync["reachable"].map { $0 == .bool(true) ? "reachable" : $0 == .bool(false) ? "unreachable" : "not tried yet" } ?? "-"
            lines.append("sync       \(text(sync["server"]))  \(reachable)  websocket \(ws)  running \(text(sync["running_version"]))  last confirmed \(text(sync["last_confirmed"]))  state \(text(sync["state"]))"
                + (sync["probation_version"]?.numberValue.map { "  probation \(JSONValue.format($0))" } ?? ""))
            if case .string(let e)? = sync["last_error"] { lines.append("sync error \(e)") }
            let syncAlarms = sync["alarms"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if !syncAlarms.isEmpty { lines.append("sync alarm " + syncAlarms.joined(separator: ", ")) }
        }
        let alarms = doc["alarms"]?["active"]?.arrayValue?.compactMap(\.stringValue) ?? []
        lines.append("alarms     " + (alarms.isEmpty ? "none active" : alarms.joined(separator: ", ")))
        return lines.joined(separator: "\n")
    }

    /// One device's channels: name, value (with its label, or the text in
    /// quotes), unit, quality; columns as wide as their longest entry.
    static func table(_ channels: [JSONValue]) -> [String] {
        let rows: [[String]] = channels.map { c in
            let number = c["value"]?.numberValue.map { JSONValue.format(($0 * 1000).rounded() / 1000) }
            let text = c["text"]?.stringValue
            let value: String = switch (number, text, c["type"]?.stringValue) {
            case (_, let t?, "text"?): "\"\(t)\""
            case (let n?, let t?, _): "\(n) (\(t))"
            case (let n?, nil, _): n
            default: "-"
            }
            return [c["name"]?.stringValue ?? "?", value, c["unit"]?.stringValue ?? "", c["quality"]?.stringValue ?? "-"]
        }
        guard !rows.isEmpty else { return [] }
        let widths = (0..<3).map { i in rows.map { $0[i].count }.max() ?? 0 }
        return rows.map { r in
            "             " + (0..<3).map { i in r[i] + String(repeating: " ", count: widths[i] - r[i].count) }.joined(separator: "  ") + "  " + r[3]
        }
    }
}
