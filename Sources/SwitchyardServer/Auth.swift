import Crypto
import Synchronization

/// Who is calling, as the auth middleware found it.
public struct Principal: Sendable, Hashable {
    public var credentialId: String
    public var kind: Credential.Kind
    public var orgId: String?
    public var edgeId: String?
    public var role: Role?
    /// For the audit log: `token:alice (admin)`, `edge:e1`.
    public var actor: String

    public init(_ credential: Credential) {
        credentialId = credential.id
        kind = credential.kind
        orgId = credential.orgId
        edgeId = credential.edgeId
        role = credential.role
        switch credential.kind {
        case .edge: actor = "edge-key:\(credential.edgeId ?? "?")"
        case .operatorToken: actor = "token:\(credential.name) (\(credential.role?.rawValue ?? "?"))"
        }
    }

    /// Passes operators of `org` with at least `role`, and root. Anyone else
    /// is told the organization does not exist: one organization's callers
    /// cannot even learn which other organizations there are.
    public func require(_ role: Role, in org: String) throws(ServiceError) {
        guard kind == .operatorToken, let own = self.role else {
            throw ServiceError(.forbidden, "an edge key can only fetch its own config and send its own heartbeats")
        }
        if own == .root { return }
        guard orgId == org else { throw ServiceError.notFound("organization \"\(org)\"") }
        guard own >= role else {
            throw ServiceError(.forbidden, "this needs the \(role.rawValue) role in \"\(org)\"; the token has \(own.rawValue)")
        }
    }

    public func requireRoot() throws(ServiceError) {
        guard role == .root else { throw ServiceError(.forbidden, "only a root token may do this") }
    }

    /// Passes the edge's own key only.
    public func requireEdge(_ edgeId: String) throws(ServiceError) {
        guard kind == .edge else { throw ServiceError(.forbidden, "this endpoint takes an edge key, not an operator token") }
        guard self.edgeId == edgeId else { throw ServiceError(.forbidden, "this key belongs to another edge") }
    }
}

/// Secrets: 32 random bytes, shown once as `sye_…` (edge keys) or `syo_…`
/// (operator tokens); only their SHA-256 is stored. They are long and random,
/// so a fast hash is enough (no password stretching needed).
public enum Secrets {
    public static func make(kind: Credential.Kind) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return (kind == .edge ? "sye_" : "syo_") + base64URL(bytes)
    }

    public static func hash(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { byte in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
        }.joined()
    }

    public static func identifier() -> String {
        var generator = SystemRandomNumberGenerator()
        return "c" + base64URL((0..<9).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
            if rest == 2 { out.append(alphabet[Int(n >> 6 & 63)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Token buckets per credential: `rate` requests per second on average,
/// bursts of `burst`. Over the limit a caller is told how many seconds to
/// wait (429 with Retry-After). Per process: behind a load balancer with N
/// servers a key gets up to N times the rate.
public final class RateLimiter: Sendable {
    public struct Limit: Sendable, Hashable {
        public var rate: Double
        public var burst: Double

        public init(rate: Double, burst: Double) {
            self.rate = rate
            self.burst = burst
        }

        /// `10/20`: 10 per second, bursts of 20. `0` or `off`: unlimited.
        public init?(text: String) {
            if text == "0" || text == "off" {
                self.init(rate: 0, burst: 0)
                return
            }
            let parts = text.split(separator: "/")
            guard let rate = parts.first.flatMap({ Double($0) }), rate > 0 else { return nil }
            let burst = parts.count > 1 ? Double(parts[1]) : rate * 2
            guard let burst, burst >= 1, parts.count <= 2 else { return nil }
            self.init(rate: rate, burst: burst)
        }

        var unlimited: Bool { rate <= 0 }
    }

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    private let buckets = Mutex<[String: Bucket]>([:])
    private let clock: @Sendable () -> Double

    public init(clock: @escaping @Sendable () -> Double) {
        self.clock = clock
    }

    /// nil when allowed, else the seconds to wait.
    public func take(_ key: String, limit: Limit) -> Int? {
        if limit.unlimited { return nil }
        let now = clock()
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: limit.burst, updated: now)
            bucket.tokens = min(limit.burst, bucket.tokens + (now - bucket.updated) * limit.rate)
            bucket.updated = now
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / limit.rate).rounded(.up)))
        }
    }
}
