import SwitchyardJSON

extension EffectiveConfig {
    /// Which layers gave `path` its value, and what each did there.
    ///
    /// `path` is a pointer into the effective document. Elements of keyed
    /// arrays are followed by their key, so `/modbus_devices/3` is explained
    /// through the element with the same `device_id` in every layer,
    /// whatever its index there. A path that is not in the effective document
    /// can still be explained as long as it does not need an element of a
    /// keyed array that is not there (a deleted member shows who deleted it).
    /// Paths into an array that is not keyed are explained through that
    /// array (`unitPath`), since layers replace it as a whole.
    ///
    /// Throws `pathNotFound` when `path` goes through a scalar of the
    /// effective document, or names an element of a keyed array that it
    /// does not have.
    public func explain(_ path: JSONPointer) throws(ConfigLayerError) -> Explanation {
        let (steps, unitLength) = try semanticSteps(for: path)
        var entries: [Explanation.Entry] = []
        for layer in layers {
            guard let action = walk(layer.document, steps) else { continue }
            // Deleting what no earlier layer set changes nothing: leave it out.
            if entries.isEmpty && !action.isSet { continue }
            entries.append(Explanation.Entry(layer: layer.identity, action: action))
        }
        let unitPath = JSONPointer(tokens: Array(path.tokens.prefix(unitLength)))
        let value = path.value(in: document)
        let unitValue = unitPath.value(in: document)
        let merges: Bool
        switch unitValue {
        case .object?: merges = true
        case .array?: merges = policy.rule(for: unitPath.tokens) != nil
        default: merges = false
        }
        return Explanation(
            path: path, unitPath: unitPath, value: value, entries: entries,
            contributors: unitValue == nil ? [] : contributors(entries, merges: merges), merges: merges
        )
    }

    /// How a location is found in every layer: object members by name,
    /// keyed elements by key.
    enum Step {
        case member(String)
        case element(keyMember: String, key: JSONValue)
    }

    /// The steps for `path`, and how many of its tokens they cover (fewer
    /// when the path enters an array that is not keyed).
    private func semanticSteps(for path: JSONPointer) throws(ConfigLayerError) -> ([Step], Int) {
        var steps: [Step] = []
        var current: JSONValue? = document
        for (depth, token) in path.tokens.enumerated() {
            let prefix = Array(path.tokens[..<depth])
            if let rule = policy.rule(for: prefix), current == nil || current?.arrayValue != nil {
                let elements = current?.arrayValue ?? []
                guard let index = JSONPointer.arrayIndex(token), index < elements.count,
                    let key = elements[index][rule.keyMember]
                else {
                    throw notFound(path, "\(JSONPointer(tokens: prefix)) has no element \"\(token)\" (it has \(elementCount(elements.count)), keyed by \(rule.keyMember))")
                }
                steps.append(.element(keyMember: rule.keyMember, key: key))
                current = elements[index]
                continue
            }
            switch current {
            case .array?:
                return (steps, depth)
            case .object(let members)?:
                current = members[token]
            case nil:
                break
            case let scalar?:
                throw notFound(path, "\(prefix.isEmpty ? "the document" : JSONPointer(tokens: prefix).description) is \(article(scalar.typeName)) \(scalar.typeName)")
            }
            steps.append(.member(token))
        }
        return (steps, path.tokens.count)
    }

    /// What `document` (one layer's) does at the location `steps` lead to;
    /// nil when it does not touch it.
    private func walk(_ document: JSONValue, _ steps: [Step]) -> Explanation.Action? {
        var node = document
        var tokens: [String] = []
        for (index, step) in steps.enumerated() {
            let isLast = index == steps.count - 1
            switch step {
            case .member(let name):
                guard case .object(let members) = node else {
                    return .replacedAncestor(JSONPointer(tokens: tokens), node)
                }
                guard let child = members[name] else { return nil }
                tokens.append(name)
                if child.isNull { return isLast ? .deleted : .deletedAncestor(JSONPointer(tokens: tokens)) }
                node = child
            case .element(let keyMember, let key):
                guard case .array(let elements) = node else {
                    return .replacedAncestor(JSONPointer(tokens: tokens), node)
                }
                guard let index = elements.firstIndex(where: { $0[keyMember]?.isJSONEqual(to: key) == true }) else {
                    return nil
                }
                tokens.append(String(index))
                if elements[index][policy.deleteMarker] == .bool(true) {
                    return isLast ? .deleted : .deletedAncestor(JSONPointer(tokens: tokens))
                }
                node = elements[index]
            }
        }
        return .set(node)
    }

    /// The layers since the value was last deleted or replaced by one of
    /// another kind; for a leaf, the one that set it.
    private func contributors(_ entries: [Explanation.Entry], merges: Bool) -> [LayerIdentity] {
        var result: [LayerIdentity] = []
        var previousKind: String? = nil
        for entry in entries {
            guard case .set(let value) = entry.action else {
                result = []
                previousKind = nil
                continue
            }
            let kind = value.shapeKind
            if merges, kind == previousKind, kind == "object" || kind == "array" {
                result.append(entry.layer)
            } else {
                result = [entry.layer]
            }
            previousKind = kind
        }
        return result
    }

    private func notFound(_ path: JSONPointer, _ message: String) -> ConfigLayerError {
        ConfigLayerError(code: .pathNotFound, layer: nil, path: path, message: message)
    }
}
