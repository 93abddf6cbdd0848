import Foundation
import Logging
import Synchronization
import SwitchyardJSON
import SwitchyardServer
import SwitchyardServerClient

extension ServerBench {
    /// A change to the organization layer of an organization with 100,000
    /// edges: the time of the PATCH through the API, request to 200, and
    /// whether the edges' next fetches see it.
    func largeOrganization(directory: String) async throws {
        let edges = options.largeEdges
        print("a change to an organization layer affecting \(SBFormat.thousands(edges)) edges (\(SBFormat.thousands(options.largeSites)) sites, "
            + "site layers with \(options.siteDevices) devices each; 1 % of the edges with a layer of their own; no catalog):")
        let store = try SQLiteStore(path: directory + "/large.sqlite")
        try await store.migrate()
        try await largeOrganization(storeName: "SQLite", store: store)
        if let url = ProcessInfo.processInfo.environment["SWITCHYARD_BENCH_POSTGRES_URL"], !url.isEmpty {
            do {
                try await largeOrganizationOnPostgres(url: url)
            } catch {
                print("  PostgreSQL: failed: \(error)")
            }
        } else {
            print("  PostgreSQL: not measured (set SWITCHYARD_BENCH_POSTGRES_URL, e.g. to what scripts/test-postgres.sh start prints)")
        }
        print("")
    }

    /// The same on PostgreSQL, in a database made for the run and dropped after it.
    private func largeOrganizationOnPostgres(url base: String) async throws {
        guard let psql = SBProcess.find("psql") else { throw SBError("psql is not installed (it makes the benchmark's database)") }
        let name = "sy_bench_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let psqlArguments = ["-X", "-q", "-v", "ON_ERROR_STOP=1", base, "-c"]
        let created = try await SBProcess.run(psql, psqlArguments + ["CREATE DATABASE \(name)"])
        guard created.status == 0 else { throw SBError("CREATE DATABASE: \(created.output)") }
        let query = base.firstIndex(of: "?").map { String(base[$0...]) } ?? ""
        let path = base.firstIndex(of: "?").map { String(base[..<$0]) } ?? base
        let url = (path.lastIndex(of: "/").map { String(path[...$0]) } ?? path + "/") + name + query
        var logger = Logger(label: "switchyard-bench-postgres")
        logger.logLevel = .warning
        do {
            let store = try PostgresStore(url: url, logger: logger)
            try await store.migrate()
            try await largeOrganization(storeName: "PostgreSQL", store: store)
        } catch {
            _ = try? await SBProcess.run(psql, psqlArguments + ["DROP DATABASE IF EXISTS \(name)"])
            throw error
        }
        _ = try? await SBProcess.run(psql, psqlArguments + ["DROP DATABASE IF EXISTS \(name)"])
    }

    func largeOrganization(storeName: String, store: any ConfigStore) async throws {
        let server = try await SBServer.start(store: store)
        do {
            try await largeOrganization(storeName: storeName, server: server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    private func largeOrganization(storeName: String, server: SBServer) async throws {
        let edges = options.largeEdges
        let org = try await SBOrganization.build(core: server.core, id: "big", sites: options.largeSites, edges: edges,
                                                 siteDevices: options.siteDevices, keys: true)
        print("  \(storeName): setup \(SBFormat.seconds(org.setupSeconds)) (store commits in batches of 10,000 edges with their keys); "
            + "the first organization layer, through ConfigService, gave \(SBFormat.thousands(org.firstVersions)) edges their first version "
            + "in \(SBFormat.seconds(org.firstVersionSeconds)) (setup, not the figure)")

        // When the commit lands: the store's change event, as a subscriber in this process hears it.
        let (committedAt, listener) = SBBlocking.commitListener(server.store, org: org.id)
        let newValue = 61_234
        let profiler = await SBProfiler("large-\(storeName)")
        let sent = SBTime.now()
        let answer = try await server.root.send("PATCH", "/api/v1/orgs/\(org.id)/layers/organization/\(org.id)",
                                                json: SBWorkload.change(value: newValue))
        let elapsed = SBTime.since(sent)
        await profiler.stop()
        listener.cancel()
        guard answer.status == 200 else { throw SBError("PATCH of the organization layer: \(answer.errorText)") }
        let moved = Int(answer.json?["edges_with_new_version"]?.numberValue ?? -1)
        let commitSeen = committedAt.value
        let commitText = commitSeen > sent ? " (commit heard at \(SBFormat.seconds(Double(commitSeen - sent) / 1e9)))" : ""
        print("  \(storeName): PATCH of the organization layer, request → 200: \(SBFormat.seconds(elapsed))\(commitText); "
            + "edges with a new version: \(SBFormat.thousands(moved)) of \(SBFormat.thousands(edges))   "
            + "target committed <= 2 s: \(SBFormat.met(elapsed <= 2 && moved == edges))")

        // Each sampled edge's next fetch.
        var random = SBRandom(seed: 0x5EED)
        var sample = [0, edges - 1]
        var chosen = Set(sample)
        while sample.count < min(edges, options.sampleFetches + 2) {
            let i = Int.random(in: 0..<edges, using: &random)
            if chosen.insert(i).inserted { sample.append(i) }
        }
        let seen = Atomic<Int>(0)
        let problems = SBBox<[String]>([])
        let base = server.baseURL
        let expected = org.version + 1
        let fetchStart = SBTime.now()
        try await SBConcurrent.forEach(sample, width: 8) { i in
            let answer = try await ServerClient(baseURL: base, token: org.keys[i]).get("/api/v1/edges/\(org.edgeIds[i])/config")
            let version = answer.header("Switchyard-Config-Version").flatMap { Int($0) }
            if answer.status == 200, version == expected, let config = answer.json, SBWorkload.changedValue(in: config) == newValue {
                seen.add(1, ordering: .relaxed)
            } else {
                problems.update { $0.append("\(org.edgeIds[i]): HTTP \(answer.status), version \(version.map(String.init) ?? "none")") }
            }
        }
        let fetchSeconds = SBTime.since(fetchStart)
        let count = seen.load(ordering: .relaxed)
        print("    next fetch of \(SBFormat.thousands(sample.count)) edges (the first, the last and \(SBFormat.thousands(sample.count - 2)) at random): "
            + "\(SBFormat.thousands(count)) saw the new value at version \(expected)   target: all: \(SBFormat.met(count == sample.count))   "
            + "(\(SBFormat.seconds(fetchSeconds)) for the fetches, 8 at a time)")
        for problem in problems.value.prefix(5) { print("      \(problem)") }
    }
}
