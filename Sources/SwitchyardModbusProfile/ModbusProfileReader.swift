import SwitchyardJSON
import SwitchyardModel

/// Reads the Modbus sections of a profile (`transport`, `points`, SunSpec
/// model points) into values, recording every problem with its path.
public enum ModbusProfileReader {
    /// Reads `transport` (may be absent) at `path`.
    public static func transport(_ json: JSONValue?, at path: JSONPath, issues: IssueList) -> ModbusTransport {
        var t = ModbusTransport()
        guard let json, var r = ObjectReader(json, at: path, issues: issues) else { return t }
        t.defaultUnitId = r.integer("default_unit_id", min: 0, max: 255) ?? t.defaultUnitId
        t.maxRegistersPerRead = r.integer("max_registers_per_read", min: 1, max: 125) ?? t.maxRegistersPerRead
        t.delayAfterConnectMs = r.integer("delay_after_connect_ms", min: 0, max: 60_000) ?? 0
        t.delayBetweenRequestsMs = r.integer("delay_between_requests_ms", min: 0, max: 60_000) ?? 0
        t.delayOnUnitChangeMs = r.integer("delay_on_unit_change_ms", min: 0, max: 60_000) ?? 0
        t.timeoutMs = r.integer("timeout_ms", min: 1, max: 60_000) ?? t.timeoutMs
        for (name, ranges) in (r.objectMember("readable") ?? [:]).sorted(by: { $0.key < $1.key }) {
            let rp = path.appending("readable").appending(name)
            guard let table = RegisterTable(rawValue: name) else {
                issues.add(rp, "unknown table \"\(name)\" (coil, discrete_input, input_register, holding_register)")
                continue
            }
            guard let items = ranges.arrayValue else {
                issues.add(rp, "expected an array of [first, last] ranges, got \(ranges.typeName)")
                continue
            }
            for (i, item) in items.enumerated() {
                guard let pair = item.arrayValue, pair.count == 2, let a = pair[0].numberValue, let b = pair[1].numberValue,
                      a.isWholeNumber, b.isWholeNumber, a >= 0, b >= a, b <= 65535 else {
                    issues.add(rp.appending(index: i), "expected [first, last] protocol addresses (0…65535, first <= last)")
                    continue
                }
                t.readable[table, default: []].append(Int(a)...Int(b))
            }
        }
        r.rejectUnknownKeys()
        return t
    }

    /// Reads the `points` array at `path`. With `base` set, points are SunSpec
    /// model points: they give an `offset` from the model's data start
    /// instead of an `address`, and live in the holding registers.
    public static func points(_ json: JSONValue?, at path: JSONPath, issues: IssueList, base: Int? = nil) -> [ModbusPoint] {
        var out: [ModbusPoint] = []
        guard let items = json?.arrayValue else {
            if let json { issues.add(path, "expected array, got \(json.typeName)") }
            return out
        }
        for (i, item) in items.enumerated() {
            if let p = point(item, at: path.appending(index: i), issues: issues, base: base) { out.append(p) }
        }
        return out
    }

    static func point(_ item: JSONValue, at pp: JSONPath, issues: IssueList, base: Int?) -> ModbusPoint? {
        guard var r = ObjectReader(item, at: pp, issues: issues) else { return nil }
        let name = r.requiredString("name")
        let description = r.string("description")
        let table: RegisterTable
        let address: Int?
        if let base {
            table = .holding_register
            let offset = r.integer("offset", min: 0, max: 65535)
            if r.object["offset"] == nil { issues.add(pp.appending("offset"), "is required (registers from the start of the model's data)") }
            address = offset.map { base + $0 }
        } else {
            table = r.choice("table", RegisterTable.self) ?? .holding_register
            address = r.integer("address", min: 0, max: 65535)
            if r.object["address"] == nil { issues.add(pp.appending("address"), "is required (the 0-based protocol address, e.g. 30775, not 30776)") }
        }
        let type = r.choice("type", ValueType.self)
        if r.object["type"] == nil { issues.add(pp.appending("type"), "is required") }
        let length = r.integer("length", min: 1, max: 125)
        let bit = r.integer("bit", min: 0, max: 15) ?? 0
        let byteOrder = r.choice("byte_order", ByteOrder.self) ?? .big
        let wordOrder = r.choice("word_order", WordOrder.self) ?? .big
        let scale = readScale(r.value("scale"), at: pp.appending("scale"), issues: issues)
        // In a SunSpec model, `offset` places the point; elsewhere it is added after scaling.
        let offset = base == nil ? r.number("offset") ?? 0 : 0
        let unit = r.string("unit")
        let notAvailable = (r.array("not_available") ?? []).enumerated().compactMap { j, v -> UInt64? in
            guard let n = v.numberValue, n.isWholeNumber, n >= 0, n < 1.8446744073709552e19 else {
                issues.add(pp.appending("not_available").appending(index: j), "expected a raw register pattern (a non-negative integer, e.g. 32768)")
                return nil
            }
            return UInt64(n)
        }
        if notAvailable.count > 4 {
            issues.add(pp.appending("not_available"), "at most 4 patterns (a point has one or two in practice)")
        }
        var plausible: ClosedRange<Double>?
        if let range = r.array("range") {
            if range.count == 2, let a = range[0].numberValue, let b = range[1].numberValue, a <= b {
                plausible = a...b
            } else {
                issues.add(pp.appending("range"), "expected [min, max] with min <= max")
            }
        }
        let access = r.choice("access", ModbusPoint.Access.self) ?? .read
        let standard = r.string("channel")
        var inverted = false
        if let sign = r.string("sign") {
            if sign == "inverted" { inverted = true } else if sign != "standard" {
                issues.add(pp.appending("sign"), "expected \"inverted\" (the device counts the other way round from \(standard ?? "the standard channel")) or \"standard\"")
            }
        }
        let values = labels(r.value("values"), at: pp.appending("values"), issues: issues, what: "raw value", max: 4_294_967_295)
        let bits = labels(r.value("bits"), at: pp.appending("bits"), issues: issues, what: "bit number", max: 63)
        let isInternal = r.bool("internal") ?? false
        let group = r.string("group")
        let writeJSON = r.value("write")
        if r.bool("remove") == true {
            issues.add(pp.appending("remove"), "names no point of the profile this one extends (or the profile extends none)")
        }
        r.rejectUnknownKeys()
        guard let name, let address, let type else { return nil }

        var count = type.registerCount ?? 0
        if type == .string {
            guard let length else {
                issues.add(pp.appending("length"), "is required for a string (in registers)")
                return nil
            }
            count = length
        } else if length != nil {
            issues.add(pp.appending("length"), "applies to strings only")
        }
        if address + count - 1 > 65535 {
            issues.add(pp.appending(base == nil ? "address" : "offset"), "the point's \(count) registers would run past address 65535")
            return nil
        }
        let isBitTable = table.holdsBits
        if isBitTable && type != .bit {
            issues.add(pp.appending("type"), "a \(table.rawValue) holds bits: use type \"bit\"")
        }
        if type == .bit && bit > 0 && isBitTable {
            issues.add(pp.appending("bit"), "applies to bits of a register; a \(table.rawValue) address is one bit already")
        }
        if table == .discrete_input || table == .input_register, access.isWritable {
            issues.add(pp.appending("access"), "a \(table.rawValue) is read-only in Modbus")
        }
        if !values.isEmpty && ![.enum, .uint16, .uint32, .int16, .int32].contains(type) {
            issues.add(pp.appending("values"), "labels need an integer type (enum, uint16, uint32, int16, int32), not \(type.rawValue)")
        }
        if !bits.isEmpty && ![.bitfield, .uint16, .uint32, .uint64].contains(type) {
            issues.add(pp.appending("bits"), "bit labels need bitfield, uint16, uint32 or uint64, not \(type.rawValue)")
        }
        if access.isReadable && group == nil && !isInternal && base == nil {
            issues.add(pp.appending("group"), "is required for a readable point: the poll group that reads it")
        }
        var rule: ModbusPoint.WriteRule?
        if let writeJSON {
            if !access.isWritable { issues.add(pp.appending("write"), "the point is read-only (access \"\(access.rawValue)\")") }
            rule = writeRule(writeJSON, at: pp.appending("write"), count: count, issues: issues)
        } else if access.isWritable {
            rule = ModbusPoint.WriteRule(function: count == 1 ? .single : .multiple)
        }
        if access.isWritable && (type == .string) {
            issues.add(pp.appending("access"), "strings cannot be written as setpoints")
        }
        return ModbusPoint(name: name, description: description, table: table, address: address, type: type, count: count, bit: bit,
                           byteOrder: byteOrder, wordOrder: wordOrder, scale: scale, offset: offset, unit: unit,
                           notAvailable: notAvailable, plausible: plausible, access: access, standard: standard,
                           inverted: inverted, values: values, bits: bits, isInternal: isInternal, group: group,
                           write: rule, path: pp)
    }

    static func writeRule(_ json: JSONValue, at path: JSONPath, count: Int, issues: IssueList) -> ModbusPoint.WriteRule? {
        guard var r = ObjectReader(json, at: path, issues: issues) else { return nil }
        var rule = ModbusPoint.WriteRule(function: r.choice("function", ModbusPoint.WriteRule.Function.self) ?? (count == 1 ? .single : .multiple))
        rule.min = r.number("min")
        rule.max = r.number("max")
        rule.step = r.number("step")
        rule.readBack = r.bool("read_back") ?? false
        rule.minIntervalMs = r.integer("min_interval_ms", min: 0, max: 86_400_000) ?? 0
        rule.onChangeOnly = r.bool("on_change_only") ?? false
        r.rejectUnknownKeys()
        if let lo = rule.min, let hi = rule.max, lo > hi { issues.add(path.appending("max"), "is below min (\(lo))") }
        if let step = rule.step, step <= 0 { issues.add(path.appending("step"), "must be > 0") }
        if rule.function == .single && count > 1 {
            issues.add(path.appending("function"), "\"single\" (FC6) writes one register; this point has \(count): use \"multiple\" (FC16)")
        }
        return rule
    }

    /// `{"307": "ok"}` → [307: "ok"].
    static func labels(_ json: JSONValue?, at path: JSONPath, issues: IssueList, what: String, max: Int) -> [Int: String] {
        guard let json, !json.isNull else { return [:] }
        guard case .object(let o) = json else {
            issues.add(path, "expected an object of \(what) → label, got \(json.typeName)")
            return [:]
        }
        var out: [Int: String] = [:]
        for (key, label) in o {
            guard let n = Int(key), n >= 0, n <= max else {
                issues.add(path.appending(key), "\"\(key)\" is not a \(what) (0…\(max))")
                continue
            }
            guard case .string(let s) = label else {
                issues.add(path.appending(key), "expected a label string, got \(label.typeName)")
                continue
            }
            out[n] = s
        }
        return out
    }

    /// `scale`: a number (factor), {"power_of_ten": n} or {"point": "NAME"}.
    static func readScale(_ json: JSONValue?, at path: JSONPath, issues: IssueList) -> Scale {
        switch json {
        case nil, .null?: return .none
        case .number(let f)?:
            if f == 0 { issues.add(path, "a scale of 0 would make every value 0") }
            return .factor(f)
        case .object(let o)?:
            if o.count == 1, case .number(let e)? = o["power_of_ten"], e.isWholeNumber, abs(e) <= 10 { return .powerOfTen(Int(e)) }
            if o.count == 1, case .string(let p)? = o["point"] { return .point(p) }
            issues.add(path, "expected a number, {\"power_of_ten\": n} with |n| <= 10, or {\"point\": \"SCALE_FACTOR_POINT\"}")
            return .none
        case let other?:
            issues.add(path, "expected a number or an object, got \(other.typeName)")
            return .none
        }
    }
}
