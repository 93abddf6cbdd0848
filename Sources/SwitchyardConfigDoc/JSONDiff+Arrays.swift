import SwitchyardJSON

extension JSONDiff {
    func diffArrays(_ a: [JSONValue], _ b: [JSONValue], at path: JSONPointer) -> DiffOperations {
        if let keyMember = sharedKeyMember(a, b), let keyed = diffKeyed(a, b, keyMember: keyMember, at: path) {
            return keyed
        }
        return diffPositional(a, b, at: path)
    }

    /// The first of `keyMembers` that every element of both arrays has, with
    /// unique string or number values within each array.
    func sharedKeyMember(_ a: [JSONValue], _ b: [JSONValue]) -> String? {
        guard !a.isEmpty || !b.isEmpty else { return nil }
        return keyMembers.first { member in
            keys(of: a, member: member) != nil && keys(of: b, member: member) != nil
        }
    }

    /// Each element's key (its canonical text, so that matching is exact),
    /// or nil when some element has no usable or a duplicate key.
    func keys(of items: [JSONValue], member: String) -> [String]? {
        var keys: [String] = []
        var seen: Set<String> = []
        keys.reserveCapacity(items.count)
        for item in items {
            guard let value = item[member] else { return nil }
            switch value {
            case .string, .number: break
            default: return nil
            }
            let key = value.canonicalText
            guard seen.insert(key).inserted else { return nil }
            keys.append(key)
        }
        return keys
    }

    /// Removes (highest index first), in-place diffs of matched elements,
    /// then adds at their final index. Nil when matched elements are in a
    /// different order in `b`, which this does not express with moves.
    private func diffKeyed(_ a: [JSONValue], _ b: [JSONValue], keyMember: String, at path: JSONPointer) -> DiffOperations? {
        guard let aKeys = keys(of: a, member: keyMember), let bKeys = keys(of: b, member: keyMember) else { return nil }
        var targetIndex: [String: Int] = [:]
        for (index, key) in bKeys.enumerated() { targetIndex[key] = index }
        let sourceKeys = Set(aKeys)

        var result = DiffOperations()
        var survivors: [(source: JSONValue, target: Int)] = []
        for (index, key) in aKeys.enumerated() {
            if let target = targetIndex[key] {
                survivors.append((a[index], target))
            }
        }
        guard zip(survivors, survivors.dropFirst()).allSatisfy({ $0.target < $1.target }) else { return nil }
        for index in aKeys.indices.reversed() where targetIndex[aKeys[index]] == nil {
            result.append(.remove(path: path.appending(index: index)))
        }
        for (index, survivor) in survivors.enumerated() {
            result.append(diff(survivor.source, b[survivor.target], at: path.appending(index: index)))
        }
        for (index, key) in bKeys.enumerated() where !sourceKeys.contains(key) {
            result.append(.add(path: path.appending(index: index), value: b[index]))
        }
        return result
    }

    /// Keeps the common prefix and suffix; diffs the middle position by
    /// position, then removes the extra source elements (highest first) or
    /// adds the extra target elements.
    private func diffPositional(_ a: [JSONValue], _ b: [JSONValue], at path: JSONPointer) -> DiffOperations {
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix].isJSONEqual(to: b[prefix]) { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix,
            a[a.count - 1 - suffix].isJSONEqual(to: b[b.count - 1 - suffix])
        {
            suffix += 1
        }
        let sourceMiddle = a.count - prefix - suffix
        let targetMiddle = b.count - prefix - suffix
        let common = min(sourceMiddle, targetMiddle)

        var result = DiffOperations()
        for offset in 0..<common {
            let index = prefix + offset
            result.append(diff(a[index], b[index], at: path.appending(index: index)))
        }
        if sourceMiddle > targetMiddle {
            for index in (prefix + common..<prefix + sourceMiddle).reversed() {
                result.append(.remove(path: path.appending(index: index)))
            }
        } else {
            for index in prefix + common..<prefix + targetMiddle {
                result.append(.add(path: path.appending(index: index), value: b[index]))
            }
        }
        return result
    }
}
