import Hummingbird
import Logging
import ServiceLifecycle
import SwitchyardHost
import SwitchyardHTTPGuard
import SwitchyardJSON

/// The edge's local HTTP port (bind it to loopback):
/// - `GET /status`: running config, plugins, devices, controllers, cycle statistics, alarms
/// - `GET /channels`: every channel with its value and quality
/// - `GET /metrics`: Prometheus text format
/// - `POST /reload`: the same as SIGHUP
/// - `POST /config`: apply the posted config document (until the next reload
///   from the config file); 200 with the generation, 422 with the reasons,
///   400 for a body that is not UTF-8
/// - `POST /write`: write one setpoint by hand (`ManualWrite`), see `write(_:_:)`
public enum StatusServer {
    /// The method each path takes, for 405 answers with `Allow`.
    static let methods: [String: String] = ["/status": "GET", "/channels": "GET", "/metrics": "GET",
                                            "/reload": "POST", "/config": "POST", "/write": "POST"]

    public static func router(_ service: EdgeService) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: MethodNotAllowed())
        router.get("status") { _, _ in
            json(StatusDocument.status(service.host.status(), sync: service.syncStatus))
        }
        router.get("channels") { _, _ in
            json(StatusDocument.channels(service.host))
        }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: PrometheusText.render(service.host.status()))))
        }
        router.post("reload") { request, _ in
            if let refusal = refuseBrowsers(request) { return refusal }
            return outcome(await EdgeService.offPool { service.reload(reason: "POST /reload") })
        }
        router.post("config") { request, _ in
            if let refusal = refuseBrowsers(request) { return refusal }
            guard request.headers[.contentType]?.hasPrefix("application/json") == true else {
                return json(["applied": false, "error": "the body must be a config document with Content-Type: application/json"],
                            status: .unsupportedMediaType)
            }
            let body = try await request.body.collect(upTo: maxBodyBytes)
            // Strict, as `check` and the server decode: invalid UTF-8 is
            // refused with where it is, never repaired into U+FFFD and applied.
            let bytes = Array(body.readableBytesView)
            if let offset = JSONValue.firstInvalidUTF8Offset(in: bytes) {
                return json(["applied": false, "error": .string("the body is not valid UTF-8 (byte offset \(offset))")], status: .badRequest)
            }
            let text = String(decoding: bytes, as: UTF8.self)
            return outcome(await EdgeService.offPool { service.apply(text: text, reason: "POST /config") })
        }
        router.post("write") { request, _ in
            if let refusal = refuseBrowsers(request) { return refusal }
            let body = try await request.body.collect(upTo: 64 << 10)
            return await write(service, String(buffer: body))
        }
        return router
    }

    /// `POST /write` with `{"channel": "device/Point", "value": 4205,
    /// "force": false, "requested_by": "…"}`: 200 when the driver took it,
    /// 409 when a controller set the channel in that cycle (and `force` was
    /// not given), 422 when the write rules or the device refused it, 404
    /// for an unknown channel, 503 when the device could not take it, 400
    /// for a malformed body. The answer says which, with the driver's notes
    /// (the value it wrote when the rules changed it).
    static func write(_ service: EdgeService, _ text: String) async -> Response {
        func bad(_ why: String) -> Response { json(["written": false, "error": .string(why)], status: .badRequest) }
        guard let body = try? JSONValue(parsing: text), case .object = body else {
            return bad("the body must be a JSON object: {\"channel\": \"device/Point\", \"value\": 42, \"force\": false}")
        }
        guard let channel = body["channel"]?.stringValue, !channel.isEmpty else { return bad("\"channel\" (device/Point) is missing") }
        guard let value = body["value"]?.numberValue else { return bad("\"value\" must be a number") }
        var force = false
        if let f = body["force"] {
            guard case .bool(let b) = f else { return bad("\"force\" must be true or false") }
            force = b
        }
        let who = "POST /write" + (body["requested_by"]?.stringValue.map { " (\($0))" } ?? "")
        let host = service.host
        let forced = force
        let outcome = await EdgeService.offPool { host.write(channel, value: value, force: forced, requestedBy: who) }
        var answer: [String: JSONValue] = ["channel": .string(channel), "value_asked": .number(value), "force": .bool(force),
                                           "written": .bool(outcome.isWritten)]
        let status: HTTPResponse.Status
        switch outcome {
        case .written(let notes):
            answer["driver"] = .array(notes.map(JSONValue.string))
            status = .ok
        case .ownedByController(let owner):
            answer["error"] = .string("\(owner) set \(channel) in this cycle; force to write anyway (it may set it again in the next cycle)")
            status = .conflict
        case .refused(let why):
            answer["error"] = .string(why)
            status = .unprocessableContent
        case .unknownChannel(let why):
            answer["error"] = .string(why)
            status = .notFound
        case .failed(let why):
            answer["error"] = .string(why)
            status = .serviceUnavailable
        }
        return json(.object(answer), status: status)
    }

    /// Serves the router on `host:port` until `stop()`.
    public final class Running: Sendable {
        let group: ServiceGroup
        let task: Task<Void, any Error>

        init(_ app: some ApplicationProtocol, logger: Logger) {
            let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
            self.group = group
            task = Task { try await group.run() }
        }

        /// Finishes the requests in flight, then closes the port.
        public func stop() async {
            await group.triggerGracefulShutdown()
            _ = await task.result
        }
    }

    /// Request framing and read timeouts of the port (docs/operations.md).
    public static var limits: HTTPFramingLimits {
        var limits = HTTPFramingLimits()
        limits.maxBodyBytes = maxBodyBytes
        limits.bodyTimeoutSeconds = 30
        return limits
    }

    static let maxBodyBytes = 4 << 20

    public static func start(_ service: EdgeService, host: String = "127.0.0.1", port: Int, limits: HTTPFramingLimits = StatusServer.limits,
                             logger: Logger) -> Running {
        Running(Application(router: router(service), server: .framedHTTP1(limits: limits),
                            configuration: .init(address: .hostname(host, port: port), serverName: "switchyard-edge"),
                            logger: logger), logger: logger)
    }

    /// The port has no authentication and listens on loopback only; a web
    /// page in a browser on the same machine could still post to it, so a
    /// request that carries an Origin (every browser POST does) is refused.
    static func refuseBrowsers(_ request: Request) -> Response? {
        guard request.headers[.origin] != nil else { return nil }
        return json(["applied": false, "error": "requests from web pages are refused"], status: .forbidden)
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: value.prettyText + "\n")))
    }

    static func outcome(_ o: EdgeService.Outcome) -> Response {
        switch o {
        case .applied(let generation, let version):
            json(["applied": true, "generation": .number(Double(generation)), "config_version": .number(Double(version))])
        case .refused(let reason):
            json(["applied": false, "error": .string(reason)], status: .unprocessableContent)
        }
    }
}

/// A router answers 404 for a path it serves with another method: this
/// answers 405 with `Allow` instead, as the server does.
struct MethodNotAllowed: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let allowed = StatusServer.methods[request.uri.path] else { throw error }
            let body: JSONValue = ["error": .string("\(request.method) is not allowed on \(request.uri.path); it takes \(allowed)")]
            return Response(status: .methodNotAllowed, headers: [.contentType: "application/json", .allow: allowed],
                            body: .init(byteBuffer: ByteBuffer(string: body.canonicalText)))
        }
    }
}
