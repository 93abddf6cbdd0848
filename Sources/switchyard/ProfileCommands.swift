import ArgumentParser
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModbusIO
import SwitchyardModbusProfile
import SwitchyardModel

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile", abstract: "Device profiles.",
        subcommands: [List.self, Lint.self, Test.self, Discover.self])

    struct Folders: ParsableArguments {
        @Option(name: .customLong("profiles"), help: "Profile folder (repeatable). Default: ./DeviceProfiles.")
        var profiles: [String] = []

        var directories: [String] { profiles.isEmpty ? EdgeSetup.defaultProfileDirectories : profiles }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the profiles in the profile folders, and the refused ones.")

        @OptionGroup var folders: Folders

        func run() {
            let catalog = ProfileCatalog.load(directories: folders.directories)
            for p in catalog.profiles.values.sorted(by: { $0.id < $1.id }) {
                print("\(p.id)  driver \(p.driver)  \(p.channels.count) channels  \(p.manufacturer ?? "") \(p.model ?? "")")
            }
            for e in catalog.errors { print("REFUSED \(e)") }
        }
    }

    /// The profiles in `files`, resolved against the profile folders (for
    /// `extends`), with the problems of each file.
    static func load(_ files: [String], folders: Folders) -> [(file: String, profile: DeviceProfile?, errors: [SwitchyardModel.ValidationError])] {
        let real = Set(files.map { FileSystem.realPath($0) ?? $0 })
        var catalog = ProfileCatalog.load(directories: folders.directories, excluding: real)
        let before = catalog.errors.count
        catalog.add(paths: files)
        let errors = catalog.errors.dropFirst(before)
        return files.map { file in
            let mine = errors.filter { $0.issues.contains { $0.file == file } }
            return (file, catalog.profiles.values.first { $0.file == file }, Array(mine))
        }
    }

    /// Runs `body` for every file that loads (false: it failed) and prints
    /// the problems of those that do not; exit status 1 if any failed.
    static func each(_ files: [String], folders: Folders, _ body: (String, DeviceProfile) throws -> Bool) throws {
        var failed = false
        for (file, profile, errors) in load(files, folders: folders) {
            guard let profile, errors.isEmpty else {
                failed = true
                for e in errors { print(e) }
                continue
            }
            if try !body(file, profile) { failed = true }
        }
        if failed { throw ExitCode(1) }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check profile files: shape, then (Modbus) overlapping points, readable ranges, scale factors, poll groups. Every problem with its path.",
            discussion: "A Modbus profile's line counts the requests one poll of every group costs, as the driver reads them; points the driver never reads are warned about.")

        @Argument(help: "Profile files.")
        var files: [String]

        @OptionGroup var folders: Folders

        func run() throws {
            try ProfileCommand.each(files, folders: folders) { file, profile in
                var line = "\(file): ok (\(profile.id), \(profile.channels.count) channels"
                if profile.driver == ModbusProfile.driverClass, let m = try? ModbusProfile(json: profile.document, file: file) {
                    if m.isSunSpec {
                        line += ", SunSpec models \(m.sunspecModels.map { String($0.id) }.joined(separator: " "))"
                    } else {
                        let requests = ((try? m.fullPollPlan()) ?? [:]).values.reduce(0) { $0 + $1.count }
                        line += ", \(m.points.count) points, \(requests) requests per full poll"
                    }
                    line += ", \(m.tests.count) test vectors"
                }
                print(line + ")")
                if profile.driver == ModbusProfile.driverClass {
                    for (point, reason) in (try? ModbusProfile(json: profile.document, file: file))?.neverRead() ?? [] {
                        print("\(file): warning: \(point.path): \(reason)")
                    }
                    if profile.source == nil { print("\(file): warning: no \"source\": say where the register map comes from (document, version, URL)") }
                    if profile.document["tests"] == nil { print("\(file): warning: no \"tests\": add golden vectors (raw registers → values) for `profile test`") }
                    if let m = try? ModbusProfile(json: profile.document, file: file) {
                        for u in m.unrangedMeasurements { print("\(file): \(u)") }
                    }
                }
                return true
            }
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a Modbus profile's golden test vectors (raw registers → expected values).")

        @Argument(help: "Profile files.")
        var files: [String]

        @OptionGroup var folders: Folders

        func run() throws {
            try ProfileCommand.each(files, folders: folders) { file, profile in
                guard profile.driver == ModbusProfile.driverClass else {
                    print("\(file): not a Modbus profile (driver \(profile.driver)); nothing to test")
                    return true
                }
                let m = try ModbusProfile(json: profile.document, file: file)
                if m.tests.isEmpty {
                    print("\(file): no test vectors (add \"tests\": raw registers and the values they must give)")
                    return false
                }
                var checks = 0
                var failures: [TestVector.Failure] = []
                for v in m.tests {
                    checks += v.expect.count
                    failures += v.run(on: m)
                }
                for f in failures { print("\(file): \(f)") }
                print("\(file): \(m.tests.count) vectors, \(checks) values, \(failures.count) failed")
                return failures.isEmpty
            }
        }
    }

    struct Discover: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Scan a Modbus TCP device for SunSpec models and suggest the profiles that match it.")

        @Option(help: "Host name or address.") var host: String
        @Option(help: "Port.") var port: Int = 502
        @Option(help: "Unit id.") var unit: Int = 1
        @Option(help: "Answer timeout in ms.") var timeoutMs: Int = 2000
        @OptionGroup var folders: Folders

        func run() throws {
            let c = try ModbusConnection(host: host, port: port, unitId: unit, timeoutMs: timeoutMs)
            try c.connect()
            let read: (Int, Int) throws -> [UInt16] = { try c.readRegisters(address: $0, count: $1) }
            let chain = try SunSpecDiscovery.scan(read: read)
            print("SunSpec device at \(host):\(port) unit \(unit), base \(chain.base)")
            var identity: (manufacturer: String, model: String, version: String, serial: String)?
            if let id = try SunSpecLayout.identity(chain, read: read) {
                identity = id
                print("  manufacturer \(id.manufacturer)  model \(id.model)  version \(id.version)  serial \(id.serial)")
            }
            for m in chain.models { print("  model \(m.id) at \(m.start), \(m.length) registers") }
            let catalog = ProfileCatalog.load(directories: folders.directories)
            var suggestions: [(String, Int)] = []
            for p in catalog.profiles.values where p.driver == ModbusProfile.driverClass {
                guard let m = try? ModbusProfile(json: p.document, file: p.file), m.isSunSpec else { continue }
                let known = Set(m.sunspecModels.map(\.id))
                let covered = chain.models.filter { $0.id != 1 && known.contains($0.id) }.count
                guard covered > 0 else { continue }
                let matched = identity.map { id in m.match.contains { $0.matches(manufacturer: id.manufacturer, model: id.model, firmware: id.version) } } ?? false
                suggestions.append((p.id + (matched ? " (matches its identification)" : ""), covered * 2 + (matched ? 100 : 0)))
            }
            if suggestions.isEmpty {
                print("no profile in \(folders.directories.joined(separator: ", ")) knows these models")
            } else {
                print("profiles:")
                for (name, _) in suggestions.sorted(by: { ($0.1, $1.0) > ($1.1, $0.0) }) { print("  \(name)") }
            }
        }
    }
}
