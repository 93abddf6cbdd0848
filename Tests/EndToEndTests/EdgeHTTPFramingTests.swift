import Testing
import SwitchyardTestSupport

/// Issue 26 item 5 on the edge: the status port's framing and timeouts, over raw sockets.
@Suite(.serialized) struct EdgeHTTPFramingTests {
    @Test func statusPortRefusesBadFramingAndSlowClients() async throws {
        let edge = try LiveEdge(config: demoSite(version: 1, threshold: 6000))
        defer { _ = edge.stop() }
        let big = "GET /status HTTP/1.1\r\nHost: x\r\nX-Filler: \(String(repeating: "a", count: 40_000))\r\n\r\n"
        let cases: [(String, Int, String)] = [
            (big, 431, "head over the limit"),
            ("POST /config HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "CL with chunked"),
            ("POST /config HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400, "negative Content-Length"),
            ("POST /config HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", 400, "bad chunk size"),
            ("POST /config HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n", 413, "body over 4 MiB"),
            ("GET /\(String(repeating: "s", count: 9000)) HTTP/1.1\r\n\r\n", 414, "long URL"),
            ("HELLO\r\n\r\n", 400, "no request line"),
        ]
        for (request, status, what) in cases {
            let answer = try await RawHTTP.exchange(port: edge.port, request)
            #expect(answer.status == status, "\(what): \(answer.text.prefix(300))")
            #expect(answer.closedByServer, "\(what)")
        }
        // Half a head: answered 408 by the head timeout (10 s on the edge) and closed.
        let slow = try await RawHTTP.exchange(port: edge.port, "GET /status HTTP/1.1\r\nHost: x\r\n", readTimeoutSeconds: 40)
        #expect(slow.status == 408 && slow.closedByServer, "\(slow.text.prefix(200))")
        // A path served with another method: 405 with Allow, not 404.
        let wrongMethod = try await RawHTTP.exchange(port: edge.port, "DELETE /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(wrongMethod.status == 405, "\(wrongMethod.text.prefix(200))")
        #expect(wrongMethod.text.lowercased().contains("allow: get"), "\(wrongMethod.text.prefix(300))")
        let unknown = try await RawHTTP.exchange(port: edge.port, "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(unknown.status == 404, "\(unknown.text.prefix(200))")
        let fine = try await RawHTTP.exchange(port: edge.port, "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(fine.status == 200, "\(fine.text.prefix(200))")
    }
}
