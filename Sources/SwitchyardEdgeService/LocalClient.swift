#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.0 client for the edge's own loopback status port, used by
/// `switchyard-edge status` and `reload`: no TLS, no redirects, one request.
public enum LocalClient {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sends `method path` to 127.0.0.1:`port`; returns status code and body.
    public static func request(_ method: String, _ path: String, port: Int, body: String = "", timeoutSeconds: Int = 10) throws(Failure) -> (Int, String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            throw Failure(description: "no switchyard-edge answers on 127.0.0.1:\(port) (\(String(cString: strerror(errno))))")
        }
        let request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let bytes = Array(request.utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw Failure(description: "send failed") }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            response += chunk[0..<n]
            if let complete = contentComplete(response), complete { break }
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let headerEnd = text.range(of: "\r\n\r\n"), let statusLine = text.split(separator: "\r\n").first else {
            throw Failure(description: "malformed HTTP response")
        }
        let code = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (code, String(text[headerEnd.upperBound...]))
    }

    /// True once the body announced by Content-Length has arrived; nil
    /// while the headers are incomplete or carry no length.
    static func contentComplete(_ bytes: [UInt8]) -> Bool? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let headers = text[..<end.lowerBound].lowercased()
        guard let line = headers.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
              let length = Int(line.dropFirst("content-length:".count).trimmingPrefix(" ")) else { return nil }
        return text[end.upperBound...].utf8.count >= length
    }
}
