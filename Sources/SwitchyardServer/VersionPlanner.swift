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
        let outcomes = try await mergeAndValidate(byStack.mapValues { ($0.stack, $0.edges.min { $0.id < $1.id }!) })
        // Whether a stack's content differs from the one an edge runs: asked once per pair of stacks.
        var differs: [String: Bool] = [:]
        for key in byStack.keys.sorted() {
            let (stack, members) = byStack[key]!
            switch outcomes[key]! {
            case .refused(let problems, let first):
                plan.problems += problems.map {
                    ServiceError.Problem(edge: first, path: $0.path, message: $0.message, alsoAffects: members.count - 1)
                }
            case .valid(let content):
                for edge in members {
                    if edge.version > 0 {
                        let pair = edge.stack.text + ">" + key
                        let changed: Bool
                        if let known = differs[pair] {
                            changed = known
                        } else {
                            changed = !(try await documents.content(of: edge.stack)).isJSONEqual(to: content)
                            differs[pair] = changed
                        }
                        if !changed { continue }
                    }
                    plan.versions.append(EdgeVersion(edgeId: edge.id, version: edge.version + 1, stack: stack, changeId: 0, createdAt: now))
                }
            }
        }
        plan.versions.sort { $0.edgeId < $1.edgeId }
        return plan
    }

    enum Outcome: Sendable {
        case valid(JSONValue)
        case refused([ServiceError.Problem], first: String)
    }

    /// Merges and validates each distinct stack once, on as many tasks as
    /// there are cores (an organization change can mean thousands of stacks).
    private func mergeAndValidate(_ stacks: [String: (stack: LayerStack, first: Edge)]) async throws -> [String: Outcome] {
        // Stacks without an edge layer first: an edge's own layer is merged
        // onto its site's content, which is then ready in `scratch`.
        let keys = stacks.keys.sorted { a, b in
            let (edgeA, edgeB) = (stacks[a]!.stack.entries.last?.key.scope == .edge, stacks[b]!.stack.entries.last?.key.scope == .edge)
            return edgeA != edgeB ? !edgeA : a < b
        }
        let scratch = PlanScratch()
        let width = max(1, Concurrency.cores)
        return try await withThrowingTaskGroup(of: (String, Outcome).self) { group in
            var out: [String: Outcome] = [:]
            out.reserveCapacity(keys.count)
            var next = 0
            func add() {
                let key = keys[next]
                let (stack, first) = stacks[key]!
                next += 1
                group.addTask {
                    do {
                        let content = try await documents.content(of: stack, pending: pending, scratch: scratch)
                        let problems = Self.validate(content, edge: first, validator: validator)
                        return (key, problems.isEmpty ? .valid(content) : .refused(problems, first: first.id))
                    } catch let error as ServiceError {
                        return (key, .refused(error.problems, first: first.id))
                    }
                }
            }
            while next < keys.count && next < width { add() }
            while let (key, outcome) = try await group.next() {
                out[key] = outcome
                if next < keys.count { add() }
            }
            return out
        }
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
