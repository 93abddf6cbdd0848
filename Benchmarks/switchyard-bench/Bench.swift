import ArgumentParser
import Logging
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel

#if canImport(Glibc)
import Glibc
#endif

/// `make bench`: figures, not pass/fail. Every figure is printed next to the
/// baseline it is compared with in the same run (the period, or a direct call).
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyard-bench",
        abstract: "Benchmarks of the Switchyard host: cycle work and lateness, ABI call cost.")

    @Option(help: "Folder with the built plugins (a release build for real figures).")
    var plugins: String = FileSystem.executableDirectory()

    @Option(help: "Folder with the test-only plugins (the ABI call cost needs TestProbe's ProbeController; `make bench` builds it into .build/test-plugins/release).")
    var testPlugins: String?

    @Option(help: "Seconds to measure at each period.")
    var seconds: Double = 30

    @Option(help: "Simulated devices.")
    var devices: Int = 100

    @Option(help: "Channels per device.")
    var channels: Int = 50

    @Option(help: "Controllers (balancing controllers, each bound to its own device).")
    var controllers: Int = 10

    @Option(help: "Seconds of the hot-reload soak (0: skip it).")
    var soakSeconds: Double = 300

    @Option(help: "Seconds of quiet baseline before the soak.")
    var baselineSeconds: Double = 60

    @Option(help: "Profile folder (for the soak's simulated site).")
    var profiles: String = "DeviceProfiles"

    @Option(help: "The repository (for the C header and fixtures the soak compiles).")
    var sourceRoot: String = "."

    @Option(help: "Seconds per Modbus measurement (0: skip the Modbus figures).")
    var modbusSeconds: Double = 10

    @Option(help: "Run only this section: server (the config sync server's figures), agent (the edge sync agent's), modbus (the Modbus driver's), modbus-field (its field failures), telemetry (the recorder's).")
    var only: String?

    @Option(help: "Simulated seconds of each telemetry series (0: skip the telemetry figures).")
    var telemetrySeconds: Int = 86_400

    @Flag(help: "Skip the config sync server's figures.")
    var skipServer = false

    @Flag(help: "Skip the edge sync agent's figures.")
    var skipAgent = false

    @Option(help: "Agent figures to run, comma-separated: one, steps, fleet, memory.")
    var agentParts: String = "one,steps,fleet,memory"

    @Option(help: "Simulated edges (SyncAgent instances) of the agent's fleet figure.")
    var agentEdges: Int = 1000

    @Option(help: "Devices in the site layer of the agent's simulated edges (100: a config of about 44 KB).")
    var agentSiteDevices: Int = 100

    @Option(help: "Server figures to run, comma-separated: resolve, http, large, notify.")
    var serverParts: String = "resolve,http,large,notify"

    @Option(help: "Seconds of each wrk run of the server figures.")
    var serverWrkSeconds: Int = 10

    @Option(help: "Edges of the organization whose layer the server's large change touches.")
    var serverEdges: Int = 100_000

    @Option(help: "Open WebSockets of the server's notify fan-out.")
    var serverSockets: Int = 10_000

    @Option(help: ArgumentHelp("Internal: the WebSocket clients of the server's notify figure, from this folder.", visibility: .hidden))
    var serverNotifyClients: String?

    func run() throws {
        if let serverNotifyClients {
            try SBNotifyClients.runBlocking(directory: serverNotifyClients)
            return
        }
        if let only {
            switch only {
            case "server": try serverBench().runBlocking()
            case "agent": try agentBench().runBlocking()
            case "modbus":
                let catalog = PluginCatalog.load(directories: [plugins])
                try ModbusBench(plugins: catalog, profiles: profiles, sourceRoot: sourceRoot, seconds: max(modbusSeconds, 1)).run()
            case "telemetry":
                let catalog = PluginCatalog.load(directories: [plugins])
                try TelemetryBench(plugins: catalog, profiles: profiles, sourceRoot: sourceRoot, seconds: telemetrySeconds).run()
            case "modbus-field":
                let catalog = PluginCatalog.load(directories: [plugins])
                print("Modbus driver, field failures")
                try ModbusBench(plugins: catalog, profiles: profiles, sourceRoot: sourceRoot, seconds: max(modbusSeconds, 1)).fieldFailures()
            default: throw ValidationError("--only takes one section: server, agent, modbus, modbus-field or telemetry")
            }
            return
        }
        let catalog = PluginCatalog.load(directories: [plugins])
        for e in catalog.errors { print("warning: \(e)") }
        print("Switchyard host benchmark — \(devices) devices × \(channels) channels, \(controllers) controllers, \(seconds) s per period")
        print("machine: \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores; plugins from \(plugins)\n")

        try callCost(testPlugins.map { PluginCatalog.load(directories: [$0]) } ?? catalog)
        for periodMs in [100, 1000] {
            try cycle(catalog, periodMs: periodMs)
        }
        if modbusSeconds > 0 {
            try ModbusBench(plugins: catalog, profiles: profiles, sourceRoot: sourceRoot, seconds: modbusSeconds).run()
        }
        if telemetrySeconds > 0 {
            try TelemetryBench(plugins: catalog, profiles: profiles, sourceRoot: sourceRoot, seconds: telemetrySeconds).run()
        }
        if soakSeconds > 0 {
            try Soak(plugins: plugins, profiles: profiles, sourceRoot: sourceRoot, baselineSeconds: baselineSeconds, soakSeconds: soakSeconds).run()
        }
        if !skipServer {
            try serverBench().runBlocking()
        }
        if !skipAgent {
            try agentBench().runBlocking()
        }
    }

    func agentBench() throws -> AgentBench {
        var options = AgentBench.Options()
        options.parts = Set(agentParts.split(separator: ",").map { String($0) })
        let unknown = options.parts.subtracting(["one", "fleet", "memory", "steps"])
        guard unknown.isEmpty else { throw ValidationError("--agent-parts: unknown \(unknown.sorted().joined(separator: ", "))") }
        options.edges = agentEdges
        guard agentSiteDevices >= 1 else { throw ValidationError("--agent-site-devices: at least 1 (edge layers change device dev0)") }
        options.siteDevices = agentSiteDevices
        options.plugins = plugins
        options.profiles = profiles
        return AgentBench(options: options)
    }

    func serverBench() throws -> ServerBench {
        var options = ServerBench.Options()
        options.parts = Set(serverParts.split(separator: ",").map { String($0) })
        let unknown = options.parts.subtracting(["resolve", "http", "large", "notify"])
        guard unknown.isEmpty else { throw ValidationError("--server-parts: unknown \(unknown.sorted().joined(separator: ", "))") }
        options.wrkSeconds = serverWrkSeconds
        options.largeEdges = serverEdges
        options.sockets = serverSockets
        return ServerBench(options: options)
    }

    func callCost(_ catalog: PluginCatalog) throws {
        guard let probe = catalog.plugin(forClass: "ProbeController") else {
            print("ABI call cost: skipped (TestProbe plugin not found: pass --test-plugins, e.g. .build/test-plugins/release)")
            return
        }
        let iterations = 10_000_000
        _ = try CallCostProbe.measure(plugin: probe, iterations: iterations / 10)  // warm-up
        let r = try CallCostProbe.measure(plugin: probe, iterations: iterations)
        print("ABI call cost (\(iterations) calls each)")
        print("  controller execute through the C ABI  \(fixed(r.abiExecuteNs, 2)) ns/call   direct Swift call \(fixed(r.directExecuteNs, 2)) ns/call   ratio \(fixed(r.abiExecuteNs / r.directExecuteNs, 1))×")
        print("  host read through the host table       \(fixed(r.abiReadNs, 2)) ns/call   direct Swift read \(fixed(r.directReadNs, 2)) ns/call   ratio \(fixed(r.abiReadNs / r.directReadNs, 1))×")
        print("")
    }

    /// A profile with `channels` channels that a BalancingController can bind
    /// to as battery and meter; SimulatedGeneric serves it.
    func profile() -> JSONValue {
        var list: [JSONValue] = [
            ["name": "ActivePower", "standard": "ess.ActivePower"],
            ["name": "Soc", "standard": "ess.Soc"],
            ["name": "MaxChargePower", "standard": "ess.MaxChargePower"],
            ["name": "MaxDischargePower", "standard": "ess.MaxDischargePower"],
            ["name": "SetActivePower", "standard": "ess.SetActivePower", "access": "write"],
            ["name": "SetActivePowerEcho"],
            ["name": "GridPower", "standard": "meter.ActivePower"],
        ]
        while list.count < channels { list.append(["name": .string("Ch\(list.count)")]) }
        return ["id": "bench_device", "driver": "SimulatedGeneric", "channels": .array(Array(list.prefix(max(channels, 7))))]
    }

    func config(periodMs: Int) -> JSONValue {
        let devs: [JSONValue] = (0..<devices).map { i in
            ["device_id": .string("dev\(i)"), "profile": "bench_device", "poll_interval_ms": .number(Double(periodMs)),
             "parameters": ["amplitude": 1000, "offset": 50]]
        }
        let ctrls: [JSONValue] = (0..<controllers).map { i in
            ["id": .string("bal\(i)"), "class": "BalancingController", "execution_order": .number(Double(i)),
             "parameters": ["battery": .string("dev\(i % devices)"), "meter": .string("dev\(i % devices)"), "max_soc": 100, "min_soc": 0]]
        }
        return ["version": 1, "edge_id": "bench", "core_cycle": ["period_ms": .number(Double(periodMs)), "supervisor": ["overrun_alert_threshold": 3]],
                "scheduler": ["controllers": .array(ctrls)], "devices": .array(devs)]
    }

    func cycle(_ catalog: PluginCatalog, periodMs: Int) throws {
        let dir = "/tmp/switchyard-bench-\(getpid())"
        mkdir(dir, 0o755)
        try FileSystem.writeText(profile().prettyText, to: dir + "/bench_device.json")
        let profiles = ProfileCatalog.load(directories: [dir])
        let host = EdgeHost(plugins: catalog, profiles: profiles, logger: quietLogger("bench"))
        try host.apply(EdgeConfig(json: config(periodMs: periodMs)))
        try host.start()
        let clock = SystemClock()
        // Warm up (first connects, first polls), then measure.
        clock.sleep(untilNs: clock.monotonicNs() + Int64(max(3, periodMs * 3 / 1000)) * 1_000_000_000)
        host.resetStatistics()
        let start = clock.monotonicNs()
        clock.sleep(untilNs: start + Int64(seconds * 1e9))
        let status = host.status()
        host.stop()
        unlink(dir + "/bench_device.json")
        rmdir(dir)

        let s = status.statistics
        let period = Double(periodMs) * 1e6
        func pct(_ ns: Int64) -> String { fixed(Double(ns) / period * 100, 3) + " %" }
        func us(_ ns: Int64) -> String { fixed(Double(ns) / 1000, 1) + " µs" }
        let devicesOK = status.devices.filter { $0.state == .running }.count
        print("period \(periodMs) ms: \(s.cycles) cycles measured, \(s.overruns) overruns, \(s.missedCycles) missed, \(devicesOK)/\(status.devices.count) devices running, \(status.controllers.filter { $0.totalFailures > 0 }.count) controllers with failures")
        print("  work per cycle      mean \(us(s.work.meanNs)) (\(pct(s.work.meanNs)) of the period)   p50 \(us(s.work.percentile(0.5))) (\(pct(s.work.percentile(0.5))))   p99 \(us(s.work.percentile(0.99))) (\(pct(s.work.percentile(0.99))))   max \(us(s.work.maxNs)) (\(pct(s.work.maxNs)))   target < 1 % of 100 ms")
        print("  start lateness      p50 \(us(s.lateness.percentile(0.5))) (\(pct(s.lateness.percentile(0.5))))   p99 \(us(s.lateness.percentile(0.99))) (\(pct(s.lateness.percentile(0.99))))   max \(us(s.lateness.maxNs)) (\(pct(s.lateness.maxNs)))   target p99 < 1 ms")
        print("")
    }
}

/// A logger that keeps the figures readable: warnings and errors only.
func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}
