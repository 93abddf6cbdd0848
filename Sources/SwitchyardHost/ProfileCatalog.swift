import SwitchyardJSON
import SwitchyardModbusProfile
import SwitchyardModel

/// The device profiles found under the profile folders, by id. A profile that
/// does not parse is left out and its error kept; the others load.
///
/// Profiles are resolved (`extends`) and checked here, before any driver
/// sees them: a Modbus profile (driver `modbus`) must also pass every check
/// of `ModbusProfile` (points, transport, planning, SunSpec models, golden
/// vectors' shape), so a config naming a broken profile is refused at
/// validation with the profile's file and path, not at device start.
public struct ProfileCatalog: Sendable {
    public private(set) var profiles: [String: DeviceProfile] = [:]
    public private(set) var errors: [ValidationError] = []
    /// The folders this catalog was loaded from, for reloading.
    public private(set) var directories: [String] = []
    /// What each file held when it was read, so a reload parses and checks
    /// only what changed (large SunSpec profiles take milliseconds each).
    private var files: [String: FileState] = [:]

    struct FileState: Sendable {
        var fingerprint: FileFingerprint?
        var json: JSONValue?
        var error: ValidationError?
    }

    public init() {}

    /// Loads every `*.json` below `directories` (recursively), except pack
    /// manifests (`pack.json`) and JSON Schemas (`*.schema.json`).
    /// `excluding`: files to leave out (a file being linted on its own).
    /// `previous`: a catalog of the same folders; its files that have not
    /// changed (same size, time and inode) are not read again, and its
    /// profiles whose file and ancestors have not changed are kept.
    public static func load(directories: [String], excluding: Set<String> = [], previous: ProfileCatalog? = nil) -> ProfileCatalog {
        var catalog = ProfileCatalog()
        catalog.directories = directories
        var paths: [String] = []
        for directory in directories {
            for path in FileSystem.files(in: directory, suffix: ".json", recursive: true) {
                let name = FileSystem.basename(path)
                if name == "pack.json" || name.hasSuffix(".schema.json") || excluding.contains(FileSystem.realPath(path) ?? path) { continue }
                paths.append(path)
            }
        }
        catalog.add(paths: paths, previous: previous)
        return catalog
    }

    /// Adds the profiles in `paths`, resolving `extends` among them and the
    /// profiles already in the catalog.
    public mutating func add(paths: [String]) { add(paths: paths, previous: nil) }

    public mutating func add(path: String) { add(paths: [path]) }

    private mutating func add(paths: [String], previous: ProfileCatalog?) {
        var sources: [String: ProfileInheritance.Source] = profiles.mapValues { .init(json: $0.unresolved, file: $0.file) }
        var fresh: [String] = []
        var changedIds: Set<String> = []
        for path in paths {
            let fingerprint = FileFingerprint(path: path)
            var state: FileState
            if let old = previous?.files[path], fingerprint != nil, old.fingerprint == fingerprint {
                state = old
            } else {
                state = FileState(fingerprint: fingerprint)
                do {
                    state.json = try JSONValue.parse(try FileSystem.readText(path), file: path)
                } catch let error as ValidationError {
                    state.error = error
                } catch {
                    state.error = ValidationError(file: path, "\(error)")
                }
            }
            files[path] = state
            if let error = state.error {
                errors.append(error)
                continue
            }
            guard let json = state.json else { continue }
            guard let id = json["id"]?.stringValue, !id.isEmpty else {
                errors.append(ValidationError(file: path, path: .root.appending("id"), json["id"] == nil ? "is required" : "expected a non-empty string"))
                continue
            }
            if let other = sources[id] {
                errors.append(ValidationError(file: path, path: .root.appending("id"),
                                              "profile id \"\(id)\" is already used by \(other.file ?? "another profile")"))
                continue
            }
            sources[id] = .init(json: json, file: path)
            fresh.append(id)
            if previous?.files[path]?.fingerprint != fingerprint || fingerprint == nil || previous?.profiles[id]?.file != path { changedIds.insert(id) }
        }
        let (resolved, inheritanceErrors) = ProfileInheritance.resolve(sources.filter { fresh.contains($0.key) || profiles[$0.key] != nil })
        errors += inheritanceErrors
        for id in fresh {
            guard let source = resolved[id] else { continue }
            // Kept from the previous load when neither it nor an ancestor changed.
            if let previous, let kept = previous.profiles[id], !Self.chain(of: id, in: sources).contains(where: changedIds.contains) {
                profiles[id] = kept
                continue
            }
            do {
                var profile = try Self.profile(source.json, file: source.file)
                profile.unresolved = sources[id]!.json
                profiles[id] = profile
            } catch {
                errors.append(error)
            }
        }
    }

    /// `id` and the ids it extends, nearest first (stops at a cycle).
    static func chain(of id: String, in sources: [String: ProfileInheritance.Source]) -> [String] {
        var out = [id]
        var current = id
        while let parent = sources[current]?.json["extends"]?.stringValue, !out.contains(parent) {
            out.append(parent)
            current = parent
        }
        return out
    }

    /// A resolved profile document, checked as the host and its driver need.
    public static func profile(_ json: JSONValue, file: String?) throws(ValidationError) -> DeviceProfile {
        try DeviceProfile.checked(json, file: file)
    }
}
