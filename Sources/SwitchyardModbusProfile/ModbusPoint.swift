import SwitchyardJSON
import SwitchyardModel

/// One point of a Modbus profile's `points` array.
public struct ModbusPoint: Sendable, Equatable {
    public enum Access: String, Sendable, CaseIterable {
        case read, write, read_write
    }

    public var name: String
    public var table: RegisterTable
    /// 0-based protocol address.
    public var address: Int
    public var type: ValueType
    /// Registers read (strings: their `length`).
    public var count: Int
    public var bit: Int
    public var byteOrder: ByteOrder
    public var wordOrder: WordOrder
    public var scale: Scale
    public var offset: Double
    public var unit: String?
    /// Raw patterns meaning "not available" (SunSpec: 0x8000 for int16, …).
    public var notAvailable: [UInt64]
    /// Values outside it are implausible (quality fault).
    public var plausible: ClosedRange<Double>?
    public var access: Access
    /// The standard channel it implements (`ess.Soc`), if any.
    public var standard: String?
    /// The poll group that reads it.
    public var group: String?
    public var path: JSONPath

    public var planned: PlannedPoint {
        var sf: String?
        if case .point(let name) = scale { sf = name }
        return PlannedPoint(name: name, table: table, address: address, count: count, scaleFactor: sf)
    }
}

/// A profile's `transport` section: what the device needs on the wire.
public struct ModbusTransport: Sendable, Equatable {
    public var maxRegistersPerRead = 125
    public var readable: [RegisterTable: [ClosedRange<Int>]] = [:]
    public var delayAfterConnectMs = 0
    public var delayBetweenRequestsMs = 0
    public var delayOnUnitChangeMs = 0
    public var timeoutMs = 1000

    public init() {}

    public var planner: ReadPlanner {
        ReadPlanner(readable: readable, maxRegisters: maxRegistersPerRead)
    }
}

public enum ModbusProfileReader {
    /// Reads `transport` (may be absent) at `path`.
    public static func transport(_ json: JSONValue?, at path: JSONPath, issues: IssueList) -> ModbusTransport {
        var t = ModbusTransport()
        guard let json, var r = ObjectReader(json, at: path, issues: issues) else { return t }
        t.maxRegistersPerRead = r.integer("max_registers_per_read", min: 1, max: 125) ?? t.maxRegistersPerRead
        t.delayAfterConnectMs = r.integer("delay_after_connect_ms", min: 0) ?? 0
        t.delayBetweenRequestsMs = r.integer("delay_between_requests_ms", min: 0) ?? 0
        t.delayOnUnitChangeMs = r.integer("delay_on_unit_change_ms", min: 0) ?? 0
        t.timeoutMs = r.integer("timeout_ms", min: 1) ?? t.timeoutMs
        for (name, ranges) in r.objectMember("readable") ?? [:] {
            let rp = path.appending("readable").appending(name)
            guard let table = RegisterTable(rawValue: name) else {
                issues.add(rp, "unknown table \"\(name)\" (coil, discrete_input, input_register, holding_register)")
                continue
            }
            for (i, item) in (ranges.arrayValue ?? []).enumerated() {
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

    /// Reads the `points` array at `path`.
    public static func points(_ json: JSONValue?, at path: JSONPath, issues: IssueList) -> [ModbusPoint] {
        var out: [ModbusPoint] = []
        guard let items = json?.arrayValue else {
            if let json { issues.add(path, "expected array, got \(json.typeName)") }
            return out
        }
        for (i, item) in items.enumerated() {
            let pp = path.appending(index: i)
            guard var r = ObjectReader(item, at: pp, issues: issues) else { continue }
            let name = r.requiredString("name")
            let table = r.choice("table", RegisterTable.self) ?? .holding_register
            let address = r.integer("address", min: 0, max: 65535)
            if r.object["address"] == nil { issues.add(pp.appending("address"), "is required (the 0-based protocol address)") }
            let type = r.choice("type", ValueType.self)
            if r.object["type"] == nil { issues.add(pp.appending("type"), "is required") }
            let length = r.integer("length", min: 1, max: 125)
            let bit = r.integer("bit", min: 0, max: 15) ?? 0
            let byteOrder = r.choice("byte_order", ByteOrder.self) ?? .big
            let wordOrder = r.choice("word_order", WordOrder.self) ?? .big
            let scale = readScale(r.value("scale"), at: pp.appending("scale"), issues: issues)
            let offset = r.number("offset") ?? 0
            let unit = r.string("unit")
            let notAvailable = (r.array("not_available") ?? []).enumerated().compactMap { j, v -> UInt64? in
                guard let n = v.numberValue, n.isWholeNumber, n >= 0, n < 1.8e19 else {
                    issues.add(pp.appending("not_available").appending(index: j), "expected a raw register pattern (a non-negative integer, e.g. 32768)")
                    return nil
                }
                return UInt64(n)
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
            let group = r.string("group")
            r.rejectUnknownKeys()
            guard let name, let address, let type else { continue }
            var count = type.registerCount ?? 0
            if type == .string {
                guard let length else {
                    issues.add(pp.appending("length"), "is required for a string (in registers)")
                    continue
                }
                count = length
            } else if length != nil {
                issues.add(pp.appending("length"), "applies to strings only")
            }
            if (table == .coil || table == .discrete_input) && type != .bit {
                issues.add(pp.appending("type"), "a \(table.rawValue) holds bits: use type \"bit\"")
            }
            out.append(ModbusPoint(name: name, table: table, address: address, type: type, count: count, bit: bit, byteOrder: byteOrder,
                                   wordOrder: wordOrder, scale: scale, offset: offset, unit: unit, notAvailable: notAvailable,
                                   plausible: plausible, access: access, standard: standard, group: group, path: pp))
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

    /// The checks `switchyard profile lint` makes beyond the shape: unique
    /// names, no two points sharing a register (bits of one register aside),
    /// scale-factor points that exist, and every poll group plannable —
    /// inside the readable ranges, each point whole, scale factors with
    /// their values.
    public static func lint(_ points: [ModbusPoint], transport: ModbusTransport, issues: IssueList) {
        var byName: [String: ModbusPoint] = [:]
        for p in points {
            if let first = byName[p.name] { issues.add(p.path.appending("name"), "point \"\(p.name)\" is already declared at \(first.path)") }
            byName[p.name] = byName[p.name] ?? p
        }
        let sorted = points.sorted { ($0.table, $0.address) < ($1.table, $1.address) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.table == b.table && b.address <= a.address + a.count - 1 {
            if a.type == .bit && b.type == .bit && a.address == b.address && a.count == 1 && b.count == 1 { continue }
            issues.add(b.path.appending("address"), "overlaps point \"\(a.name)\" (\(a.table.rawValue) \(a.address)…\(a.address + a.count - 1))")
        }
        let planner = transport.planner
        let all = points.map(\.planned)
        let groups = Dictionary(grouping: points, by: { $0.group ?? "" })
        for (_, members) in groups.sorted(by: { $0.key < $1.key }) {
            for point in members {
                do {
                    _ = try planner.plan([point.planned], all: all)
                } catch {
                    issues.add(point.path, error.reason)
                }
            }
        }
    }
}
