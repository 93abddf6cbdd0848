import SwitchyardConfigDoc
import SwitchyardJSON

/// An organization: the tenant. Everything else belongs to exactly one.
/// `revision` counts the organization's committed changes; a commit names
/// the revision it was computed from and is refused if another landed first.
public struct Organization: Sendable, Hashable {
    public var id: String
    public var name: String
    public var revision: Int

    public init(id: String, name: String, revision: Int = 0) {
        self.id = id
        self.name = name
        self.revision = revision
    }
}

public struct Site: Sendable, Hashable {
    public var id: String
    public var orgId: String
    public var name: String

    public init(id: String, orgId: String, name: String) {
        self.id = id
        self.orgId = orgId
        self.name = name
    }
}

/// A group of edges across sites: a region, a function or a hardware
/// generation. Group layers apply after the organization's and before the
/// site's, in ascending `priority` (a higher priority wins), ties by id.
public struct EdgeGroup: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case region, function, hardware
    }

    public var id: String
    public var orgId: String
    public var kind: Kind
    public var name: String
    public var priority: Int

    public init(id: String, orgId: String, kind: Kind, name: String, priority: Int) {
        self.id = id
        self.orgId = orgId
        self.kind = kind
        self.name = name
        self.priority = priority
    }
}

/// An edge as the store keeps it: where it sits, what it belongs to, and
/// which version of its effective config is current.
public struct Edge: Sendable, Hashable {
    public var id: String
    public var orgId: String
    public var siteId: String
    public var name: String
    public var tags: [String]
    public var groups: [String]
    /// The current version; 0 until the first config exists.
    public var version: Int
    /// The layer revisions the current version was merged from.
    public var stack: LayerStack
    /// Set by a rollback: the edge stays on this stack, whatever the
    /// layers do, until an operator unpins it.
    public var pinned: Bool

    public init(id: String, orgId: String, siteId: String, name: String, tags: [String] = [], groups: [String] = [],
                version: Int = 0, stack: LayerStack = LayerStack(), pinned: Bool = false) {
        self.id = id
        self.orgId = orgId
        self.siteId = siteId
        self.name = name
        self.tags = tags
        self.groups = groups
        self.version = version
        self.stack = stack
        self.pinned = pinned
    }
}

/// Where a layer sits: `organization:acme`, `group:eu-north`, `site:s1`,
/// `edge:e1`. The organization's layer id is the organization's id.
public struct LayerKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var scope: ConfigScope
    public var target: String

    public init(scope: ConfigScope, target: String) {
        self.scope = scope
        self.target = target
    }

    /// Parses `scope:target`.
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"), let scope = ConfigScope(rawValue: String(text[..<colon])) else { return nil }
        let target = String(text[text.index(after: colon)...])
        guard !target.isEmpty else { return nil }
        self.init(scope: scope, target: target)
    }

    public var description: String { "\(scope.rawValue):\(target)" }

    public static func < (lhs: LayerKey, rhs: LayerKey) -> Bool { lhs.description < rhs.description }
}

/// The layer revisions an effective config is merged from, in merge order.
/// Immutable revisions make it a complete recipe: the same stack always
/// merges to the same document, which is how every past version is rebuilt.
/// Its text form, `organization:acme@3|site:s1@2`, is what the store keeps.
public struct LayerStack: Sendable, Hashable, CustomStringConvertible {
    public static func == (lhs: LayerStack, rhs: LayerStack) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    public struct Entry: Sendable, Hashable {
        public var key: LayerKey
        public var revision: Int

        public init(key: LayerKey, revision: Int) {
            self.key = key
            self.revision = revision
        }
    }

    public let entries: [Entry]
    /// The text form, made once: stacks are compared and grouped by it for
    /// every edge of a change.
    public let text: String

    public init(_ entries: [Entry] = []) {
        self.entries = entries
        text = entries.map { "\($0.key)@\($0.revision)" }.joined(separator: "|")
    }

    public init?(text: String) {
        if text.isEmpty {
            self.init()
            return
        }
        var entries: [Entry] = []
        for part in text.split(separator: "|", omittingEmptySubsequences: false) {
            guard let at = part.lastIndex(of: "@"), let key = LayerKey(String(part[..<at])),
                  let revision = Int(part[part.index(after: at)...]), revision > 0 else { return nil }
            entries.append(Entry(key: key, revision: revision))
        }
        self.init(entries)
    }

    public var description: String { text.isEmpty ? "(no layers)" : text }
}

/// One revision of one layer: a partial config document. Revisions are
/// never changed or deleted once committed.
public struct LayerRevision: Sendable, Hashable {
    public var key: LayerKey
    public var orgId: String
    public var revision: Int
    public var document: JSONValue
    /// The change that made this revision.
    public var changeId: Int

    public init(key: LayerKey, orgId: String, revision: Int, document: JSONValue, changeId: Int = 0) {
        self.key = key
        self.orgId = orgId
        self.revision = revision
        self.document = document
        self.changeId = changeId
    }

    /// The layer's ETag for `If-Match`: its key and revision, quoted.
    public var etag: String { "\"\(key)@\(revision)\"" }
}

/// One version of one edge's effective config.
public struct EdgeVersion: Sendable, Hashable {
    public var edgeId: String
    public var version: Int
    public var stack: LayerStack
    public var changeId: Int
    /// Unix seconds.
    public var createdAt: Int64

    public init(edgeId: String, version: Int, stack: LayerStack, changeId: Int, createdAt: Int64) {
        self.edgeId = edgeId
        self.version = version
        self.stack = stack
        self.changeId = changeId
        self.createdAt = createdAt
    }
}

/// An audit entry: who changed what, when and why. `details` holds what the
/// change did (the layers it wrote with their patches, the edges it moved to
/// new versions, the selector of a bulk change).
public struct ChangeRecord: Sendable, Hashable {
    public var id: Int
    public var orgId: String
    public var actor: String
    public var reason: String
    public var kind: String
    /// Unix seconds.
    public var at: Int64
    public var details: JSONValue
    /// Edges that got a new version.
    public var affectedEdges: Int

    public init(id: Int = 0, orgId: String, actor: String, reason: String, kind: String, at: Int64, details: JSONValue,
                affectedEdges: Int = 0) {
        self.id = id
        self.orgId = orgId
        self.actor = actor
        self.reason = reason
        self.kind = kind
        self.at = at
        self.details = details
        self.affectedEdges = affectedEdges
    }
}

/// What an edge last reported.
public struct Heartbeat: Sendable, Hashable {
    public var edgeId: String
    public var orgId: String
    /// Unix seconds, server clock.
    public var receivedAt: Int64
    public var version: Int
    public var state: String
    public var errors: JSONValue
    public var metrics: JSONValue

    public init(edgeId: String, orgId: String, receivedAt: Int64, version: Int, state: String, errors: JSONValue, metrics: JSONValue) {
        self.edgeId = edgeId
        self.orgId = orgId
        self.receivedAt = receivedAt
        self.version = version
        self.state = state
        self.errors = errors
        self.metrics = metrics
    }
}

/// Who may call: an edge (its key reads and reports for that edge only), an
/// operator of one organization with a role, or the server's root.
public enum Role: String, Sendable, Hashable, CaseIterable, Comparable {
    case viewer, `operator`, admin, root

    var rank: Int {
        switch self {
        case .viewer: 0
        case .operator: 1
        case .admin: 2
        case .root: 3
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
}

/// An API key or operator token. Only the SHA-256 of the secret is stored.
public struct Credential: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case edge, operatorToken = "operator"
    }

    public var id: String
    public var kind: Kind
    /// nil only for root tokens.
    public var orgId: String?
    /// Set for edge keys.
    public var edgeId: String?
    /// Operator tokens: their role. Edge keys: nil.
    public var role: Role?
    public var name: String
    public var secretHash: String
    public var createdAt: Int64
    public var revokedAt: Int64?

    public init(id: String, kind: Kind, orgId: String?, edgeId: String?, role: Role?, name: String, secretHash: String,
                createdAt: Int64, revokedAt: Int64? = nil) {
        self.id = id
        self.kind = kind
        self.orgId = orgId
        self.edgeId = edgeId
        self.role = role
        self.name = name
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// What operators uploaded with `switchyard catalog push`: plugin manifests
/// and device profiles, the same the edges run, so the server validates a
/// change as an edge would.
public struct CatalogRecord: Sendable, Hashable {
    public var orgId: String
    public var revision: Int
    public var document: JSONValue

    public init(orgId: String, revision: Int, document: JSONValue) {
        self.orgId = orgId
        self.revision = revision
        self.document = document
    }
}
