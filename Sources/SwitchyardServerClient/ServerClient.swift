import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import SwitchyardJSON

/// A small client of the switchyard-server API, for the `switchyard` CLI
/// and tests: JSON in, JSON out, every answer with its status and headers.
public final class ServerClient: Sendable {
    public struct Answer: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var text: String

        public init(status: Int, headers: [(String, String)], text: String) {
            self.status = status
            self.headers = headers
            self.text = text
        }

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        /// The body as JSON (nil when empty or not JSON).
        public var json: JSONValue? { try? JSONValue(parsing: text) }

        /// The server's error message, for printing.
        public var errorText: String {
            guard let error = json?["error"] else { return "HTTP \(status): \(text)" }
            var out = "HTTP \(status) \(error["code"]?.stringValue ?? ""): \(error["message"]?.stringValue ?? "")"
            for problem in error["problems"]?.arrayValue ?? [] {
                let edge = problem["edge"]?.stringValue.map { "edge \($0) " } ?? ""
                let also = problem["also_affects_edges"]?.numberValue.map { " (and \(JSONValue.format($0)) more edges with the same layers)" } ?? ""
                // The path holds the document's keys as they are: escaped, like every echoed input, before a terminal sees it.
                out += "\n  \(edge)\((problem["path"]?.stringValue ?? "").echoed()): \((problem["message"]?.stringValue ?? "").echoed(limit: 1_000))\(also)"
            }
            return out
        }
    }

    public let baseURL: String
    public let token: String?
    /// The process-wide client: connection pools shared, nothing to shut down.
    private let http: HTTPClient

    public init(baseURL: String, token: String?) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        http = HTTPClient.shared
    }

    /// With `failFast`, a server that cannot be reached fails the request
    /// at once (or after 5 s of connecting) instead of being retried until
    /// the request's deadline: what a command-line tool wants.
    public init(baseURL: String, token: String?, failFast: Bool) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        http = failFast ? Self.failingFast : HTTPClient.shared
    }

    /// Process-wide like `HTTPClient.shared`, and like it never shut down.
    private static let failingFast: HTTPClient = {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: .seconds(60)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Sends a request. `body` is sent as JSON text; `raw` as it is (for tests of bad input).
    public func send(_ method: String, _ path: String, json body: JSONValue? = nil, raw: String? = nil,
                     headers: [(String, String)] = [], token: String? = nil, timeoutSeconds: Int64 = 60) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = HTTPMethod(rawValue: method)
        if let bearer = token ?? self.token { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let text = raw ?? body?.canonicalText {
            if !request.headers.contains(name: "Content-Type") { request.headers.add(name: "Content-Type", value: "application/json") }
            request.body = .bytes(ByteBuffer(string: text))
        }
        let response = try await http.execute(request, timeout: .seconds(timeoutSeconds))
        let buffer = try await response.body.collect(upTo: 256 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                      text: String(buffer: buffer))
    }

    public func get(_ path: String, headers: [(String, String)] = [], token: String? = nil, timeoutSeconds: Int64 = 60) async throws -> Answer {
        try await send("GET", path, headers: headers, token: token, timeoutSeconds: timeoutSeconds)
    }
}
