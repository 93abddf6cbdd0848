import Logging
import Testing
import SwitchyardEdgeService
import SwitchyardHost
import SwitchyardModel
import SwitchyardTestSupport

/// Sends one HTTP request of raw bytes (`RawHTTP`), retrying while the
/// server starts (up to a minute: the machine may be busy); returns the
/// whole response as text.
private func exchange(port: Int, _ request: [UInt8]) async throws -> String {
    for _ in 0..<1200 {
        if let answer = try? await RawHTTP.exchange(port: port, [request], readTimeoutSeconds: 20) { return answer.text }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await RawHTTP.exchange(port: port, [request], readTimeoutSeconds: 20).text
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
        let bad = try await exchange(port: port, post(prefix + [0xC0, 0xAF] + Array(#""}"#.utf8)))
        #expect(bad.hasPrefix("HTTP/1.1 400"))
        #expect(bad.contains("the body is not valid UTF-8 (byte offset \(prefix.count))"))
        site.run(cycles: 1)
        #expect(site.host.status().configVersion == 1, "nothing was applied")

        // The same document in valid UTF-8 is applied.
        let good = try await exchange(port: port, post(Array(#"{"version": 2, "edge_id": "é"}"#.utf8)))
        #expect(good.hasPrefix("HTTP/1.1 200"))
        site.run(cycles: 1)
        #expect(site.host.status().configVersion == 2)
        await server.stop()
    }
}
