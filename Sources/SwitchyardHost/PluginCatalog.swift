import SwitchyardModel

/// The plugins a host has loaded, indexed by class. Loading never stops at a
/// broken plugin: it is left out and its error kept for `errors`, so one bad
/// library cannot take the host down.
public struct PluginCatalog: Sendable {
    public private(set) var plugins: [LoadedPlugin] = []
    public private(set) var errors: [PluginLoadError] = []
    private var byClass: [String: (plugin: LoadedPlugin, entry: PluginManifest.ClassEntry)] = [:]

    public init() {}

    /// Loads every `*.so` in `directories` (not recursive) and every file in `files`.
    public static func load(directories: [String], files: [String] = []) -> PluginCatalog {
        var catalog = PluginCatalog()
        for directory in directories {
            for path in FileSystem.files(in: directory, suffix: ".so", recursive: false) {
                catalog.add(path: path)
            }
        }
        for path in files { catalog.add(path: path) }
        return catalog
    }

    /// Loads one library; on failure records the error and returns nil.
    @discardableResult
    public mutating func add(path: String) -> LoadedPlugin? {
        do {
            let plugin = try LoadedPlugin.load(path)
            try register(plugin)
            return plugin
        } catch {
            errors.append(error)
            return nil
        }
    }

    mutating func register(_ plugin: LoadedPlugin) throws(PluginLoadError) {
        if let other = plugins.first(where: { $0.id == plugin.id }) {
            throw PluginLoadError(file: plugin.path, reason: .duplicatePluginId, field: "plugin_id",
                                  found: "\"\(plugin.id)\" \(plugin.version), already loaded from \(other.path) (\(other.version))")
        }
        for entry in plugin.manifest.classes {
            if let other = byClass[entry.name] {
                throw PluginLoadError(file: plugin.path, reason: .duplicateClass, field: "classes",
                                      found: "class \"\(entry.name)\", already provided by \(other.plugin.id) from \(other.plugin.path)")
            }
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
