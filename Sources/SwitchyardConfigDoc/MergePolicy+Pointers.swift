import SwitchyardJSON

extension MergePolicy {
    /// A pointer whose tokens under keyed arrays may be keys
    /// (`/scheduler/controllers/ctrlPeakShaving0/parameters/threshold_watts`),
    /// with each key turned into the index its element has in `document`.
    /// Indices and tokens that match no element are kept as they are.
    public func indexed(_ pointer: JSONPointer, in document: JSONValue) -> JSONPointer {
        var tokens: [String] = []
        var current: JSONValue? = document
        for token in pointer.tokens {
            var step = token
            if let rule = rule(for: tokens), let elements = current?.arrayValue, JSONPointer.arrayIndex(token) == nil,
               let index = elements.firstIndex(where: { $0[rule.keyMember]?.stringValue == token }) {
                step = String(index)
            }
            tokens.append(step)
            if let elements = current?.arrayValue, let index = JSONPointer.arrayIndex(step), index < elements.count {
                current = elements[index]
            } else {
                current = current?[step]
            }
        }
        return JSONPointer(tokens: tokens)
    }
}
