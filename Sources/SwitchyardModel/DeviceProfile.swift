import SwitchyardJSON

/// A device profile: data describing one device model and the driver class
/// that talks to it. Profiles are never code.
///
/// The host reads the fields every driver shares (identity, driver, channels,
/// poll groups, default parameters). Driver-specific sections (`transport`,
/// `points`, `match`, `tests`, `extends`) pass through to the driver in the
/// instance config, which checks them when the instance is created.
public struct DeviceProfile: Sendable, Hashable {
    public enum Access: String, Sendable, CaseIterable {
        case read, write, read_write
        public var isWritable: Bool { self != .read }
    }

    public struct Channel: Sendable, Hashable {
        public var name: String
        public var standard: String?
        public var unit: String?
        public var access: Access
        public var description: String?
        /// A text channel (`"type": "text"`; a Modbus `string` point): a
        /// serial number, a firmware version, a model name. Its value is
        /// text, carried beside the process image (status, `/channels`,
        /// heartbeats); controllers read it as not available.
        public var isText = false
    }

    public struct PollGroup: Sendable, Hashable {
        public var name: String
        /// nil: poll once after each (re)connect.
        public var intervalMs: Int?
        /// The channels this group reads (empty: the driver decides).
        public var channels: [String]
    }

    public var id: String
    public var manufacturer: String?
    public var model: String?
    public var description: String?
    public var source: String?
    public var driver: String
    public var channels: [Channel]
    public var pollGroups: [PollGroup]
    public var parameters: [String: JSONValue]
    /// The whole document, handed to the driver.
    public var document: JSONValue
    /// The file the profile came from, for error messages.
    public var file: String?
    /// The document as written (before `extends` was resolved), so that
    /// profiles added later can extend this one.
    public var unresolved: JSONValue

    public static let driverSpecificKeys: Set<String> = ["transport", "points", "match", "tests", "extends", "sunspec", "$schema"]

    /// A channel by its name, its standard name (`ess.Soc`), or the standard
    /// name's last part (`Soc`) when no channel has that name and only one
    /// standard channel of the profile ends so.
    public func channel(named name: String) -> Channel? {
        if let c = channels.first(where: { $0.name == name || $0.standard == name }) { return c }
        let bySuffix = channels.filter { $0.standard.map { Self.standardSuffix($0) == name } ?? false }
        return bySuffix.count == 1 ? bySuffix[0] : nil
    }

    /// `ess.Soc` → `Soc`.
    public static func standardSuffix(_ standard: String) -> String {
        String(standard[standard.index(after: standard.firstIndex(of: ".") ?? standard.startIndex)...])
    }

    /// The points of a Modbus profile that are channels, as channel objects
    /// (name, standard, unit, access, description) with the JSON path of
    /// the point and its poll group.
    public static func channelPoints(of json: JSONValue) -> [(name: String, channel: JSONValue, path: JSONPath, group: String?)] {
        var out: [(String, JSONValue, JSONPath, String?)] = []
        func add(_ point: JSONValue, name: String, path: JSONPath, group: String?) {
            guard case .object(let o) = point, o["internal"] != .bool(true) else { return }
            var c: [String: JSONValue] = ["name": .string(name)]
            // Strings are text channels: beside the numbers of the process image.
            if o["type"] == .string("string") { c["type"] = "text" }
            if let s = o["channel"] { c["standard"] = s }
            if let u = o["unit"] { c["unit"] = u }
            if let a = o["access"] { c["access"] = a }
            if let d = o["description"] { c["description"] = d }
            out.append((name, .object(c), path, group))
        }
        for (i, point) in (json["points"]?.arrayValue ?? []).enumerated() {
            guard let name = point["name"]?.stringValue else { continue }
            add(point, name: name, path: .root.appending("points").appending(index: i), group: point["group"]?.stringValue)
        }
        for (m, model) in (json["sunspec"]?["models"]?.arrayValue ?? []).enumerated() {
            guard let group = model["group"]?.stringValue else { continue }
            let pollGroup = model["poll_group"]?.stringValue
            for (i, point) in (model["points"]?.arrayValue ?? []).enumerated() {
                guard let name = point["name"]?.stringValue else { continue }
                add(point, name: group + "." + name,
                    path: .root.appending("sunspec").appending("models").appending(index: m).appending("points").appending(index: i), group: pollGroup)
            }
        }
        return out
    }

    /// True when the profile implements a standard channel of `family` ("ess").
    public func implements(family: String) -> Bool {
        channels.contains { $0.standard.map { $0.hasPrefix(family + ".") } ?? false }
    }

    /// Parses and checks a profile. `file` names the source in every issue.
    public init(parsing text: String, file: String?) throws(ValidationError) {
        let json = try JSONValue.parse(text, file: file)
        do {
            try self.init(json: json, file: file)
        } catch {
            throw file.map { error.inFile($0) } ?? error
        }
    }

    public init(json: JSONValue, file: String?) throws(ValidationError) {
        let issues = IssueList()
        guard var r = ObjectReader(json, at: .root, issues: issues) else { throw ValidationError(issues.issues) }
        let id = r.requiredString("id")
        manufacturer = r.string("manufacturer")
        model = r.string("model")
        description = r.string("description")
        source = r.string("source")
        _ = r.integer("schema_version", min: 1, max: 1)
        let driver = r.requiredString("driver")
        parameters = r.objectMember("parameters") ?? [:]

        var channels: [Channel] = []
        var names: Set<String> = []
        var standards: Set<String> = []
        // Modbus profiles declare points, not channels: every point that is
        // not `internal` is a channel (SunSpec model points as `group.name`).
        var declared: [(JSONValue, JSONPath, standardKey: String)] = (r.array("channels") ?? []).enumerated().map { i, item in
            (item, JSONPath.root.appending("channels").appending(index: i), "standard")
        }
        var derivedGroups: [String: [String]] = [:]
        if r.object["channels"] == nil {
            for point in Self.channelPoints(of: json) where !names.contains(point.name) {
                names.insert(point.name)
                declared.append((point.channel, point.path, "channel"))
                if let g = point.group { derivedGroups[g, default: []].append(point.name) }
            }
            names = []
        }
        for (item, path, standardKey) in declared {
            guard var c = ObjectReader(item, at: path, issues: issues) else { continue }
            let name = c.requiredString("name")
            let standard = c.string("standard")
            let unit = c.string("unit")
            let access = c.choice("access", Access.self) ?? .read
            let description = c.string("description")
            let isText: Bool
            switch c.value("type") {
            case nil, .string("number")?: isText = false
            case .string("text")?: isText = true
            default:
                issues.add(path.appending("type"), "must be \"number\" (the default) or \"text\"")
                isText = false
            }
            c.rejectUnknownKeys()
            guard let name else { continue }
            if isText, access.isWritable { issues.add(path.appending("access"), "a text channel is read-only") }
            if isText, standard != nil { issues.add(path.appending(standardKey), "standard channels are numbers; a text channel cannot implement one") }
            if !DeviceProfile.isValidChannelName(name) {
                issues.add(path.appending("name"), "\"\(name.echoed())\" is not a valid channel name (letters, digits, '_' and '.', starting with a letter; no '/')")
            }
            if !names.insert(name).inserted { issues.add(path.appending("name"), "channel \"\(name.echoed())\" is declared twice") }
            if let standard {
                if let std = StandardChannel.named(standard) {
                    if std.writable != access.isWritable {
                        issues.add(path.appending("access"), "\(standard.echoed()) is \(std.writable ? "a setpoint and must be writable" : "a measurement and must be read-only")")
                    }
                } else {
                    var message = "unknown standard channel \"\(standard.echoed())\""
                    if let s = closestMatch(to: standard, in: StandardChannel.all.map(\.name)) { message += " (did you mean \"\(s)\"?)" }
                    issues.add(path.appending(standardKey), message)
                }
                if !standards.insert(standard).inserted {
                    issues.add(path.appending(standardKey), "\(standard.echoed()) is implemented by two channels")
                }
            }
            channels.append(Channel(name: name, standard: standard, unit: unit, access: access, description: description, isText: isText))
        }

        var groups: [PollGroup] = []
        for (name, spec) in (r.objectMember("poll_groups") ?? [:]).sorted(by: { $0.key < $1.key }) {
            let path = JSONPath.root.appending("poll_groups").appending(name)
            guard var g = ObjectReader(spec, at: path, issues: issues) else { continue }
            var interval: Int?
            if case .string("once") = g.value("interval_ms") {
                interval = nil
            } else {
                interval = g.integer("interval_ms", min: EdgeConfig.Limits.intervalMs.lowerBound, max: EdgeConfig.Limits.intervalMs.upperBound)
                if interval == nil && g.object["interval_ms"] == nil { issues.add(path.appending("interval_ms"), "is required (milliseconds, or \"once\")") }
            }
            let members = g.stringArray("channels") ?? derivedGroups[name] ?? []
            g.rejectUnknownKeys()
            groups.append(PollGroup(name: name, intervalMs: interval, channels: members))
        }
        r.rejectUnknownKeys(allowing: DeviceProfile.driverSpecificKeys)
        for group in groups {
            for (i, member) in group.channels.enumerated() where !channels.contains(where: { $0.name == member || $0.standard == member }) {
                issues.add(JSONPath.root.appending("poll_groups").appending(group.name).appending("channels").appending(index: i),
                           "no channel \"\(member)\" in this profile")
            }
        }
        try issues.check()
        self.id = id!
        self.driver = driver!
        self.channels = channels
        self.pollGroups = groups
        self.document = json
        self.unresolved = json
        self.file = file
    }

    static func isValidChannelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ".") }
    }
}
