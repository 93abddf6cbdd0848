import SwitchyardJSON
import SwitchyardModel

/// The Modbus view of a device profile (driver `modbus`): transport, poll
/// groups, points, SunSpec models and golden test vectors, read and checked
/// as a whole. Constructing one runs every check `switchyard profile lint`
/// makes, so a profile that builds is a profile the driver can poll.
public struct ModbusProfile: Sendable {
    /// The driver class profiles in this format name.
    public static let driverClass = "modbus"

    /// A SunSpec model the profile knows: its points are placed when the
    /// model is found on a device (`SunSpecLayout`).
    public struct SunSpecModel: Sendable {
        public var id: Int
        /// The channel prefix: alternatives of one kind (101–103, 111–113) share it.
        public var group: String
        public var label: String?
        public var length: Int?
        public var pollGroup: String
        /// Points with addresses relative to the model's data start.
        public var points: [ModbusPoint]
        public var path: JSONPath
    }

    public var id: String
    public var transport: ModbusTransport
    /// Poll group name → interval (nil: once after each connect).
    public var pollGroups: [String: Int?]
    public var points: [ModbusPoint]
    public var sunspecModels: [SunSpecModel]
    public var tests: [TestVector]
    public var match: [MatchRule]
    public var file: String?

    public var isSunSpec: Bool { !sunspecModels.isEmpty }

    public init(json: JSONValue, file: String?) throws(ValidationError) {
        let issues = IssueList()
        guard case .object(let o) = json else { throw ValidationError(file: file, "expected a profile object, got \(json.typeName)") }
        id = o["id"]?.stringValue ?? "?"
        self.file = file
        transport = ModbusProfileReader.transport(o["transport"], at: .root.appending("transport"), issues: issues)
        pollGroups = [:]
        for (name, spec) in o["poll_groups"]?.objectValue ?? [:] {
            // DeviceProfile checks the intervals; here only the names matter, and no number may trap.
            if case .string("once") = spec["interval_ms"] {
                pollGroups[name] = .some(nil)
            } else {
                pollGroups[name] = .some(spec["interval_ms"]?.numberValue.flatMap { $0 >= 1 && $0 <= 86_400_000 ? Int($0) : nil })
            }
        }
        points = ModbusProfileReader.points(o["points"], at: .root.appending("points"), issues: issues)
        sunspecModels = Self.readSunSpec(o["sunspec"], issues: issues)
        match = MatchRule.read(o["match"], at: .root.appending("match"), issues: issues)
        tests = TestVector.read(o["tests"], at: .root.appending("tests"), issues: issues)
        if o["points"] == nil && o["sunspec"] == nil {
            issues.add(.root, "a modbus profile needs \"points\" or \"sunspec\"")
        }
        if o["channels"] != nil {
            issues.add(.root.appending("channels"), "a modbus profile's channels are its points (those not internal): remove \"channels\" and set \"channel\" on points for standard channels")
        }
        Self.lint(points, transport: transport, issues: issues)
        // Model points are relative to where the device puts the model:
        // readable ranges cannot apply, the request size limit does.
        var modelTransport = ModbusTransport()
        modelTransport.maxRegistersPerRead = transport.maxRegistersPerRead
        for model in sunspecModels {
            Self.lint(model.points, transport: modelTransport, issues: issues)
        }
        let declared = Set(pollGroups.keys)
        for p in points + sunspecModels.flatMap(\.points) where p.group.map({ !declared.contains($0) }) ?? false {
            var message = "poll group \"\(p.group!)\" is not declared in poll_groups"
            if let s = closestMatch(to: p.group!, in: declared.sorted()) { message += " (did you mean \"\(s)\"?)" }
            issues.add(p.path.appending("group"), message)
        }
        for m in sunspecModels where !declared.contains(m.pollGroup) {
            issues.add(m.path.appending("poll_group"), "poll group \"\(m.pollGroup)\" is not declared in poll_groups")
        }
        for v in tests { v.check(against: self, issues: issues) }
        if !issues.isEmpty { throw file.map { ValidationError(issues.issues).inFile($0) } ?? ValidationError(issues.issues) }
    }

    static func readSunSpec(_ json: JSONValue?, issues: IssueList) -> [SunSpecModel] {
        guard let json else { return [] }
        let path = JSONPath.root.appending("sunspec")
        guard var r = ObjectReader(json, at: path, issues: issues) else { return [] }
        var out: [SunSpecModel] = []
        for (i, item) in (r.array("models") ?? []).enumerated() {
            let mp = path.appending("models").appending(index: i)
            guard var m = ObjectReader(item, at: mp, issues: issues) else { continue }
            let id = m.integer("id", min: 1, max: 65534)
            if m.object["id"] == nil { issues.add(mp.appending("id"), "is required (the SunSpec model id)") }
            let group = m.requiredString("group")
            let label = m.string("label")
            let length = m.integer("length", min: 0, max: 65535)
            let pollGroup = m.requiredString("poll_group")
            let points = ModbusProfileReader.points(m.value("points"), at: mp.appending("points"), issues: issues, base: 0)
            m.rejectUnknownKeys()
            guard let id, let group, let pollGroup else { continue }
            if let length, let beyond = points.first(where: { $0.address + $0.count > length }) {
                issues.add(beyond.path.appending("offset"), "lies beyond the model's length (\(length) registers)")
            }
            out.append(SunSpecModel(id: id, group: group, label: label, length: length, pollGroup: pollGroup,
                                    points: points.map { var p = $0; p.group = pollGroup; return p }, path: mp))
        }
        r.rejectUnknownKeys()
        return out
    }

    /// The checks beyond the shape: unique names, no two points sharing a
    /// register (bits of one register aside), scale-factor points that
    /// exist, every point plannable inside the readable ranges with its
    /// scale factor.
    public static func lint(_ points: [ModbusPoint], transport: ModbusTransport, issues: IssueList) {
        var byName: [String: ModbusPoint] = [:]
        for p in points {
            if let first = byName[p.name] { issues.add(p.path.appending("name"), "point \"\(p.name)\" is already declared at \(first.path)") }
            byName[p.name] = byName[p.name] ?? p
        }
        let sorted = points.sorted { ($0.table, $0.address) < ($1.table, $1.address) }
        // Each point against the earlier point of its table that reaches furthest.
        var reach: ModbusPoint?
        for b in sorted {
            if let a = reach, a.table == b.table, b.address <= a.address + a.count - 1 {
                let bitsOfOneRegister = a.type == .bit && b.type == .bit && a.address == b.address && a.count == 1 && b.count == 1
                if !bitsOfOneRegister || a.bit == b.bit {
                    issues.add(b.path.appending("address"), "overlaps point \"\(a.name)\" (\(a.table.rawValue) \(a.address)…\(a.address + a.count - 1)\(bitsOfOneRegister ? ", bit \(a.bit)" : ""))")
                }
            }
            if reach == nil || reach!.table != b.table || b.address + b.count > reach!.address + reach!.count { reach = b }
        }
        for p in points {
            guard case .point(let sf) = p.scale, let factor = byName[sf] else { continue }
            if factor.type != .int16 { issues.add(p.path.appending("scale"), "scale-factor point \"\(sf)\" must be an int16 (a power of ten), not \(factor.type.rawValue)") }
            if factor.access == .write { issues.add(p.path.appending("scale"), "scale-factor point \"\(sf)\" is write-only") }
        }
        let planner = transport.planner
        let all = ReadPlanner.index(points.map(\.planned))
        for point in points where point.access.isReadable || point.write?.readBack == true {
            do {
                _ = try planner.plan([point.planned], byName: all)
            } catch {
                issues.add(point.path, error.reason)
            }
        }
    }

    /// The readable points of `points` (default: the flat points) by poll
    /// group, each group as the planner reads it: what one poll of every
    /// group costs.
    public func fullPollPlan(_ points: [ModbusPoint]? = nil) throws(PlanError) -> [String: [ReadRequest]] {
        let points = points ?? self.points
        let all = ReadPlanner.index(points.map(\.planned))
        var out: [String: [ReadRequest]] = [:]
        for (group, members) in Dictionary(grouping: Self.polledPoints(points).filter { $0.group != nil }, by: { $0.group! }) {
            out[group] = try transport.planner.plan(members.map(\.planned), byName: all)
        }
        return out
    }

    /// The points the driver reads on their poll group: readable points
    /// that are channels (not `internal`); a scale factor is read with the
    /// points that use it. The driver's `GroupPoller` and lint's request
    /// count (`fullPollPlan`) both use this, so that they agree.
    public static func polledPoints(_ points: [ModbusPoint]) -> [ModbusPoint] {
        points.filter { $0.access.isReadable && !$0.isInternal }
    }

    /// Readable points (of `points`, default: the flat points) that the
    /// driver never reads, with the reason: an `internal` point is read only
    /// as the scale factor of another point.
    public func neverRead(_ points: [ModbusPoint]? = nil) -> [(point: ModbusPoint, reason: String)] {
        let points = points ?? self.points
        let factors = Set(points.compactMap { p -> String? in
            if case .point(let sf) = p.scale { return sf }
            return nil
        })
        return points.filter { $0.access.isReadable && $0.isInternal && !factors.contains($0.name) }.map { p in
            (p, "internal point \"\(p.name)\" is no point's scale factor, so the driver never reads it\(p.group.map { " (its group \"\($0)\" does not change that)" } ?? ""); drop \"internal\" to make it a channel, or remove it")
        }
    }

    /// The point named `name`, among the flat points.
    public func point(named name: String) -> ModbusPoint? { points.first { $0.name == name } }
}
