import HTTPTypes
import HummingbirdWSClient
import Logging
import Synchronization
import Testing
import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardServer
import SwitchyardServerClient

/// An edge's WebSocket, as a test sees it: the messages it received.
final class NotifyListener: Sendable {
    let messages = Locked<[JSONValue]>([])
    let failure = Locked<String?>(nil)
    private let task: Task<Void, Never>

    init(url: String, key: String, hello: Int?) {
        let messages = self.messages
        let failure = self.failure
        task = Task {
            var configuration = WebSocketClientConfiguration()
            configuration.additionalHeaders = [.authorization: "Bearer \(key)"]
            do {
                try await WebSocketClient.connect(url: url, configuration: configuration, logger: Logger(label: "ws-test")) { inbound, outbound, _ in
                    if let hello { try await outbound.write(.text(JSONValue.object(["type": "hello", "version": .number(Double(hello))]).canonicalText)) }
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message, let value = try? JSONValue(parsing: text) {
                            messages.withLock { $0.append(value) }
                        }
                    }
                }
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
        }
    }

    func stop() { task.cancel() }

    /// Waits up to `seconds` for the connection to fail; nil if it did not.
    func waitForFailure(seconds: Double = 10) async -> String? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if let failure = failure.withLock({ $0 }) { return failure }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Waits up to `seconds` for `count` messages.
    func wait(for count: Int, seconds: Double = 10) async throws -> [JSONValue] {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            let got = messages.withLock { $0 }
            if got.count >= count { return got }
            try await Task.sleep(for: .milliseconds(20))
        }
        return messages.withLock { $0 }
    }
}

@Suite("notify WebSocket", .serialized)
struct NotifyTests {
    @Test("a committed change is pushed with its delta inline; hello catches up", arguments: StoreKind.allCases)
    func push(kind: StoreKind) async throws {
        let fixture = try await ServerFixture.start(kind)
        let org = try await DemoOrg.create(on: fixture)
        let edge = fixture.client(org.edgeKeys["e1"])
        let current = try #require(try await edge.get("/api/v1/edges/e1/config").json)
        let version = Int(try #require(current["version"]?.numberValue))
        let listener = NotifyListener(url: "ws://127.0.0.1:\(fixture.port)/ws/edges/e1/notify", key: org.edgeKeys["e1"]!, hello: version)
        try await Task.sleep(for: .milliseconds(300))

        let ops = fixture.client(org.admin)
        try expectStatus(200, try await ops.send("PATCH", "/api/v1/orgs/acme/layers/organization/acme", json: [
            ["op": "replace", "path": "/scheduler/controllers/0/parameters/target_grid_power", "value": 150],
        ]))
        let messages = try await listener.wait(for: 1)
        let message = try #require(messages.first, "no notification: \(listener.failure.withLock { $0 } ?? "")")
        #expect(message["type"] == "config")
        #expect(message["version"]?.numberValue.map(Int.init) == version + 1)
        #expect(message["base_version"]?.numberValue.map(Int.init) == version)
        let patch = try JSONPatch(decoding: try #require(message["patch"]))
        let next = try patch.apply(to: current)
        #expect(next["scheduler"]?["controllers"]?[0]?["parameters"]?["target_grid_power"]?.numberValue == 150)
        #expect(ConfigDigest(of: next).hex == message["sha256"]?.stringValue)
        let signed = try SignedEnvelope(decoding: try #require(message["envelope"]))
        _ = try EnvelopeVerifier(keys: ["test-key": fixture.signer.publicKey])
            .verify(signed, content: next, edgeId: "e1", currentVersion: version, now: signed.envelope.issuedAt)
        listener.stop()

        // An edge that reconnects behind gets the missing delta right after its hello.
        let late = NotifyListener(url: "ws://127.0.0.1:\(fixture.port)/ws/edges/e1/notify", key: org.edgeKeys["e1"]!, hello: version)
        let caughtUp = try #require(try await late.wait(for: 1).first)
        #expect(caughtUp["version"]?.numberValue.map(Int.init) == version + 1)
        late.stop()

        // Another edge's key is refused at the upgrade.
        let intruder = NotifyListener(url: "ws://127.0.0.1:\(fixture.port)/ws/edges/e1/notify", key: org.edgeKeys["e2"]!, hello: nil)
        let refusal = await intruder.waitForFailure()
        #expect(intruder.messages.withLock { $0.isEmpty })
        #expect(refusal != nil)
        intruder.stop()
        try await fixture.stop()
    }
}
