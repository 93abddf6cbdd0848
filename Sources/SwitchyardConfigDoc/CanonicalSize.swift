import SwitchyardJSON

/// The byte count of `canonicalText` without building the text, so that the
/// diff can weigh alternatives cheaply. Mirrors SwitchyardJSON's encoder:
/// the tests check the two agree.
enum CanonicalSize {
    /// The size of `value.canonicalText`, or, once it is known to exceed
    /// `limit`, some number above `limit` (the walk stops early).
    static func of(_ value: JSONValue, limit: Int = .max) -> Int {
        var size = 0
        add(value, to: &size, limit: limit)
        return size
    }

    /// The size of one operation object in a patch.
    static func of(_ operation: JSONPatchOperation, limit: Int = .max) -> Int {
        // {"op":"…","path":…} plus ,"value":… or "from":…,
        var size = 2 + 5 + string(operation.op) + 1 + 7 + string(operation.path.description)
        switch operation {
        case .add(_, let value), .replace(_, let value), .test(_, let value):
            size += 9
            guard size <= limit else { return size }
            add(value, to: &size, limit: limit)
        case .move(let from, _), .copy(let from, _):
            size += 8 + string(from.description)
        case .remove:
            break
        }
        return size
    }

    private static func add(_ value: JSONValue, to size: inout Int, limit: Int) {
        guard size <= limit else { return }
        switch value {
        case .null: size += 4
        case .bool(let b): size += b ? 4 : 5
        case .number(let n): size += JSONValue.format(n).utf8.count
        case .string(let s): size += string(s)
        case .array(let items):
            size += items.isEmpty ? 2 : 1 + items.count
            for item in items {
                add(item, to: &size, limit: limit)
                if size > limit { return }
            }
        case .object(let members):
            size += members.isEmpty ? 2 : 1 + members.count
            for (key, member) in members {
                size += string(key) + 1
                add(member, to: &size, limit: limit)
                if size > limit { return }
            }
        }
    }

    /// A string with its quotes and escapes.
    static func string(_ s: String) -> Int {
        var size = 2
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C: size += 2
            case 0..<0x20: size += 6
            case 0..<0x80: size += 1
            case 0..<0x800: size += 2
            case 0..<0x10000: size += 3
            default: size += 4
            }
        }
        return size
    }
}
