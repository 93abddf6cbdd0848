import SwitchyardJSON

extension JSONPointer {
    /// The value this pointer names in `document`.
    ///
    /// Throws when a member or element does not exist, when a token on an
    /// array is not an RFC 6901 index (`-` names no element), or when a token
    /// is applied to a scalar; the error names the token and what was found.
    public func resolve(in document: JSONValue) throws(JSONPointerError) -> JSONValue {
        if tokens.isEmpty { return document }
        do {
            return try document.value(at: PointerPosition(tokens: tokens, depth: 0))
        } catch {
            throw JSONPointerError(code: error.code, pointer: description, message: error.message)
        }
    }

    /// The value this pointer names in `document`, or nil where `resolve`
    /// would throw.
    public func value(in document: JSONValue) -> JSONValue? {
        try? resolve(in: document)
    }
}
