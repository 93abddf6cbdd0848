import ArgumentParser
import SwitchyardHost
import SwitchyardModbusIO
import SwitchyardModbusProfile
import SwitchyardModel

#if canImport(Glibc)
import Glibc
#endif

struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sim", abstract: "Simulated devices.", subcommands: [Modbus.self])

    struct Modbus: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a profile's register map over Modbus TCP with simulated values; accepts writes.",
            discussion: "Addresses no point covers answer 'illegal data address'. A SunSpec profile is served as a SunSpec device at 40000. Stops on SIGINT or SIGTERM.")

        @Option(help: "The profile (a file, or an id in the profile folders).") var profile: String
        @Option(help: "Port (0: any free port, printed at start).") var port: Int = 1502
        @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
        @OptionGroup var folders: ProfileCommand.Folders

        func run() throws {
            let device: DeviceProfile
            if FileSystem.exists(profile) {
                let loaded = ProfileCommand.load([profile], folders: folders)[0]
                guard let p = loaded.profile else {
                    throw Refused(message: loaded.errors.map { $0.description }.joined(separator: "\n"))
                }
                device = p
            } else {
                let catalog = ProfileCatalog.load(directories: folders.directories)
                guard let p = catalog.profiles[profile] else { throw Refused(message: "no profile \"\(profile)\" in \(folders.directories.joined(separator: ", ")) (and no such file)") }
                device = p
            }
            guard device.driver == ModbusProfile.driverClass else { throw Refused(message: "\(device.id) is not a Modbus profile (driver \(device.driver))") }
            let modbus = try ModbusProfile(json: device.document, file: device.file)
            let server = try ModbusServer(host: host, port: port)
            let clock = SystemClock()
            let handler = SimulatedDeviceServer(simulation: ProfileSimulation(profile: modbus), monotonicSeconds: { Double(clock.monotonicNs()) / 1e9 })
            StopSignal.install()
            print("serving \(device.id) on \(host):\(server.port) (Modbus TCP\(modbus.isSunSpec ? ", SunSpec at 40000" : "")); ready")
            fflush(nil)
            server.run(handler: handler) { StopSignal.requested }
        }
    }
}

/// SIGINT/SIGTERM set a flag the server loop checks.
enum StopSignal {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0
    static var requested: Bool { flag != 0 }

    static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        // Children of test runners inherit a blocked mask.
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        signal(SIGINT) { _ in StopSignal.flag = 1 }
        signal(SIGTERM) { _ in StopSignal.flag = 1 }
    }
}
