import SwitchyardJSON

/// The deep merge of an edge's layers, and what is needed to explain it.
///
/// `document` is the merged content only; stamping `version` and `edge_id`
/// is the caller's business. Provenance is computed on demand from the
/// layers, so merging stays as cheap as the merge itself.
public struct EffectiveConfig: Sendable {
    public let document: JSONValue
    /// The layers, in merge order.
    public let layers: [ConfigLayer]
    public let policy: MergePolicy
    /// Every place where a layer replaced a value of another kind, in layer
    /// order.
    public let conflicts: [ShapeConflict]

    public init(document: JSONValue, layers: [ConfigLayer], policy: MergePolicy, conflicts: [ShapeConflict]) {
        self.document = document
        self.layers = layers
        self.policy = policy
        self.conflicts = conflicts
    }

    /// The pointer of every leaf of `document`, in sorted-key order: every
    /// scalar, every array that is not keyed (arrays replace as a whole), and
    /// every empty object or empty keyed array.
    public var leafPaths: [JSONPointer] {
        var paths: [JSONPointer] = []
        collectLeaves(document, tokens: [], into: &paths)
        return paths
    }

    /// The explanation of every leaf, in `leafPaths` order: for each, the
    /// layer that set it and the values it overrode.
    public func provenance() -> [Explanation] {
        leafPaths.compactMap { try? explain($0) }
    }

    private func collectLeaves(_ value: JSONValue, tokens: [String], into paths: inout [JSONPointer]) {
        switch value {
        case .object(let members) where !members.isEmpty:
            for key in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                collectLeaves(members[key]!, tokens: tokens + [key], into: &paths)
            }
        case .array(let elements) where !elements.isEmpty && policy.rule(for: tokens) != nil:
            for (index, element) in elements.enumerated() {
                collectLeaves(element, tokens: tokens + [String(index)], into: &paths)
            }
        default:
            paths.append(JSONPointer(tokens: tokens))
        }
    }
}
