import SwitchyardJSON

/// One RFC 6902 operation.
public enum JSONPatchOperation: Sendable, Hashable {
    /// Sets an object member (replacing one that exists) or inserts into an
    /// array before `path`'s index; `-` appends. The parent must exist.
    case add(path: JSONPointer, value: JSONValue)
    /// Removes the member or element at `path`, which must exist.
    case remove(path: JSONPointer)
    /// Replaces the value at `path`, which must exist.
    case replace(path: JSONPointer, value: JSONValue)
    /// Removes the value at `from` and adds it at `path`. `from` must not be a
    /// proper prefix of `path`: a value cannot move into its own child.
    case move(from: JSONPointer, path: JSONPointer)
    /// Adds a copy of the value at `from` at `path`.
    case copy(from: JSONPointer, path: JSONPointer)
    /// Succeeds when the value at `path` equals `value` (`isJSONEqual`).
    case test(path: JSONPointer, value: JSONValue)

    /// The operation's name as RFC 6902 spells it.
    public var op: String {
        switch self {
        case .add: "add"
        case .remove: "remove"
        case .replace: "replace"
        case .move: "move"
        case .copy: "copy"
        case .test: "test"
        }
    }

    /// The target location.
    public var path: JSONPointer {
        switch self {
        case .add(let path, _), .remove(let path), .replace(let path, _), .test(let path, _),
            .move(_, let path), .copy(_, let path):
            path
        }
    }

    /// The source location of `move` and `copy`.
    public var from: JSONPointer? {
        switch self {
        case .move(let from, _), .copy(let from, _): from
        default: nil
        }
    }

    /// The operation as a JSON object, as it appears in a patch document.
    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = ["op": .string(op), "path": .string(path.description)]
        switch self {
        case .add(_, let value), .replace(_, let value), .test(_, let value):
            members["value"] = value
        case .move(let from, _), .copy(let from, _):
            members["from"] = .string(from.description)
        case .remove:
            break
        }
        return .object(members)
    }
}
