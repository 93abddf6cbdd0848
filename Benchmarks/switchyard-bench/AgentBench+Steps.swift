import Foundation
import SwitchyardAgent
import SwitchyardConfigDoc
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel

extension AgentBench {
    /// What one version costs an edge, step by step, on the bench's 44 KB
    /// document: the agent's own work between a delta arriving and the host
    /// being handed the config. The fleet figure is about 1,000 times this
    /// (plus the server's share) spread over the machine's cores.
    func steps(directory: String) async throws {
        let folder = directory + "/steps"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let server = try await SBServer.start(path: folder + "/server.sqlite")
        do {
            try await steps(server: server, folder: folder)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
        print("")
    }

    private func steps(server: SBServer, folder: String) async throws {
        let org = try await SBOrganization.build(core: server.core, id: "steps", sites: 1, edges: 1, siteDevices: options.siteDevices, keys: true)
        let edge = org.edgeIds[0]
        let client = server.client(org.keys[0])
        let before = try await client.get("/api/v1/edges/\(edge)/config")
        try expectStatus(200, before, "GET config")
        try expectStatus(200, try await server.root.send("PATCH", "/api/v1/orgs/\(org.id)/layers/organization/\(org.id)",
                                                         json: SBWorkload.change(value: 61_000)), "PATCH of the organization layer")
        let after = try await client.get("/api/v1/edges/\(edge)/config")
        try expectStatus(200, after, "GET config after the change")
        guard let header = after.header("Switchyard-Envelope") else { throw SBError("no Switchyard-Envelope header") }
        let trust = folder + "/signing-keys.json"
        try await server.root.get("/api/v1/signing-keys").text.write(toFile: trust, atomically: true, encoding: .utf8)
        let verifier = try TrustedKeys.verifier(file: trust, pairs: [])

        let base = try JSONValue(parsing: before.text)
        let target = try JSONValue(parsing: after.text)
        let patch = JSONDiff.patch(from: base, to: target)
        let signed = try SignedEnvelope(header: header)
        let text = target.canonicalText
        let digest = ConfigDigest(canonicalText: text)
        let envelopeText = signed.jsonValue.canonicalText
        let baseVersion = org.version
        guard try patch.apply(to: base) == target else { throw SBError("the bench's own patch does not give the new version") }

        // The best of 7 batches: the machine is shared, and a batch that
        // another process interrupted says nothing about the step.
        let rounds = 100
        let batches = 7
        var rows: [(String, Double)] = []
        func time(_ label: String, _ body: () throws -> Void) rethrows {
            for _ in 0..<10 { try body() }
            var best = Double.infinity
            for _ in 0..<batches {
                let started = SBTime.now()
                for _ in 0..<rounds { try body() }
                best = min(best, Double(SBTime.now() - started) / Double(rounds) / 1000)
            }
            rows.append((label, best))
        }
        try time("apply the delta to the parsed base (JSON Patch)") { _ = try patch.apply(to: base) }
        time("canonical text of the new version, whole (a full config)") { _ = target.canonicalText }
        guard case .object(let baseObject) = base, case .object(let targetObject) = target, let changed = patch.changedTopLevelMembers else {
            throw SBError("the bench's documents are not objects, or its patch replaces the whole document")
        }
        let baseMembers = CanonicalMembers(baseObject)
        time("canonical text of the new version, the changed members only (a delta)") {
            _ = baseMembers.updated(to: targetObject, changed: changed).text
        }
        guard baseMembers.updated(to: targetObject, changed: changed).text == text else {
            throw SBError("re-encoding the changed members does not give the canonical text")
        }
        time("SHA-256 of it") { _ = ConfigDigest(canonicalText: text) }
        try time("envelope: Ed25519 signature, edge, expiry") {
            _ = try verifier.verify(signed, contentDigest: digest, edgeId: edge, currentVersion: baseVersion, now: Int64(Date().timeIntervalSince1970))
        }
        try time("the config model, whole (EdgeConfig from the document; a full config)") { _ = try EdgeConfig(json: target) }
        let baseConfig = try EdgeConfig(json: base)
        try time("the config model, the changed sections only (a delta)") {
            _ = try EdgeConfig(json: target, previous: baseConfig, changed: changed)
        }
        guard try EdgeConfig(json: target, previous: baseConfig, changed: changed) == EdgeConfig(json: target) else {
            throw SBError("reading the changed sections only does not give the config model of the whole document")
        }

        // The cache's writes of one version: stored, five states, two heartbeats.
        let shm = FileSystem.isDirectory("/dev/shm") ? "/dev/shm/switchyard-bench-steps-\(getpid())" : folder + "/caches-tmp"
        try FileManager.default.createDirectory(atPath: shm, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: shm) }
        for (label, path) in [("tmpfs", shm + "/cache.sqlite"), ("disk, fsync", folder + "/cache.sqlite")] {
            let cache = try AgentCache(path: path)
            let boot = try cache.beginBoot().boot
            var version = 10
            let heartbeat = #"{"state":"probation","version":10,"errors":[]}"#
            try time("  of which storing the version (\(label))") {
                version += 1
                try cache.store(version: version, documentText: text, sha256: digest.hex, envelope: envelopeText, boot: boot)
            }
            try time("  of which one state change (\(label))") { try cache.setState(version, .validated, boot: boot) }
            try time("cache writes of one version (\(label)): stored, 5 states, 2 with a heartbeat") {
                version += 1
                try cache.store(version: version, documentText: text, sha256: digest.hex, envelope: envelopeText, boot: boot)
                for state: VersionState in [.validated, .staged, .applying] { try cache.setState(version, state, boot: boot) }
                try cache.setState(version, .probation, boot: boot, heartbeat: heartbeat)
                try cache.setState(version, .confirmed, boot: boot, heartbeat: heartbeat)
            }
        }
        time("parse a full config instead (the text as fetched)") { _ = try? JSONValue(parsing: after.text) }

        print("one version's work on the edge, step by step (the \(SBFormat.thousands(text.utf8.count))-byte config of this bench, "
            + "a delta of \(patch.operations.count) operations; the best of \(batches) batches of \(rounds) rounds, this process alone):")
        let total = rows.filter { !$0.0.hasPrefix("parse a full") && !$0.0.hasPrefix(" ") && !$0.0.contains("disk") && !$0.0.contains("whole") }
            .map(\.1).reduce(0, +)
        for (label, micros) in rows {
            print("  \(label.padding(toLength: 76, withPad: " ", startingAt: 0)) \(SBFormat.fixed(micros, 1).leftPadded(8)) µs")
        }
        print("  a delta, the steps above on tmpfs together: \(SBFormat.fixed(total, 0)) µs per version per edge")
    }
}
