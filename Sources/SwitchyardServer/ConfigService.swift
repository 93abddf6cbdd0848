import Logging
import Synchronization
import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardModel

/// The result of an accepted change.
public struct ChangeResult: Sendable {
    public var change: ChangeRecord
    public var versions: [EdgeVersion]
    public var pinnedSkipped: [String]
    /// True when there is no catalog: plugin classes, profiles and
    /// parameters were not checked.
    public var structureOnly: Bool
}

/// Every write to an organization: computed from a snapshot, validated for
/// every edge it affects, committed atomically with its audit entry, then
/// announced. A change the validator refuses stores nothing.
public final class ConfigService: Sendable {
    public let store: any ConfigStore
    public let documents: DocumentCache
    let clock: @Sendable () -> Int64
    let logger: Logger
    private let snapshots = Mutex<[String: OrgSnapshot]>([:])
    private let catalogs = Mutex<[String: (revision: Int, catalog: Catalog)]>([:])
    private let locks = OrgLocks()
    private let made = Mutex(TwoGenerationCache<Int, Bool>(capacity: 10_000))
    /// Told of every committed change of this process, before the caller hears back.
    let committed: @Sendable (ChangeRecord, [EdgeVersion]) -> Void

    init(store: any ConfigStore, documents: DocumentCache, clock: @escaping @Sendable () -> Int64, logger: Logger,
         committed: @escaping @Sendable (ChangeRecord, [EdgeVersion]) -> Void) {
        self.store = store
        self.documents = documents
        self.clock = clock
        self.logger = logger
        self.committed = committed
    }

    // MARK: The change pipeline

    /// What a change does to the organization's next state, recomputed
    /// from a fresh snapshot if another change lands first. It returns the
    /// audit details.
    typealias Mutation = @Sendable (_ next: inout OrgSnapshot, _ commit: inout Commit) async throws -> JSONValue

    /// Adjusts the planned versions before they are committed (an edge rollback names its version itself).
    typealias PlanAdjustment = @Sendable (_ plan: inout VersionPlanner.Plan, _ next: OrgSnapshot) async throws -> Void

    func change(org: String, actor: Principal, reason: String, kind: String, edges: [String]? = nil,
                _ mutation: Mutation, afterPlan: PlanAdjustment? = nil) async throws -> ChangeResult {
        try await locks.withLock(org) {
            var attempt = 0
            while true {
                attempt += 1
                let snapshot = try await self.snapshot(org)
                do {
                    return try await self.apply(snapshot, actor: actor, reason: reason, kind: kind, edges: edges, mutation, afterPlan)
                } catch let error as StoreError where error.code == .conflict && attempt < 5 {
                    self.logger.debug("change to \(org) conflicted with another server's; recomputing", metadata: ["attempt": "\(attempt)"])
                    _ = snapshots.withLock { $0.removeValue(forKey: org) }
                }
            }
        }
    }

    private func apply(_ snapshot: OrgSnapshot, actor: Principal, reason: String, kind: String, edges: [String]?,
                       _ mutation: Mutation, _ afterPlan: PlanAdjustment?) async throws -> ChangeResult {
        let now = clock()
        var next = snapshot
        var commit = Commit(orgId: snapshot.organization.id, expectedRevision: snapshot.organization.revision,
                            change: ChangeRecord(orgId: snapshot.organization.id, actor: actor.actor, reason: reason, kind: kind,
                                                 at: now, details: .object([:])))
        var details = try await mutation(&next, &commit)
        let catalog = try catalog(of: next)
        let pending = Dictionary(commit.layerRevisions.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        let planner = VersionPlanner(documents: documents, validator: catalog?.validator, pending: pending, now: now)
        var plan = try await planner.plan(next, edges: edges)
        try await afterPlan?(&plan, next)
        if !plan.problems.isEmpty {
            // Every problem of one layer stack names the stack's first edge and
            // the count of the others: count those once per stack, not once per problem.
            let others = Dictionary(plan.problems.map { ($0.edge ?? "", $0.alsoAffects) }, uniquingKeysWith: max)
            let edgesRefused = Set(plan.problems.compactMap(\.edge)).count + others.values.reduce(0, +)
            throw ServiceError(.invalidConfig, "the change would give \(edgesRefused) edge(s) an invalid config; nothing was stored",
                               problems: plan.problems)
        }
        commit.edgeVersions = plan.versions
        commit.change.affectedEdges = plan.versions.count
        if case .object(var members) = details {
            members["edges_with_new_version"] = .number(Double(plan.versions.count))
            if !plan.pinnedSkipped.isEmpty { members["pinned_edges_skipped"] = .array(plan.pinnedSkipped.map(JSONValue.string)) }
            details = .object(members)
        }
        commit.change.details = details
        let record = try await store.commit(commit)
        made.withLock { $0.put(record.id, true) }
        documents.remember(commit.layerRevisions)
        next.organization.revision = snapshot.organization.revision + 1
        for version in plan.versions {
            next.edges[version.edgeId]?.version = version.version
            next.edges[version.edgeId]?.stack = version.stack
        }
        let settled = next
        snapshots.withLock { $0[settled.organization.id] = settled }
        committed(record, plan.versions)
        return ChangeResult(change: record, versions: plan.versions, pinnedSkipped: plan.pinnedSkipped, structureOnly: catalog == nil)
    }

    /// The organization's state, from the cache when no change landed since.
    func snapshot(_ org: String) async throws -> OrgSnapshot {
        guard let current = try await store.organization(org) else { throw ServiceError.notFound("organization \"\(org)\"") }
        if let cached = snapshots.withLock({ $0[org] }), cached.organization.revision == current.revision { return cached }
        guard let fresh = try await store.snapshot(org: org) else { throw ServiceError.notFound("organization \"\(org)\"") }
        documents.remember(fresh.layers.values)
        snapshots.withLock { $0[org] = fresh }
        return fresh
    }

    /// Whether this process committed the change (its caches are current).
    func madeHere(_ changeId: Int) -> Bool { made.withLock { $0.get(changeId) } ?? false }

    /// Forgets what this process cached of `org` (another process changed it).
    func forget(org: String) {
        _ = snapshots.withLock { $0.removeValue(forKey: org) }
    }

    func catalog(of snapshot: OrgSnapshot) throws -> Catalog? {
        guard let record = snapshot.catalog else { return nil }
        if let cached = catalogs.withLock({ $0[record.orgId] }), cached.revision == record.revision { return cached.catalog }
        let catalog: Catalog
        do {
            catalog = try Catalog(document: record.document)
        } catch {
            throw ServiceError(.internal, "the stored catalog of \(record.orgId) no longer reads: \(error)")
        }
        catalogs.withLock { $0[record.orgId] = (record.revision, catalog) }
        return catalog
    }

    // MARK: Organizations and directory

    public func createOrganization(id: String, name: String, actor: Principal) async throws -> Organization {
        try actor.requireRoot()
        try Names.check(id, what: "organization id")
        let now = clock()
        var commit = Commit(orgId: id, expectedRevision: 0,
                            change: ChangeRecord(orgId: id, actor: actor.actor, reason: "create organization", kind: "organization.create",
                                                 at: now, details: ["name": .string(name)]))
        commit.organization = Organization(id: id, name: name)
        do {
            let record = try await store.commit(commit)
            committed(record, [])
        } catch let error as StoreError where error.code == .conflict {
            throw ServiceError(.conflict, "organization \"\(id)\" exists already")
        }
        return Organization(id: id, name: name, revision: 1)
    }

    public func putSite(org: String, id: String, name: String, actor: Principal, reason: String) async throws -> ChangeResult {
        try actor.require(.operator, in: org)
        try Names.check(id, what: "site id")
        return try await mapStoreErrors {
            try await change(org: org, actor: actor, reason: reason, kind: "site.put", edges: []) { next, commit in
                let site = Site(id: id, orgId: org, name: name)
                let existed = next.sites[id] != nil
                next.sites[id] = site
                commit.sites.append(site)
                return ["site": .string(id), "name": .string(name), "created": .bool(!existed)]
            }
        }
    }

    public func putGroup(org: String, group: EdgeGroup, actor: Principal, reason: String) async throws -> ChangeResult {
        try actor.require(.operator, in: org)
        try Names.check(group.id, what: "group id")
        return try await mapStoreErrors {
            try await change(org: org, actor: actor, reason: reason, kind: "group.put") { next, commit in
                next.groups[group.id] = group
                commit.groups.append(group)
                return ["group": .string(group.id), "kind": .string(group.kind.rawValue), "priority": .number(Double(group.priority))]
            }
        }
    }

    /// Creates or moves an edge: its site, name, tags and groups. An edge
    /// whose layers change gets a new version, validated like any other.
    public func putEdge(org: String, id: String, siteId: String, name: String, tags: [String], groups: [String],
                        actor: Principal, reason: String) async throws -> ChangeResult {
        try actor.require(.operator, in: org)
        try Names.check(id, what: "edge id")
        return try await mapStoreErrors {
            try await change(org: org, actor: actor, reason: reason, kind: "edge.put", edges: [id]) { next, commit in
                guard next.sites[siteId] != nil else { throw ServiceError(.badRequest, "site \"\(siteId)\" does not exist in \(org)") }
                for group in groups where next.groups[group] == nil {
                    throw ServiceError(.badRequest, "group \"\(group)\" does not exist in \(org)")
                }
                var edge = next.edges[id] ?? Edge(id: id, orgId: org, siteId: siteId, name: name)
                edge.siteId = siteId
                edge.name = name
                edge.tags = tags
                edge.groups = groups
                next.edges[id] = edge
                commit.edges.append(edge)
                return ["edge": .string(id), "site": .string(siteId), "groups": .array(groups.map(JSONValue.string)),
                        "tags": .array(tags.map(JSONValue.string))]
            }
        }
    }

    // MARK: Layers

    /// Writes a new revision of a layer. `ifMatch`: the layer's ETag the
    /// caller read; refused with 412 when it is no longer current.
    public func putLayer(org: String, key: LayerKey, document: JSONValue, ifMatch: String?, actor: Principal,
                         reason: String) async throws -> ChangeResult {
        try actor.require(.operator, in: org)
        return try await change(org: org, actor: actor, reason: reason, kind: "layer.put", edges: nil) { next, commit in
            try Self.writeLayer(&next, &commit, key: key, document: document, ifMatch: ifMatch)
        }
    }

    /// Applies an RFC 6902 patch to a layer's current document.
    public func patchLayer(org: String, key: LayerKey, patch: JSONPatch, ifMatch: String?, actor: Principal,
                           reason: String) async throws -> ChangeResult {
        try actor.require(.operator, in: org)
        return try await change(org: org, actor: actor, reason: reason, kind: "layer.patch") { next, commit in
            let current = next.layers[key]?.document ?? .object([:])
            let patched: JSONValue
            do {
                patched = try patch.apply(to: current)
            } catch {
                throw ServiceError(.badRequest, "the patch does not apply to \(key): \(error)")
            }
            return try Self.writeLayer(&next, &commit, key: key, document: patched, ifMatch: ifMatch)
        }
    }

    /// Writes an old revision's document as the layer's new revision.
    public func rollbackLayer(org: String, key: LayerKey, to revision: Int, ifMatch: String?, actor: Principal,
                              reason: String) async throws -> ChangeResult {
        try actor.require(.operator, in: org)
        guard let old = try await store.layerRevision(key, revision: revision), old.orgId == org else {
            throw ServiceError.notFound("revision \(revision) of layer \(key)")
        }
        return try await change(org: org, actor: actor, reason: reason, kind: "layer.rollback") { next, commit in
            var details = try Self.writeLayer(&next, &commit, key: key, document: old.document, ifMatch: ifMatch)
            if case .object(var members) = details {
                members["rolled_back_to"] = .number(Double(revision))
                details = .object(members)
            }
            return details
        }
    }

    static func writeLayer(_ next: inout OrgSnapshot, _ commit: inout Commit, key: LayerKey, document: JSONValue,
                           ifMatch: String?) throws -> JSONValue {
        try checkTarget(key, in: next)
        let current = next.layers[key]
        if let ifMatch, !ETags.matches(ifMatch, current: current?.etag) {
            throw ServiceError(.preconditionFailed, "layer \(key) is now at revision \(current?.revision ?? 0) (\(current?.etag ?? "no layer")); "
                + "If-Match was \(ifMatch). Read it again and reapply your change")
        }
        try LayerDocument.check(document, key: key)
        try LayerValidity.check(document, key: key)
        if let current, current.document.isJSONEqual(to: document) {
            throw ServiceError(.conflict, "layer \(key) already holds this document (revision \(current.revision)); nothing to change")
        }
        let revision = LayerRevision(key: key, orgId: next.organization.id, revision: (current?.revision ?? 0) + 1, document: document)
        next.layers[key] = revision
        commit.layerRevisions.append(revision)
        let patch = JSONDiff(granularity: .fineGrained).patch(from: current?.document ?? .object([:]), to: document)
        return ["layer": .string(key.description), "revision": .number(Double(revision.revision)), "patch": patch.jsonValue]
    }

    static func checkTarget(_ key: LayerKey, in snapshot: OrgSnapshot) throws(ServiceError) {
        let exists = switch key.scope {
        case .organization: key.target == snapshot.organization.id
        case .group: snapshot.groups[key.target] != nil
        case .site: snapshot.sites[key.target] != nil
        case .edge: snapshot.edges[key.target] != nil
        }
        guard exists else { throw ServiceError.notFound("\(key.scope.rawValue) \"\(key.target)\" in \(snapshot.organization.id)") }
    }

    // MARK: Bulk

    /// Merges `fragment` into the edge layer of every selected edge, as one
    /// audited change. The fragment is a partial document like a layer:
    /// objects merge, keyed arrays merge by id, `null` deletes.
    public func bulk(org: String, selector: EdgeSelector, fragment: JSONValue, actor: Principal, reason: String) async throws -> ChangeResult {
        try actor.require(.operator, in: org)
        try LayerDocument.check(fragment, key: LayerKey(scope: .edge, target: "(bulk)"))
        try LayerValidity.check(fragment, key: LayerKey(scope: .edge, target: "(bulk)"))
        return try await change(org: org, actor: actor, reason: reason, kind: "bulk") { next, commit in
            let selected = try selector.select(in: next)
            guard !selected.isEmpty else { throw ServiceError(.badRequest, "the selector \(selector) matches no edge") }
            for id in selected {
                let key = LayerKey(scope: .edge, target: id)
                let current = next.layers[key]
                let merged = LayerCompose.compose(current?.document ?? .object([:]), fragment)
                if let current, current.document.isJSONEqual(to: merged) { continue }
                try LayerValidity.check(merged, key: key)
                let revision = LayerRevision(key: key, orgId: org, revision: (current?.revision ?? 0) + 1, document: merged)
                next.layers[key] = revision
                commit.layerRevisions.append(revision)
            }
            return ["selector": selector.json, "fragment": fragment, "edges_selected": .number(Double(selected.count))]
        }
    }

    // MARK: Edge rollback

    /// Gives the edge, as a new version, the config of an earlier version,
    /// and pins it there: layer changes skip it until `unpin`.
    public func rollbackEdge(org: String, edge id: String, to version: Int, actor: Principal, reason: String) async throws -> ChangeResult {
        try actor.require(.operator, in: org)
        guard let old = try await store.edgeVersion(edge: id, version: version), try await store.edge(id)?.orgId == org else {
            throw ServiceError.notFound("version \(version) of edge \"\(id)\"")
        }
        return try await change(org: org, actor: actor, reason: reason, kind: "edge.rollback", edges: []) { next, commit in
            guard var edge = next.edges[id] else { throw ServiceError.notFound("edge \"\(id)\"") }
            guard version < edge.version else { throw ServiceError(.badRequest, "version \(version) is the current version of \(id)") }
            edge.pinned = true
            next.edges[id] = edge
            commit.edges.append(edge)
            commit.edgeVersions = []
            return ["edge": .string(id), "rolled_back_to": .number(Double(version)), "stack": .string(old.stack.text), "pinned": true]
        } afterPlan: { plan, next in
            guard let edge = next.edges[id] else { return }
            let catalog = try self.catalog(of: next)
            plan.problems = VersionPlanner.validate(try await self.documents.content(of: old.stack), edge: edge, validator: catalog?.validator)
            plan.versions = [EdgeVersion(edgeId: id, version: edge.version + 1, stack: old.stack, changeId: 0, createdAt: self.clock())]
        }
    }

    /// Lets a pinned edge follow its layers again (a new version when that changes its config).
    public func unpinEdge(org: String, edge id: String, actor: Principal, reason: String) async throws -> ChangeResult {
        try actor.require(.operator, in: org)
        return try await change(org: org, actor: actor, reason: reason, kind: "edge.unpin", edges: [id]) { next, commit in
            guard var edge = next.edges[id] else { throw ServiceError.notFound("edge \"\(id)\"") }
            guard edge.pinned else { throw ServiceError(.conflict, "edge \(id) is not pinned") }
            edge.pinned = false
            next.edges[id] = edge
            commit.edges.append(edge)
            return ["edge": .string(id), "pinned": false]
        }
    }

    // MARK: Catalog and credentials

    /// Replaces the organization's catalog. Refused when any edge's current
    /// config would not validate against it (a profile still in use removed,
    /// a parameter schema tightened), with every such edge and reason.
    public func pushCatalog(org: String, document: JSONValue, actor: Principal, reason: String) async throws -> ChangeResult {
        try actor.require(.admin, in: org)
        let catalog: Catalog
        do {
            catalog = try Catalog(document: document)
        } catch {
            throw ServiceError(.badRequest, "the catalog does not read",
                               problems: error.issues.map { .init(edge: nil, path: JSONPointer($0.path).description, message: $0.message) })
        }
        return try await change(org: org, actor: actor, reason: reason, kind: "catalog.push", edges: []) { next, commit in
            var problems: [ServiceError.Problem] = []
            var seen: Set<String> = []
            for edge in next.edges.values.sorted(by: { $0.id < $1.id }) where edge.version > 0 && seen.insert(edge.stack.text).inserted {
                let content = try await self.documents.content(of: edge.stack)
                problems += VersionPlanner.validate(content, edge: edge, validator: catalog.validator)
            }
            if !problems.isEmpty {
                throw ServiceError(.invalidConfig, "edges' current configs do not validate against this catalog; nothing was stored",
                                   problems: problems)
            }
            let record = CatalogRecord(orgId: org, revision: (next.catalog?.revision ?? 0) + 1, document: document)
            next.catalog = record
            commit.catalog = record
            return ["catalog_revision": .number(Double(record.revision)), "plugins": .number(Double(catalog.pluginCount)),
                    "profiles": .number(Double(catalog.profileCount))]
        }
    }

    /// A new edge key or operator token. The secret is returned once.
    public func createCredential(org: String, kind: Credential.Kind, edge: String?, role: Role?, name: String,
                                 actor: Principal) async throws -> (Credential, secret: String) {
        try actor.require(.admin, in: org)
        if kind == .operatorToken, role == nil || role == .root {
            throw ServiceError(.badRequest, "an operator token takes the role admin, operator or viewer")
        }
        let secret = Secrets.make(kind: kind)
        let credential = Credential(id: Secrets.identifier(), kind: kind, orgId: org, edgeId: kind == .edge ? edge : nil,
                                    role: kind == .edge ? nil : role, name: name, secretHash: Secrets.hash(secret), createdAt: clock())
        _ = try await change(org: org, actor: actor, reason: "create \(kind.rawValue) credential \(name)", kind: "credential.create",
                             edges: []) { next, commit in
            if kind == .edge {
                guard let edge, next.edges[edge] != nil else { throw ServiceError.notFound("edge \"\(edge ?? "")\"") }
            }
            commit.newCredentials.append(credential)
            return ["credential": .string(credential.id), "kind": .string(kind.rawValue), "name": .string(name),
                    "edge": edge.map(JSONValue.string) ?? .null, "role": role.map { .string($0.rawValue) } ?? .null]
        }
        return (credential, secret)
    }

    public func revokeCredential(org: String, id: String, actor: Principal) async throws {
        try actor.require(.admin, in: org)
        guard let credential = try await store.credentials(org: org).first(where: { $0.id == id }) else {
            throw ServiceError.notFound("credential \"\(id)\"")
        }
        guard credential.revokedAt == nil else { throw ServiceError(.conflict, "credential \(id) is already revoked") }
        _ = try await change(org: org, actor: actor, reason: "revoke credential \(credential.name)", kind: "credential.revoke",
                             edges: []) { _, commit in
            commit.revokedCredentials.append(id)
            return ["credential": .string(id), "name": .string(credential.name)]
        }
    }

    private func mapStoreErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError where error.code == .duplicate {
            throw ServiceError(.conflict, error.message)
        }
    }
}

/// One change at a time per organization in this process; other processes
/// are ordered by the store's revision check.
final class OrgLocks: Sendable {
    private let state = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    func withLock<T: Sendable>(_ org: String, _ body: () async throws -> T) async throws -> T {
        await acquire(org)
        defer { release(org) }
        return try await body()
    }

    private func acquire(_ org: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { waiting -> Bool in
                if waiting[org] == nil {
                    waiting[org] = []
                    return true
                }
                waiting[org]!.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    private func release(_ org: String) {
        let next = state.withLock { waiting -> CheckedContinuation<Void, Never>? in
            guard var queue = waiting[org], !queue.isEmpty else {
                waiting[org] = nil
                return nil
            }
            let first = queue.removeFirst()
            waiting[org] = queue
            return first
        }
        next?.resume()
    }
}
