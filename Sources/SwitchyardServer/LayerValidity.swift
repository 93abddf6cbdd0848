import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardModel

/// A layer must be valid on its own: every member it holds has the type and
/// range a config gives it, whatever other layers hide it in the merged
/// result. A bad value hidden today (a site layer's `alarms[0].channel =
/// -1e+19` under an edge layer's) would surface in the edge's config when
/// the hiding layer changes, and block that unrelated change with a 422.
enum LayerValidity {
    /// The layer's own invalid members, as pointers into the layer.
    static func problems(_ document: JSONValue) -> [ServiceError.Problem] {
        EdgeConfig.layerIssues(document).map { .init(edge: nil, path: JSONPointer($0.path).description, message: $0.message) }
    }

    /// Refuses (422) a layer document that holds a member invalid on its own.
    static func check(_ document: JSONValue, key: LayerKey) throws(ServiceError) {
        let found = problems(document)
        guard !found.isEmpty else { return }
        throw ServiceError(.invalidConfig, "layer \(key) holds \(found.count) member(s) that are invalid on their own; nothing was stored",
                           problems: found)
    }

    /// The document without its invalid members: each one named by an issue
    /// is removed (a whole keyed-array element when the element itself is
    /// wrong). Repeats while removing one reveals another, a few times at most.
    static func repaired(_ document: JSONValue) -> (document: JSONValue, removed: [String]) {
        var current = document
        var removed: [String] = []
        for _ in 0..<4 {
            let issues = EdgeConfig.layerIssues(current)
            let paths = Set(issues.map(\.path.components)).filter { !$0.isEmpty }
            guard !paths.isEmpty else { break }
            removed += paths.map { JSONPath($0).pointer }.sorted()
            current = removing(Array(paths), from: current)
        }
        return (current, removed)
    }

    /// `value` without the members at `paths` (paths relative to `value`).
    static func removing(_ paths: [[JSONPath.Component]], from value: JSONValue) -> JSONValue {
        switch value {
        case .object(var members):
            for name in Array(members.keys) {
                let below = paths.compactMap { path -> [JSONPath.Component]? in
                    guard case .key(name)? = path.first else { return nil }
                    return Array(path.dropFirst())
                }
                if below.isEmpty { continue }
                if below.contains(where: \.isEmpty) {
                    members[name] = nil
                } else if let member = members[name] {
                    members[name] = removing(below, from: member)
                }
            }
            return .object(members)
        case .array(let items):
            var kept: [JSONValue] = []
            for (index, item) in items.enumerated() {
                let below = paths.compactMap { path -> [JSONPath.Component]? in
                    guard case .index(index)? = path.first else { return nil }
                    return Array(path.dropFirst())
                }
                if below.contains(where: \.isEmpty) { continue }
                kept.append(below.isEmpty ? item : removing(below, from: item))
            }
            return .array(kept)
        default:
            return value
        }
    }
}

/// A stored layer that fails `LayerValidity`.
public struct InvalidLayer: Sendable {
    public var key: LayerKey
    public var revision: Int
    public var problems: [ServiceError.Problem]

    var json: JSONValue {
        ["layer": .string(key.description), "revision": .number(Double(revision)), "problems": .array(problems.map(\.json))]
    }
}

extension ConfigService {
    /// The layers of `org` that hold members invalid on their own (stored
    /// before the server refused them), in key order.
    public func invalidLayers(org: String) async throws -> [InvalidLayer] {
        let snapshot = try await snapshot(org)
        return snapshot.layers.values.sorted { $0.key.description < $1.key.description }.compactMap { layer in
            let found = LayerValidity.problems(layer.document)
            return found.isEmpty ? nil : InvalidLayer(key: layer.key, revision: layer.revision, problems: found)
        }
    }

    /// Every organization's invalid layers, each reported with a warning in
    /// the log: run at start-up, so that an operator hears of layers stored
    /// before this check existed (`switchyard layer check`, `layer repair`).
    @discardableResult
    public func reportInvalidLayers() async -> Int {
        var count = 0
        do {
            for organization in try await store.organizations() {
                for layer in try await invalidLayers(org: organization.id) {
                    count += 1
                    let first = layer.problems.first.map { "\($0.path): \($0.message)" } ?? ""
                    let repair = "switchyard layer repair \(organization.id) \(layer.key.scope.rawValue) \(layer.key.target)"
                    logger.warning("layer \(layer.key) of \(organization.id) (revision \(layer.revision)) holds \(layer.problems.count) invalid member(s), first \(first); repair it with: \(repair)")
                }
            }
        } catch {
            logger.warning("could not check the stored layers: \(error)")
        }
        return count
    }

    /// Removes a layer's invalid members as a new revision, an audited
    /// change of kind `layer.repair` whose details list the removed pointers.
    /// Refused (409) when the layer has nothing to repair; validated for
    /// every edge the layer reaches, like any change.
    public func repairLayer(org: String, key: LayerKey, ifMatch: String?, actor: Principal, reason: String) async throws -> ChangeResult {
        try actor.require(.operator, in: org)
        return try await change(org: org, actor: actor, reason: reason, kind: "layer.repair") { next, commit in
            guard let current = next.layers[key] else { throw ServiceError.notFound("layer \(key)") }
            let (document, removed) = LayerValidity.repaired(current.document)
            guard !removed.isEmpty else { throw ServiceError(.conflict, "layer \(key) holds no invalid member; nothing to repair") }
            var details = try Self.writeLayer(&next, &commit, key: key, document: document, ifMatch: ifMatch)
            if case .object(var members) = details {
                members["removed"] = .array(removed.map(JSONValue.string))
                details = .object(members)
            }
            return details
        }
    }
}
