import SwitchyardJSON

extension LayerMerge {
    /// Checks one layer on its own: its document is an object and every
    /// keyed array in it is well formed (see `LayerMerge`). Members are
    /// visited in sorted order, so the error reported for a layer with
    /// several problems is always the same one.
    ///
    /// A layer that passes merges without error onto any earlier layers.
    public func validate(_ layer: ConfigLayer) throws(ConfigLayerError) {
        guard case .object = layer.document else { throw ConfigLayerError.notAnObject(layer) }
        var path: [String] = []
        try validate(layer.document, layer: layer.identity, path: &path)
    }

    private func validate(_ value: JSONValue, layer: LayerIdentity, path: inout [String]) throws(ConfigLayerError) {
        switch value {
        case .object(let members):
            for key in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                path.append(key)
                try validate(members[key]!, layer: layer, path: &path)
                path.removeLast()
            }
        case .array(let elements):
            guard let rule = policy.rule(for: path) else { return }
            let check = KeyedElementCheck(policy: policy, rule: rule, layer: layer)
            var seen: Set<String> = []
            for (index, element) in elements.enumerated() {
                path.append(String(index))
                let key = try check.key(of: element, at: path)
                guard seen.insert(key.text).inserted else { throw check.duplicate(key.value, at: path) }
                try validate(element, layer: layer, path: &path)
                path.removeLast()
            }
        default:
            return
        }
    }
}
