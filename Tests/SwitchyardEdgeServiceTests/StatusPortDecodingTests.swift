#if canImport(Glibc)
import Glibc
#endif
import Logging
import Testing
import SwitchyardEdgeService
import SwitchyardHost
import SwitchyardModel
import SwitchyardTestSupport

/// Sends one HTTP request of raw bytes to 127.0.0.1:`port`, retrying the
/// connect while the server starts; returns the whole response as text.
private func exchange(port: Int, _ request: [UInt8]) throws -> String {
    struct Refused: Error {}
    for _ in 0..<1200 {  // up to a minute: the machine may be busy
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            usleep(50_000)
            continue
        }
        _ = send(fd, request, request.count, 0)
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            response += chunk[0..<n]
        }
        return String(decoding: response, as: UTF8.self)
    }
    throw Refused()
}

private func post(_ body: [UInt8]) -> [UInt8] {
    Array("POST /config HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
}

@Suite struct StatusPortDecodingTests {
    /// The edge decoded the body leniently: `\xc0\xaf` became U+FFFD and the
    /// config was applied, where `check` and the server refuse it.
    @Test func invalidUTF8IsRefusedWith400AndItsOffset() async throws {
        let site = try SiteHarness(config: #"{"version": 1, "edge_id": "e", "devices": [{"device_id": "a", "profile": "test_generic"}]}"#,
                                   extraProfiles: [TestPaths.packageRoot + "/Tests/Fixtures/profiles"])
        site.run(cycles: 1)
        let service = EdgeService(host: site.host, source: .synced, initial: nil, pluginCacheDirectory: TestPaths.temporaryDirectory(),
                                  logger: Logger(label: "test"))
        let port = PymodbusServer.freePort()
        let server = StatusServer.start(service, port: port, logger: Logger(label: "test"))

        let prefix = Array(#"{"version": 2, "edge_id": ""#.utf8)
        let bad = try exchange(port: port, post(prefix + [0xC0, 0xAF] + Array(#""}"#.utf8)))
        #expect(bad.hasPrefix("HTTP/1.1 400"))
        #expect(bad.contains("the body is not valid UTF-8 (byte offset \(prefix.count))"))
        site.run(cycles: 1)
        #expect(site.host.status().configVersion == 1, "nothing was applied")

        // The same document in valid UTF-8 is applied.
        let good = try exchange(port: port, post(Array(#"{"version": 2, "edge_id": "é"}"#.utf8)))
        #expect(good.hasPrefix("HTTP/1.1 200"))
        site.run(cycles: 1)
        #expect(site.host.status().configVersion == 2)
        await server.stop()
    }
}
