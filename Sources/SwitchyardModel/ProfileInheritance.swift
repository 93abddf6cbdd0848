import SwitchyardJSON

/// `extends`: a profile built on another. The child is merged onto its
/// parent: objects merge deeply; `points` and `channels` merge by `name` (a
/// child's same-named entry overrides the parent's fields, `"remove": true`
/// drops it); `sunspec.models` merge by `id`; anything else the child
/// sets replaces the parent's. Chains are followed to the root; a cycle or
/// an unknown parent is an error of the child.
public enum ProfileInheritance {
    public struct Source: Sendable {
        public var json: JSONValue
        public var file: String?

        public init(json: JSONValue, file: String?) {
            self.json = json
            self.file = file
        }
    }

    /// Resolves every document by id. Documents without `extends` come back
    /// as they are.
    public static func resolve(_ sources: [String: Source]) -> (resolved: [String: Source], errors: [ValidationError]) {
        var resolved: [String: Source] = [:]
        var errors: [ValidationError] = []
        for id in sources.keys.sorted() {
            var chain: [String] = [id]
            var merged = sources[id]!.json
            var current = id
            var failed = false
            while let parentId = sources[current]!.json["extends"]?.stringValue {
                guard let parent = sources[parentId] else {
                    var message = "extends unknown profile \"\(parentId.echoed())\""
                    if let s = closestMatch(to: parentId, in: sources.keys.sorted()) { message += " (did you mean \"\(s)\"?)" }
                    errors.append(ValidationError(file: sources[current]!.file, path: .root.appending("extends"), message))
                    failed = true
                    break
                }
                if chain.contains(parentId) {
                    errors.append(ValidationError(file: sources[id]!.file, path: .root.appending("extends"),
                                                  "extends itself through \((chain + [parentId]).joined(separator: " → "))"))
                    failed = true
                    break
                }
                chain.append(parentId)
                merged = merge(parent: parent.json, child: merged)
                current = parentId
            }
            if !failed { resolved[id] = Source(json: merged, file: sources[id]!.file) }
        }
        return (resolved, errors)
    }

    /// The child merged onto the parent (see the type's comment).
    public static func merge(parent: JSONValue, child: JSONValue, key: String? = nil) -> JSONValue {
        switch (parent, child) {
        case (.object(var p), .object(let c)):
            for (k, v) in c {
                if k == "extends" { continue }
                // A scale is one choice (factor, power of ten or point): the child's replaces the parent's.
                if k == "scale" { p[k] = v; continue }
                p[k] = p[k].map { merge(parent: $0, child: v, key: k) } ?? v
            }
            // The parent's `extends` was followed already.
            p.removeValue(forKey: "extends")
            return .object(p)
        case (.array(let p), .array(let c)) where key == "points" || key == "channels" || key == "models":
            let idKey = key == "models" ? "id" : "name"
            var out = p
            for item in c {
                guard let id = item[idKey], let i = out.firstIndex(where: { $0[idKey] == id }) else {
                    if item["remove"] != .bool(true) { out.append(item) }
                    continue
                }
                if item["remove"] == .bool(true) {
                    out.remove(at: i)
                } else {
                    out[i] = merge(parent: out[i], child: item)
                }
            }
            return .array(out)
        default:
            return child
        }
    }
}
