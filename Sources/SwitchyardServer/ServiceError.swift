import SwitchyardJSON

/// Why a request was refused, as the API answers it: an HTTP status, a
/// stable code, a message a person can act on, and for refused configs the
/// edge, path and reason of every problem.
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case badRequest = "bad_request"
        case unauthorized
        case forbidden
        case notFound = "not_found"
        case conflict
        case preconditionFailed = "precondition_failed"
        case preconditionRequired = "precondition_required"
        case invalidConfig = "invalid_config"
        case deltaUnavailable = "delta_unavailable"
        case payloadTooLarge = "payload_too_large"
        case rateLimited = "rate_limited"
        case unavailable
        case `internal`
    }

    /// One problem in a refused config.
    public struct Problem: Sendable, Hashable {
        public var edge: String?
        /// An RFC 6901 pointer into the edge's effective config (or the
        /// request's document).
        public var path: String
        public var message: String
        /// Other edges with the same layers, refused for the same reason.
        public var alsoAffects: Int

        public init(edge: String?, path: String, message: String, alsoAffects: Int = 0) {
            self.edge = edge
            self.path = path
            self.message = message
            self.alsoAffects = alsoAffects
        }

        var json: JSONValue {
            var out: [String: JSONValue] = ["path": .string(path), "message": .string(message)]
            if let edge { out["edge"] = .string(edge) }
            if alsoAffects > 0 { out["also_affects_edges"] = .number(Double(alsoAffects)) }
            return .object(out)
        }
    }

    public var code: Code
    public var message: String
    public var problems: [Problem]
    /// Seconds, for 429.
    public var retryAfter: Int?

    public init(_ code: Code, _ message: String, problems: [Problem] = [], retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.problems = problems
        self.retryAfter = retryAfter
    }

    public var status: Int {
        switch code {
        case .badRequest: 400
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .preconditionFailed: 412
        case .preconditionRequired: 428
        case .invalidConfig: 422
        case .deltaUnavailable: 410
        case .payloadTooLarge: 413
        case .rateLimited: 429
        case .unavailable: 503
        case .internal: 500
        }
    }

    public var json: JSONValue {
        var error: [String: JSONValue] = ["code": .string(code.rawValue), "message": .string(message)]
        if !problems.isEmpty { error["problems"] = .array(problems.map(\.json)) }
        return .object(["error": .object(error)])
    }

    public var description: String {
        var out = "\(code.rawValue): \(message)"
        for problem in problems {
            out += "\n  " + [problem.edge.map { "edge \($0)" }, problem.path.isEmpty ? "(document)" : problem.path].compactMap { $0 }
                .joined(separator: " ") + ": " + problem.message
        }
        return out
    }

    static func notFound(_ what: String) -> ServiceError { ServiceError(.notFound, "\(what) does not exist") }
}
