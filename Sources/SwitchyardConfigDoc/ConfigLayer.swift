import SwitchyardJSON

/// Where a layer sits in the hierarchy. Layers merge in this order: an
/// organization's defaults, then its groups (by priority), the site, and the
/// edge's own exceptions last.
public enum ConfigScope: String, Sendable, Hashable, CaseIterable, Comparable {
    case organization
    case group
    case site
    case edge

    var rank: Int {
        switch self {
        case .organization: 0
        case .group: 1
        case .site: 2
        case .edge: 3
        }
    }

    public static func < (lhs: ConfigScope, rhs: ConfigScope) -> Bool { lhs.rank < rhs.rank }
}

/// Which layer, and which version of it: what provenance and errors name.
public struct LayerIdentity: Sendable, Hashable, CustomStringConvertible {
    public var scope: ConfigScope
    /// Unique within the scope (a database id or slug).
    public var id: String
    /// For people.
    public var name: String
    /// The layer's own version, which increases with every change to it.
    public var version: Int

    public init(scope: ConfigScope, id: String, name: String, version: Int) {
        self.scope = scope
        self.id = id
        self.name = name
        self.version = version
    }

    /// `site "Berlin Depot" (site:berlin v3)`.
    public var description: String { "\(scope.rawValue) \"\(name)\" (\(scope.rawValue):\(id) v\(version))" }
}

/// A partial config document at one scope. Its document must be an object;
/// see `LayerMerge` for what its members mean when merged.
public struct ConfigLayer: Sendable, Hashable {
    public var identity: LayerIdentity
    public var document: JSONValue

    public init(identity: LayerIdentity, document: JSONValue) {
        self.identity = identity
        self.document = document
    }

    public init(scope: ConfigScope, id: String, name: String, version: Int, document: JSONValue) {
        self.init(identity: LayerIdentity(scope: scope, id: id, name: name, version: version), document: document)
    }
}
