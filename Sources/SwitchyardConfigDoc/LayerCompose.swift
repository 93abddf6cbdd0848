import SwitchyardJSON

/// Composes two partial documents into one layer: what `fragment` says wins,
/// objects merge, keyed arrays merge element by element by key, anything
/// else replaces, and `null` stays `null` (a layer's way to delete what an
/// earlier layer set).
public enum LayerCompose {
    public static func compose(_ base: JSONValue, _ fragment: JSONValue, path: [String] = [], policy: MergePolicy = .switchyard) -> JSONValue {
        switch (base, fragment) {
        case (.object(var members), .object(let changes)):
            for (name, value) in changes {
                members[name] = members[name].map { compose($0, value, path: path + [name], policy: policy) } ?? value
            }
            return .object(members)
        case (.array(var elements), .array(let changes)):
            guard let rule = policy.rule(for: path) else { return fragment }
            for change in changes {
                guard let key = change[rule.keyMember],
                      let index = elements.firstIndex(where: { $0[rule.keyMember].map { $0.isJSONEqual(to: key) } ?? false }) else {
                    elements.append(change)
                    continue
                }
                if change[policy.deleteMarker]?.boolValue == true {
                    elements[index] = change
                } else {
                    elements[index] = compose(elements[index], change, path: path + [String(index)], policy: policy)
                }
            }
            return .array(elements)
        default:
            return fragment
        }
    }
}
