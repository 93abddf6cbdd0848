import SwitchyardJSON

/// An RFC 6902 JSON Patch: operations applied in order, all or nothing.
public struct JSONPatch: Sendable, Hashable {
    public var operations: [JSONPatchOperation]

    public init(_ operations: [JSONPatchOperation] = []) {
        self.operations = operations
    }

    /// The patch as a JSON array of operation objects.
    public var jsonValue: JSONValue { .array(operations.map(\.jsonValue)) }

    /// The canonical encoding of the patch (sorted keys, no whitespace).
    public var canonicalText: String { jsonValue.canonicalText }

    /// The names of the document's members that the patch may change (a
    /// `test` changes nothing; a `move` changes where it takes from as well
    /// as where it puts); nil when it replaces the document itself.
    public var changedTopLevelMembers: Set<String>? {
        var names: Set<String> = []
        for operation in operations {
            let pointers: [JSONPointer]
            switch operation {
            case .add(let path, _), .remove(let path), .replace(let path, _), .copy(_, let path): pointers = [path]
            case .move(let from, let path): pointers = [from, path]
            case .test: pointers = []
            }
            for pointer in pointers {
                guard let name = pointer.tokens.first else { return nil }
                names.insert(name)
            }
        }
        return names
    }

    /// The byte count of `canonicalText`, what the patch costs on the wire,
    /// computed without encoding it.
    public var encodedSize: Int {
        operations.reduce(operations.isEmpty ? 2 : 1 + operations.count) { $0 + CanonicalSize.of($1) }
    }
}

extension JSONPatch {
    /// Parses and decodes a patch document. A syntax error is reported with
    /// code `invalidJSON` and the line and column in `reason`; a duplicate
    /// member in an operation (`"op"` twice) is such an error.
    public init(parsing text: String) throws(JSONPatchError) {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: text)
        } catch {
            throw JSONPatchError(
                code: .invalidJSON, operationIndex: nil, op: nil, path: nil, member: nil,
                reason: "the patch is not valid JSON: \(error)"
            )
        }
        try self.init(decoding: document)
    }

    /// Decodes a patch document: an array of operation objects.
    ///
    /// Each operation needs `op` and `path` (strings; `path` a valid JSON
    /// Pointer), `value` for add, replace and test (`null` is a value; a
    /// missing member is not), and `from` for move and copy. Other members
    /// are ignored, as RFC 6902 requires. The first problem found is thrown,
    /// naming the operation index and the member.
    public init(decoding document: JSONValue) throws(JSONPatchError) {
        guard case .array(let items) = document else {
            throw JSONPatchError(
                code: .notAnArray, operationIndex: nil, op: nil, path: nil, member: nil,
                reason: "a JSON Patch must be an array of operations, got \(article(document.typeName)) \(document.typeName)"
            )
        }
        var operations: [JSONPatchOperation] = []
        operations.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            var decoder = OperationDecoder(index: index, item: item)
            operations.append(try decoder.decode())
        }
        self.init(operations)
    }
}

/// Decodes one operation object, remembering what is known so far so that
/// every error carries it.
private struct OperationDecoder {
    let index: Int
    let item: JSONValue
    var op: String?
    var path: String?

    init(index: Int, item: JSONValue) {
        self.index = index
        self.item = item
    }

    mutating func decode() throws(JSONPatchError) -> JSONPatchOperation {
        guard case .object(let members) = item else {
            throw failure(.malformedOperation, member: nil, "an operation must be an object, got \(article(item.typeName)) \(item.typeName)")
        }
        let opName = try string("op", in: members)
        let known = ["add", "remove", "replace", "move", "copy", "test"]
        guard known.contains(opName) else {
            throw failure(
                .malformedOperation, member: "op",
                "\"\(opName)\" is not an operation (expected add, remove, replace, move, copy or test)"
            )
        }
        op = opName
        let pathText = try string("path", in: members)
        path = pathText
        let target = try pointer(pathText, member: "path")
        switch opName {
        case "add": return .add(path: target, value: try value(in: members))
        case "remove": return .remove(path: target)
        case "replace": return .replace(path: target, value: try value(in: members))
        case "test": return .test(path: target, value: try value(in: members))
        case "move": return .move(from: try pointer(try string("from", in: members), member: "from"), path: target)
        default: return .copy(from: try pointer(try string("from", in: members), member: "from"), path: target)
        }
    }

    func string(_ name: String, in members: [String: JSONValue]) throws(JSONPatchError) -> String {
        guard let member = members[name] else {
            throw failure(.malformedOperation, member: name, "member \"\(name)\" is missing")
        }
        guard case .string(let text) = member else {
            throw failure(.malformedOperation, member: name, "member \"\(name)\" must be a string, got \(member.typeName)")
        }
        return text
    }

    func value(in members: [String: JSONValue]) throws(JSONPatchError) -> JSONValue {
        guard let value = members["value"] else {
            throw failure(.malformedOperation, member: "value", "member \"value\" is missing (\(op ?? "this op") needs one; null is a value)")
        }
        return value
    }

    func pointer(_ text: String, member: String) throws(JSONPatchError) -> JSONPointer {
        do {
            return try JSONPointer(parsing: text)
        } catch {
            throw failure(.invalidPointer, member: member, "member \"\(member)\" is not a valid JSON Pointer: \(error.message)")
        }
    }

    func failure(_ code: JSONPatchError.Code, member: String?, _ reason: String) -> JSONPatchError {
        JSONPatchError(
            code: code, operationIndex: index, op: op,
            path: member == "path" ? nil : path, member: member, reason: reason
        )
    }
}
