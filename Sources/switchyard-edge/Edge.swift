import ArgumentParser
import Foundation
import Logging
import Synchronization
import SwitchyardAgent
import SwitchyardEdgeService
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel

#if canImport(Glibc)
import Glibc
#endif

@main
struct Edge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyard-edge",
        abstract: "The Switchyard edge runtime: loads plugins, runs the core cycle.",
        subcommands: [Run.self, Check.self, Reload.self, Status.self, Write.self, ExampleConfig.self],
        defaultSubcommand: Run.self)
}

struct Locations: ParsableArguments {
    @Option(name: .customLong("plugins"), help: "Plugin folder (repeatable). Default: the folder of this executable.")
    var plugins: [String] = []

    @Option(name: .customLong("profiles"), help: "Device profile folder (repeatable). Default: ./DeviceProfiles.")
    var profiles: [String] = []

    var setup: EdgeSetup { EdgeSetup(pluginDirectories: plugins, profileDirectories: profiles) }
}

struct SyncOptions: ParsableArguments {
    @Option(help: "The config server to sync from (e.g. http://127.0.0.1:8480). Without it, the edge runs --config or the demo site.")
    var server: String?

    @Option(help: "This edge's id on the server.")
    var edgeId: String?

    @Option(help: "File holding this edge's API key (sye_…). Default: the SWITCHYARD_EDGE_KEY environment variable.")
    var keyFile: String?

    @Option(help: "The server's public signing keys: a file with the answer of GET /api/v1/signing-keys.")
    var trust: String?

    @Option(help: "A trusted signing key as KEY_ID=BASE64 (repeatable).")
    var trustKey: [String] = []
}

struct StatusPort: ParsableArguments {
    @Option(help: "Local HTTP status port on 127.0.0.1 (0: none).")
    var statusPort: Int = 8787
}

let stopRequested = Atomic<Bool>(false)
let reloadSignalled = Atomic<Bool>(false)

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a site. Without --config, runs the embedded simulated demo site.",
        discussion: """
        The config file and the profile and plugin folders are watched: a change is applied \
        at a cycle boundary, or refused with its reason while the running config keeps running. \
        SIGHUP, `switchyard-edge reload` and POST /reload reload at once.
        """)

    @Option(help: "The config document to run (watched for changes). With --server: the config to run until the server's first is confirmed.")
    var config: String?

    @OptionGroup var sync: SyncOptions

    @Flag(help: "Run the edge as a child process and restart it when it crashes (for systems without systemd).")
    var supervise = false

    @OptionGroup var locations: Locations
    @OptionGroup var port: StatusPort

    @Option(help: "Folder for the edge's own files: pid file, versioned copies of updated plugins, the sync cache (sync.sqlite).")
    var data: String = "data"

    @Flag(help: "Do not watch the config file and the profile and plugin folders.")
    var noWatch = false

    @Flag(help: "Do not print the once-a-second status line.")
    var quiet = false

    @Option(help: "Stop after this many seconds (default: run until Ctrl-C or SIGTERM).")
    var duration: Double?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        if supervise {
            // The child is this same command without --supervise; the supervisor only restarts it.
            throw ExitCode(ProcessSupervisor.run(arguments: CommandLine.arguments.dropFirst().filter { $0 != "--supervise" }))
        }
        // Before any thread starts, so that every thread inherits the mask.
        unblockSignals()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "switchyard.edge")
        logger.logLevel = level

        installSignalHandlers()
        FileSystem.makeDirectories(data)
        let pluginCache = data + "/plugin-versions"
        let (plugins, profiles) = try locations.setup.load(pluginCacheDirectory: pluginCache)
        for error in plugins.errors { logger.warning("plugin refused: \(error)") }
        for skipped in plugins.skipped { logger.info("not a plugin, left unopened: \(skipped.file)") }
        for error in profiles.errors { logger.warning("profile refused: \(error)") }
        let host = EdgeHost(plugins: plugins, profiles: profiles, logger: logger, dataDirectory: data)
        let service: EdgeService
        var agent: SyncAgent?
        if let server = sync.server {
            // Synced: the last confirmed config from the cache runs at once; the network comes after.
            guard let edgeId = sync.edgeId else { throw ValidationExit(message: "--server needs --edge-id") }
            let key = try edgeKey()
            let verifier = try TrustedKeys.verifier(file: sync.trust, pairs: sync.trustKey)
            service = EdgeService(host: host, source: .synced, initial: nil, pluginCacheDirectory: pluginCache, logger: logger)
            let cache = try AgentCache(path: data + "/sync.sqlite")
            let syncAgent = SyncAgent(cache: cache, applier: HostApplier(service: service),
                                      options: AgentOptions(serverURL: server, edgeId: edgeId, key: key, verifier: verifier), logger: logger)
            service.managedBy(server: server) { syncAgent.status() }
            // --config is read only when no confirmed version runs.
            switch try syncAgent.boot(seed: config.map { path in { try EdgeSetup.readConfig(path) } }) {
            case .confirmed: logger.info("syncing with \(server)")
            case .local(let version): logger.info("running the local config (version \(version)) until the server's first config is confirmed")
            case .waiting: logger.info("no confirmed config in the cache: waiting for \(server)")
            }
            agent = syncAgent
        } else {
            let document = try config.map(EdgeSetup.readConfig) ?? DemoSite.config()
            do {
                try host.apply(document)
            } catch {
                host.log.flush()
                throw ValidationExit(message: "config \(config ?? "(embedded demo site)") was not applied:\n\(error)")
            }
            try host.start()
            logger.info("running \(document.edgeId) version \(document.version): period \(document.coreCycle.periodMs) ms, \(plugins.plugins.count) plugins loaded")
            service = EdgeService(host: host, source: config.map { .file($0) } ?? .embedded(document), initial: document,
                                  pluginCacheDirectory: pluginCache, logger: logger)
        }
        let pidFile = data + "/switchyard-edge.pid"
        try? FileSystem.writeText("\(getpid())\n", to: pidFile)
        defer { unlink(pidFile) }
        let agentTask = agent.map { a in Task { await a.run() } }

        let watched = service.watched
        let watcher = noWatch ? nil : FileWatcher(files: watched.files, folders: watched.folders)
        var server: StatusServer.Running?
        if port.statusPort > 0 {
            server = StatusServer.start(service, port: port.statusPort, logger: logger)
            logger.info("status on http://127.0.0.1:\(port.statusPort)/status and /metrics")
        }

        let clock = SystemClock()
        let started = clock.monotonicNs()
        var nextLine = started + 1_000_000_000
        // systemd (Type=notify, WatchdogSec): ready once the cached config
        // runs (or the edge waits for its first); the watchdog is fed only
        // while the cycle makes progress, or while no cycle is expected yet.
        let systemd = SystemdNotifier()
        systemd.ready()
        let watchdogEveryNs = systemd.watchdogInterval.map { Int64($0.components.seconds) * 500_000_000 + $0.components.attoseconds / 2_000_000_000 }
        var nextWatchdog = started
        var cyclesAtWatchdog: UInt64 = .max
        while !stopRequested.load(ordering: .relaxed) {
            let now = clock.monotonicNs()
            if let every = watchdogEveryNs, now >= nextWatchdog {
                let cycles = host.status().cyclesStarted
                if !host.isRunning || cycles != cyclesAtWatchdog {
                    systemd.watchdog()
                    cyclesAtWatchdog = cycles
                }
                nextWatchdog = now + every
            }
            if let duration, Double(now - started) / 1e9 >= duration { break }
            if reloadSignalled.exchange(false, ordering: .relaxed) { service.reload(reason: "SIGHUP") }
            if watcher?.takeChange() == true { service.reload(reason: "file change") }
            host.log.flush()
            if now >= nextLine {
                if !quiet, host.isRunning { print(ConsoleLine().render(host)) }
                fflush(nil)
                nextLine += 1_000_000_000
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        systemd.stopping()
        if let agentTask {
            // Let the agent record where it stopped (a version in probation goes back to staged).
            agentTask.cancel()
            let deadline = ContinuousClock.now + .seconds(2)
            while agent?.isRunning == true, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        }
        watcher?.stop()
        await server?.stop()
        host.stop()
        let s = host.status().statistics
        logger.info("stopped after \(s.cycles) cycles: \(s.overruns) overruns, \(s.missedCycles) missed, work p99 \(s.work.percentile(0.99) / 1000) µs")
    }
}

extension Run {
    func edgeKey() throws -> String {
        if let file = sync.keyFile {
            do {
                return try FileSystem.readText(file, limitBytes: 64 << 10).trimmedWhitespace
            } catch {
                throw ValidationExit(message: "\(file): cannot read the edge key: \(error.reason)")
            }
        }
        guard let key = ProcessInfo.processInfo.environment["SWITCHYARD_EDGE_KEY"], !key.isEmpty else {
            throw ValidationExit(message: "--server needs the edge's key: --key-file FILE or SWITCHYARD_EDGE_KEY")
        }
        return key
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate a config against the installed plugins and profiles.")

    @Argument(help: "The config document.")
    var config: String

    @OptionGroup var locations: Locations

    func run() throws {
        let (plugins, profiles) = try locations.setup.load()
        for error in plugins.errors { print("warning: plugin refused: \(error)") }
        for error in profiles.errors { print("warning: profile refused: \(error)") }
        let document = try EdgeSetup.readConfig(config)
        do {
            // Plugins' validate calls run in child processes: one that traps or
            // hangs is a refusal, not the end of `check`.
            let resolved = try plugins.validate(document, profiles: profiles, isolation: .process)
            print("\(config): valid — \(resolved.devices.count) devices, \(resolved.controllers.count) controllers, \(document.alarms.count) alarms")
        } catch {
            throw ValidationExit(message: error.inFile(config).description)
        }
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a running edge reload its config file, profiles and plugins, and print the outcome.")

    @OptionGroup var port: StatusPort

    func run() throws {
        let (code, body) = try LocalClient.request("POST", "/reload", port: port.statusPort, timeoutSeconds: 30)
        print(body, terminator: "")
        if code != 200 { throw ExitCode(1) }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show what a running edge is doing.")

    @OptionGroup var port: StatusPort

    @Flag(help: "Print the whole status document as JSON.")
    var json = false

    func run() throws {
        let (code, body) = try LocalClient.request("GET", "/status", port: port.statusPort)
        guard code == 200, let doc = try? JSONValue(parsing: body) else { throw ValidationExit(message: "unexpected answer (\(code)): \(body)") }
        if json {
            print(body, terminator: "")
            return
        }
        let (channelsCode, channelsBody) = try LocalClient.request("GET", "/channels", port: port.statusPort)
        let channels = channelsCode == 200 ? try? JSONValue(parsing: channelsBody) : nil
        print(EdgeStatusText.render(doc, channels: channels))
    }
}

struct Write: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a setpoint by hand to a device of a running edge (commissioning).",
        discussion: """
        The device's driver applies the profile's write rules (limits, step, read-back) as for a \
        controller's setpoint. Refused when a controller sets the point in the same cycle, unless \
        --force (the controller will likely set it again in its next cycle: disable it first to keep \
        the value). Every write is logged with who asked, the value asked, what was written and the result. \
        A negative value follows `--`, after the options: `switchyard-edge write --force -- battery/SetActivePower -2500`.
        """)

    @Argument(help: "The point: DEVICE/POINT (or DEVICE/standard.Name).")
    var point: String

    @Argument(help: "The value, in the channel's unit.")
    var value: Double

    @Flag(help: "Write even if a controller sets this point in the same cycle.")
    var force = false

    @OptionGroup var port: StatusPort

    func run() throws {
        let user = ProcessInfo.processInfo.environment["USER"] ?? "uid \(getuid())"
        let body: JSONValue = ["channel": .string(point), "value": .number(value), "force": .bool(force),
                               "requested_by": .string("switchyard-edge write, user \(user)")]
        let (code, answer) = try LocalClient.request("POST", "/write", port: port.statusPort, body: body.canonicalText, timeoutSeconds: 60)
        guard let doc = try? JSONValue(parsing: answer) else { throw ValidationExit(message: "unexpected answer (\(code)): \(answer)") }
        if code == 200 {
            let notes = doc["driver"]?.arrayValue?.compactMap(\.stringValue) ?? []
            print("\(point) = \(JSONValue.format(value)): written" + (notes.isEmpty ? "" : "\n" + notes.map { "  driver: \($0)" }.joined(separator: "\n")))
            return
        }
        throw ValidationExit(message: "\(point) = \(JSONValue.format(value)): not written: \(doc["error"]?.stringValue ?? answer)")
    }
}

struct ExampleConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "example-config", abstract: "Print the embedded demo site config.")

    func run() {
        print(DemoSite.configText)
    }
}

/// A parent may start us with signals blocked (a thread of a test runner,
/// some supervisors); a service must still stop and reload on them.
func unblockSignals() {
    var set = sigset_t()
    sigemptyset(&set)
    for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, s) }
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
}

func installSignalHandlers() {
    signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
    signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
    signal(SIGHUP) { _ in reloadSignalled.store(true, ordering: .relaxed) }
}

/// A refused input: the message on stderr, exit status 1.
struct ValidationExit: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
