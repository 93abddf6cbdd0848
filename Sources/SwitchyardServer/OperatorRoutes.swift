import Hummingbird
import SwitchyardConfigDoc
import SwitchyardJSON

/// The operator API: organizations, directory, layers, bulk changes,
/// history, diff, explain, rollback, audit, catalog and credentials.
enum OperatorRoutes {
    static func register(_ table: inout ServerAPI.Table, need: @escaping @Sendable () throws -> ServerCore,
                         reason: @escaping @Sendable (Request) -> String, limit: Int) {
        let org = "/api/v1/orgs/{org}"

        // Organizations.
        table.add(.get, "/api/v1/orgs") { _, context in
            let core = try need()
            let caller = try context.caller()
            guard caller.kind == .operatorToken else { throw ServiceError(.forbidden, "an edge key cannot list organizations") }
            let all = try await core.store.organizations()
            let visible = caller.role == .root ? all : all.filter { $0.id == caller.orgId }
            return Reply.json(["organizations": .array(visible.map(Render.organization))])
        }
        table.add(.post, "/api/v1/orgs") { request, context in
            let core = try need()
            let members = try await Body.read(request, limit: limit).object(allowed: ["id", "name"], what: "an organization")
            let id = try members.string("id")!
            let created = try await core.config.createOrganization(id: id, name: try members.string("name", required: false) ?? id,
                                                                   actor: try context.caller())
            return Reply.json(Render.organization(created), status: .created)
        }
        table.add(.get, org) { _, context in
            let core = try need()
            let id = try context.parameters.text("org")
            try context.caller().require(.viewer, in: id)
            let snapshot = try await core.config.snapshot(id)
            return Reply.json(Render.organization(snapshot))
        }

        // Sites and groups.
        table.add(.get, "\(org)/sites") { _, context in
            let (core, snapshot) = try await viewer(need, context)
            _ = core
            return Reply.json(["sites": .array(snapshot.sites.values.sorted { $0.id < $1.id }.map {
                ["id": .string($0.id), "name": .string($0.name)]
            })])
        }
        table.add(.put, "\(org)/sites/{site}") { request, context in
            let core = try need()
            let members = try await Body.read(request, limit: limit).object(allowed: ["name"], what: "a site")
            let site = try context.parameters.text("site")
            let result = try await core.config.putSite(org: try context.parameters.text("org"), id: site,
                                                       name: try members.string("name", required: false) ?? site,
                                                       actor: try context.caller(), reason: reason(request))
            return Reply.change(result)
        }
        table.add(.get, "\(org)/groups") { _, context in
            let (_, snapshot) = try await viewer(need, context)
            return Reply.json(["groups": .array(snapshot.groups.values.sorted { $0.id < $1.id }.map(Render.group))])
        }
        table.add(.put, "\(org)/groups/{group}") { request, context in
            let core = try need()
            let members = try await Body.read(request, limit: limit).object(allowed: ["kind", "name", "priority"], what: "a group")
            let id = try context.parameters.text("group")
            let kindText = try members.string("kind")!
            guard let kind = EdgeGroup.Kind(rawValue: kindText) else {
                throw ServiceError(.badRequest, "field \"kind\" must be one of region, function, hardware; found \"\(kindText)\"")
            }
            let orgId = try context.parameters.text("org")
            let group = EdgeGroup(id: id, orgId: orgId, kind: kind, name: try members.string("name", required: false) ?? id,
                                  priority: try members.integer("priority", required: false) ?? 0)
            return Reply.change(try await core.config.putGroup(org: orgId, group: group, actor: try context.caller(), reason: reason(request)))
        }

        // Edges.
        table.add(.get, "\(org)/edges") { _, context in
            let (core, snapshot) = try await viewer(need, context)
            let heartbeats = Dictionary(try await core.store.heartbeats(org: snapshot.organization.id).map { ($0.edgeId, $0) },
                                        uniquingKeysWith: { a, _ in a })
            return Reply.json(["edges": .array(snapshot.edges.values.sorted { $0.id < $1.id }.map { Render.edge($0, heartbeats[$0.id]) })])
        }
        table.add(.put, "\(org)/edges/{edge}") { request, context in
            let core = try need()
            let members = try await Body.read(request, limit: limit).object(allowed: ["site", "name", "tags", "groups"], what: "an edge")
            let id = try context.parameters.text("edge")
            let result = try await core.config.putEdge(org: try context.parameters.text("org"), id: id, siteId: try members.string("site")!,
                                                       name: try members.string("name", required: false) ?? id,
                                                       tags: try members.strings("tags"), groups: try members.strings("groups"),
                                                       actor: try context.caller(), reason: reason(request))
            return Reply.change(result)
        }
        table.add(.get, "\(org)/edges/{edge}") { _, context in
            let (core, snapshot) = try await viewer(need, context)
            let edge = try edgeOf(snapshot, context)
            return Reply.json(Render.edge(edge, try await core.store.heartbeat(edge: edge.id)))
        }
        table.add(.get, "\(org)/edges/{edge}/versions") { request, context in
            let (core, snapshot) = try await viewer(need, context)
            let edge = try edgeOf(snapshot, context)
            let before = try Query.integer(request, "before")
            let limitCount = try Query.limit(request)
            let versions = try await core.store.edgeVersions(edge: edge.id, before: before, limit: limitCount)
            return Reply.json(["edge": .string(edge.id), "current_version": .number(Double(edge.version)), "pinned": .bool(edge.pinned),
                               "versions": .array(versions.map(Render.version))])
        }
        table.add(.get, "\(org)/edges/{edge}/versions/{version}") { _, context in
            let (core, snapshot) = try await viewer(need, context)
            let edge = try edgeOf(snapshot, context)
            let version = try versionParameter(context)
            let document = try await History.document(core, edge: edge.id, version: version)
            return Reply.json(document, headers: [.eTag: ConfigDigest(of: document).etag])
        }
        table.add(.get, "\(org)/edges/{edge}/diff") { request, context in
            let (core, snapshot) = try await viewer(need, context)
            let edge = try edgeOf(snapshot, context)
            guard let from = try Query.integer(request, "from") else {
                throw ServiceError(.badRequest, "query parameter from=<version> is required")
            }
            let to = try Query.integer(request, "to") ?? edge.version
            let a = try await History.document(core, edge: edge.id, version: from)
            let b = try await History.document(core, edge: edge.id, version: to)
            let patch = JSONDiff(granularity: .fineGrained).patch(from: a, to: b)
            return Reply.json(["edge": .string(edge.id), "from": .number(Double(from)), "to": .number(Double(to)), "patch": patch.jsonValue])
        }
        table.add(.get, "\(org)/edges/{edge}/explain") { request, context in
            let (core, snapshot) = try await viewer(need, context)
            let edge = try edgeOf(snapshot, context)
            let pathText = request.uri.queryParameters.get("path").map { String($0) } ?? ""
            let pointer: JSONPointer
            do {
                pointer = try JSONPointer(parsing: pathText)
            } catch {
                throw ServiceError(.badRequest, "query parameter path is an RFC 6901 pointer like /scheduler/controllers/1: \(error)")
            }
            let version = try Query.integer(request, "version") ?? edge.version
            return Reply.json(try await History.explain(core, edge: edge.id, version: version, path: pointer))
        }
        table.add(.post, "\(org)/edges/{edge}/rollback") { request, context in
            let core = try need()
            let members = try await Body.read(request, limit: limit).object(allowed: ["version"], what: "a rollback")
            let result = try await core.config.rollbackEdge(org: try context.parameters.text("org"), edge: try context.parameters.text("edge"),
                                                            to: try members.integer("version")!, actor: try context.caller(),
                                                            reason: reason(request))
            return Reply.change(result)
        }
        table.add(.post, "\(org)/edges/{edge}/unpin") { request, context in
            let core = try need()
            return Reply.change(try await core.config.unpinEdge(org: try context.parameters.text("org"), edge: try context.parameters.text("edge"),
                                                                actor: try context.caller(), reason: reason(request)))
        }

        // Layers.
        let layer = "\(org)/layers/{scope}/{target}"
        table.add(.get, layer) { _, context in
            let (_, snapshot) = try await viewer(need, context)
            let key = try layerKey(context)
            guard let current = snapshot.layers[key] else { throw ServiceError.notFound("layer \(key)") }
            return Reply.json(current.document, headers: [.eTag: current.etag,
                                                           .switchyardLayerRevision: String(current.revision)])
        }
        table.add(.put, layer) { request, context in
            let core = try need()
            let body = try await Body.read(request, limit: limit)
            let key = try layerKey(context)
            let result = try await core.config.putLayer(org: try context.parameters.text("org"), key: key, document: body.value,
                                                        ifMatch: request.headers[.ifMatch], actor: try context.caller(),
                                                        reason: reason(request))
            return Reply.layerChange(result)
        }
        table.add(.patch, layer) { request, context in
            let core = try need()
            let body = try await Body.read(request, limit: limit)
            let patch: JSONPatch
            do {
                patch = try JSONPatch(decoding: body.value)
            } catch {
                throw ServiceError(.badRequest, "the body is not an RFC 6902 JSON Patch: \(error)")
            }
            let result = try await core.config.patchLayer(org: try context.parameters.text("org"), key: try layerKey(context), patch: patch,
                                                          ifMatch: request.headers[.ifMatch], actor: try context.caller(),
                                                          reason: reason(request))
            return Reply.layerChange(result)
        }
        table.add(.get, "\(layer)/revisions") { _, context in
            let (core, snapshot) = try await viewer(need, context)
            let key = try layerKey(context)
            try ConfigService.checkTarget(key, in: snapshot)
            let revisions = try await core.store.layerRevisions(key, limit: 100)
            return Reply.json(["layer": .string(key.description), "revisions": .array(revisions.map {
                ["revision": .number(Double($0.revision)), "change_id": .number(Double($0.changeId)), "document": $0.document]
            })])
        }
        table.add(.post, "\(layer)/rollback") { request, context in
            let core = try need()
            let members = try await Body.read(request, limit: limit).object(allowed: ["revision"], what: "a layer rollback")
            let result = try await core.config.rollbackLayer(org: try context.parameters.text("org"), key: try layerKey(context),
                                                             to: try members.integer("revision")!, ifMatch: request.headers[.ifMatch],
                                                             actor: try context.caller(), reason: reason(request))
            return Reply.layerChange(result)
        }

        table.add(.get, "\(org)/layers/invalid") { _, context in
            let (core, snapshot) = try await viewer(need, context)
            let found = try await core.config.invalidLayers(org: snapshot.organization.id)
            return Reply.json(["layers": .array(found.map(\.json))])
        }
        table.add(.post, "\(layer)/repair") { request, context in
            let core = try need()
            let result = try await core.config.repairLayer(org: try context.parameters.text("org"), key: try layerKey(context),
                                                           ifMatch: request.headers[.ifMatch], actor: try context.caller(),
                                                           reason: reason(request))
            return Reply.layerChange(result, extra: ["removed": result.change.details["removed"] ?? .array([])])
        }

        // Bulk.
        table.add(.post, "\(org)/bulk") { request, context in
            let core = try need()
            let members = try await Body.read(request, limit: limit).object(allowed: ["selector", "merge"], what: "a bulk change")
            guard let selectorValue = members["selector"] else { throw ServiceError(.badRequest, "field \"selector\" is required") }
            guard let fragment = members["merge"] else { throw ServiceError(.badRequest, "field \"merge\" is required: the partial config to merge") }
            let result = try await core.config.bulk(org: try context.parameters.text("org"), selector: try EdgeSelector(json: selectorValue),
                                                    fragment: fragment, actor: try context.caller(), reason: reason(request))
            return Reply.change(result)
        }

        // Audit.
        table.add(.get, "\(org)/changes") { request, context in
            let core = try need()
            let id = try context.parameters.text("org")
            try context.caller().require(.viewer, in: id)
            let before = try Query.integer(request, "before")
            let count = try Query.limit(request)
            return Reply.json(["changes": .array(try await core.store.changes(org: id, before: before, limit: count).map(Render.change))])
        }
        table.add(.get, "\(org)/changes/{change}") { _, context in
            let core = try need()
            let id = try context.parameters.text("org")
            try context.caller().require(.viewer, in: id)
            guard let changeId = Int(try context.parameters.text("change")), let change = try await core.store.change(changeId),
                  change.orgId == id else { throw ServiceError.notFound("change") }
            return Reply.json(Render.change(change))
        }

        // Catalog.
        table.add(.put, "\(org)/catalog") { request, context in
            let core = try need()
            let body = try await Body.read(request, limit: max(limit, ServerOptions.maxCatalogBytes))
            return Reply.change(try await core.config.pushCatalog(org: try context.parameters.text("org"), document: body.value,
                                                                  actor: try context.caller(), reason: reason(request)))
        }
        table.add(.get, "\(org)/catalog") { _, context in
            let (core, snapshot) = try await viewer(need, context)
            guard let record = snapshot.catalog, let catalog = try core.config.catalog(of: snapshot) else {
                throw ServiceError.notFound("a catalog of \(snapshot.organization.id)")
            }
            return Reply.json(["revision": .number(Double(record.revision)), "plugins": .number(Double(catalog.pluginCount)),
                               "profiles": .number(Double(catalog.profileCount)),
                               "classes": .array(catalog.validator.classes.keys.sorted().map(JSONValue.string)),
                               "profile_ids": .array(catalog.validator.profiles.keys.sorted().map(JSONValue.string))])
        }

        // Credentials.
        table.add(.get, "\(org)/credentials") { _, context in
            let core = try need()
            let id = try context.parameters.text("org")
            try context.caller().require(.admin, in: id)
            return Reply.json(["credentials": .array(try await core.store.credentials(org: id).map(Render.credential))])
        }
        table.add(.post, "\(org)/credentials") { request, context in
            let core = try need()
            let members = try await Body.read(request, limit: limit).object(allowed: ["kind", "edge", "role", "name"], what: "a credential")
            let kindText = try members.string("kind")!
            guard let kind = Credential.Kind(rawValue: kindText) else {
                throw ServiceError(.badRequest, "field \"kind\" is \"edge\" or \"operator\"; found \"\(kindText)\"")
            }
            let roleText = try members.string("role", required: kind == .operatorToken)
            let role = try roleText.map { text throws(ServiceError) in
                guard let role = Role(rawValue: text) else { throw ServiceError(.badRequest, "field \"role\" is admin, operator or viewer") }
                return role
            }
            let edge = try members.string("edge", required: kind == .edge)
            let (credential, secret) = try await core.config.createCredential(
                org: try context.parameters.text("org"), kind: kind, edge: edge, role: role,
                name: try members.string("name", required: false) ?? edge ?? "token", actor: try context.caller())
            var rendered = Render.credential(credential).objectValue ?? [:]
            rendered["secret"] = .string(secret)
            return Reply.json(.object(rendered), status: .created)
        }
        table.add(.delete, "\(org)/credentials/{credential}") { _, context in
            let core = try need()
            try await core.config.revokeCredential(org: try context.parameters.text("org"), id: try context.parameters.text("credential"),
                                                   actor: try context.caller())
            return Reply.json(["revoked": true])
        }
    }

    static func viewer(_ need: () throws -> ServerCore, _ context: ServerContext) async throws -> (ServerCore, OrgSnapshot) {
        let core = try need()
        let id = try context.parameters.text("org")
        try context.caller().require(.viewer, in: id)
        return (core, try await core.config.snapshot(id))
    }

    static func edgeOf(_ snapshot: OrgSnapshot, _ context: ServerContext) throws -> Edge {
        let id = try context.parameters.text("edge")
        guard let edge = snapshot.edges[id] else { throw ServiceError.notFound("edge \"\(id)\" in \(snapshot.organization.id)") }
        return edge
    }

    static func versionParameter(_ context: ServerContext) throws -> Int {
        guard let version = Int(try context.parameters.text("version")), version > 0 else {
            throw ServiceError(.badRequest, "the version is a whole number from 1")
        }
        return version
    }

    static func layerKey(_ context: ServerContext) throws -> LayerKey {
        let scopeText = try context.parameters.text("scope")
        guard let scope = ConfigScope(rawValue: scopeText) else {
            throw ServiceError(.badRequest, "layer scope is organization, group, site or edge; found \"\(scopeText)\"")
        }
        return LayerKey(scope: scope, target: try context.parameters.text("target"))
    }
}

/// Past versions rebuilt from their stacks, and provenance.
enum History {
    static func document(_ core: ServerCore, edge: String, version: Int) async throws -> JSONValue {
        guard let record = try await core.store.edgeVersion(edge: edge, version: version) else {
            throw ServiceError.notFound("version \(version) of edge \"\(edge)\"")
        }
        return try await core.sync.document(edgeId: edge, version: version, stack: record.stack, createdAt: record.createdAt)
    }

    static func explain(_ core: ServerCore, edge: String, version: Int, path: JSONPointer) async throws -> JSONValue {
        guard let record = try await core.store.edgeVersion(edge: edge, version: version) else {
            throw ServiceError.notFound("version \(version) of edge \"\(edge)\"")
        }
        let effective = try await core.config.documents.effective(of: record.stack)
        // Elements of keyed arrays may be named by key as well as by index.
        let path = effective.policy.indexed(path, in: effective.document)
        let explanation: Explanation
        do {
            explanation = try effective.explain(path)
        } catch {
            throw ServiceError(.badRequest, "\(error)")
        }
        return [
            "edge": .string(edge), "version": .number(Double(version)), "path": .string(path.description),
            "value": explanation.value ?? .null, "set_by": explanation.setBy.map { .string($0.description) } ?? .null,
            "entries": .array(explanation.entries.map { entry in
                ["layer": .string(entry.layer.description), "action": .string(Render.action(entry.action))]
            }),
            "text": .string(explanation.description),
        ]
    }
}

enum Render {
    static func organization(_ o: Organization) -> JSONValue {
        ["id": .string(o.id), "name": .string(o.name), "revision": .number(Double(o.revision))]
    }

    static func organization(_ s: OrgSnapshot) -> JSONValue {
        ["id": .string(s.organization.id), "name": .string(s.organization.name), "revision": .number(Double(s.organization.revision)),
         "sites": .number(Double(s.sites.count)), "groups": .number(Double(s.groups.count)), "edges": .number(Double(s.edges.count)),
         "layers": .number(Double(s.layers.count)), "catalog_revision": s.catalog.map { .number(Double($0.revision)) } ?? .null]
    }

    static func group(_ g: EdgeGroup) -> JSONValue {
        ["id": .string(g.id), "kind": .string(g.kind.rawValue), "name": .string(g.name), "priority": .number(Double(g.priority))]
    }

    static func edge(_ e: Edge, _ heartbeat: Heartbeat?) -> JSONValue {
        var out: [String: JSONValue] = [
            "id": .string(e.id), "site": .string(e.siteId), "name": .string(e.name), "tags": .array(e.tags.map(JSONValue.string)),
            "groups": .array(e.groups.map(JSONValue.string)), "version": .number(Double(e.version)), "layers": .string(e.stack.text),
            "pinned": .bool(e.pinned),
        ]
        if let heartbeat {
            out["heartbeat"] = ["received_at": .number(Double(heartbeat.receivedAt)), "version": .number(Double(heartbeat.version)),
                                "state": .string(heartbeat.state), "errors": heartbeat.errors, "metrics": heartbeat.metrics]
        }
        return .object(out)
    }

    static func version(_ v: EdgeVersion) -> JSONValue {
        ["version": .number(Double(v.version)), "layers": .string(v.stack.text), "change_id": .number(Double(v.changeId)),
         "created_at": .number(Double(v.createdAt))]
    }

    static func change(_ c: ChangeRecord) -> JSONValue {
        ["id": .number(Double(c.id)), "actor": .string(c.actor), "reason": .string(c.reason), "kind": .string(c.kind),
         "at": .number(Double(c.at)), "at_text": .string(UTCTime.iso8601(c.at)), "edges_with_new_version": .number(Double(c.affectedEdges)),
         "details": c.details]
    }

    static func credential(_ c: Credential) -> JSONValue {
        ["id": .string(c.id), "kind": .string(c.kind.rawValue), "edge": c.edgeId.map(JSONValue.string) ?? .null,
         "role": c.role.map { .string($0.rawValue) } ?? .null, "name": .string(c.name), "created_at": .number(Double(c.createdAt)),
         "revoked_at": c.revokedAt.map { .number(Double($0)) } ?? .null]
    }

    static func action(_ action: Explanation.Action) -> String {
        switch action {
        case .set(let value): "set \(value.canonicalText)"
        case .deleted: "deleted"
        case .deletedAncestor(let at): "deleted with \(at)"
        case .replacedAncestor(let at, _): "replaced with \(at)"
        }
    }
}

/// Query parameters, refused when present but not what they should be.
enum Query {
    static func integer(_ request: Request, _ name: String) throws(ServiceError) -> Int? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        guard let value = Int(text), value >= 0 else {
            throw ServiceError(.badRequest, "query parameter \(name) is a whole number from 0; found \"\(text)\"")
        }
        return value
    }

    /// `limit`: 1 to 500, 50 when left out.
    static func limit(_ request: Request) throws(ServiceError) -> Int {
        guard let value = try integer(request, "limit") else { return 50 }
        guard (1...500).contains(value) else { throw ServiceError(.badRequest, "query parameter limit is 1 to 500; found \(value)") }
        return value
    }
}
