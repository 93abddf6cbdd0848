import SwitchyardConfigDoc
import SwitchyardJSON

/// Everything of one organization a change is computed from.
public struct OrgSnapshot: Sendable {
    public var organization: Organization
    public var sites: [String: Site]
    public var groups: [String: EdgeGroup]
    public var edges: [String: Edge]
    /// The current revision of every layer.
    public var layers: [LayerKey: LayerRevision]
    public var catalog: CatalogRecord?

    public init(organization: Organization, sites: [String: Site] = [:], groups: [String: EdgeGroup] = [:],
                edges: [String: Edge] = [:], layers: [LayerKey: LayerRevision] = [:], catalog: CatalogRecord? = nil) {
        self.organization = organization
        self.sites = sites
        self.groups = groups
        self.edges = edges
        self.layers = layers
        self.catalog = catalog
    }
}

/// One audited, atomic write to one organization. The service computes it
/// from a snapshot at `expectedRevision`; the store applies all of it or
/// nothing, and refuses it with `StoreError.conflict` when the organization
/// has moved on since (the service then recomputes from a fresh snapshot).
public struct Commit: Sendable {
    public var orgId: String
    /// 0 creates the organization.
    public var expectedRevision: Int
    /// Inserted (creation) or renamed.
    public var organization: Organization?
    /// The audit entry; the store assigns its id and stamps it on every row below.
    public var change: ChangeRecord
    /// Upserts.
    public var sites: [Site] = []
    public var groups: [EdgeGroup] = []
    /// Upserts of the directory fields (site, name, tags, groups, pinned).
    /// A new edge row takes the version and stack of the value given (the
    /// service passes 0 and an empty stack); an existing edge's version and
    /// stack move only through `edgeVersions`.
    public var edges: [Edge] = []
    /// New layer revisions; each becomes its layer's current revision.
    public var layerRevisions: [LayerRevision] = []
    /// New edge versions; each becomes its edge's current version.
    public var edgeVersions: [EdgeVersion] = []
    public var catalog: CatalogRecord?
    public var newCredentials: [Credential] = []
    /// Credential ids to revoke (at `change.at`).
    public var revokedCredentials: [String] = []

    public init(orgId: String, expectedRevision: Int, change: ChangeRecord) {
        self.orgId = orgId
        self.expectedRevision = expectedRevision
        self.change = change
    }
}

/// Told to every server process sharing a store when a commit lands.
public struct ChangeEvent: Sendable, Hashable, Codable {
    public var orgId: String
    public var changeId: Int

    public init(orgId: String, changeId: Int) {
        self.orgId = orgId
        self.changeId = changeId
    }
}

public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The organization moved on (or exists already) since the snapshot.
        case conflict
        /// An id is already used, by this organization or another.
        case duplicate
        /// Stored data could not be read back (a bug or a hand-edited database).
        case corrupt
        /// The database said no.
        case database
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// The server's persistence: an embedded SQLite file (`SQLiteStore`) or a
/// PostgreSQL server shared by several server processes (`PostgresStore`).
/// Both keep the same tables (see docs/server.md, "Storage") and pass the
/// same test suite (Tests/SwitchyardServerTests/StoreConformanceTests).
///
/// Writes to an organization's configuration go through `commit` only, so
/// every one of them is atomic, audited and ordered by the organization's
/// revision. Heartbeats are not configuration and are written directly.
public protocol ConfigStore: Sendable {
    /// Creates or upgrades the tables. Safe to run on every start, and by
    /// several processes at once.
    func migrate() async throws

    func organizations() async throws -> [Organization]
    func organization(_ id: String) async throws -> Organization?
    /// nil when the organization does not exist.
    func snapshot(org: String) async throws -> OrgSnapshot?

    /// Applies all of `commit` or nothing. Returns the audit entry with its
    /// id. Throws `StoreError.conflict` when the organization's revision is
    /// not `expectedRevision` (or, for 0, the organization exists), and
    /// `StoreError.duplicate` when a new id is taken by another organization.
    /// Every process sharing the store then receives a `ChangeEvent`; this
    /// process's subscribers receive it before `commit` returns (so caches
    /// such as revoked credentials are cleared before the caller hears back).
    func commit(_ commit: Commit) async throws -> ChangeRecord

    /// The edge's directory row and current version, any organization.
    func edge(_ id: String) async throws -> Edge?
    func edgeVersion(edge: String, version: Int) async throws -> EdgeVersion?
    /// Newest first, versions below `before` (all when nil).
    func edgeVersions(edge: String, before: Int?, limit: Int) async throws -> [EdgeVersion]
    /// The edges a change moved to a new version, with that version, by edge id.
    func edgeVersions(change: Int) async throws -> [EdgeVersion]

    func layerRevision(_ key: LayerKey, revision: Int) async throws -> LayerRevision?
    /// Newest first.
    func layerRevisions(_ key: LayerKey, limit: Int) async throws -> [LayerRevision]

    /// Newest first, ids below `before` (all when nil).
    func changes(org: String, before: Int?, limit: Int) async throws -> [ChangeRecord]
    func change(_ id: Int) async throws -> ChangeRecord?

    func putHeartbeat(_ heartbeat: Heartbeat) async throws
    func heartbeat(edge: String) async throws -> Heartbeat?
    func heartbeats(org: String) async throws -> [Heartbeat]

    func credential(secretHash: String) async throws -> Credential?
    /// An organization's credentials; `nil`: the root tokens.
    func credentials(org: String?) async throws -> [Credential]
    /// Any credential at all (a new server creates a root token when there is none).
    func hasCredentials() async throws -> Bool
    /// Root tokens are not part of any organization; made and revoked outside commits.
    func insertRootCredential(_ credential: Credential) async throws

    /// Change events of every process sharing this store, this one included,
    /// from the moment of the call.
    func events() -> AsyncStream<ChangeEvent>

    func close() async throws
}
