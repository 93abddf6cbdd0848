import ArgumentParser
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel

extension PluginCommand {
    /// `switchyard plugin test`: the driver conformance suite (docs/plugins.md §6).
    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the driver conformance suite on a driver library and print a pass/fail table.",
            discussion: """
            Loads LIB with the host's loader and exercises one instance of the class its --profile names: create, \
            start, poll every poll group, write every writable channel, hot configure, bad parameters, stop while \
            polling, repeated start/stop, destroy; and checks the ABI's thread rules and every published value. \
            Exit status 0 only if no check failed. The plugin runs in this process: a crash of the plugin ends the run.
            """)

        @Argument(help: "The driver library (.so), or its file name in the --plugins folders.")
        var library: String

        @Option(help: "The device profile (.json) to test with; its `driver` names the class.")
        var profile: String

        @Option(name: .customLong("profiles"), help: "Profile folder to resolve the profile's `extends` in (repeatable). Default: the profile's own folder.")
        var profileDirectories: [String] = []

        @Option(name: .customLong("config"), help: "A device entry as in a config's `devices` (connection, parameters, poll_groups).")
        var deviceConfig: String?

        @Option(help: "Parameters as a JSON object, laid over the profile's and the device entry's.")
        var parameters: String?

        @Option(name: .customLong("plugins"), help: "Folder to find LIB in when it is a bare file name (repeatable). Default: the folder of this executable.")
        var plugins: [String] = []

        @Option(name: .customLong("timeout-ms"), help: "The longest one plugin call may take before its check fails.")
        var timeoutMs = 5_000

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() throws {
            let report: ConformanceReport
            do { report = try conformanceReport() } catch { throw Refused(message: error.message) }
            print(json ? report.json.prettyText : report.table)
            if !report.passed { throw ExitCode(1) }
        }

        func conformanceReport() throws(DriverConformance.InputError) -> ConformanceReport {
            var options = DriverConformance.Options()
            options.callTimeoutMs = max(1, timeoutMs)
            let profileDocument = try DriverConformance.loadProfile(profile, profileDirectories: profileDirectories)
            let device = try DriverConformance.deviceConfig(file: deviceConfig, parameters: parameters, profile: profileDocument)
            return try DriverConformance.run(library: libraryPath(), profile: profileDocument, device: device,
                                             source: deviceConfig ?? "--parameters", options: options)
        }

        /// LIB as given when it exists or names a folder, else looked up in the plugin folders.
        func libraryPath() -> String {
            if library.contains("/") || FileSystem.exists(library) { return library }
            for folder in plugins.isEmpty ? EdgeSetup.defaultPluginDirectories : plugins where FileSystem.exists(folder + "/" + library) {
                return folder + "/" + library
            }
            return library
        }
    }
}
