import SwitchyardJSON

extension JSONValue {
    /// Equality as RFC 6902 section 4.6 defines it, and as the canonical
    /// encoding sees it: numbers by value (`1 == 1.0`), strings and object
    /// keys by their Unicode scalars, arrays element by element, objects by
    /// members regardless of order.
    ///
    /// Use this, not `==`, to decide whether a document changed. Swift's
    /// `String ==` treats canonically equivalent strings as equal (`"é"`
    /// precomposed and `"e"` + combining acute), although they encode to
    /// different bytes and so to different digests.
    public func isJSONEqual(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return false }
            for (x, y) in zip(a, b) where !x.isJSONEqual(to: y) { return false }
            return true
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (key, value) in a {
                guard let index = b.index(forKey: key) else { return false }
                let (otherKey, otherValue) = b[index]
                guard key.unicodeScalars.elementsEqual(otherKey.unicodeScalars), value.isJSONEqual(to: otherValue) else {
                    return false
                }
            }
            return true
        default:
            return false
        }
    }
}
