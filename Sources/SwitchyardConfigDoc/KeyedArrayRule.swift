import SwitchyardJSON

/// Declares that the array at `pattern` holds objects identified by
/// `keyMember`, so that layers merge its elements by key instead of
/// replacing the whole array.
///
/// `pattern` is a JSON Pointer from the document root in which the token
/// `*` matches any one member name or array index, e.g.
/// `/modbus_devices/*/points` keyed by `name`.
public struct KeyedArrayRule: Sendable, Hashable, CustomStringConvertible {
    public var pattern: JSONPointer
    public var keyMember: String

    public init(pattern: JSONPointer, keyMember: String) {
        self.pattern = pattern
        self.keyMember = keyMember
    }

    /// A rule from the pointer text of its pattern.
    public init(_ pattern: String, keyMember: String) throws(JSONPointerError) {
        self.init(pattern: try JSONPointer(parsing: pattern), keyMember: keyMember)
    }

    public func matches(_ tokens: [String]) -> Bool {
        guard tokens.count == pattern.tokens.count else { return false }
        for (token, expected) in zip(tokens, pattern.tokens) where expected != "*" && expected != token {
            return false
        }
        return true
    }

    /// `/scheduler/controllers by id`.
    public var description: String { "\(pattern) by \(keyMember)" }
}

/// How layers merge: which arrays are keyed, and the member that deletes a
/// keyed element.
public struct MergePolicy: Sendable, Hashable {
    public var keyedArrays: [KeyedArrayRule]
    /// A keyed element `{"<key member>": k, "<deleteMarker>": true}` with no
    /// other members deletes the element with key `k` from the earlier
    /// layers' result.
    public var deleteMarker: String

    public init(keyedArrays: [KeyedArrayRule], deleteMarker: String = "$delete") {
        self.keyedArrays = keyedArrays
        self.deleteMarker = deleteMarker
    }

    /// The Switchyard config document (ARCHITECTURE section 6): devices by
    /// `device_id`, controllers and alarms by `id`.
    public static let switchyard = MergePolicy(keyedArrays: [
        KeyedArrayRule(pattern: JSONPointer(tokens: ["modbus_devices"]), keyMember: "device_id"),
        KeyedArrayRule(pattern: JSONPointer(tokens: ["devices"]), keyMember: "device_id"),
        KeyedArrayRule(pattern: JSONPointer(tokens: ["scheduler", "controllers"]), keyMember: "id"),
        KeyedArrayRule(pattern: JSONPointer(tokens: ["alarms"]), keyMember: "id"),
    ])

    /// The first rule whose pattern matches the array at `tokens`.
    /// How many tokens the longest pattern has: no keyed array lies deeper.
    public var deepestRule: Int {
        var deepest = 0
        for rule in keyedArrays where rule.pattern.tokens.count > deepest { deepest = rule.pattern.tokens.count }
        return deepest
    }

    public func rule(for tokens: [String]) -> KeyedArrayRule? {
        keyedArrays.first { $0.matches(tokens) }
    }
}
