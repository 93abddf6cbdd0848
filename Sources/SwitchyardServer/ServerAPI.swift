import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import SwitchyardConfigDoc
import SwitchyardHTTPGuard
import SwitchyardJSON

/// The HTTP and WebSocket API (docs/openapi.yaml describes every route;
/// a test keeps the two in step through `ServerAPI.routes`).
public enum ServerAPI {
    public struct Route: Sendable, Hashable {
        public var method: String
        /// OpenAPI form: `/api/v1/edges/{edge}/config`.
        public var path: String
    }

    typealias Handler = @Sendable (Request, ServerContext) async throws -> Response

    /// Registers routes and remembers them for `routes`.
    struct Table {
        let router: Router<ServerContext>
        var routes: [Route] = []

        mutating func add(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
            routes.append(Route(method: method.rawValue, path: path))
            let hummingbirdPath = RouterPath(path.replacingBraces())
            router.on(hummingbirdPath, method: method, use: handler)
        }
    }

    /// Every route of the API.
    public static var routes: [Route] {
        var table = Table(router: Router(context: ServerContext.self))
        register(&table, core: nil)
        return table.routes + [Route(method: "GET", path: "/ws/edges/{edge}/notify")]
    }

    /// Every route, computed once: for 405 answers.
    static let allRoutes = routes

    /// The methods of the routes whose path pattern matches `path` (empty:
    /// no route has this path, a 404). A router answers 404 for a path it
    /// serves with another method; the API answers 405 with `Allow`.
    static func methods(servingPath path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        var methods: Set<String> = []
        for route in allRoutes {
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: false)
            guard pattern.count == segments.count else { continue }
            if zip(pattern, segments).allSatisfy({ $0.hasPrefix("{") || $0 == $1 }) { methods.insert(route.method) }
        }
        return methods.sorted()
    }

    public static func router(_ core: ServerCore) -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: AuthMiddleware(core: core))
        var table = Table(router: router)
        register(&table, core: core)
        router.ws("/ws/edges/:edge/notify") { request, context in
            let edge = try context.parameters.text("edge")
            let caller = try context.caller()
            try caller.requireEdge(edge)
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            try await Notifications.serve(core: core, inbound: inbound, outbound: outbound, context: context)
        }
        return router
    }

    /// The server as a service. Port 0 picks a free port; `onRunning` gets the one bound.
    public static func application(_ core: ServerCore, host: String, port: Int, logger: Logger,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = router(core)
        let limits = core.options.framing
        let webSocketResponder = router.buildResponder()
        let server = HTTPServerBuilder { responder in
            FramedChildChannel(HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder,
                                                            configuration: .init(http1: .init(idleTimeout: .seconds(limits.keepAliveIdleSeconds)))),
                               limits: limits)
        }
        return Application(router: router, server: server,
                           configuration: .init(address: .hostname(host, port: port), serverName: "switchyard-server"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    // swiftlint:disable:next function_body_length
    static func register(_ table: inout Table, core: ServerCore?) {
        let limit = core?.options.maxBodyBytes ?? 0
        @Sendable func need() throws -> ServerCore {
            guard let core else { throw ServiceError(.internal, "no server") }
            return core
        }
        @Sendable func reason(_ request: Request) -> String {
            request.headers[.switchyardReason] ?? ""
        }

        // Public.
        table.add(.get, "/healthz") { _, _ in Reply.json(["status": "ok"]) }
        table.add(.get, "/api/v1/signing-keys") { _, _ in
            let core = try need()
            return Reply.json(["keys": [["key_id": .string(core.signer.keyId), "algorithm": "Ed25519",
                                         "public_key": .string(SigningKeyText.base64(core.signer.publicKey))]]])
        }

        // Sync (edge keys).
        table.add(.get, "/api/v1/edges/{edge}/config") { request, context in
            let core = try need()
            let edge = try context.parameters.text("edge")
            try context.caller().requireEdge(edge)
            if let ifNoneMatch = request.headers[.ifNoneMatch] {
                let (version, digest) = try await core.sync.etag(edgeId: edge)
                if digest.matches(ifNoneMatch: ifNoneMatch) {
                    return Response(status: .notModified, headers: [.eTag: digest.etag, .switchyardConfigVersion: String(version)])
                }
            }
            let served = try await core.sync.config(edgeId: edge)
            return Response(status: .ok, headers: [
                .contentType: "application/json", .eTag: served.digest.etag,
                .switchyardConfigVersion: String(served.version),
                .switchyardEnvelope: Envelopes.header(served.envelope),
            ], body: .init(byteBuffer: ByteBuffer(string: served.body)))
        }
        table.add(.get, "/api/v1/edges/{edge}/config/delta") { request, context in
            let core = try need()
            let edge = try context.parameters.text("edge")
            try context.caller().requireEdge(edge)
            guard let sinceText = request.uri.queryParameters.get("since"), let since = Int(sinceText), since >= 0 else {
                throw ServiceError(.badRequest, "query parameter since=<version> is required (a whole number)")
            }
            let (current, digest) = try await core.sync.etag(edgeId: edge)
            if since == current {
                return Response(status: .notModified, headers: [.eTag: digest.etag, .switchyardConfigVersion: String(current)])
            }
            let delta = try await core.sync.delta(edgeId: edge, since: since)
            var members = delta.json.objectValue ?? [:]
            members["full_size"] = .number(Double(delta.fullSize))
            return Reply.json(.object(members), headers: [.eTag: delta.digest.etag])
        }
        table.add(.post, "/api/v1/edges/{edge}/heartbeat") { request, context in
            let core = try need()
            let edge = try context.parameters.text("edge")
            try context.caller().requireEdge(edge)
            let body = try await Body.read(request, limit: min(limit, 256 << 10))
            let heartbeat = try await core.sync.heartbeat(edgeId: edge, body: body.value)
            let current = try? await core.sync.etag(edgeId: edge)
            return Reply.json(["received_at": .number(Double(heartbeat.receivedAt)),
                               "current_version": current.map { .number(Double($0.version)) } ?? .null])
        }

        OperatorRoutes.register(&table, need: need, reason: reason, limit: limit)
    }
}

extension String {
    /// `/a/{b}/c` → `/a/:b/c` (Hummingbird's parameter syntax).
    func replacingBraces() -> String {
        var out = ""
        for ch in self {
            switch ch {
            case "{": out.append(":")
            case "}": break
            default: out.append(ch)
            }
        }
        return out
    }
}

/// The signed envelope in a header: base64url of its canonical JSON.
public enum Envelopes {
    public static func header(_ envelope: SignedEnvelope) -> String {
        Secrets.base64URL(Array(envelope.jsonValue.canonicalText.utf8))
    }
}

extension HTTPField.Name {
    static let switchyardReason = HTTPField.Name("Switchyard-Reason")!
    static let switchyardConfigVersion = HTTPField.Name("Switchyard-Config-Version")!
    static let switchyardEnvelope = HTTPField.Name("Switchyard-Envelope")!
    static let switchyardLayerRevision = HTTPField.Name("Switchyard-Layer-Revision")!
}
