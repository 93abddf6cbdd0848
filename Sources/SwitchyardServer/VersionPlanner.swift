import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardModel

/// Works out which edges a change gives a new version: the layer stack each
/// edge gets from the organization's next state, merged and validated once
/// per distinct stack (edges of a site with the same groups share one), and
/// compared with what the edge runs now, so a change that leaves an edge's
/// effective config as it was does not give it a new version.
struct VersionPlanner {
    let documents: DocumentCache
    /// The organization's catalog as a validator; nil checks structure only.
    let validator: ConfigValidator?
    /// The revisions the change writes, not yet committed.
    let pending: [LayerKey: LayerRevision]
    let now: Int64

    struct Plan {
        var versions: [EdgeVersion] = []
        var problems: [ServiceError.Problem] = []
        /// Edges skipped because a rollback pinned them.
        var pinnedSkipped: [String] = []
    }

    /// The merge order of an edge's layers: organization, its groups by
    /// ascending priority (ties by id), its site, itself. Layers that do not
    /// exist are left out.
    static func stack(of edge: Edge, in snapshot: OrgSnapshot) -> LayerStack {
        var entries: [LayerStack.Entry] = []
        func add(_ key: LayerKey) {
            if let layer = snapshot.layers[key] { entries.append(.init(key: key, revision: layer.revision)) }
        }
        add(LayerKey(scope: .organization, target: snapshot.organization.id))
        let groups = edge.groups.compactMap { snapshot.groups[$0] }.sorted { ($0.priority, $0.id) < ($1.priority, $1.id) }
        for group in groups { add(LayerKey(scope: .group, target: group.id)) }
        add(LayerKey(scope: .site, target: edge.siteId))
        add(LayerKey(scope: .edge, target: edge.id))
        return LayerStack(entries)
    }

    func plan(_ snapshot: OrgSnapshot, edges: [String]? = nil) async throws -> Plan {
        var plan = Plan()
        var byStack: [String: (stack: LayerStack, edges: [Edge])] = [:]
        let ids = edges ?? Array(snapshot.edges.keys)
        for id in ids {
            guard let edge = snapshot.edges[id] else { continue }
            let stack = Self.stack(of: edge, in: snapshot)
            if stack.text == edge.stack.text && edge.version > 0 { continue }
            // No layer applies yet: no config to serve (404 "no config yet"), not an empty one.
            if stack.entries.isEmpty && edge.version == 0 { continue }
            if edge.pinned {
                plan.pinnedSkipped.append(id)
                continue
            }
            byStack[stack.text, default: (stack, [])].edges.append(edge)
        }
        for key in byStack.keys.sorted() {
            let (stack, members) = byStack[key]!
            let sorted = members.sorted { $0.id < $1.id }
            let content: JSONValue
            do {
                content = try await documents.content(of: stack, pending: pending)
            } catch let error as ServiceError {
                plan.problems += error.problems.map {
                    ServiceError.Problem(edge: sorted[0].id, path: $0.path, message: $0.message, alsoAffects: sorted.count - 1)
                }
                continue
            }
            let problems = Self.validate(content, edge: sorted[0], validator: validator)
            if !problems.isEmpty {
                plan.problems += problems.map {
                    ServiceError.Problem(edge: sorted[0].id, path: $0.path, message: $0.message, alsoAffects: sorted.count - 1)
                }
                continue
            }
            for edge in sorted {
                if edge.version > 0 {
                    let before = try await documents.content(of: edge.stack)
                    if before.isJSONEqual(to: content) { continue }
                }
                plan.versions.append(EdgeVersion(edgeId: edge.id, version: edge.version + 1, stack: stack, changeId: 0, createdAt: now))
            }
        }
        plan.versions.sort { $0.edgeId < $1.edgeId }
        return plan
    }

    /// What the edge's own validator would say about this content: the
    /// document's structure, and with a catalog every plugin class, profile
    /// and parameter.
    static func validate(_ content: JSONValue, edge: Edge, validator: ConfigValidator?) -> [ServiceError.Problem] {
        let document = EdgeDocument.make(content: content, edgeId: edge.id, version: max(edge.version, 1), createdAt: 0)
        do {
            let config = try EdgeConfig(json: document)
            _ = try validator?.resolve(config)
            return []
        } catch {
            return error.issues.map { ServiceError.Problem(edge: edge.id, path: JSONPointer($0.path).description, message: $0.message) }
        }
    }
}
