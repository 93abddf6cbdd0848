import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardModel

/// Ids of organizations, sites, groups and edges: they appear in URLs, layer
/// keys and stacks, so they are kept to a safe alphabet.
enum Names {
    static func check(_ id: String, what: String) throws(ServiceError) {
        let allowed = id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
        }
        guard !id.isEmpty, id.utf8.count <= 64, allowed, id.first != "." else {
            throw ServiceError(.badRequest, "\(what) \"\(id)\" must be 1 to 64 characters of letters, digits, '-', '_' and '.' (not first)")
        }
    }
}

enum ETags {
    /// `If-Match`: `*` matches any existing layer; otherwise one of the
    /// listed tags must be the current one.
    static func matches(_ header: String, current: String?) -> Bool {
        let tags = header.split(separator: ",").map { $0.trimmingCharacters(in: " \t") }
        if tags.contains("*") { return current != nil }
        guard let current else { return false }
        return tags.contains { $0 == current || $0 == "W/" + current }
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let first = s.first, set.contains(first) { s.removeFirst() }
        while let last = s.last, set.contains(last) { s.removeLast() }
        return String(s)
    }
}

/// What a layer may hold: a partial config document. The fields the server
/// sets per edge and version are refused, as are unknown top-level members
/// and malformed keyed arrays, with the layer and the path.
enum LayerDocument {
    static func check(_ document: JSONValue, key: LayerKey) throws(ServiceError) {
        guard case .object(let members) = document else {
            throw ServiceError(.badRequest, "a layer is a JSON object (a partial config); found \(document.typeName)")
        }
        var problems: [ServiceError.Problem] = []
        for name in members.keys.sorted() {
            if EdgeDocument.serverFields.contains(name) {
                problems.append(.init(edge: nil, path: "/\(name)", message: "is set by the server for each edge and version; a layer may not set it"))
            } else if !EdgeConfig.topLevelKeys.contains(name) {
                let known = EdgeConfig.topLevelKeys.subtracting(EdgeDocument.serverFields).sorted()
                var message = "is not a config member"
                if let close = closestMatch(to: name, in: known) { message += " (did you mean \"\(close)\"?)" }
                problems.append(.init(edge: nil, path: JSONPointer(tokens: [name]).description, message: message))
            }
        }
        do {
            try LayerMerge().validate(ConfigLayer(scope: key.scope, id: key.target, name: key.target, version: 0, document: document))
        } catch {
            problems.append(.init(edge: nil, path: error.path?.description ?? "", message: error.message))
        }
        if !problems.isEmpty { throw ServiceError(.badRequest, "layer \(key) is not a valid partial config", problems: problems) }
    }
}

/// Which edges a bulk change touches.
public enum EdgeSelector: Sendable, Hashable, CustomStringConvertible {
    case site(String)
    case group(String)
    case tag(String)
    case edges([String])
    case all

    /// `{"site": "s1"}`, `{"group": "g"}`, `{"tag": "t"}`, `{"edges": ["e1", "e2"]}` or `{"all": true}`.
    public init(json: JSONValue) throws(ServiceError) {
        guard case .object(let members) = json, members.count == 1, let (name, value) = members.first else {
            throw ServiceError(.badRequest, "a selector has exactly one of \"site\", \"group\", \"tag\", \"edges\" or \"all\"")
        }
        switch (name, value) {
        case ("site", .string(let id)): self = .site(id)
        case ("group", .string(let id)): self = .group(id)
        case ("tag", .string(let tag)): self = .tag(tag)
        case ("all", .bool(true)): self = .all
        case ("edges", .array(let items)):
            var ids: [String] = []
            for item in items {
                guard case .string(let id) = item else { throw ServiceError(.badRequest, "selector \"edges\" is a list of edge ids") }
                ids.append(id)
            }
            self = .edges(ids)
        default:
            throw ServiceError(.badRequest, "selector \"\(name)\" takes \(name == "edges" ? "a list of edge ids" : name == "all" ? "true" : "a string")")
        }
    }

    public var json: JSONValue {
        switch self {
        case .site(let id): ["site": .string(id)]
        case .group(let id): ["group": .string(id)]
        case .tag(let tag): ["tag": .string(tag)]
        case .edges(let ids): ["edges": .array(ids.map(JSONValue.string))]
        case .all: ["all": true]
        }
    }

    public var description: String { json.canonicalText }

    func select(in snapshot: OrgSnapshot) throws(ServiceError) -> [String] {
        switch self {
        case .site(let id):
            guard snapshot.sites[id] != nil else { throw ServiceError.notFound("site \"\(id)\"") }
            return snapshot.edges.values.filter { $0.siteId == id }.map(\.id).sorted()
        case .group(let id):
            guard snapshot.groups[id] != nil else { throw ServiceError.notFound("group \"\(id)\"") }
            return snapshot.edges.values.filter { $0.groups.contains(id) }.map(\.id).sorted()
        case .tag(let tag):
            return snapshot.edges.values.filter { $0.tags.contains(tag) }.map(\.id).sorted()
        case .edges(let ids):
            for id in ids where snapshot.edges[id] == nil { throw ServiceError.notFound("edge \"\(id)\"") }
            return Array(Set(ids)).sorted()
        case .all:
            return snapshot.edges.keys.sorted()
        }
    }
}
