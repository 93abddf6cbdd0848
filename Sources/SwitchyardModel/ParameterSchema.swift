import SwitchyardJSON

/// The JSON Schema subset in which a plugin declares a class's parameters:
/// `type`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
/// `enum`, `properties`, `required`, `additionalProperties`, `items`,
/// `default`, `description`, plus three of our own:
/// - `hot`: a change can be applied to a running instance through configure;
/// - `unit`: for documentation and UIs ("W", "%", "ms");
/// - `device`: the value names a device whose profile implements this
///   standard-channel family ("ess", "meter", "pv", "load").
public struct ParameterSchema: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case object, number, integer, string, boolean, array
    }

    public var type: Kind?
    public var minimum: Double?
    public var maximum: Double?
    public var exclusiveMinimum: Double?
    public var exclusiveMaximum: Double?
    public var enumValues: [JSONValue]?
    public var properties: [String: ParameterSchema] = [:]
    public var required: [String] = []
    public var additionalProperties = false
    public var defaultValue: JSONValue?
    public var description: String?
    public var unit: String?
    public var hot = false
    public var device: String?
    private var itemsStorage: [ParameterSchema] = []

    public var items: ParameterSchema? {
        get { itemsStorage.first }
        set { itemsStorage = newValue.map { [$0] } ?? [] }
    }

    public init(type: Kind? = nil) {
        self.type = type
    }

    /// An object schema that accepts no members: for classes without parameters.
    public static let empty = ParameterSchema(type: .object)

    /// Reads a schema from its JSON form, recording issues at `path`.
    public init?(json: JSONValue, at path: JSONPath, issues: IssueList) {
        guard var r = ObjectReader(json, at: path, issues: issues) else { return nil }
        type = r.choice("type", Kind.self)
        minimum = r.number("minimum")
        maximum = r.number("maximum")
        exclusiveMinimum = r.number("exclusiveMinimum")
        exclusiveMaximum = r.number("exclusiveMaximum")
        enumValues = r.array("enum")
        required = r.stringArray("required") ?? []
        additionalProperties = r.bool("additionalProperties") ?? false
        defaultValue = r.value("default")
        description = r.string("description")
        unit = r.string("unit")
        hot = r.bool("hot") ?? false
        device = r.string("device")
        _ = r.string("title")
        if let props = r.objectMember("properties") {
            for (name, sub) in props {
                if let schema = ParameterSchema(json: sub, at: path.appending("properties").appending(name), issues: issues) {
                    properties[name] = schema
                }
            }
        }
        if let itemsJSON = r.value("items") {
            items = ParameterSchema(json: itemsJSON, at: path.appending("items"), issues: issues)
        }
        r.rejectUnknownKeys()
        for name in required where properties[name] == nil && !additionalProperties {
            issues.add(path.appending("required"), "names \"\(name.echoed())\", which is not among the properties")
        }
        if let defaultValue {
            let check = IssueList()
            _ = validate(defaultValue, at: path.appending("default"), issues: check)
            issues.add(contentsOf: check.issues)
        }
    }

    /// Checks `value` against the schema and returns it with defaults filled
    /// in. Issues are recorded with their path, e.g.
    /// `scheduler.controllers[1].parameters.threshold_watts: must be >= 0, got -5`.
    public func validate(_ value: JSONValue, at path: JSONPath, issues: IssueList) -> JSONValue {
        if let type, !matches(value, type) {
            issues.add(path, "expected \(type.rawValue), got \(value.typeName) \(value.brief)")
            return value
        }
        if let enumValues, !enumValues.contains(value) {
            let allowed = enumValues.map(\.canonicalText).joined(separator: ", ")
            issues.add(path, "must be one of \(allowed); got \(value.brief)")
        }
        if case .number(let n) = value {
            // An integer without a declared bound is bounded by its type:
            // what a JSON number holds exactly, and the plugin kit's `int`
            // getter returns.
            let limit = Double(JSONValue.largestExactInteger)
            let minimum = type == .integer ? Swift.max(self.minimum ?? -limit, -limit) : self.minimum
            let maximum = type == .integer ? Swift.min(self.maximum ?? limit, limit) : self.maximum
            if let minimum, n < minimum { issues.add(path, "must be >= \(JSONValue.format(minimum)), got \(JSONValue.format(n))") }
            if let maximum, n > maximum { issues.add(path, "must be <= \(JSONValue.format(maximum)), got \(JSONValue.format(n))") }
            if let exclusiveMinimum, n <= exclusiveMinimum {
                issues.add(path, "must be > \(JSONValue.format(exclusiveMinimum)), got \(JSONValue.format(n))")
            }
            if let exclusiveMaximum, n >= exclusiveMaximum {
                issues.add(path, "must be < \(JSONValue.format(exclusiveMaximum)), got \(JSONValue.format(n))")
            }
        }
        switch value {
        case .object(let members) where type == .object || !properties.isEmpty:
            var filled = members
            for name in required where members[name] == nil && properties[name]?.defaultValue == nil {
                issues.add(path.appending(name), "is required")
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let schema = properties[name] {
                    filled[name] = schema.validate(member, at: path.appending(name), issues: issues)
                } else if !additionalProperties {
                    var message = "unknown parameter \"\(name.echoed())\""
                    if let suggestion = closestMatch(to: name, in: properties.keys.sorted()) {
                        message += " (did you mean \"\(suggestion)\"?)"
                    } else if !properties.isEmpty {
                        message += " (known: \(properties.keys.sorted().joined(separator: ", ")))"
                    }
                    issues.add(path.appending(name), message)
                }
            }
            for (name, schema) in properties where filled[name] == nil {
                if let d = schema.defaultValue { filled[name] = d }
            }
            return .object(filled)
        case .array(let elements):
            guard let items else { return value }
            return .array(elements.enumerated().map { items.validate($1, at: path.appending(index: $0), issues: issues) })
        default:
            return value
        }
    }

    private func matches(_ value: JSONValue, _ kind: Kind) -> Bool {
        switch (kind, value) {
        case (.object, .object), (.string, .string), (.boolean, .bool), (.array, .array), (.number, .number): true
        case (.integer, .number(let n)): n.isWholeNumber
        default: false
        }
    }

    /// The names of the parameters whose change can be applied hot.
    public var hotParameters: Set<String> {
        Set(properties.filter(\.value.hot).keys)
    }

    /// The JSON form, as a plugin declares it and `switchyard plugin inspect` shows it.
    public var json: JSONValue {
        var o: [String: JSONValue] = [:]
        if let type { o["type"] = .string(type.rawValue) }
        if let minimum { o["minimum"] = .number(minimum) }
        if let maximum { o["maximum"] = .number(maximum) }
        if let exclusiveMinimum { o["exclusiveMinimum"] = .number(exclusiveMinimum) }
        if let exclusiveMaximum { o["exclusiveMaximum"] = .number(exclusiveMaximum) }
        if let enumValues { o["enum"] = .array(enumValues) }
        if !properties.isEmpty { o["properties"] = .object(properties.mapValues(\.json)) }
        if !required.isEmpty { o["required"] = .array(required.map { .string($0) }) }
        if additionalProperties { o["additionalProperties"] = true }
        if let defaultValue { o["default"] = defaultValue }
        if let description { o["description"] = .string(description) }
        if let unit { o["unit"] = .string(unit) }
        if hot { o["hot"] = true }
        if let device { o["device"] = .string(device) }
        if let items { o["items"] = items.json }
        return .object(o)
    }
}
