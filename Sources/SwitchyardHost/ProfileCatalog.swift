import SwitchyardModel

/// The device profiles found under the profile folders, by id. A profile that
/// does not parse is left out and its error kept; the others load.
public struct ProfileCatalog: Sendable {
    public private(set) var profiles: [String: DeviceProfile] = [:]
    public private(set) var errors: [ValidationError] = []
    /// The folders this catalog was loaded from, for reloading.
    public private(set) var directories: [String] = []

    public init() {}

    /// Loads every `*.json` below `directories` (recursively), except pack
    /// manifests (`pack.json`) and JSON Schemas (`*.schema.json`).
    public static func load(directories: [String]) -> ProfileCatalog {
        var catalog = ProfileCatalog()
        catalog.directories = directories
        for directory in directories {
            for path in FileSystem.files(in: directory, suffix: ".json", recursive: true) {
                let name = FileSystem.basename(path)
                if name == "pack.json" || name.hasSuffix(".schema.json") { continue }
                catalog.add(path: path)
            }
        }
        return catalog
    }

    public mutating func add(path: String) {
        do {
            let text = try FileSystem.readText(path)
            let profile = try DeviceProfile(parsing: text, file: path)
            if let other = profiles[profile.id] {
                errors.append(ValidationError(file: path, path: .root.appending("id"),
                                              "profile id \"\(profile.id)\" is already used by \(other.file ?? "another profile")"))
                return
            }
            profiles[profile.id] = profile
        } catch let error as ValidationError {
            errors.append(error)
        } catch {
            errors.append(ValidationError(file: path, "\(error)"))
        }
    }
}
