import SwitchyardJSON

extension JSONPatch {
    /// The result of applying every operation in order to `document`.
    ///
    /// All or nothing: on the first failing operation this throws and no
    /// result exists; `document` is a value and is never changed. The error
    /// names the operation's index, op, path and the reason.
    ///
    /// Cost: each operation copies only the containers on its path that are
    /// shared with `document`, so a small patch on a large document is cheap.
    public func apply(to document: JSONValue) throws(JSONPatchError) -> JSONValue {
        var result = document
        for (index, operation) in operations.enumerated() {
            try result.apply(operation, index: index)
        }
        return result
    }

    /// Applies the patch to `document` in place, all or nothing: when an
    /// operation fails, `document` is left exactly as it was.
    public func apply(to document: inout JSONValue) throws(JSONPatchError) {
        document = try apply(to: document)
    }
}

extension JSONValue {
    mutating func apply(_ operation: JSONPatchOperation, index: Int) throws(JSONPatchError) {
        func failure(_ code: JSONPatchError.Code, _ reason: String) -> JSONPatchError {
            JSONPatchError(
                code: code, operationIndex: index, op: operation.op, path: operation.path.description,
                from: operation.from?.description, member: nil, reason: reason
            )
        }
        func pointerFailure(_ error: PointerFailure, inFrom: Bool = false) -> JSONPatchError {
            failure(JSONPatchError.Code(error.code), inFrom ? "from: \(error.message)" : error.message)
        }

        switch operation {
        case .add(let path, let value):
            do { try add(value, at: path) } catch { throw pointerFailure(error) }

        case .remove(let path):
            if path.isRoot { throw failure(.removeRoot, "the whole document cannot be removed (replace it instead)") }
            do { _ = try remove(at: path) } catch { throw pointerFailure(error) }

        case .replace(let path, let value):
            do { try replace(at: path, with: value) } catch { throw pointerFailure(error) }

        case .move(let from, let path):
            if from.isProperPrefix(of: path) {
                throw failure(.moveIntoOwnChild, "a value cannot be moved into its own child (\(path) is inside \(from))")
            }
            if from == path {
                do { _ = try value(at: from) } catch { throw pointerFailure(error, inFrom: true) }
                return
            }
            if from.isRoot { throw failure(.removeRoot, "from: the whole document cannot be moved") }
            let moved: JSONValue
            do { moved = try remove(at: from) } catch { throw pointerFailure(error, inFrom: true) }
            do { try add(moved, at: path) } catch { throw pointerFailure(error) }

        case .copy(let from, let path):
            let copied: JSONValue
            do { copied = try value(at: from) } catch { throw pointerFailure(error, inFrom: true) }
            do { try add(copied, at: path) } catch { throw pointerFailure(error) }

        case .test(let path, let expected):
            let actual: JSONValue
            do { actual = try value(at: path) } catch { throw pointerFailure(error) }
            if !actual.isJSONEqual(to: expected) {
                throw failure(.testFailed, "test failed: expected \(excerpt(expected)), found \(excerpt(actual))")
            }
        }
    }

    func value(at pointer: JSONPointer) throws(PointerFailure) -> JSONValue {
        if pointer.isRoot { return self }
        return try value(at: PointerPosition(tokens: pointer.tokens, depth: 0))
    }

    mutating func add(_ value: JSONValue, at pointer: JSONPointer) throws(PointerFailure) {
        if pointer.isRoot {
            self = value
            return
        }
        try withParent(at: PointerPosition(tokens: pointer.tokens, depth: 0)) { (parent, position) throws(PointerFailure) in
            switch parent {
            case .object(var members):
                parent = .null
                members[position.token] = value
                parent = .object(members)
            case .array(var items):
                let index = try position.index(count: items.count, allowingEnd: true)
                parent = .null
                items.insert(value, at: index)
                parent = .array(items)
            default:
                throw position.notAContainer(parent)
            }
        }
    }

    mutating func remove(at pointer: JSONPointer) throws(PointerFailure) -> JSONValue {
        try withParent(at: PointerPosition(tokens: pointer.tokens, depth: 0)) { (parent, position) throws(PointerFailure) in
            switch parent {
            case .object(var members):
                guard members[position.token] != nil else { throw position.noSuchMember() }
                parent = .null
                let removed = members.removeValue(forKey: position.token)!
                parent = .object(members)
                return removed
            case .array(var items):
                let index = try position.index(count: items.count, allowingEnd: false)
                parent = .null
                let removed = items.remove(at: index)
                parent = .array(items)
                return removed
            default:
                throw position.notAContainer(parent)
            }
        }
    }

    mutating func replace(at pointer: JSONPointer, with value: JSONValue) throws(PointerFailure) {
        if pointer.isRoot {
            self = value
            return
        }
        try withParent(at: PointerPosition(tokens: pointer.tokens, depth: 0)) { (parent, position) throws(PointerFailure) in
            switch parent {
            case .object(var members):
                guard let index = members.index(forKey: position.token) else { throw position.noSuchMember() }
                parent = .null
                members.values[index] = value
                parent = .object(members)
            case .array(var items):
                let index = try position.index(count: items.count, allowingEnd: false)
                parent = .null
                items[index] = value
                parent = .array(items)
            default:
                throw position.notAContainer(parent)
            }
        }
    }
}

/// A value shortened for an error message.
func excerpt(_ value: JSONValue, limit: Int = 80) -> String {
    let text = value.canonicalText
    guard text.count > limit else { return text }
    return String(text.prefix(limit)) + "…"
}
