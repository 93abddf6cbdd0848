import Foundation

/// A PostgreSQL server for the `PostgresStore` tests: the one named by
/// `SWITCHYARD_TEST_POSTGRES_URL`, or else the throwaway cluster of
/// scripts/test-postgres.sh, started once per test process.
public enum TestPostgres {
    public struct Unavailable: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Started at the first use; the script is idempotent and serializes
    /// concurrent starts, so parallel test processes share one cluster.
    private static let server: Result<String, Unavailable> = {
        if let url = ProcessInfo.processInfo.environment["SWITCHYARD_TEST_POSTGRES_URL"], !url.isEmpty {
            return .success(url)
        }
        do {
            let output = try run(TestPaths.packageRoot + "/scripts/test-postgres.sh", ["start"])
            guard let url = output.split(separator: "\n").last.map(String.init), url.hasPrefix("postgres") else {
                return .failure(Unavailable(message: "scripts/test-postgres.sh start printed no URL: \(output)"))
            }
            return .success(url)
        } catch let error as Unavailable {
            return .failure(error)
        } catch {
            return .failure(Unavailable(message: "scripts/test-postgres.sh start: \(error)"))
        }
    }()

    /// The server's URL (its `switchyard` database).
    public static func url() throws -> String { try server.get() }

    /// A new, empty database on that server, so no test sees another's rows.
    /// (They are not dropped: the cluster is thrown away whole.)
    public static func freshDatabase() throws -> String {
        let base = try url()
        let name = "sy_test_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        _ = try run("/usr/bin/env", ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", base, "-c", "CREATE DATABASE \(name)"])
        return replacingDatabase(in: base, with: name)
    }

    /// `postgres://u@h:p/old?x=y` with `new` in place of `old`.
    static func replacingDatabase(in url: String, with database: String) -> String {
        let query = url.firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        let base = url.firstIndex(of: "?").map { String(url[..<$0]) } ?? url
        guard let schemeEnd = base.range(of: "://") else { return base + "/" + database + query }
        let authorityEnd = base[schemeEnd.upperBound...].firstIndex(of: "/") ?? base.endIndex
        return base[..<authorityEnd] + "/" + database + query
    }

    /// Runs a program; its stdout, or `Unavailable` with stdout and stderr.
    private static func run(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PGCONNECT_TIMEOUT"] = "10"
        process.environment = environment
        let stdout = Pipe()
        // A file, not a pipe: a full stderr pipe nobody reads would block the program.
        let errorPath = NSTemporaryDirectory() + "/switchyard-test-postgres-\(UUID().uuidString).err"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        guard let stderr = FileHandle(forWritingAtPath: errorPath) else {
            throw Unavailable(message: "cannot write \(errorPath)")
        }
        defer { try? stderr.close() }
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            throw Unavailable(message: "\(path) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)):\n\(output)\(errors)")
        }
        return output
    }
}
