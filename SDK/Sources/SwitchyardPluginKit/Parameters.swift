import SwitchyardJSON

/// An instance's parameters. The host has already checked them against the
/// class's declared schema and filled in defaults, and the kit checks them
/// again against the declaration before `init` and `configure` see them, so
/// a getter fails only if the plugin asks for something it did not declare. No getter traps, on any
/// value: a plugin runs inside the host, and a trap there stops the edge.
public struct Parameters: Sendable, Equatable {
    /// Every parameter by name, as the instance config carries them.
    public let values: [String: JSONValue]

    /// [thread-safe] Parameters holding `values` (the kit makes them from
    /// the instance config; tests make their own).
    public init(_ values: [String: JSONValue]) {
        self.values = values
    }

    /// [thread-safe] The raw value of `name`, nil if absent.
    public subscript(name: String) -> JSONValue? { values[name] }

    /// [thread-safe] The number parameter `name`. Throws
    /// `PluginError(.invalid, …)` naming it when it is missing or not a number.
    public func double(_ name: String) throws(PluginError) -> Double {
        guard case .number(let n)? = values[name] else { throw missing(name, "number") }
        return n
    }

    /// [thread-safe] The integer parameter `name`. Never traps: a value that is missing,
    /// not whole, or beyond what an `Int` holds is an error. (Validation
    /// bounds a declared integer to ±(2^53 − 1), its declared range if
    /// narrower, so a declared one always converts.)
    public func int(_ name: String) throws(PluginError) -> Int {
        guard case .number(let n)? = values[name], n.isWholeNumber else { throw missing(name, "integer") }
        guard let i = Int(exactly: n) else {
            throw .invalid("parameter \"\(name)\" is \(JSONValue.format(n)), beyond the integers this plugin can hold")
        }
        return i
    }

    /// [thread-safe] The string parameter `name`. Throws
    /// `PluginError(.invalid, …)` naming it when it is missing or not a string.
    public func string(_ name: String) throws(PluginError) -> String {
        guard case .string(let s)? = values[name] else { throw missing(name, "string") }
        return s
    }

    /// [thread-safe] The boolean parameter `name`. Throws
    /// `PluginError(.invalid, …)` naming it when it is missing or not a boolean.
    public func bool(_ name: String) throws(PluginError) -> Bool {
        guard case .bool(let b)? = values[name] else { throw missing(name, "boolean") }
        return b
    }

    /// [thread-safe] The number parameter `name`, nil when it is absent (an
    /// `optional` one left out) or not a number.
    public func optionalDouble(_ name: String) -> Double? { values[name]?.numberValue }
    /// [thread-safe] The string parameter `name`, nil when it is absent (an
    /// `optional` one left out) or not a string.
    public func optionalString(_ name: String) -> String? { values[name]?.stringValue }

    /// [thread-safe] Names whose values differ between `self` and `other`.
    public func changed(from other: Parameters) -> Set<String> {
        Set(values.keys).union(other.values.keys).filter { values[$0] != other.values[$0] }
    }

    private func missing(_ name: String, _ type: String) -> PluginError {
        .invalid("parameter \"\(name)\" is missing or not a \(type)")
    }
}

/// One parameter of a class, as the plugin declares it. Becomes the JSON
/// Schema subset of the manifest (see docs/plugins.md).
///
/// Made by the factories below, in a class's `static let parameters`. Every
/// factory takes the parameter's `name` and a one-line `description` (shown
/// by `plugin inspect`); `unit` is for documentation and UIs; `hot: true`
/// lets a change reach a running instance through `configure`. A parameter
/// without a `default` is required unless `optional`.
public struct Parameter: Sendable {
    /// The member name in the `parameters` object.
    public let name: String
    /// Its JSON Schema (the subset of docs/plugins.md §5.10).
    public let schema: JSONValue
    /// Whether a config must give it (no default, not optional).
    public let required: Bool

    init(_ name: String, _ schema: [String: JSONValue?], required: Bool) {
        self.name = name
        self.schema = .object(schema.compactMapValues { $0 })
        self.required = required
    }

    private static func common(_ type: String, _ description: String, unit: String?, hot: Bool) -> [String: JSONValue?] {
        ["type": .string(type), "description": .string(description), "unit": unit.map(JSONValue.string), "hot": hot ? .bool(true) : nil]
    }

    /// [thread-safe] A number (`type: number`) within the inclusive bounds
    /// `min`…`max` when given. Without a default it is required, unless
    /// `optional`.
    public static func number(_ name: String, _ description: String, min: Double? = nil, max: Double? = nil,
                              default value: Double? = nil, optional: Bool = false, unit: String? = nil, hot: Bool = false) -> Parameter {
        var s = common("number", description, unit: unit, hot: hot)
        s["minimum"] = min.map(JSONValue.number)
        s["maximum"] = max.map(JSONValue.number)
        s["default"] = value.map(JSONValue.number)
        return Parameter(name, s, required: value == nil && !optional)
    }

    /// [thread-safe] A whole number (`type: integer`) within `min`…`max`
    /// when given. Without bounds the validator still refuses values beyond
    /// ±(2^53 − 1), so `Parameters.int` always holds it.
    public static func integer(_ name: String, _ description: String, min: Int? = nil, max: Int? = nil,
                               default value: Int? = nil, optional: Bool = false, unit: String? = nil, hot: Bool = false) -> Parameter {
        var s = common("integer", description, unit: unit, hot: hot)
        s["minimum"] = min.map { .number(Double($0)) }
        s["maximum"] = max.map { .number(Double($0)) }
        s["default"] = value.map { .number(Double($0)) }
        return Parameter(name, s, required: value == nil && !optional)
    }

    /// [thread-safe] A boolean. Without a default it is required.
    public static func boolean(_ name: String, _ description: String, default value: Bool? = nil, hot: Bool = false) -> Parameter {
        var s = common("boolean", description, unit: nil, hot: hot)
        s["default"] = value.map(JSONValue.bool)
        return Parameter(name, s, required: value == nil)
    }

    /// [thread-safe] A string; `oneOf` limits it to those values (the JSON
    /// Schema `enum`).
    public static func string(_ name: String, _ description: String, oneOf choices: [String]? = nil,
                              default value: String? = nil, optional: Bool = false, hot: Bool = false) -> Parameter {
        var s = common("string", description, unit: nil, hot: hot)
        s["enum"] = choices.map { .array($0.map(JSONValue.string)) }
        s["default"] = value.map(JSONValue.string)
        return Parameter(name, s, required: value == nil && !optional)
    }

    /// [thread-safe] The id of a device in the same config whose profile implements the
    /// standard-channel `family` ("ess", "meter", "pv", "load"). The host
    /// checks the binding before the config is applied.
    /// Left out of a config, it is bound to the one device implementing
    /// the family, if there is exactly one; `optional`: to none if there is none.
    public static func device(_ name: String, _ description: String, family: String, default value: String? = nil, optional: Bool = false) -> Parameter {
        var s = common("string", description, unit: nil, hot: false)
        s["device"] = .string(family)
        s["default"] = value.map(JSONValue.string)
        return Parameter(name, s, required: value == nil && !optional)
    }

    /// [thread-safe] An object schema accepting exactly `parameters` (the
    /// manifest's `parameters` and `connection` schemas).
    public static func objectSchema(_ parameters: [Parameter]) -> JSONValue {
        var properties: [String: JSONValue] = [:]
        for p in parameters { properties[p.name] = p.schema }
        let required = parameters.filter(\.required).map { JSONValue.string($0.name) }
        var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required) }
        return .object(schema)
    }
}
