import ArgumentParser
import Logging
import Synchronization
import SwitchyardHost
import SwitchyardModel

#if canImport(Glibc)
import Glibc
#endif

@main
struct Edge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyard-edge",
        abstract: "The Switchyard edge runtime: loads plugins, runs the core cycle.",
        subcommands: [Run.self, Check.self, ExampleConfig.self],
        defaultSubcommand: Run.self)
}

struct Locations: ParsableArguments {
    @Option(name: .customLong("plugins"), help: "Plugin folder (repeatable). Default: the folder of this executable.")
    var plugins: [String] = []

    @Option(name: .customLong("profiles"), help: "Device profile folder (repeatable). Default: ./DeviceProfiles.")
    var profiles: [String] = []

    var setup: EdgeSetup { EdgeSetup(pluginDirectories: plugins, profileDirectories: profiles) }
}

let stopRequested = Atomic<Bool>(false)

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a site. Without --config, runs the embedded simulated demo site.")

    @Option(help: "The config document to run.")
    var config: String?

    @OptionGroup var locations: Locations

    @Flag(help: "Do not print the once-a-second status line.")
    var quiet = false

    @Option(help: "Stop after this many seconds (default: run until Ctrl-C).")
    var duration: Double?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "switchyard.edge")
        logger.logLevel = level

        // Before any thread starts, so that every thread inherits the mask.
        unblockStopSignals()
        let (plugins, profiles) = try locations.setup.load()
        for error in plugins.errors { logger.warning("plugin refused: \(error)") }
        for error in profiles.errors { logger.warning("profile refused: \(error)") }
        let document = try config.map(EdgeSetup.readConfig) ?? DemoSite.config()

        let host = EdgeHost(plugins: plugins, profiles: profiles, logger: logger)
        do {
            try host.apply(document)
        } catch {
            host.log.flush()
            throw ValidationExit(message: "config \(config ?? "(embedded demo site)") was not applied:\n\(error)")
        }
        try host.start()
        logger.info("running \(document.edgeId) version \(document.version): period \(document.coreCycle.periodMs) ms, \(plugins.plugins.count) plugins loaded")

        installStopHandlers()
        let clock = SystemClock()
        let started = clock.monotonicNs()
        var nextLine = started + 1_000_000_000
        let line = ConsoleLine(host: host)
        while !stopRequested.load(ordering: .relaxed) {
            let now = clock.monotonicNs()
            if let duration, Double(now - started) / 1e9 >= duration { break }
            host.log.flush()
            if now >= nextLine {
                if !quiet { print(line.render(host)) }
                fflush(nil)
                nextLine += 1_000_000_000
            }
            clock.sleep(untilNs: now + 100_000_000)
        }
        host.stop()
        let s = host.status().statistics
        logger.info("stopped after \(s.cycles) cycles: \(s.overruns) overruns, \(s.missedCycles) missed, work p99 \(s.work.percentile(0.99) / 1000) µs")
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
            let resolved = try ConfigValidator(classes: plugins.classes, profiles: profiles.profiles).resolve(document)
            print("\(config): valid — \(resolved.devices.count) devices, \(resolved.controllers.count) controllers, \(document.alarms.count) alarms")
        } catch {
            throw ValidationExit(message: error.inFile(config).description)
        }
    }
}

struct ExampleConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "example-config", abstract: "Print the embedded demo site config.")

    func run() {
        print(DemoSite.configText)
    }
}

/// A parent may start us with SIGINT and SIGTERM blocked (a thread of a test
/// runner, some supervisors); a service must still stop on them.
func unblockStopSignals() {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
}

func installStopHandlers() {
    signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
    signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
}

/// A refused input: the message on stderr, exit status 1.
struct ValidationExit: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

