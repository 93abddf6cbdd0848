import SwitchyardJSON
import SwitchyardModel

extension DriverConformance {
    /// Input the suite cannot run with (a profile that does not read, a
    /// device config that does not validate): names the file, the field and
    /// the reason. Not a failed check: the driver was not exercised.
    public struct InputError: Error, Sendable, CustomStringConvertible {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// Reads the profile at `file` as the edge does: checked, with `extends`
    /// resolved among the profiles in `profileDirectories` (`--profiles`;
    /// default: the file's own folder, and below).
    public static func loadProfile(_ file: String, profileDirectories: [String] = []) throws(InputError) -> DeviceProfile {
        guard FileSystem.exists(file), !FileSystem.isDirectory(file) else {
            throw InputError("\(file): no such profile file (--profile names one device profile, a .json file)")
        }
        for folder in profileDirectories where !FileSystem.isDirectory(folder) {
            throw InputError("\(folder): no such profile folder (--profiles)")
        }
        let real = FileSystem.realPath(file) ?? file
        var catalog = ProfileCatalog.load(directories: profileDirectories.isEmpty ? [FileSystem.dirname(real)] : profileDirectories,
                                          excluding: [real])
        catalog.add(path: real)
        if let profile = catalog.profiles.values.first(where: { $0.file.flatMap(FileSystem.realPath) == real }) { return profile }
        let own = catalog.errors.filter { error in error.issues.contains { $0.file.flatMap(FileSystem.realPath) == real } }
        var reasons = (own.isEmpty ? catalog.errors : own).map(\.description)
        if profileDirectories.isEmpty, reasons.contains(where: { $0.contains("extends unknown profile") }) {
            reasons.append("(the profile extends one in another folder: name the folders with --profiles DIR)")
        }
        throw InputError(reasons.isEmpty ? "\(file): no profile read from this file" : reasons.joined(separator: "\n"))
    }

    /// The device entry to test with: `deviceFile` (one entry of a config's
    /// `devices`, as JSON) or a fresh one for `profile`, with `parameters`
    /// (a JSON object) laid over its parameters.
    public static func deviceConfig(file deviceFile: String?, parameters: String?, profile: DeviceProfile) throws(InputError) -> JSONValue {
        var device: [String: JSONValue] = ["device_id": "dut", "profile": .string(profile.id)]
        if let deviceFile {
            let text: String
            do { text = try FileSystem.readText(deviceFile) } catch { throw InputError("\(deviceFile): \(error.reason)") }
            let json: JSONValue
            do { json = try JSONValue.parse(text, file: deviceFile) } catch { throw InputError("\(error)") }
            guard let object = json.objectValue else {
                throw InputError("\(deviceFile): expected a device object ({\"device_id\": …, \"profile\": …, \"connection\": …}), got \(json.typeName)")
            }
            for (key, value) in object { device[key] = value }
            if let named = object["profile"]?.stringValue, named != profile.id {
                throw InputError("\(deviceFile): profile: names \"\(named)\", but --profile is \"\(profile.id)\"")
            }
            device["profile"] = .string(profile.id)
        }
        if let parameters {
            let json: JSONValue
            do { json = try JSONValue(parsing: parameters) } catch { throw InputError("--parameters: not JSON: \(error)") }
            guard let object = json.objectValue else { throw InputError("--parameters: expected a JSON object, got \(json.typeName)") }
            var merged = device["parameters"]?.objectValue ?? [:]
            for (key, value) in object { merged[key] = value }
            device["parameters"] = .object(merged)
        }
        return .object(device)
    }

    /// The device as the edge resolves it: parameters validated against the
    /// class schema with defaults filled in, poll groups settled.
    static func resolve(device: JSONValue, source: String, profile: DeviceProfile, plugin: LoadedPlugin) throws(InputError) -> ResolvedConfig.Device {
        let document: JSONValue = ["version": 1, "edge_id": "conformance", "devices": [device]]
        var catalog = PluginCatalog()
        catalog.insert(plugin)
        do throws(ValidationError) {
            let config = try EdgeConfig(json: document)
            let resolved = try ConfigValidator(classes: catalog.classes, profiles: [profile.id: profile]).resolve(config)
            guard let first = resolved.devices.first else { throw ValidationError("no device") }
            return first
        } catch {
            // Paths inside the one-device config we built are paths inside the device entry.
            let lines = error.issues.map { issue in
                var location = issue.path.components.isEmpty ? "" : "\(issue.path)"
                if location.hasPrefix("devices[0].") { location.removeFirst("devices[0].".count) } else if location == "devices[0]" { location = "" }
                return "\(source): " + (location.isEmpty ? "" : "\(location): ") + issue.message
            }
            throw InputError(lines.joined(separator: "\n"))
        }
    }

    /// The instance config `create` receives: the document the edge builds
    /// for the device, with the parameters (and connection) under test.
    static func instanceConfig(_ device: ResolvedConfig.Device, parameters: JSONValue, connection: JSONValue? = nil) -> JSONValue {
        var config = device.instanceConfig(dataDirectory: nil).objectValue ?? [:]
        config["parameters"] = parameters
        if let connection { config["connection"] = connection }
        return .object(config)
    }

    /// A required parameter without a default, and the parameters without it.
    static func withoutRequired(_ schema: ParameterSchema, _ parameters: JSONValue) -> (String, JSONValue)? {
        guard let name = schema.required.sorted().first(where: { schema.properties[$0]?.defaultValue == nil }) else { return nil }
        var object = parameters.objectValue ?? [:]
        object[name] = nil
        return (name, .object(object))
    }

    /// A parameter set beyond one of its declared bounds (or outside its
    /// `enum`), and the parameters with it.
    static func outOfRange(_ schema: ParameterSchema, _ parameters: JSONValue) -> (String, JSONValue, JSONValue)? {
        var object = parameters.objectValue ?? [:]
        // Members the instance is given first: a driver may ignore the
        // others (a TCP device's baud rate).
        let ordered = schema.properties.sorted { ((object[$0.key] == nil ? 1 : 0), $0.key) < ((object[$1.key] == nil ? 1 : 0), $1.key) }
        for (name, p) in ordered {
            // One below an inclusive bound (a whole number, so that an
            // integer stays an integer), or the exclusive bound itself.
            var bad: Double?
            if let min = p.minimum { bad = min - 1 } else if let min = p.exclusiveMinimum { bad = min }
            else if let max = p.maximum { bad = max + 1 } else if let max = p.exclusiveMaximum { bad = max }
            if let bad {
                object[name] = .number(bad)
                return (name, .number(bad), .object(object))
            }
        }
        for (name, p) in ordered where p.type == .string && p.enumValues != nil {
            let bad = JSONValue.string("not-one-of-the-enum")
            object[name] = bad
            return (name, bad, .object(object))
        }
        return nil
    }

    /// A hot parameter and a valid value other than its current one.
    static func hotChange(_ schema: ParameterSchema, _ parameters: JSONValue) -> (String, JSONValue, JSONValue)? {
        var object = parameters.objectValue ?? [:]
        for (name, p) in schema.properties.sorted(by: { $0.key < $1.key }) where p.hot {
            let current = object[name]
            var changed: JSONValue?
            switch p.type {
            case .number?, .integer?:
                let n = current?.numberValue ?? p.minimum ?? 0
                for candidate in (p.type == .integer ? [n + 1, n - 1] : [n + 1, n - 1, n + 0.001]) where fits(candidate, p) {
                    changed = .number(candidate)
                    break
                }
            case .boolean?:
                changed = .bool(!(current?.boolValue ?? false))
            case .string?:
                changed = p.enumValues?.first { $0 != current }
            default:
                break
            }
            if let changed {
                object[name] = changed
                return (name, changed, .object(object))
            }
        }
        return nil
    }

    private static func fits(_ n: Double, _ p: ParameterSchema) -> Bool {
        if let min = p.minimum, n < min { return false }
        if let max = p.maximum, n > max { return false }
        if let min = p.exclusiveMinimum, n <= min { return false }
        if let max = p.exclusiveMaximum, n >= max { return false }
        return p.enumValues.map { $0.contains(.number(n)) } ?? true
    }

    /// A value inside the range the profile gives a writable channel: 0 when
    /// it may be, else the nearer bound. Modbus points state their range in
    /// `write.min`/`write.max` (or `range`); other profiles declare none.
    static func writeValue(for channel: String, in profile: DeviceProfile) -> Double {
        let point = profile.document["points"]?.arrayValue?.first { $0["name"]?.stringValue == channel }
        let range = point?["range"]?.arrayValue
        let low = point?["write"]?["min"]?.numberValue ?? range?.first?.numberValue
        let high = point?["write"]?["max"]?.numberValue ?? range?.last?.numberValue
        if let low, low > 0 { return low }
        if let high, high < 0 { return high }
        return 0
    }
}
