import SwitchyardJSON

/// Merges one layer's document into the result of the layers before it, in
/// place. Checks as it goes; `LayerMerge.validate` finds the same problems
/// in a deterministic order when one is thrown.
struct LayerMerger {
    let policy: MergePolicy
    let layer: LayerIdentity
    var conflicts: [ShapeConflict] = []

    init(policy: MergePolicy, layer: LayerIdentity) {
        self.policy = policy
        self.layer = layer
    }

    /// `path` holds the tokens of `overlay` inside the layer's document.
    mutating func merge(_ base: inout JSONValue?, _ overlay: JSONValue, path: inout [String]) throws(ConfigLayerError) {
        // Nothing below to merge into, and nothing in the overlay that a merge would change (no
        // `null` to drop, no keyed array to check): the result is the overlay itself, shared, not
        // rebuilt member by member (a site layer's hundred devices are mostly this case).
        if case .none = base, isPlain(overlay, path: &path) {
            base = overlay
            return
        }
        switch overlay {
        case .object(let overlayMembers):
            var members: [String: JSONValue]
            if case .object(let existing)? = base {
                members = existing
            } else {
                if let base { conflict(base, overlay, path) }
                members = [:]
            }
            base = nil  // `members` is now the only reference: merges below are in place
            for (key, value) in overlayMembers {
                if value.isNull {
                    members.removeValue(forKey: key)
                    continue
                }
                path.append(key)
                var slot = members.removeValue(forKey: key)
                try merge(&slot, value, path: &path)
                members[key] = slot
                path.removeLast()
            }
            base = .object(members)
        case .array(let elements):
            if let rule = policy.rule(for: path) {
                try mergeKeyed(&base, elements, rule: rule, path: &path)
            } else {
                if let base { conflict(base, overlay, path) }
                base = overlay
            }
        default:
            if let base { conflict(base, overlay, path) }
            base = overlay
        }
    }

    private mutating func mergeKeyed(
        _ base: inout JSONValue?, _ elements: [JSONValue], rule: KeyedArrayRule, path: inout [String]
    ) throws(ConfigLayerError) {
        var items: [JSONValue?] = []
        if case .array(let existing)? = base {
            items = existing.map { $0 }
        } else if let base {
            conflict(base, .array(elements), path)
        }
        base = nil
        var position: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            if let key = item?[rule.keyMember] { position[key.canonicalText] = index }
        }
        var seen: Set<String> = []
        for (index, element) in elements.enumerated() {
            path.append(String(index))
            let check = KeyedElementCheck(policy: policy, rule: rule, layer: layer)
            let key = try check.key(of: element, at: path)
            guard seen.insert(key.text).inserted else { throw check.duplicate(key.value, at: path) }
            if key.deletes {
                if let index = position.removeValue(forKey: key.text) { items[index] = nil }
            } else if let index = position[key.text] {
                var slot = items[index]
                items[index] = nil
                try merge(&slot, element, path: &path)
                items[index] = slot
            } else {
                var slot: JSONValue? = nil
                try merge(&slot, element, path: &path)
                items.append(slot)
                position[key.text] = items.count - 1
            }
            path.removeLast()
        }
        base = .array(items.compactMap { $0 })
    }

    /// True when merging `value` onto nothing gives `value`: no `null`
    /// member anywhere and no keyed array (whose elements need their checks).
    private func isPlain(_ value: JSONValue, path: inout [String]) -> Bool {
        switch value {
        case .object(let members):
            if path.count > policy.deepestRule { return !Self.containsNullMember(value) }
            for (key, member) in members {
                if member.isNull { return false }
                path.append(key)
                defer { path.removeLast() }
                if !isPlain(member, path: &path) { return false }
            }
            return true
        case .array:
            // A plain array replaces whatever was there, nulls inside it included.
            return path.count > policy.deepestRule || policy.rule(for: path) == nil
        default:
            return true
        }
    }

    private static func containsNullMember(_ value: JSONValue) -> Bool {
        guard case .object(let members) = value else { return false }
        for member in members.values {
            if member.isNull || containsNullMember(member) { return true }
        }
        return false
    }

    private mutating func conflict(_ base: JSONValue, _ overlay: JSONValue, _ path: [String]) {
        guard base.shapeKind != overlay.shapeKind else { return }
        conflicts.append(ShapeConflict(
            layer: layer, path: JSONPointer(tokens: path), replacedKind: base.shapeKind, kind: overlay.shapeKind
        ))
    }
}

/// The checks on one element of a keyed array, shared by the merge and by
/// `LayerMerge.validate`.
struct KeyedElementCheck {
    let policy: MergePolicy
    let rule: KeyedArrayRule
    let layer: LayerIdentity

    struct Key {
        let value: JSONValue
        /// The canonical text of the key, so that matching is exact.
        let text: String
        /// The element is a delete marker.
        let deletes: Bool
    }

    func key(of element: JSONValue, at path: [String]) throws(ConfigLayerError) -> Key {
        guard case .object(let members) = element else {
            throw error(.keyedElementNotAnObject, path,
                "\(arrayName(path)) is keyed by \"\(rule.keyMember)\", so each element must be an object, got \(article(element.typeName)) \(element.typeName)")
        }
        guard let key = members[rule.keyMember] else {
            throw error(.missingKey, path,
                "element has no \"\(rule.keyMember)\" member; every element of \(arrayName(path)) needs one to be merged by key")
        }
        switch key {
        case .string, .number: break
        default:
            throw error(.invalidKey, path,
                "\"\(rule.keyMember)\" must be a string or number, got \(key.typeName)")
        }
        var deletes = false
        if let marker = members[policy.deleteMarker] {
            guard marker == .bool(true), members.count == 2 else {
                throw error(.invalidDelete, path,
                    "a delete marker must be exactly {\"\(rule.keyMember)\": …, \"\(policy.deleteMarker)\": true}, with no other members")
            }
            deletes = true
        }
        return Key(value: key, text: key.canonicalText, deletes: deletes)
    }

    func duplicate(_ key: JSONValue, at path: [String]) -> ConfigLayerError {
        error(.duplicateKey, path, "another element of \(arrayName(path)) in this layer already has \"\(rule.keyMember)\": \(key.canonicalText)")
    }

    private func arrayName(_ path: [String]) -> String {
        JSONPointer(tokens: Array(path.dropLast())).description
    }

    private func error(_ code: ConfigLayerError.Code, _ path: [String], _ message: String) -> ConfigLayerError {
        ConfigLayerError(code: code, layer: layer, path: JSONPointer(tokens: path), message: message)
    }
}
