import Foundation
import Logging
import Synchronization
import Testing
@testable import SwitchyardAgent
import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardModel
import SwitchyardServer
import SwitchyardServerClient
import SwitchyardTestSupport

/// A site that accepts every valid document and runs healthy cycles: the
/// agent's own decisions (trust, versions, deltas) are what these tests see.
final class RecordingApplier: ConfigApplier {
    let applied = Mutex<[Int]>([])
    let samples = Atomic<UInt64>(0)

    func validate(_ config: EdgeConfig) throws {}

    func apply(_ config: EdgeConfig, reason: String) -> String? {
        applied.withLock { $0.append(config.version) }
        return nil
    }

    func sample() -> HealthSample {
        // Every look sees 20 more healthy cycles: probation passes at once.
        let cycles = samples.add(20, ordering: .relaxed).newValue
        return HealthSample(cycles: cycles, overrunAlerts: 0, overruns: 0, controllers: [:], faultedDevices: [:],
                            configVersion: nil, periodMs: 1000, workP99Ms: 0, cycleRunning: true)
    }
}

@Suite(.serialized) struct AgentTrustTests {
    func agent(_ fixture: ServerFixture, key: String, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
               verifier: EnvelopeVerifier? = nil) throws -> (SyncAgent, RecordingApplier) {
        var options = AgentOptions(serverURL: fixture.baseURL, edgeId: "e1", key: key,
                                   verifier: verifier ?? EnvelopeVerifier(keys: ["test-key": fixture.signer.publicKey]))
        options.now = now
        let applier = RecordingApplier()
        let cache = try AgentCache(path: TestPaths.temporaryDirectory() + "/sync.sqlite")
        let agent = SyncAgent(cache: cache, applier: applier, options: options, logger: Logger(label: "test"))
        _ = try agent.boot(seed: nil)
        return (agent, applier)
    }

    @Test func aConfigIsTakenOnlyWithAValidFreshSignatureForThisEdge() async throws {
        let fixture = try await ServerFixture.start(.sqlite)
        let org = try await DemoOrg.create(on: fixture, withCatalog: false)
        let key = try #require(org.edgeKeys["e1"])

        // An envelope past its expiry (the edge's clock says 30 days later): nothing applied, an alarm.
        let (late, lateSite) = try agent(fixture, key: key, now: { Int64(Date().timeIntervalSince1970) + 30 * 86_400 })
        await late.fetchFull()
        #expect(lateSite.applied.withLock { $0 }.isEmpty)
        #expect(late.status()["alarms"] == ["sync.envelope_expired"])
        #expect(late.status()["last_error"]?.stringValue?.contains("expired") == true)

        // Signed with a key this edge does not trust.
        let stranger = try EnvelopeSigner(keyId: "test-key", privateKeyText: ServerFiles.newKeyText()).publicKey
        let (wary, warySite) = try agent(fixture, key: key, verifier: EnvelopeVerifier(keys: ["test-key": stranger]))
        await wary.fetchFull()
        #expect(warySite.applied.withLock { $0 }.isEmpty)
        #expect(wary.status()["last_error"]?.stringValue?.contains("signature") == true)

        // The real thing.
        let (edge, site) = try agent(fixture, key: key)
        await edge.fetchFull()
        #expect(site.applied.withLock { $0 } == [1])
        #expect(edge.status()["last_confirmed"] == 1)
        try await fixture.stop()
    }

    @Test func aTamperedDeltaFallsBackToTheFullConfigAndAReplayIsRefused() async throws {
        let fixture = try await ServerFixture.start(.sqlite)
        let org = try await DemoOrg.create(on: fixture, withCatalog: false)
        let e1 = fixture.client(org.edgeKeys["e1"])
        let (edge, site) = try agent(fixture, key: try #require(org.edgeKeys["e1"]))
        await edge.fetchFull()
        let v1 = try await e1.get("/api/v1/edges/e1/config")

        // Version 2 on the server; its delta, with one value changed on the way.
        var layer = DemoOrg.orgLayer
        layer = .object((layer.objectValue ?? [:]).merging(["core_cycle": ["period_ms": 500]]) { _, new in new })
        _ = try await fixture.client(org.admin).send("PUT", "/api/v1/orgs/acme/layers/organization/acme", json: layer)
        var delta = try #require(try await e1.get("/api/v1/edges/e1/config/delta?since=1").json)
        let tampered = JSONValue.array([["op": "replace", "path": "/core_cycle/period_ms", "value": 10]])
        delta = .object((delta.objectValue ?? [:]).merging(["patch": tampered]) { _, new in new })
        await edge.process(.delta(delta, version: 2))
        #expect(site.applied.withLock { $0 } == [1], "the tampered result does not hash to the announced sha256")
        #expect(edge.state.withLock { $0.fetchWanted }, "so the agent asks for the full config")
        await edge.fetchFull()
        #expect(site.applied.withLock { $0 } == [1, 2])
        #expect(edge.status()["last_confirmed"] == 2)

        // Version 1 again (a replay of a genuine, signed, older config): refused.
        await edge.process(.full(text: v1.text, envelope: v1.header("Switchyard-Envelope")))
        #expect(site.applied.withLock { $0 } == [1, 2])
        #expect(edge.status()["last_error"]?.stringValue?.contains("not newer than the last confirmed version 2") == true)
        try await fixture.stop()
    }

    @Test func stateHeartbeatsAreSpacedAndUnchangedErrorsAreNotResent() async throws {
        let fixture = try await ServerFixture.start(.sqlite)
        let org = try await DemoOrg.create(on: fixture, withCatalog: false)
        // Two state changes at once (probation, then confirmed); at most one heartbeat every 3 s.
        // Seen by polling the server, so the spacing is checked with a wide margin (1.5 s).
        var layer = DemoOrg.orgLayer
        layer = .object((layer.objectValue ?? [:]).merging(["sync": ["state_report_min_s": 3, "metrics_interval_s": 3600]]) { _, new in new })
        _ = try await fixture.client(org.admin).send("PUT", "/api/v1/orgs/acme/layers/organization/acme", json: layer)
        let (edge, _) = try agent(fixture, key: try #require(org.edgeKeys["e1"]))
        let run = Task { await edge.run() }
        defer { run.cancel() }
        var seen: [(state: String, at: ContinuousClock.Instant)] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, seen.last?.state != "confirmed" {
            let heartbeat = try await fixture.client(org.admin).get("/api/v1/orgs/acme/edges/e1").json?["heartbeat"]
            if let state = heartbeat?["state"]?.stringValue, state != seen.last?.state { seen.append((state, .now)) }
            try await Task.sleep(for: .milliseconds(50))
        }
        let states = seen.map(\.state)
        #expect(states.last == "confirmed", "\(states)")
        #expect(states.count >= 2, "the boot's heartbeat, then the outcome: \(states)")
        for (a, b) in zip(seen, seen.dropFirst()) {
            #expect(b.at - a.at >= .milliseconds(1500), "\(b.state) came \(b.at - a.at) after \(a.state)")
        }

        // The server keeps errors a heartbeat leaves out.
        let e1 = fixture.client(org.edgeKeys["e1"])
        _ = try await e1.send("POST", "/api/v1/edges/e1/heartbeat", json: ["version": 1, "state": "rejected", "errors": [["message": "x"]]])
        _ = try await e1.send("POST", "/api/v1/edges/e1/heartbeat", json: ["version": 1, "state": "rejected"])
        let kept = try await fixture.client(org.admin).get("/api/v1/orgs/acme/edges/e1").json?["heartbeat"]?["errors"]
        #expect(kept == [["message": "x"]])
        run.cancel()
        try await fixture.stop()
    }

    @Test func withTheServerAwayTheHeartbeatSenderSleepsBetweenRetries() async throws {
        // Nothing listens on this port; metrics fall due after 5 s while every send fails.
        var options = AgentOptions(serverURL: "http://127.0.0.1:\(PymodbusServer.freePort())", edgeId: "e1", key: "sye_x",
                                   verifier: EnvelopeVerifier(keys: [:]))
        options.requestTimeoutSeconds = 1
        options.backoffCapSeconds = 4
        let agent = SyncAgent(cache: try AgentCache(path: TestPaths.temporaryDirectory() + "/sync.sqlite"), applier: RecordingApplier(),
                              options: options, logger: Logger(label: "test"))
        _ = try agent.boot(seed: nil)
        let run = Task { await agent.run() }
        try await Task.sleep(for: .seconds(8))
        run.cancel()
        let turns = agent.heartbeatTurns.load(ordering: .relaxed)
        #expect(turns < 40, "\(turns) turns of the heartbeat loop in 8 s: it must wait for its retries, not spin")
        #expect(agent.status()["reachable"] == false)
    }
}
