import Dispatch
import Logging
import Synchronization
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel

/// The edge as a long-running service around an `EdgeHost`: where its config
/// comes from, reloading it (on SIGHUP, on a change to the config file or the
/// profile and plugin folders, on `POST /reload`), and the applies a local
/// client or the sync agent asks for. Every change goes through
/// `EdgeHost.apply`, so it lands at one cycle boundary or not at all.
public final class EdgeService: Sendable {
    public enum ConfigSource: Sendable {
        case file(String)
        case embedded(EdgeConfig)
        /// A sync agent applies what the server sends; a reload keeps the running config.
        case synced
    }

    public let host: EdgeHost
    public let source: ConfigSource
    public let pluginCacheDirectory: String
    private let logger: Logger
    private let reloadRequested = Atomic<Bool>(false)
    /// The config applied last (from the source, or posted to /config); nil
    /// while a synced edge waits for its first config.
    private let current: Mutex<EdgeConfig?>
    /// Set when a sync agent owns the config: its part of the status
    /// document, and the reason local config changes are refused.
    private let sync = Mutex<(status: @Sendable () -> JSONValue, server: String)?>(nil)

    public init(host: EdgeHost, source: ConfigSource, initial: EdgeConfig?, pluginCacheDirectory: String, logger: Logger) {
        self.host = host
        self.source = source
        self.current = Mutex(initial)
        self.pluginCacheDirectory = pluginCacheDirectory
        self.logger = logger
    }

    /// Asks for a reload at the next turn of the service loop (safe from a signal handler's flag).
    public func requestReload() { reloadRequested.store(true, ordering: .releasing) }

    public func takeReloadRequest() -> Bool { reloadRequested.exchange(false, ordering: .acquiringAndReleasing) }

    public enum Outcome: Sendable, Equatable {
        case applied(generation: Int, version: Int)
        case refused(String)
    }

    /// Reads the config source again, reloads plugins and profiles, applies.
    @discardableResult
    public func reload(reason: String) -> Outcome {
        let config: EdgeConfig
        switch source {
        case .file(let path):
            do {
                config = try EdgeSetup.readConfig(path)
            } catch {
                logger.error("reload (\(reason)) refused, the running config stays: \(error)")
                host.reportRefusal("\(error)")
                return .refused("\(error)")
            }
        case .embedded, .synced:
            guard let running = current.withLock({ $0 }) else {
                logger.info("reload (\(reason)): no config runs yet")
                return .refused("no config runs yet")
            }
            config = running
        }
        return apply(config, reason: reason, reloadCatalogs: true)
    }

    /// Hands the config to a sync agent: `status` gives its part of the
    /// status document, and configs posted locally are refused.
    public func managedBy(server: String, status: @escaping @Sendable () -> JSONValue) {
        sync.withLock { $0 = (status, server) }
    }

    /// The sync agent's status, when one owns the config.
    public var syncStatus: JSONValue? { sync.withLock { $0?.status } .map { $0() } }

    /// Applies a config document given as text (`POST /config`).
    public func apply(text: String, reason: String) -> Outcome {
        if let server = sync.withLock({ $0?.server }) {
            let why = "this edge takes its config from the server \(server); change it there (a local config would be replaced at the next sync)"
            logger.warning("config from \(reason) refused: \(why)")
            return .refused(why)
        }
        do {
            return apply(try EdgeConfig(parsing: text, file: nil), reason: reason, reloadCatalogs: false)
        } catch {
            logger.error("config from \(reason) refused: \(error)")
            host.reportRefusal("\(error)")
            return .refused("\(error)")
        }
    }

    public func apply(_ config: EdgeConfig, reason: String, reloadCatalogs: Bool) -> Outcome {
        do {
            let generation = reloadCatalogs
                ? try host.reload(config, pluginCacheDirectory: pluginCacheDirectory)
                : try host.apply(config)
            current.withLock { $0 = config }
            logger.info("\(reason): config version \(config.version) running (generation \(generation))")
            return .applied(generation: generation, version: config.version)
        } catch {
            logger.error("\(reason): refused, the running config stays: \(error)")
            return .refused("\(error)")
        }
    }

    /// What a file watcher should watch for this service: the config file
    /// itself (by name, so other files beside it never reload), the `.json`
    /// files of the profile folders and their sub-folders, the `.so` files
    /// of the plugin folders (plugins are not loaded from sub-folders).
    public var watched: (files: [String], folders: [FileWatcher.Folder]) {
        var files: [String] = []
        if case .file(let path) = source { files.append(path) }
        files += host.plugins.files
        let folders = host.profiles.directories.map { FileWatcher.Folder(path: $0, suffix: ".json", recursive: true) }
            + host.plugins.directories.map { FileWatcher.Folder(path: $0, suffix: ".so", recursive: false) }
        return (files, folders)
    }
}

extension EdgeService {
    /// Runs `body` on a Dispatch thread: `apply` and `reload` wait for a
    /// cycle boundary (up to a period), which must not hold a thread of the
    /// small concurrency pool that the status port and the sync agent share.
    /// Dispatch reuses its threads; a new thread per call started 1,000
    /// threads for each change of the bench's simulated fleet.
    public static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }
}
