/// A location inside a JSON document, rendered the way people read config
/// errors: `scheduler.controllers[1].parameters.threshold_watts`.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) {
        self.components = components
    }

    public static let root = JSONPath()

    public func appending(_ key: String) -> JSONPath { appending(component: .key(key)) }

    public func appending(index: Int) -> JSONPath { appending(component: .index(index)) }

    /// One allocation (`components + [c]` made two): validation builds a
    /// path for every member it reads.
    private func appending(component: Component) -> JSONPath {
        var copy: [Component] = []
        copy.reserveCapacity(components.count + 1)
        copy.append(contentsOf: components)
        copy.append(component)
        return JSONPath(copy)
    }

    public var description: String {
        if components.isEmpty { return "(document)" }
        var out = ""
        for component in components {
            switch component {
            case .key(let key):
                if !out.isEmpty { out += "." }
                // Keys come from the document: escaped and bounded like any echoed input.
                out += key.echoed()
            case .index(let index):
                out += "[\(index)]"
            }
        }
        return out
    }

    /// The same location as an RFC 6901 JSON Pointer (`/scheduler/controllers/1`).
    public var pointer: String {
        components.map { component -> String in
            switch component {
            case .key(let key):
                "/" + key.replacingAll("~", with: "~0").replacingAll("/", with: "~1")
            case .index(let index):
                "/\(index)"
            }
        }.joined()
    }
}

extension String {
    /// Foundation-free replacement of every occurrence of `target`.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        guard contains(target) else { return self }
        var out = ""
        for character in self {
            if character == target { out += replacement } else { out.append(character) }
        }
        return out
    }
}
