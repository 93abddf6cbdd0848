import SwitchyardJSON
import SwitchyardModel

/// The catalog an organization uploads to the server (`switchyard catalog
/// push DIR`): the manifests of the plugins and the device profiles found
/// under the given folders, as the server's `Catalog` reads them. Profiles
/// go up unresolved; the server resolves `extends` itself.
public enum CatalogDocument {
    public struct Problem: Sendable, CustomStringConvertible {
        public var file: String
        public var message: String
        public var description: String { "\(file): \(message)" }
    }

    /// Plugins (`*.so`) and profiles (`*.json`, not `pack.json` or
    /// `*.schema.json`) below `pluginDirectories` and `profileDirectories`.
    public static func build(pluginDirectories: [String], profileDirectories: [String]) -> (document: JSONValue, problems: [Problem]) {
        var problems: [Problem] = []
        let plugins = PluginCatalog.load(directories: pluginDirectories)
        for error in plugins.errors { problems.append(Problem(file: error.file, message: error.description)) }
        var pluginEntries: [JSONValue] = []
        for plugin in plugins.plugins.sorted(by: { $0.id < $1.id }) {
            guard let manifest = try? JSONValue(parsing: plugin.manifestJSON) else {
                problems.append(Problem(file: plugin.path, message: "the manifest is not JSON"))
                continue
            }
            pluginEntries.append(["id": .string(plugin.id), "version": .string(plugin.version), "kind": .string(plugin.kind.rawValue),
                                  "manifest": manifest])
        }
        var profiles: [JSONValue] = []
        for directory in profileDirectories {
            for path in FileSystem.files(in: directory, suffix: ".json", recursive: true).sorted() {
                let name = FileSystem.basename(path)
                if name == "pack.json" || name.hasSuffix(".schema.json") { continue }
                do {
                    profiles.append(try JSONValue.parse(try FileSystem.readText(path), file: path))
                } catch {
                    problems.append(Problem(file: path, message: "\(error)"))
                }
            }
        }
        return (["plugins": .array(pluginEntries), "profiles": .array(profiles)], problems)
    }
}
