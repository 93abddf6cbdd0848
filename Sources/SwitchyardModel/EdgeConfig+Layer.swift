import SwitchyardJSON

extension EdgeConfig {
    /// Layer mode: the issues of a partial config's own members. Everything
    /// present is read as `EdgeConfig` reads a whole document (types,
    /// ranges, choices, unknown fields, unique ids), and nothing is
    /// required: a layer may leave any member to another layer, and a
    /// `null` member deletes what a lower layer set.
    ///
    /// An empty result does not make the document a valid config; it means
    /// no other layer can hide a bad value that this one holds.
    public static func layerIssues(_ layer: JSONValue) -> [ValidationIssue] {
        do {
            _ = try EdgeConfig(json: withoutDeletions(layer))
            return []
        } catch {
            return error.issues.filter { !isMissingMember($0) }
        }
    }

    /// `value` without its `null` object members: in a layer they delete a
    /// lower layer's member, and hold no value to check. Array items stay
    /// (a `null` item is kept by a merge, so it is checked), and so do the
    /// indices that issues name.
    static func withoutDeletions(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var kept: [String: JSONValue] = [:]
            for (name, member) in members where !member.isNull { kept[name] = withoutDeletions(member) }
            return .object(kept)
        case .array(let items):
            return .array(items.map(withoutDeletions))
        default:
            return value
        }
    }

    /// The issues a whole document has and a partial one may have: a
    /// member that is absent (or `null`) where a config requires it.
    static func isMissingMember(_ issue: ValidationIssue) -> Bool {
        issue.message == "is required" || issue.message == "is required (got null)"
    }
}
