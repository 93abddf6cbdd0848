import SwitchyardJSON

/// Merges ordered config layers into an edge's effective config.
///
/// Rules, applied layer by layer (ARCHITECTURE section 6):
/// - Objects merge member by member; a member whose value is `null` deletes
///   that member from the result so far (so the effective document never
///   has `null` members; `null` inside a replaced array is kept).
/// - Arrays matched by a `KeyedArrayRule` merge by key: an element whose key
///   is already present merges into that element, in place; a new key
///   appends, in the layer's order. `{"<key>": k, "$delete": true}` (and no
///   other member) deletes the element with key `k`; deleting a key that is
///   not there is not an error. Every element needs its key member (a string
///   or number) and keys are unique within one layer's array.
/// - Any other value (scalars, other arrays) replaces what was there.
/// - A value of a different kind than the earlier layers' (an object where
///   there was a number) replaces it too, and is recorded as a
///   `ShapeConflict`.
///
/// Layers must come in scope order (organization, groups, site, edge);
/// groups are merged in the order given, which is the caller's priority
/// order. Pure: no I/O, no clock; the result depends only on the input.
public struct LayerMerge: Sendable {
    public var policy: MergePolicy

    public init(policy: MergePolicy = .switchyard) {
        self.policy = policy
    }

    /// The effective config of `layers`, with the conflicts found and
    /// provenance on demand (`EffectiveConfig.explain`).
    ///
    /// Throws for layers out of scope order, a repeated layer, a layer that
    /// is not an object, or a malformed keyed array; the error names the
    /// layer and the path inside its document. When a layer has several
    /// problems, the first in sorted-key document order is reported.
    public func merge(_ layers: [ConfigLayer]) throws(ConfigLayerError) -> EffectiveConfig {
        var document: JSONValue? = nil
        let conflicts = try fold(layers, into: &document)
        return EffectiveConfig(document: document ?? .object([:]), layers: layers, policy: policy, conflicts: conflicts)
    }

    /// The effective document of earlier layers, `base`, with `layers`
    /// merged on top. The merge is a left fold, so this is what merging all
    /// the layers gives, without merging the earlier ones again: the server
    /// merges an edge's own layer onto its site's merged content.
    public func effectiveDocument(of layers: [ConfigLayer], onto base: JSONValue) throws(ConfigLayerError) -> JSONValue {
        var document: JSONValue? = base
        _ = try fold(layers, into: &document)
        return document ?? .object([:])
    }

    private func fold(_ layers: [ConfigLayer], into document: inout JSONValue?) throws(ConfigLayerError) -> [ShapeConflict] {
        try checkOrder(layers)
        var conflicts: [ShapeConflict] = []
        for layer in layers {
            guard case .object = layer.document else { throw ConfigLayerError.notAnObject(layer) }
            var merger = LayerMerger(policy: policy, layer: layer.identity)
            var path: [String] = []
            do {
                try merger.merge(&document, layer.document, path: &path)
            } catch {
                try validate(layer)
                throw error
            }
            conflicts += merger.conflicts.sorted { $0.path.description.utf8.lexicographicallyPrecedes($1.path.description.utf8) }
        }
        return conflicts
    }

    /// Just the effective document: what `merge(_:).document` returns. The
    /// function to time in benchmarks.
    public func effectiveDocument(of layers: [ConfigLayer]) throws(ConfigLayerError) -> JSONValue {
        try merge(layers).document
    }

    private func checkOrder(_ layers: [ConfigLayer]) throws(ConfigLayerError) {
        var seen: Set<[String]> = []
        for (index, layer) in layers.enumerated() {
            let identity = layer.identity
            if index > 0, identity.scope < layers[index - 1].identity.scope {
                throw ConfigLayerError(
                    code: .layersOutOfOrder, layer: identity, path: nil,
                    message: "comes after layer \(layers[index - 1].identity); layers must be ordered organization, groups, site, edge"
                )
            }
            guard seen.insert([identity.scope.rawValue, identity.id]).inserted else {
                throw ConfigLayerError(code: .duplicateLayer, layer: identity, path: nil, message: "appears twice in the list of layers")
            }
        }
    }
}
