#if canImport(Glibc)
import Glibc
#endif
import SwitchyardJSON
import SwitchyardModel

/// The one-line picture of a site that `switchyard-edge run` prints every
/// second: grid, PV, battery power, SoC (each only if the site has such a
/// device), cycle time, active alarms.
public struct ConsoleLine {
    public init() {}

    /// The first meter, battery and PV of the channels the host knows,
    /// looked up at each line: the running config may have changed since
    /// the last one (a synced edge gets its devices only when its first
    /// config arrives).
    public func render(_ host: EdgeHost) -> String {
        let channels = host.channels
        func first(_ standard: String) -> String? {
            channels.first { $0.standard == standard }.map { "\($0.deviceId)/\(standard)" }
        }
        let grid = first("meter.ActivePower")
        let battery = first("ess.ActivePower").map { String($0.prefix { $0 != "/" }) }
        let pv = first("pv.ActivePower")
        func watts(_ address: String?) -> String {
            guard let address, let r = host.reading(address) else { return "      -  " }
            guard let v = r.value, r.quality == .good else { return "  (\(r.quality))" }
            return pad(fixed(v, 0), 7) + " W"
        }
        let status = host.status()
        var line = clockText()
        // A site without a meter or PV has nothing to show there: no
        // placeholder, which read as "the meter is not answering".
        if let grid { line += "  grid " + watts(grid) }
        if let pv { line += "  pv " + watts(pv) }
        if let battery {
            line += "  battery " + watts(battery + "/ess.ActivePower")
            if let soc = host.reading(battery + "/ess.Soc"), let v = soc.value {
                line += "  SoC " + pad(fixed(v, 2), 6) + " %"
            }
        }
        let s = status.statistics
        line += "  cycle " + fixed(Double(s.lastWorkNs) / 1e6, 3) + " ms (p99 " + fixed(Double(s.work.percentile(0.99)) / 1e6, 3) + ")"
        if s.overruns > 0 { line += "  overruns \(s.overruns)" }
        let disabled = status.controllers.filter { $0.state == .disabled }.map(\.id)
        if !disabled.isEmpty { line += "  DISABLED " + disabled.joined(separator: ",") }
        if !status.activeAlarms.isEmpty { line += "  ALARM " + status.activeAlarms.joined(separator: ",") }
        return line
    }

    private func clockText() -> String {
        var t = time(nil)
        var parts = tm()
        localtime_r(&t, &parts)
        return [parts.tm_hour, parts.tm_min, parts.tm_sec].map { pad(String($0), 2, with: "0") }.joined(separator: ":")
    }
}

func pad(_ s: String, _ width: Int, with fill: Character = " ") -> String {
    s.count >= width ? s : String(repeating: fill, count: width - s.count) + s
}

/// `v` with `digits` decimals, without Foundation's String(format:).
/// Used for the console line, log lines and the benchmark's figures. Never
/// traps: a value too large for its decimals to mean anything (a device may
/// publish 1e308) is written in the shortest form instead.
public func fixed(_ v: Double, _ digits: Int) -> String {
    guard v.isFinite else { return "\(v)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(v) * scale).rounded()
    guard scaled < 9e15 else { return JSONValue.format(v) }
    let whole = Int64(scaled / scale)
    let fraction = Int64(scaled) - whole * Int64(scale)
    let sign = v < 0 && scaled != 0 ? "-" : ""
    return digits == 0 ? sign + String(whole) : sign + String(whole) + "." + pad(String(fraction), digits, with: "0")
}
