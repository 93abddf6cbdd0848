import Foundation
import Testing
import SwitchyardJSON
import SwitchyardServerClient
import SwitchyardTestSupport

/// Two `switchyard-server` processes on one PostgreSQL database, as behind a
/// load balancer.
@Suite("scale-out on PostgreSQL", .serialized)
struct ScaleOutTests {
    final class ServerProcess {
        let peer: PeerProcess
        let port: Int
        let data: String
        let client: ServerClient

        init(database: String, signingKey: String?) async throws {
            data = TestPaths.temporaryDirectory()
            port = PymodbusServer.freePort()
            var arguments = [TestPaths.executable("switchyard-server"), "serve", "--database", database, "--data", data,
                             "--port", String(port), "--edge-rate-limit", "off", "--operator-rate-limit", "off"]
            if let signingKey { arguments += ["--signing-key", signingKey] }
            peer = try PeerProcess(arguments, ready: "switchyard-server on http", what: "switchyard-server")
            client = ServerClient(baseURL: "http://127.0.0.1:\(port)", token: nil)
            for _ in 0..<100 {
                if (try? await client.get("/healthz"))?.status == 200 { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw CFixture.FixtureError(message: "switchyard-server answered no /healthz on port \(port): \(peer.banner)")
        }

        func client(_ token: String) -> ServerClient { ServerClient(baseURL: "http://127.0.0.1:\(port)", token: token) }
    }

    @Test("a change made through one server reaches an edge connected to the other; concurrent writes both land")
    func notifyAcrossProcesses() async throws {
        let database = try TestPostgres.freshDatabase()
        let a = try await ServerProcess(database: database, signingKey: nil)
        defer { a.peer.stop() }
        let b = try await ServerProcess(database: database, signingKey: a.data + "/signing-key")
        defer { b.peer.stop() }
        let root = try #require(try String(contentsOfFile: a.data + "/root-token", encoding: .utf8).split(separator: "\n").first.map(String.init))
        #expect(!FileManager.default.fileExists(atPath: b.data + "/root-token"), "the second server finds the credentials in the shared store")

        let viaA = a.client(root)
        try expectStatus(201, try await viaA.send("POST", "/api/v1/orgs", json: ["id": "acme"]))
        try expectStatus(200, try await viaA.send("PUT", "/api/v1/orgs/acme/sites/s1", json: ["name": "S1"]))
        try expectStatus(200, try await viaA.send("PUT", "/api/v1/orgs/acme/layers/organization/acme", json: [
            "core_cycle": ["period_ms": 1000], "metadata": ["a": 1, "b": 1],
        ]))
        try expectStatus(200, try await viaA.send("PUT", "/api/v1/orgs/acme/edges/e1", json: ["site": "s1"]))
        let key = try #require(try await viaA.send("POST", "/api/v1/orgs/acme/credentials", json: ["kind": "edge", "edge": "e1"])
            .json?["secret"]?.stringValue)

        // The edge talks to B only.
        let edgeOnB = b.client(key)
        let before = try #require(try await edgeOnB.get("/api/v1/edges/e1/config").json)
        let version = Int(try #require(before["version"]?.numberValue))
        let listener = NotifyListener(url: "ws://127.0.0.1:\(b.port)/ws/edges/e1/notify", key: key, hello: version)
        defer { listener.stop() }
        try await Task.sleep(for: .milliseconds(300))

        try expectStatus(200, try await viaA.send("PATCH", "/api/v1/orgs/acme/layers/organization/acme", json: [
            ["op": "replace", "path": "/core_cycle/period_ms", "value": 500],
        ]))
        let message = try #require(try await listener.wait(for: 1).first, "B pushed nothing: \(listener.failure.withLock { $0 } ?? "")")
        #expect(message["version"]?.numberValue.map(Int.init) == version + 1)
        #expect(message["patch"]?.canonicalText.contains("/core_cycle/period_ms") == true)
        let after = try #require(try await edgeOnB.get("/api/v1/edges/e1/config").json)
        #expect(after["core_cycle"]?["period_ms"]?.numberValue == 500, "B's cached head moved on")

        // Two operators patch the same layer at once through different servers, without If-Match:
        // the loser of the race is replanned, so both changes land.
        let viaB = b.client(root)
        async let first = viaA.send("PATCH", "/api/v1/orgs/acme/layers/organization/acme", json: [["op": "replace", "path": "/metadata/a", "value": 2]])
        async let second = viaB.send("PATCH", "/api/v1/orgs/acme/layers/organization/acme", json: [["op": "replace", "path": "/metadata/b", "value": 2]])
        let (x, y) = try await (first, second)
        try expectStatus(200, x)
        try expectStatus(200, y)
        let layer = try #require(try await viaB.get("/api/v1/orgs/acme/layers/organization/acme").json)
        #expect(layer["metadata"]?["a"]?.numberValue == 2)
        #expect(layer["metadata"]?["b"]?.numberValue == 2)
        let final = try #require(try await edgeOnB.get("/api/v1/edges/e1/config").json)
        #expect(final["version"]?.numberValue.map(Int.init) == version + 3)
    }
}
