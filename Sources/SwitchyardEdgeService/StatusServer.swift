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
public enum StatusServer {
    public static func router(_ service: EdgeService) -> Router<BasicRequestContext> {
        let router = Router()
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
        return router
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
