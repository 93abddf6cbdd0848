import Foundation
import Logging
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel

/// Where the package, its built plugins and its profiles are.
public enum TestPaths {
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/Support/TestSupport.swift
        return url.path
    }()

    /// The build folder holding the plugin libraries: next to the test runner.
    public static let pluginDirectory: String = {
        let runner = FileSystem.executableDirectory()
        if FileManager.default.fileExists(atPath: runner + "/libBalancingController.so") { return runner }
        return packageRoot + "/.build/debug"
    }()

    /// The test-only plugins (`Tests/Plugins/TestProbe`: `ProbeController`), a
    /// package of their own built against the SDK package into
    /// `.build/test-plugins`, so no shipped build folder holds them. Built on
    /// first use, once per test process (in the configuration of the test
    /// build); `make test` builds them first, so this is then a no-op build.
    /// A failed build stops the tests with SwiftPM's output.
    public static let testPluginDirectory: String = {
        let configuration = pluginDirectory.hasSuffix("/release") ? "release" : "debug"
        let scratch = packageRoot + "/.build/test-plugins"
        do {
            try CFixture.run("/usr/bin/env", ["swift", "build", "--package-path", packageRoot + "/Tests/Plugins/TestProbe",
                                              "--scratch-path", scratch, "-c", configuration])
        } catch {
            fatalError("building the test plugins in Tests/Plugins/TestProbe failed: \(error)")
        }
        return scratch + "/" + configuration
    }()

    /// The shipped plugins and the test-only ones: what a test host loads.
    public static var pluginDirectories: [String] { [pluginDirectory, testPluginDirectory] }

    public static let profileDirectory = packageRoot + "/DeviceProfiles"

    /// The library of plugin `name`: a shipped one, or a test-only one (`TestProbe`).
    public static func plugin(_ name: String) -> String {
        let shipped = pluginDirectory + "/lib\(name).so"
        return FileManager.default.fileExists(atPath: shipped) ? shipped : testPluginDirectory + "/lib\(name).so"
    }

    public static func executable(_ name: String) -> String { pluginDirectory + "/" + name }

    /// A fresh temporary folder.
    public static func temporaryDirectory() -> String {
        var template = Array((NSTemporaryDirectory() + "/switchyard-test-XXXXXX").utf8CString)
        let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: path!)
    }
}

/// One site on a manual clock, with device I/O stepped inline: runs simulated
/// hours in a fraction of a second and gives the same numbers every time.
public final class SiteHarness {
    public let host: EdgeHost
    public let clock: ManualClock
    public var periodNs: Int64

    /// Loads the built plugins and the repository's profiles (plus `extraProfiles`).
    public init(config: String, startHour: Double = 12, extraProfiles: [String] = [], dataDirectory: String? = nil,
                logger: Logger = Logger(label: "switchyard.edge")) throws {
        // 2026-01-01T00:00:00Z plus the start hour.
        clock = ManualClock(startNs: 1_000_000_000, wallClockOriginNs: 1_767_225_600_000_000_000 + Int64(startHour * 3.6e12) - 1_000_000_000)
        let plugins = PluginCatalog.load(directories: TestPaths.pluginDirectories)
        let profiles = ProfileCatalog.load(directories: [TestPaths.profileDirectory] + extraProfiles)
        host = EdgeHost(plugins: plugins, profiles: profiles, clock: clock, deviceIO: .inline, logger: logger, dataDirectory: dataDirectory)
        let document = try EdgeConfig(parsing: config, file: "test config")
        periodNs = Int64(document.coreCycle.periodMs) * 1_000_000
        try host.apply(document)
    }

    /// Applies another config at the next cycle.
    public func apply(_ config: String) throws {
        let document = try EdgeConfig(parsing: config, file: "test config")
        periodNs = Int64(document.coreCycle.periodMs) * 1_000_000
        try host.apply(document)
    }

    /// Runs `count` cycles, calling `each` after every one.
    public func run(cycles count: Int, each: (Int) -> Void = { _ in }) {
        for i in 0..<count {
            host.runCycle(deadlineNs: clock.monotonicNs())
            each(i)
            clock.advance(byNs: periodNs)
        }
    }

    public func value(_ address: String) -> Double? {
        guard let r = host.reading(address), r.quality == .good else { return nil }
        return r.value
    }

    public func quality(_ address: String) -> ValueQuality? { host.reading(address)?.quality }

    /// What `capture` holds once the host's queued log lines are written.
    public func logged(_ capture: LogCapture) -> [String] {
        host.log.flush()
        return capture.lines.map(\.message)
    }

    public func device(_ id: String) -> DeviceStatus? { host.status().devices.first { $0.deviceId == id } }

    public func controller(_ id: String) -> ControllerStatus? { host.status().controllers.first { $0.id == id } }

    deinit { host.stop() }
}

/// Builds C plugin fixtures with the system compiler, as an integrator would
/// build a plugin out of tree.
public enum CFixture {
    public static let header = TestPaths.packageRoot + "/SDK/Sources/CSwitchyardPlugin/include"
    public static let exportsMap = TestPaths.packageRoot + "/SDK/exports.map"

    /// Compiles `source` into `<dir>/lib<name>.so`; returns its path.
    public static func build(_ source: String, name: String, in dir: String, exportsOnlyEntry: Bool = true, extraFlags: [String] = []) throws -> String {
        let c = dir + "/\(name).c"
        try source.write(toFile: c, atomically: true, encoding: .utf8)
        let out = dir + "/lib\(name).so"
        var args = ["-shared", "-fPIC", "-O1", "-I", header, c, "-o", out, "-lm"] + extraFlags
        if exportsOnlyEntry { args.append("-Wl,--version-script=\(exportsMap)") }
        try run("/usr/bin/cc", args)
        return out
    }

    /// A complete, valid C driver plugin whose descriptor and manifest can be
    /// altered by macros, for loader tests.
    public static func plugin(id: String = "test.fixture", version: String = "1.0.0", major: String = "SY_ABI_MAJOR",
                              minor: String = "SY_ABI_MINOR", size: String = "sizeof(sy_plugin_descriptor)",
                              manifest: String = #"{"classes":[{"name":"FixtureSensor"}]}"#, kind: String = "SY_KIND_DRIVER",
                              validate: String? = nil) -> String {
        let escaped = manifest.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let idLiteral = id == "NULL" ? "NULL" : "\"\(id)\""
        // With `validate` (the C text of its body; `c` is the class name, `j`
        // the instance config), the descriptor ends with an ABI 1.2 validate.
        let validateFunction = validate.map { "static sy_status fx_validate(const char *c, const char *j, char *e, size_t n) { \($0) }" } ?? ""
        return """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>
        #include "switchyard_plugin.h"
        \(validateFunction)
        static sy_status fx_create(const sy_host_api *h, const char *c, const char *j, sy_instance *o, char *e, size_t n) { *o = malloc(1); return SY_OK; }
        static sy_status fx_configure(sy_instance i, const char *p, char *e, size_t n) { return SY_OK; }
        static void fx_destroy(sy_instance i) { free(i); }
        static sy_status fx_start(sy_instance i, char *e, size_t n) { return SY_OK; }
        static sy_status fx_poll(sy_instance i, const char *g, char *e, size_t n) { return SY_OK; }
        static sy_status fx_write(sy_instance i, const sy_setpoint *s, size_t c, char *e, size_t n) { return SY_OK; }
        static void fx_stop(sy_instance i) {}
        static const sy_driver_api driver = { sizeof(sy_driver_api), fx_start, fx_poll, fx_write, fx_stop };
        static const sy_plugin_descriptor d = { \(major), \(minor), \(size), \(kind), \(idLiteral), "\(version)", "\(escaped)",
            fx_create, fx_configure, fx_destroy, &driver, NULL\(validate == nil ? "" : ", fx_validate") };
        const sy_plugin_descriptor *switchyard_plugin_entry_v1(void) { return &d; }
        """
    }

    /// Runs a program; throws with its output if it fails.
    @discardableResult
    public static func run(_ path: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else {
            throw FixtureError(message: "\(path) \(arguments.joined(separator: " ")) failed (\(p.terminationStatus)):\n\(output)")
        }
        return output
    }

    public struct FixtureError: Error, CustomStringConvertible {
        public let message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }
}
