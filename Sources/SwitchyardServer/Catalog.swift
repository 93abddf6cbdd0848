import SwitchyardJSON
import SwitchyardModbusProfile
import SwitchyardModel

/// An organization's catalog: the plugin manifests and device profiles its
/// edges run, uploaded by `switchyard catalog push DIR`. The document is
///
///     {"plugins": [{"id", "version", "kind": "driver"|"controller", "manifest": {"classes": [...]}}],
///      "profiles": [<profile document>, ...]}
///
/// and turns into the same `ConfigValidator` the edge builds from its plugin
/// and profile folders, so the server refuses what an edge would refuse.
public struct Catalog: Sendable {
    public let validator: ConfigValidator
    public let pluginCount: Int
    public let profileCount: Int

    /// Reads and checks a catalog document. Every problem is reported with
    /// its path (`/plugins/1/manifest/classes/0/name`, `/profiles/3/points/2/type`).
    public init(document: JSONValue) throws(ValidationError) {
        let issues = IssueList()
        guard case .object(let members) = document else {
            throw ValidationError(path: .root, "a catalog is an object with \"plugins\" and \"profiles\"; found \(document.typeName)")
        }
        for key in members.keys where key != "plugins" && key != "profiles" {
            issues.add(JSONPath.root.appending(key), "is not a catalog member (expected \"plugins\" or \"profiles\")")
        }
        var classes: [String: PluginClassInfo] = [:]
        let plugins = members["plugins"]?.arrayValue ?? []
        if let value = members["plugins"], value.arrayValue == nil { issues.add(JSONPath.root.appending("plugins"), "expected an array") }
        for (index, plugin) in plugins.enumerated() {
            let path = JSONPath.root.appending("plugins").appending(index: index)
            guard let id = plugin["id"]?.stringValue, !id.isEmpty else { issues.add(path.appending("id"), "expected a non-empty string"); continue }
            guard let version = plugin["version"]?.stringValue else { issues.add(path.appending("version"), "expected a string"); continue }
            guard let kind = plugin["kind"]?.stringValue.flatMap(PluginKind.init(rawValue:)) else {
                issues.add(path.appending("kind"), "expected \"driver\" or \"controller\"")
                continue
            }
            guard let manifestJSON = plugin["manifest"] else { issues.add(path.appending("manifest"), "is required"); continue }
            do {
                let manifest = try PluginManifest(parsing: manifestJSON.canonicalText)
                for entry in manifest.classes {
                    if let other = classes[entry.name] {
                        issues.add(path.appending("manifest"), "class \"\(entry.name)\" is also provided by plugin \"\(other.pluginId)\"")
                        continue
                    }
                    classes[entry.name] = PluginClassInfo(pluginId: id, pluginVersion: version, kind: kind, entry: entry)
                }
            } catch {
                for issue in error.issues {
                    issues.add(Self.prefixed(path.appending("manifest"), issue.path), issue.message)
                }
            }
        }
        var sources: [String: ProfileInheritance.Source] = [:]
        let profileDocuments = members["profiles"]?.arrayValue ?? []
        if let value = members["profiles"], value.arrayValue == nil { issues.add(JSONPath.root.appending("profiles"), "expected an array") }
        for (index, profile) in profileDocuments.enumerated() {
            let path = JSONPath.root.appending("profiles").appending(index: index)
            guard let id = profile["id"]?.stringValue, !id.isEmpty else { issues.add(path.appending("id"), "expected a non-empty string"); continue }
            if sources[id] != nil { issues.add(path.appending("id"), "profile \"\(id)\" appears twice"); continue }
            sources[id] = .init(json: profile, file: "catalog profiles[\(index)] (\(id))")
        }
        let (resolved, inheritanceErrors) = ProfileInheritance.resolve(sources)
        for error in inheritanceErrors { issues.add(contentsOf: error.issues) }
        var profiles: [String: DeviceProfile] = [:]
        for id in resolved.keys.sorted() {
            guard let source = resolved[id] else { continue }
            do {
                profiles[id] = try DeviceProfile.checked(source.json, file: source.file)
            } catch {
                issues.add(contentsOf: error.issues)
            }
        }
        try issues.check()
        validator = ConfigValidator(classes: classes, profiles: profiles)
        pluginCount = plugins.count
        profileCount = profiles.count
    }

    private static func prefixed(_ prefix: JSONPath, _ path: JSONPath) -> JSONPath {
        JSONPath(prefix.components + path.components)
    }
}
