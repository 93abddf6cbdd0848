import SwitchyardModbusIO
import SwitchyardModbusProfile
import SwitchyardPluginKit

/// Writes setpoints as the profile's write rules say: limits and step,
/// FC5/6 or FC15/16, write on change only, a minimum interval (a setpoint
/// that comes too soon is held and written when due, never dropped), and
/// read-back. Refusals are collected and thrown together, so the host
/// reports every one. A value changed by the step is logged at info with
/// the value asked and the value written (once per asked value, so a
/// controller repeating it every cycle does not fill the log); every write
/// is logged at debug, which a hand write's audit picks up.
struct SetpointWriter {
    var layout: PointLayout?
    /// Where the writer's lines go (the host log, attributed to the device).
    var log: (HostContext.LogLevel, String) -> Void = { _, _ in }
    /// Per point, the asked value whose rounding was logged last.
    private var roundingLogged: [String: Double] = [:]
    /// The last reading of each scale-factor point (writes need them).
    var scaleFactors: [String: Double?] = [:]
    private var last: [String: (deviceValue: Double, atNs: Int64)] = [:]
    private var pending: [String: Double] = [:]

    mutating func write(_ items: [(String, Double)], nowNs: Int64, link: Link, unit: Int, pauses: Link.Pauses) throws(PluginError) {
        var refusals: [String] = []
        for (name, value) in items {
            guard let point = layout?.byName[name] else {
                refusals.append("\(name): not a point of this device")
                continue
            }
            if let rule = point.write, rule.minIntervalMs > 0, let previous = last[name],
               nowNs - previous.atNs < Int64(rule.minIntervalMs) * 1_000_000 {
                pending[name] = value
                log(.debug, "\(name): \(PointCodec.describe(value)) held: min_interval_ms \(rule.minIntervalMs) since the last write has not passed")
                continue
            }
            if let refusal = try perform(point, value: value, nowNs: nowNs, link: link, unit: unit, pauses: pauses) { refusals.append(refusal) }
            // Done with (written, skipped or refused and reported); an I/O
            // failure above keeps it held for the next connection.
            pending[name] = nil
        }
        if !refusals.isEmpty { throw PluginError.invalid(refusals.joined(separator: "; ")) }
    }

    /// After a reconnect: nothing is known to be on the device any more, so
    /// `on_change_only` writes the next value again. Held values stay held.
    mutating func forgetWritten() {
        for name in last.keys { last[name]?.deviceValue = .nan }
    }

    /// Writes held setpoints whose interval has passed.
    mutating func flushDue(nowNs: Int64, link: Link, unit: Int, pauses: Link.Pauses) throws(PluginError) {
        guard !pending.isEmpty else { return }
        let due = pending.filter { name, _ in
            guard let p = layout?.byName[name], let rule = p.write, let previous = last[name] else { return true }
            return nowNs - previous.atNs >= Int64(rule.minIntervalMs) * 1_000_000
        }
        if !due.isEmpty { try write(due.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, nowNs: nowNs, link: link, unit: unit, pauses: pauses) }
    }

    /// Writes one setpoint; a refusal comes back as its message, I/O failures throw.
    private mutating func perform(_ point: ModbusPoint, value: Double, nowNs: Int64, link: Link, unit: Int, pauses: Link.Pauses) throws(PluginError) -> String? {
        var sf: Double?
        if case .point(let sfName) = point.scale { sf = scaleFactors[sfName] ?? nil }
        let prepared: PreparedWrite
        switch PointCodec.prepareWrite(point, value: value, scaleFactor: sf) {
        case .success(let p): prepared = p
        case .failure(let refusal): return refusal.description
        }
        guard let rule = point.write else { return "\(point.name): is read-only" }
        if rule.onChangeOnly, last[point.name]?.deviceValue == prepared.deviceValue {
            log(.debug, "\(point.name): \(PointCodec.describe(prepared.deviceValue)) is on the device already (on_change_only): not written again")
            return nil
        }
        do {
            try link.perform(unit: unit, pauses: pauses) { c throws(ModbusConnection.Failure) in
                switch point.table {
                case .coil:
                    try c.writeCoils(address: point.address, values: [prepared.registers[0] != 0], single: rule.function == .single)
                case .holding_register where point.type == .bit:
                    // One bit of a register: read, change the bit, write back.
                    var word = try c.readRegisters(address: point.address, count: 1)[0]
                    let mask = UInt16(1) << UInt16(point.bit)
                    word = prepared.registers[0] != 0 ? word | mask : word & ~mask
                    try c.writeRegisters(address: point.address, values: [word], single: rule.function == .single)
                default:
                    try c.writeRegisters(address: point.address, values: prepared.registers, single: rule.function == .single)
                }
            }
        } catch {
            if error.failsDevice { throw PluginError(failing: .init(kind: error.kind, message: "\(point.name): \(error.message)")) }
            return "\(point.name): the device refused \(PointCodec.describe(prepared.deviceValue)): \(error.message)"
        }
        last[point.name] = (prepared.deviceValue, nowNs)
        logWritten(point, asked: value, rule: rule, written: prepared.deviceValue)
        guard rule.readBack else { return nil }
        do {
            let words = try link.perform(unit: unit, pauses: pauses) { c throws(ModbusConnection.Failure) in
                point.table == .coil ? try c.readBits(address: point.address, count: 1) : try c.readRegisters(address: point.address, count: point.count)
            }
            let reading = PointCodec.decode(point, words: words[...], scaleFactor: sf.map { PointReading(value: $0) })
            let expected = point.inverted ? -prepared.deviceValue : prepared.deviceValue
            let tolerance = max(rule.step.map { $0 / 2 } ?? 0, abs(expected) * 1e-6, 1e-9)
            guard let got = reading.value, abs(got - expected) <= tolerance else {
                last[point.name] = nil
                return "\(point.name): wrote \(PointCodec.describe(expected)) but read back \(reading)"
            }
        } catch {
            if error.failsDevice { throw PluginError(failing: .init(kind: error.kind, message: "\(point.name): read-back: \(error.message)")) }
            return "\(point.name): read-back failed: \(error.message)"
        }
        return nil
    }

    /// Says what was written. `asked` is in the channel's sign, `written`
    /// in the device's (the sign rule applied, then rounded to the step).
    private mutating func logWritten(_ point: ModbusPoint, asked: Double, rule: ModbusPoint.WriteRule, written: Double) {
        let deviceAsked = point.inverted ? -asked : asked
        let text = "\(point.name): asked \(PointCodec.describe(asked)), wrote \(PointCodec.describe(written))"
        guard deviceAsked != written, let step = rule.step else {
            roundingLogged[point.name] = nil
            log(.debug, text + (point.inverted ? " (sign inverted for the device)" : ""))
            return
        }
        let origin = PointCodec.describe(rule.min ?? 0)
        let detail = text + " (rounded to the step of \(PointCodec.describe(step)) counted from \(origin); a tie rounds away from \(origin))"
        if roundingLogged[point.name] == asked {
            log(.debug, detail)
        } else {
            roundingLogged[point.name] = asked
            log(.info, detail)
        }
    }
}
