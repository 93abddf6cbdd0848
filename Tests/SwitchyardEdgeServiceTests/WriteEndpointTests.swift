import Foundation
import Logging
import Testing
import SwitchyardEdgeService
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel
import SwitchyardTestSupport

/// `POST /write` on the status port (issue 14, item 3) against a running
/// edge with a simulated device: threads, the real clock, the real port.
@Suite(.serialized) struct WriteEndpointTests {
    final class Edge {
        let host: EdgeHost
        let server: StatusServer.Running
        let port: Int

        init(controllers: String) throws {
            let plugins = PluginCatalog.load(directories: TestPaths.pluginDirectories)
            let profiles = ProfileCatalog.load(directories: [TestPaths.profileDirectory, TestPaths.packageRoot + "/Tests/Fixtures/profiles"])
            host = EdgeHost(plugins: plugins, profiles: profiles)
            let config = try EdgeConfig(parsing: """
                {"version": 1, "edge_id": "w", "core_cycle": {"period_ms": 100},
                 "scheduler": {"controllers": \(controllers)},
                 "devices": [{"device_id": "gen", "profile": "test_generic"}]}
                """, file: "test")
            try host.apply(config)
            try host.start()
            let service = EdgeService(host: host, source: .embedded(config), initial: config,
                                      pluginCacheDirectory: TestPaths.temporaryDirectory(), logger: Logger(label: "test"))
            port = PymodbusServer.freePort()
            server = StatusServer.start(service, port: port, logger: Logger(label: "test"))
        }

        /// Until the port answers (generously: a busy machine).
        func ready() async throws {
            for _ in 0..<200 {
                if (try? await localRequest("GET", "/status", port: port)) != nil { return }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        func post(_ body: String) async throws -> (Int, JSONValue) {
            let (code, text) = try await localRequest("POST", "/write", port: port, body: body)
            return (code, try JSONValue(parsing: text))
        }

        /// Waits for the device to publish `value` on `address` (any
        /// quality: the echo is published only on a write, and turns stale
        /// three poll intervals later).
        func sees(_ address: String, _ value: Double) async throws -> Bool {
            for _ in 0..<600 {
                if let r = host.reading(address), r.value == value { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        func stop() async {
            await server.stop()
            host.stop()
        }
    }

    @Test func aHandWriteIsTakenAndReachesTheDevice() async throws {
        let edge = try Edge(controllers: "[]")
        try await edge.ready()
        let (code, answer) = try await edge.post(#"{"channel": "gen/Setpoint", "value": 42, "requested_by": "test"}"#)
        #expect(code == 200, "\(answer)")
        #expect(answer["written"] == .bool(true))
        #expect(try await edge.sees("gen/SetpointEcho", 42))
        #expect(edge.host.status().devices.first?.writes == 1)

        let (unknown, u) = try await edge.post(#"{"channel": "gen/Nope", "value": 1}"#)
        #expect(unknown == 404, "\(u)")
        let (readOnly, r) = try await edge.post(#"{"channel": "gen/Value", "value": 1}"#)
        #expect(readOnly == 422, "\(r)")
        let (malformed, m) = try await edge.post(#"{"channel": "gen/Setpoint", "value": "high"}"#)
        #expect(malformed == 400, "\(m)")
        #expect(m["error"]?.stringValue?.contains("\"value\" must be a number") == true)
        await edge.stop()
    }

    @Test func aPointAControllerOwnsNeedsForce() async throws {
        let probe = #"{"id": "p", "class": "ProbeController", "parameters": {"output": "gen/Setpoint", "gain": 3}}"#
        let edge = try Edge(controllers: "[\(probe)]")
        try await edge.ready()
        #expect(try await edge.sees("gen/SetpointEcho", 3))
        let (code, answer) = try await edge.post(#"{"channel": "gen/Setpoint", "value": 42}"#)
        #expect(code == 409, "\(answer)")
        #expect(answer["error"]?.stringValue?.contains("controller p set gen/Setpoint in this cycle") == true)

        let (forced, f) = try await edge.post(#"{"channel": "gen/Setpoint", "value": 42, "force": true}"#)
        #expect(forced == 200, "\(f)")
        await edge.stop()
    }
}
