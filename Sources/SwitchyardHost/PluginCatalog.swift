import CSwitchyardPlugin
import SwitchyardModel

/// The plugins a host has loaded, indexed by class. Loading never stops at a
/// broken plugin: it is left out and its error kept for `errors`, so one bad
/// library cannot take the host down.
///
/// Several versions of one plugin may sit in the folders: the highest version
/// is active and the others are `superseded`. Two files with the same id and
/// version, or two plugins providing one class, are refused.
public struct PluginCatalog: Sendable {
    public private(set) var plugins: [LoadedPlugin] = []
    public private(set) var superseded: [LoadedPlugin] = []
    public private(set) var errors: [PluginLoadError] = []
    /// Shared objects found in the plugin folders that are no plugins (no
    /// entry symbol, e.g. a plugin's own dependency): left unopened, and not
    /// errors. A file named on its own that is no plugin is an error.
    public private(set) var skipped: [PluginLoadError] = []
    private var byClass: [String: (plugin: LoadedPlugin, entry: PluginManifest.ClassEntry)] = [:]
    /// The folders and files this catalog was loaded from, for `reload`.
    public private(set) var directories: [String] = []
    public private(set) var files: [String] = []

    public init() {}

    /// Loads every `*.so` in `directories` (not recursive) and every file in
    /// `files`. With `cacheDirectory`, each library is first copied to a
    /// versioned path there and mapped from the copy: a file later
    /// overwritten in place (`cp new.so plugins/`) then cannot change the
    /// code the process is running. The edge does this; one-shot tools don't.
    public static func load(directories: [String], files: [String] = [], cacheDirectory: String? = nil) -> PluginCatalog {
        var catalog = PluginCatalog()
        catalog.directories = directories
        catalog.files = files
        catalog.cacheDirectory = cacheDirectory
        for path in catalog.candidatePaths() {
            if let cacheDirectory { catalog.addCopy(of: path, cacheDirectory: cacheDirectory) } else { catalog.add(path: path) }
        }
        return catalog
    }

    /// Loads the same folders again. A file unchanged since `self` loaded it
    /// keeps its `LoadedPlugin` (so its instances keep running); a new or
    /// changed file is copied to a versioned path under `cacheDirectory` and
    /// mapped from there, beside the old image, which stays mapped for the
    /// instances still using it.
    public func reload(cacheDirectory: String) -> PluginCatalog {
        var catalog = PluginCatalog()
        catalog.directories = directories
        catalog.files = files
        catalog.cacheDirectory = cacheDirectory
        let known = plugins + superseded
        for path in catalog.candidatePaths() {
            let fingerprint = FileFingerprint(path: path)
            if let same = known.first(where: { $0.path == path && $0.fingerprint != nil && $0.fingerprint == fingerprint }) {
                catalog.insert(same)
                continue
            }
            catalog.addCopy(of: path, cacheDirectory: cacheDirectory)
        }
        return catalog
    }

    /// Where copies are mapped from (nil: the files themselves).
    public private(set) var cacheDirectory: String?

    /// Copies `path` to `<cache>/<name>-<inode>-<mtime>.so` (once) and maps the copy.
    mutating func addCopy(of path: String, cacheDirectory: String) {
        guard let fingerprint = FileFingerprint(path: path) else {
            errors.append(PluginLoadError(file: path, reason: .missingFile))
            return
        }
        if skipsAsNoPlugin(path) { return }
        let name = FileSystem.basename(path)
        let stem = name.hasSuffix(".so") ? String(name.dropLast(3)) : name
        let copy = "\(cacheDirectory)/\(stem)-\(fingerprint.inode)-\(fingerprint.modifiedNs).so"
        do {
            if !FileSystem.exists(copy) { try FileSystem.copy(path, to: copy) }
        } catch {
            errors.append(PluginLoadError(file: path, reason: .missingFile, detail: "could not copy to \(copy): \(error.reason)"))
            return
        }
        add(path: path, mapping: copy, fingerprint: fingerprint)
    }

    private func candidatePaths() -> [String] {
        directories.flatMap { FileSystem.files(in: $0, suffix: ".so", recursive: false) } + files
    }

    /// Loads one library; on failure records the error and returns nil.
    @discardableResult
    public mutating func add(path: String) -> LoadedPlugin? {
        add(path: path, mapping: path, fingerprint: FileFingerprint(path: path))
    }

    @discardableResult
    mutating func add(path: String, mapping: String, fingerprint: FileFingerprint?) -> LoadedPlugin? {
        if skipsAsNoPlugin(path) { return nil }
        do {
            let plugin = try LoadedPlugin.load(path, mapping: mapping, fingerprint: fingerprint)
            return insert(plugin) ? plugin : nil
        } catch {
            errors.append(error)
            return nil
        }
    }

    /// True (and noted in `skipped`) for a library found in a folder that
    /// exports no plugin entry.
    private mutating func skipsAsNoPlugin(_ path: String) -> Bool {
        guard !files.contains(path), LoadedPlugin.exportsEntry(path) == false else { return false }
        if !skipped.contains(where: { $0.file == path }) {
            skipped.append(PluginLoadError(file: path, reason: .missingEntry, expected: "exported function \(SY_ENTRY_SYMBOL)",
                                           found: "no such symbol: not a plugin, left unopened"))
        }
        return true
    }

    /// Adds a loaded plugin, or records why it cannot be added.
    @discardableResult
    mutating func insert(_ plugin: LoadedPlugin) -> Bool {
        do {
            try register(plugin)
            return true
        } catch {
            errors.append(error)
            return false
        }
    }

    mutating func register(_ plugin: LoadedPlugin) throws(PluginLoadError) {
        let other = plugins.first { $0.id == plugin.id }
        if let other, other.version == plugin.version {
            throw PluginLoadError(file: plugin.path, reason: .duplicatePluginId, field: "plugin_id",
                                  found: "\"\(plugin.id)\" \(plugin.version), already loaded from \(other.path) (\(other.version))")
        }
        // Two versions of one plugin: the higher one is active.
        if let other, !LoadedPlugin.versionPrecedes(other.version, plugin.version) {
            superseded.append(plugin)
            return
        }
        for entry in plugin.manifest.classes {
            if let owner = byClass[entry.name], owner.plugin !== other {
                throw PluginLoadError(file: plugin.path, reason: .duplicateClass, field: "classes",
                                      found: "class \"\(entry.name)\", already provided by \(owner.plugin.id) from \(owner.plugin.path)")
            }
        }
        if let other {
            superseded.append(other)
            plugins.removeAll { $0 === other }
            for entry in other.manifest.classes { byClass[entry.name] = nil }
        }
        plugins.append(plugin)
        for entry in plugin.manifest.classes { byClass[entry.name] = (plugin, entry) }
    }

    public func plugin(forClass name: String) -> LoadedPlugin? { byClass[name]?.plugin }

    /// What the config validator needs to know about every class.
    public var classes: [String: PluginClassInfo] {
        byClass.mapValues { PluginClassInfo(pluginId: $0.plugin.id, pluginVersion: $0.plugin.version, kind: $0.plugin.kind, entry: $0.entry) }
    }
}
