import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Bytes over a plain TCP socket to a server on loopback, for tests of
/// request framing that no HTTP client would send.
public enum RawHTTP {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What came back: every byte until the server closed or `readTimeoutSeconds`
    /// passed without one, and whether the server closed.
    public struct Answer: Sendable {
        public var text: String
        public var closedByServer: Bool
        /// `HTTP/1.1 431`, … : the status of each answer in `text`, in order.
        public var statuses: [Int] {
            text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line in
                guard line.hasPrefix("HTTP/1.1 "), line.count >= 12 else { return nil }
                return Int(line.dropFirst(9).prefix(3))
            }
        }
        public var status: Int? { statuses.first }
    }

    /// Connects to 127.0.0.1:`port`, writes each part with `pauseMs` between
    /// them, then reads. Blocking I/O runs off the cooperative pool.
    public static func exchange(port: Int, _ parts: [[UInt8]], pauseMs: Int = 0, readTimeoutSeconds: Int = 15) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try exchangeBlocking(port: port, parts, pauseMs: pauseMs, readTimeoutSeconds: readTimeoutSeconds) })
            }
        }
    }

    public static func exchange(port: Int, _ text: String, readTimeoutSeconds: Int = 15) async throws -> Answer {
        try await exchange(port: port, [Array(text.utf8)], readTimeoutSeconds: readTimeoutSeconds)
    }

    static func exchangeBlocking(port: Int, _ parts: [[UInt8]], pauseMs: Int, readTimeoutSeconds: Int) throws -> Answer {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to port \(port): errno \(errno)") }
        var timeout = timeval(tv_sec: readTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // MSG_NOSIGNAL: a server that answered and closed early must not kill the test process with SIGPIPE.
        for (i, part) in parts.enumerated() {
            if i > 0 && pauseMs > 0 { usleep(useconds_t(pauseMs * 1000)) }
            var offset = 0
            while offset < part.count {
                let n = part[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }  // The server answered and closed before reading it all.
                offset += n
            }
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var closed = false
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                received.append(contentsOf: buffer[0..<n])
            } else {
                closed = n == 0 || errno == ECONNRESET
                break
            }
        }
        return Answer(text: String(decoding: received, as: UTF8.self), closedByServer: closed)
    }
}
