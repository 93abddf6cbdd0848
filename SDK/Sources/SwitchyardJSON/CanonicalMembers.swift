/// A JSON object's canonical encoding kept member by member, so that the
/// next version of the object, changed in a few members, is encoded by
/// re-encoding only those. An edge takes a 44 KB config whose delta changed
/// one controller parameter: encoding it whole again was a quarter of what
/// the version cost the edge.
public struct CanonicalMembers: Sendable {
    /// `"name":value` bytes, by member name.
    private let encoded: [String: [UInt8]]
    /// Member names in canonical order.
    private let order: [String]

    /// Encodes every member of `object`.
    public init(_ object: [String: JSONValue]) {
        self.init(object, reusing: nil, changed: [])
    }

    /// The members of `object`, a later version of the object these members
    /// encode: the members named in `changed`, and those this one does not
    /// hold, are encoded; the others are taken as they are. A member that
    /// changed but is not named in `changed` would be encoded stale, so the
    /// caller checks the result (the agent compares its SHA-256 with the
    /// server's).
    public func updated(to object: [String: JSONValue], changed: Set<String>) -> CanonicalMembers {
        CanonicalMembers(object, reusing: encoded, changed: changed)
    }

    private init(_ object: [String: JSONValue], reusing previous: [String: [UInt8]]?, changed: Set<String>) {
        var encoded: [String: [UInt8]] = [:]
        encoded.reserveCapacity(object.count)
        for (name, value) in object {
            if let kept = previous?[name], !changed.contains(name) {
                encoded[name] = kept
                continue
            }
            var bytes: [UInt8] = []
            JSONValue.writeString(name, to: &bytes)
            bytes.append(0x3A)
            value.writeCanonical(to: &bytes)
            encoded[name] = bytes
        }
        self.encoded = encoded
        order = JSONValue.sortedKeys(object)
    }

    /// The object's canonical encoding, `JSONValue.object(...).canonicalBytes`.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encoded.values.reduce(order.count + 1) { $0 + $1.count })
        out.append(0x7B)
        for (i, name) in order.enumerated() {
            if i > 0 { out.append(0x2C) }
            out.append(contentsOf: encoded[name]!)
        }
        out.append(0x7D)
        return out
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}
