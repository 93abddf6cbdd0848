/// How much of a request, and how slowly, a server accepts before it answers
/// on its own: the switchyard-server and the edge's status port put an
/// `HTTPFramingHandler` with these limits in front of their HTTP decoder.
public struct HTTPFramingLimits: Sendable, Hashable {
    /// The request line (method, target, version); longer gets 414.
    public var maxRequestLineBytes = 8 << 10
    /// The whole head, request line and header fields; longer gets 431.
    public var maxHeadBytes = 32 << 10
    /// Header fields in one head; more get 431.
    public var maxHeaderFields = 100
    /// A body's bytes (by Content-Length or in chunks); more get 413. Each
    /// route may accept less.
    public var maxBodyBytes = 4 << 20
    /// From a head's first byte (or the connection's opening) to its end; then 408.
    public var headTimeoutSeconds: Int64 = 10
    /// Without a byte of a body that is still due; then 408.
    public var bodyIdleTimeoutSeconds: Int64 = 10
    /// From a head's end to its body's end; then 408.
    public var bodyTimeoutSeconds: Int64 = 60
    /// An open connection between requests; then it is closed.
    public var keepAliveIdleSeconds: Int64 = 60

    public init() {}
}
