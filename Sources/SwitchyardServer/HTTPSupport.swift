import Hummingbird
import HummingbirdWebSocket
import SwitchyardJSON

/// The request context: Hummingbird's, the WebSocket handler slot, and who
/// is calling (set by `AuthMiddleware`).
public struct ServerContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public var principal: Principal?

    public init(source: Source) {
        coreContext = .init(source: source)
        webSocket = .init()
        principal = nil
    }

    func caller() throws(ServiceError) -> Principal {
        guard let principal else { throw ServiceError(.unauthorized, "send Authorization: Bearer <edge key or operator token>") }
        return principal
    }
}

/// Turns every error into the API's JSON error answer; a handler never
/// leaks a stack or a 500 for bad input.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServiceError {
            return Self.response(error)
        } catch let error as StoreError {
            let mapped = switch error.code {
            case .conflict: ServiceError(.conflict, error.message)
            case .duplicate: ServiceError(.conflict, error.message)
            case .corrupt, .database: ServiceError(.internal, "the store failed: \(error.message)")
            }
            if error.code == .corrupt || error.code == .database { context.logger.error("store error: \(error)") }
            return Self.response(mapped)
        } catch let error as any HTTPResponseError {
            if error.status == .contentTooLarge {
                return Self.response(ServiceError(.payloadTooLarge, "the body is larger than this server accepts"))
            }
            if error.status == .notFound {
                let allowed = ServerAPI.methods(servingPath: request.uri.path)
                if !allowed.isEmpty {
                    var response = Self.response(ServiceError(.badRequest, "\(request.method) is not allowed on \(request.uri.path); it takes "
                        + allowed.joined(separator: ", ")), status: .methodNotAllowed)
                    response.headers[.allow] = allowed.joined(separator: ", ")
                    return response
                }
                return Self.response(ServiceError(.notFound, "no such endpoint: \(request.method) \(request.uri.path)"))
            }
            if error.status == .methodNotAllowed {
                return Self.response(ServiceError(.badRequest, "\(request.method) is not allowed on \(request.uri.path)"), status: .methodNotAllowed)
            }
            let detail = (error as? HTTPError)?.body ?? error.status.reasonPhrase
            return Self.response(ServiceError(.badRequest, detail), status: error.status)
        } catch {
            context.logger.error("unexpected error on \(request.method) \(request.uri.path): \(error)")
            return Self.response(ServiceError(.internal, "the server failed on this request; it is logged"))
        }
    }

    static func response(_ error: ServiceError, status: HTTPResponse.Status? = nil) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retry = error.retryAfter { headers[.retryAfter] = String(retry) }
        return Response(status: status ?? HTTPResponse.Status(code: error.status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: error.json.prettyText + "\n")))
    }
}

/// Finds the caller from `Authorization: Bearer …` and applies its rate
/// limit. Requests without credentials are refused with 401 before a
/// handler reads their body, except on the public endpoints; handlers then
/// check what the caller may do (`context.caller()`).
struct AuthMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let core: ServerCore
    /// The only endpoints that answer without credentials.
    static let publicPaths: Set<String> = ["/healthz", "/api/v1/signing-keys"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        // Checked before anything is stored: a 70 KB reason went into the audit log.
        if let reason = request.headers[.switchyardReason], reason.utf8.count > core.options.maxReasonBytes {
            throw ServiceError(.badRequest, "Switchyard-Reason is \(reason.utf8.count) bytes; at most \(core.options.maxReasonBytes) are accepted")
        }
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer "), header.count > 7 else {
                throw ServiceError(.unauthorized, "the Authorization header must be \"Bearer <edge key or operator token>\"")
            }
            let principal = try await core.authenticate(String(header.dropFirst(7)))
            let limit = principal.kind == .edge ? core.options.edgeRateLimit : core.options.operatorRateLimit
            if let wait = core.limiter.take(principal.credentialId, limit: limit) {
                throw ServiceError(.rateLimited, "too many requests with this key; retry in \(wait) s", retryAfter: wait)
            }
            context.principal = principal
        } else if !Self.publicPaths.contains(request.uri.path) {
            // Refused before any handler reads a body.
            throw ServiceError(.unauthorized, "send Authorization: Bearer <edge key or operator token>")
        }
        return try await next(request, context)
    }
}

/// Reading request bodies and fields with errors that name the field.
struct Body {
    let value: JSONValue

    static func read(_ request: Request, limit: Int) async throws -> Body {
        if let type = request.headers[.contentType], !type.hasPrefix("application/json"), !type.hasPrefix("application/json-patch+json"),
           !type.hasPrefix("application/merge-patch+json") {
            throw ServiceError(.badRequest, "the body must be JSON (Content-Type: application/json); got \(type)")
        }
        let buffer = try await request.body.collect(upTo: limit)
        let bytes = Array(buffer.readableBytesView)
        guard !bytes.isEmpty else { throw ServiceError(.badRequest, "the body is empty; a JSON document is expected") }
        do {
            return Body(value: try JSONValue(parsing: bytes))
        } catch {
            throw ServiceError(.badRequest, "the body is not valid JSON: \(error)")
        }
    }

    /// The body's members, refusing any not in `allowed`.
    func object(allowed: Set<String>, what: String) throws(ServiceError) -> [String: JSONValue] {
        guard case .object(let members) = value else { throw ServiceError(.badRequest, "\(what) is a JSON object; found \(value.typeName)") }
        let unknown = members.keys.filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw ServiceError(.badRequest, "unknown field(s) \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) in \(what); "
                + "it takes \(allowed.sorted().map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        return members
    }
}

extension [String: JSONValue] {
    func string(_ name: String, required: Bool = true) throws(ServiceError) -> String? {
        guard let value = self[name] else {
            if required { throw ServiceError(.badRequest, "field \"\(name)\" is required") }
            return nil
        }
        guard case .string(let s) = value else { throw ServiceError(.badRequest, "field \"\(name)\" must be a string; found \(value.typeName)") }
        return s
    }

    func integer(_ name: String, required: Bool = true) throws(ServiceError) -> Int? {
        guard let value = self[name] else {
            if required { throw ServiceError(.badRequest, "field \"\(name)\" is required") }
            return nil
        }
        guard case .number(let n) = value, n.isWholeNumber, abs(n) < 1e15 else {
            throw ServiceError(.badRequest, "field \"\(name)\" must be a whole number; found \(value.canonicalText)")
        }
        return Int(n)
    }

    func strings(_ name: String) throws(ServiceError) -> [String] {
        guard let value = self[name] else { return [] }
        guard case .array(let items) = value else { throw ServiceError(.badRequest, "field \"\(name)\" must be an array of strings") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw ServiceError(.badRequest, "field \"\(name)\" must be an array of strings") }
            out.append(s)
        }
        return out
    }
}

enum Reply {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var all = headers
        all[.contentType] = "application/json"
        return Response(status: status, headers: all, body: .init(byteBuffer: ByteBuffer(string: value.prettyText + "\n")))
    }

    static func change(_ result: ChangeResult, status: HTTPResponse.Status = .ok, extra: [String: JSONValue] = [:]) -> Response {
        var members: [String: JSONValue] = [
            "change_id": .number(Double(result.change.id)),
            "edges_with_new_version": .number(Double(result.versions.count)),
        ]
        if result.structureOnly {
            members["warning"] = "this organization has no catalog: plugin classes, profiles and parameters were not checked (switchyard catalog push)"
        }
        if !result.pinnedSkipped.isEmpty { members["pinned_edges_skipped"] = .array(result.pinnedSkipped.map(JSONValue.string)) }
        for (key, value) in extra { members[key] = value }
        return json(.object(members), status: status)
    }
}

extension Reply {
    /// A layer write: the change, and the layer's new revision and ETag for the next If-Match.
    static func layerChange(_ result: ChangeResult, extra: [String: JSONValue] = [:]) -> Response {
        let details = result.change.details
        guard let layer = details["layer"]?.stringValue, let revision = details["revision"]?.numberValue else { return change(result, extra: extra) }
        let etag = "\"\(layer)@\(Int(revision))\""
        var members: [String: JSONValue] = ["layer": .string(layer), "revision": .number(revision), "etag": .string(etag)]
        for (key, value) in extra { members[key] = value }
        var response = change(result, extra: members)
        response.headers[.eTag] = etag
        return response
    }
}

extension Parameters {
    func text(_ name: String) throws(ServiceError) -> String {
        guard let value = self.get(name) else { throw ServiceError(.badRequest, "missing path parameter \(name)") }
        return value
    }
}
