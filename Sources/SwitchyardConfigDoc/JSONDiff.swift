import SwitchyardJSON

/// Computes an RFC 6902 patch that turns one document into another.
///
/// Contract: for any `a` and `b`, `try diff.patch(from: a, to: b).apply(to: a)`
/// succeeds and `isJSONEqual(to: b)`. Operations are meant to be applied in
/// the order given.
///
/// Size (`Granularity.smallest`): at every level the fine-grained operations
/// (per member, per element) are compared with one `replace` of that
/// subtree, by the byte count of their canonical encoding, and the replace
/// wins when the fine-grained operations are larger. At the root that
/// replace is the full document, so a patch is never bigger than one
/// `replace` of the whole target.
///
/// Arrays whose elements are all objects with the same key member (the
/// first of `keyMembers` that every element of both arrays has, with unique
/// string or number values) are matched by key: removes from the highest
/// index down, then in-place diffs of matched elements, then adds at their
/// final index. If the matched elements changed order, or the array is not
/// keyed, the common prefix and suffix are kept and the middle is diffed
/// position by position.
public struct JSONDiff: Sendable {
    public enum Granularity: Sendable, Hashable {
        /// The smallest of fine-grained operations and subtree replacement,
        /// level by level: for sending.
        case smallest
        /// Always member by member and element by element, whatever the
        /// size: for audit logs and people.
        case fineGrained
    }

    /// Members that identify array elements, in order of preference.
    public var keyMembers: [String]
    public var granularity: Granularity

    public init(keyMembers: [String] = ["id", "device_id"], granularity: Granularity = .smallest) {
        self.keyMembers = keyMembers
        self.granularity = granularity
    }

    /// The patch from `source` to `target`; empty when they are equal.
    public func patch(from source: JSONValue, to target: JSONValue) -> JSONPatch {
        JSONPatch(diff(source, target, at: .root).operations)
    }

    /// The patch from `source` to `target` with the default key members.
    public static func patch(from source: JSONValue, to target: JSONValue) -> JSONPatch {
        JSONDiff().patch(from: source, to: target)
    }

    func diff(_ source: JSONValue, _ target: JSONValue, at path: JSONPointer) -> DiffOperations {
        let fine: DiffOperations
        switch (source, target) {
        case (.object(let a), .object(let b)):
            fine = diffObjects(a, b, at: path)
        case (.array(let a), .array(let b)):
            fine = diffArrays(a, b, at: path)
        default:
            if source.isJSONEqual(to: target) { return DiffOperations() }
            return DiffOperations([.replace(path: path, value: target)])
        }
        if fine.operations.isEmpty || granularity == .fineGrained { return fine }
        let replace = JSONPatchOperation.replace(path: path, value: target)
        // Stops measuring the replacement as soon as it is larger.
        return CanonicalSize.of(replace, limit: fine.size) < fine.size ? DiffOperations([replace]) : fine
    }

    private func diffObjects(_ a: [String: JSONValue], _ b: [String: JSONValue], at path: JSONPointer) -> DiffOperations {
        var result = DiffOperations()
        let order: (String, String) -> Bool = { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var added: [String] = []
        for key in a.keys.sorted(by: order) {
            let member = path.appending(key)
            // Swift matches canonically equivalent keys; JSON does not.
            if let index = b.index(forKey: key), b.keys[index].unicodeScalars.elementsEqual(key.unicodeScalars) {
                result.append(diff(a[key]!, b.values[index], at: member))
            } else {
                result.append(.remove(path: member))
                if let index = b.index(forKey: key) { added.append(b.keys[index]) }
            }
        }
        for key in b.keys where a.index(forKey: key) == nil { added.append(key) }
        for key in added.sorted(by: order) {
            result.append(.add(path: path.appending(key), value: b[key]!))
        }
        return result
    }
}

/// Operations and the byte count they add to a patch's canonical encoding
/// (each operation's encoding plus the commas between them).
struct DiffOperations {
    private(set) var operations: [JSONPatchOperation] = []
    private(set) var size = 0

    init(_ operations: [JSONPatchOperation] = []) {
        for operation in operations { append(operation) }
    }

    mutating func append(_ operation: JSONPatchOperation) {
        if !operations.isEmpty { size += 1 }
        size += CanonicalSize.of(operation)
        operations.append(operation)
    }

    mutating func append(_ other: DiffOperations) {
        guard !other.operations.isEmpty else { return }
        if !operations.isEmpty { size += 1 }
        size += other.size
        operations += other.operations
    }
}
