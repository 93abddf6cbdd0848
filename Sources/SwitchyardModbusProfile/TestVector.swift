import SwitchyardJSON
import SwitchyardModel

/// A golden test vector of a profile: raw registers and the values the
/// profile must decode from them (`switchyard profile test`).
public struct TestVector: Sendable {
    public enum Expected: Sendable, Equatable, CustomStringConvertible {
        case number(Double)
        /// An enum label or a string's content.
        case text(String)
        case notAvailable

        public var description: String {
            switch self {
            case .number(let n): PointCodec.fmt(n)
            case .text(let s): "\"\(s)\""
            case .notAvailable: "null (not available)"
            }
        }
    }

    public var name: String
    public var registers: [RegisterTable: [Int: UInt16]]
    /// Point (or SunSpec channel) name → expected value, in document order.
    public var expect: [(String, Expected, JSONPath)]
    public var path: JSONPath

    static func read(_ json: JSONValue?, at path: JSONPath, issues: IssueList) -> [TestVector] {
        guard let json else { return [] }
        guard let items = json.arrayValue else {
            issues.add(path, "expected an array of test vectors, got \(json.typeName)")
            return []
        }
        var out: [TestVector] = []
        for (i, item) in items.enumerated() {
            let tp = path.appending(index: i)
            guard var r = ObjectReader(item, at: tp, issues: issues) else { continue }
            let name = r.string("name") ?? "vector \(i)"
            var registers: [RegisterTable: [Int: UInt16]] = [:]
            for (tableName, blocks) in (r.objectMember("registers") ?? [:]).sorted(by: { $0.key < $1.key }) {
                let bp = tp.appending("registers").appending(tableName)
                guard let table = RegisterTable(rawValue: tableName) else {
                    issues.add(bp, "unknown table \"\(tableName)\" (coil, discrete_input, input_register, holding_register)")
                    continue
                }
                for (start, words) in blocks.objectValue ?? [:] {
                    guard let s = Int(start), s >= 0, s <= 65535 else {
                        issues.add(bp.appending(start), "expected a decimal start address (0…65535)")
                        continue
                    }
                    for (k, w) in (words.arrayValue ?? []).enumerated() {
                        guard s + k <= 65535 else {
                            issues.add(bp.appending(start).appending(index: k), "address \(s + k) is past 65535")
                            break
                        }
                        guard let n = w.numberValue, n.isWholeNumber, n >= 0, n <= 65535 else {
                            issues.add(bp.appending(start).appending(index: k), "expected a raw 16-bit word (0…65535)")
                            continue
                        }
                        registers[table, default: [:]][s + k] = UInt16(n)
                    }
                }
            }
            var expect: [(String, Expected, JSONPath)] = []
            if let e = r.value("expect") {
                let ep = tp.appending("expect")
                if case .object(let o) = e {
                    for (point, v) in o.sorted(by: { $0.key < $1.key }) {
                        switch v {
                        case .number(let n): expect.append((point, .number(n), ep.appending(point)))
                        case .string(let s): expect.append((point, .text(s), ep.appending(point)))
                        case .null: expect.append((point, .notAvailable, ep.appending(point)))
                        default: issues.add(ep.appending(point), "expected a number, a label string or null, got \(v.typeName)")
                        }
                    }
                } else {
                    issues.add(ep, "expected an object of point name → value")
                }
            } else {
                issues.add(tp.appending("expect"), "is required")
            }
            r.rejectUnknownKeys()
            out.append(TestVector(name: name, registers: registers, expect: expect, path: tp))
        }
        return out
    }

    /// Every expected name must be a point of the profile (SunSpec: a
    /// `group.point` channel of one of its models).
    func check(against profile: ModbusProfile, issues: IssueList) {
        let names = Set(profile.points.map(\.name) + profile.sunspecModels.flatMap { m in m.points.map { m.group + "." + $0.name } })
        for (name, _, path) in expect where !names.contains(name) {
            var message = "no point \"\(name)\" in this profile"
            if let s = closestMatch(to: name, in: names.sorted()) { message += " (did you mean \"\(s)\"?)" }
            issues.add(path, message)
        }
    }

    /// One expectation that did not hold.
    public struct Failure: Sendable, CustomStringConvertible {
        public var vector: String
        public var point: String
        public var expected: Expected
        public var got: String
        public var path: JSONPath

        public var description: String { "\(path): \(vector): \(point): expected \(expected), got \(got)" }
    }

    /// Runs the vector: decodes every expected point from the registers (a
    /// SunSpec profile discovers its model chain in them first).
    public func run(on profile: ModbusProfile) -> [Failure] {
        let lookup: (RegisterTable, Int) -> UInt16? = { registers[$0]?[$1] }
        var points = profile.points
        if profile.isSunSpec {
            let read: (Int, Int) throws -> [UInt16] = { address, count in
                try (address..<(address + count)).map { a in
                    guard let w = registers[.holding_register]?[a] else { throw SunSpecDiscovery.Failure(message: "no register \(a) in the vector") }
                    return w
                }
            }
            switch Result(catching: { try SunSpecDiscovery.scan(read: read) }) {
            case .success(let found): points += SunSpecLayout.place(found.models, using: profile.sunspecModels)
            case .failure(let error):
                return [Failure(vector: name, point: "(discovery)", expected: .text("a SunSpec model chain"), got: "\(error)", path: path)]
            }
        }
        let byName = Dictionary(points.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var failures: [Failure] = []
        for (pointName, expected, p) in expect {
            guard let point = byName[pointName] else {
                failures.append(Failure(vector: name, point: pointName, expected: expected, got: "no such point on this device", path: p))
                continue
            }
            var sf: PointReading?
            if case .point(let sfName) = point.scale, let sfPoint = byName[sfName] {
                sf = PointCodec.read(sfPoint, registers: lookup)
            }
            guard let reading = PointCodec.read(point, scaleFactor: sf, registers: lookup) else {
                failures.append(Failure(vector: name, point: pointName, expected: expected,
                                        got: "registers \(point.table.rawValue) \(point.address)…\(point.address + point.count - 1) are not all in the vector", path: p))
                continue
            }
            if !Self.matches(reading, expected) {
                failures.append(Failure(vector: name, point: pointName, expected: expected, got: reading.description, path: p))
            }
        }
        return failures
    }

    static func matches(_ r: PointReading, _ e: Expected) -> Bool {
        switch e {
        case .notAvailable: return r.quality == .notAvailable
        case .text(let s): return r.quality == .good && r.text == s
        case .number(let n):
            guard r.quality == .good, let v = r.value else { return false }
            return abs(v - n) <= max(1e-9, abs(n) * 1e-6)
        }
    }
}

/// A `match` rule: glob patterns over a device's identification (for
/// SunSpec devices, the common model's Mn, Md and Vr).
public struct MatchRule: Sendable, Equatable {
    public var manufacturer: String?
    public var model: String?
    public var firmware: String?

    static func read(_ json: JSONValue?, at path: JSONPath, issues: IssueList) -> [MatchRule] {
        guard let json else { return [] }
        guard let items = json.arrayValue else {
            issues.add(path, "expected an array of rules, got \(json.typeName)")
            return []
        }
        return items.enumerated().compactMap { i, item in
            guard var r = ObjectReader(item, at: path.appending(index: i), issues: issues) else { return nil }
            let rule = MatchRule(manufacturer: r.string("manufacturer"), model: r.string("model"), firmware: r.string("firmware"))
            r.rejectUnknownKeys()
            return rule
        }
    }

    public func matches(manufacturer m: String, model md: String, firmware vr: String) -> Bool {
        Self.glob(manufacturer, m) && Self.glob(model, md) && Self.glob(firmware, vr)
    }

    /// `*` any run, `?` one character; case-insensitive; nil matches anything.
    static func glob(_ pattern: String?, _ text: String) -> Bool {
        guard let pattern else { return true }
        let p = Array(pattern.lowercased()), t = Array(text.lowercased())
        var memo: [Int: Bool] = [:]
        func go(_ i: Int, _ j: Int) -> Bool {
            let key = i * (t.count + 1) + j
            if let m = memo[key] { return m }
            let r: Bool
            if i == p.count { r = j == t.count }
            else if p[i] == "*" { r = go(i + 1, j) || (j < t.count && go(i, j + 1)) }
            else { r = j < t.count && (p[i] == "?" || p[i] == t[j]) && go(i + 1, j + 1) }
            memo[key] = r
            return r
        }
        return go(0, 0)
    }
}
