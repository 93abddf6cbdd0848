import Foundation
import Testing
import SwitchyardJSON
import SwitchyardTestSupport

/// The programs as a user runs them: real processes, real plugin files.
struct Program {
    let process = Process()
    let out = Pipe()
    let err = Pipe()

    init(_ name: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: TestPaths.executable(name))
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: TestPaths.packageRoot)
        process.standardOutput = out
        process.standardError = err
        try process.run()
    }

    /// Waits for exit (killing it after `timeout` seconds) and returns status and output.
    func finish(timeout: Double = 60) -> (status: Int32, stdout: String, stderr: String) {
        let deadline = Date().addingTimeInterval(timeout)
        // Drain the pipes while waiting so a chatty process cannot block on them.
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        group.wait()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    static func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try Program(name, arguments).finish()
    }
}

@Suite struct EdgeProcessTests {
    @Test func runsTheDemoSiteAndPrintsItsStatusEverySecond() throws {
        let r = try Program.run("switchyard-edge", ["run", "--duration", "3.5"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").filter { $0.contains("grid") }
        #expect(lines.count >= 2, "\(r.stdout)")
        for line in lines {
            #expect(line.contains(" W") && line.contains("battery") && line.contains("SoC") && line.contains("cycle"))
        }
        #expect(r.stderr.contains("applied config version 1 (generation 1): 4 devices (0 kept running), 2 controllers (0 reconfigured hot, 2 new)"))
        #expect(r.stderr.contains("stopped after"))
    }

    @Test func shutsDownCleanlyOnSIGINT() throws {
        let p = try Program("switchyard-edge", ["run", "--quiet"])
        Thread.sleep(forTimeInterval: 2)
        #expect(p.process.isRunning)
        kill(p.process.processIdentifier, SIGINT)
        let r = p.finish(timeout: 10)
        #expect(r.status == 0)
        #expect(r.stderr.contains("stopped after"))
    }

    @Test func refusesAnInvalidConfigWithFileAndPath() throws {
        let dir = TestPaths.temporaryDirectory()
        let file = dir + "/site.json"
        var text = try String(contentsOfFile: TestPaths.packageRoot + "/examples/simulated-site.json", encoding: .utf8)
        text = text.replacingOccurrences(of: "\"threshold_watts\": 6000", with: "\"threshold_watts\": -5")
        try text.write(toFile: file, atomically: true, encoding: .utf8)

        let check = try Program.run("switchyard-edge", ["check", file])
        #expect(check.status != 0)
        #expect(check.stderr.contains("\(file): scheduler.controllers[0].parameters.threshold_watts: must be >= 0, got -5"), "\(check.stderr)")

        let run = try Program.run("switchyard-edge", ["run", "--config", file, "--duration", "1"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("scheduler.controllers[0].parameters.threshold_watts: must be >= 0, got -5"))

        try "{\"version\": 1,\n  \"edge_id\": }".write(toFile: file, atomically: true, encoding: .utf8)
        let broken = try Program.run("switchyard-edge", ["check", file])
        #expect(broken.status != 0)
        #expect(broken.stderr.contains("\(file): invalid JSON at line 2, column 14"), "\(broken.stderr)")
    }

    /// What a plugin refuses (here: an empty daylight window) is refused by
    /// `check` and `config validate`, which create no instances.
    @Test func checkRunsThePluginsOwnChecks() throws {
        let dir = TestPaths.temporaryDirectory()
        let file = dir + "/site.json"
        var text = try String(contentsOfFile: TestPaths.packageRoot + "/examples/simulated-site.json", encoding: .utf8)
        text = text.replacingOccurrences(of: "\"peak_w\": 8000", with: "\"peak_w\": 8000, \"sunrise_hour\": 20, \"sunset_hour\": 8")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let expected = "\(file): devices[1].parameters: (device pv) SimulatedPV of switchyard.simulated-devices 1.0.0 refused it: "
            + "sunset_hour (8.0) must be after sunrise_hour (20.0)"
        let check = try Program.run("switchyard-edge", ["check", file])
        #expect(check.status == 1 && check.stderr.contains(expected), "\(check.stderr)")
        let validate = try Program.run("switchyard", ["config", "validate", file])
        #expect(validate.status == 1 && validate.stderr.contains(expected), "\(validate.stderr)")
    }

    /// `check` and `config validate` run the plugins' validate calls in
    /// child processes: one that aborts or never returns is a refusal of
    /// its device, the command goes on with the rest and ends normally.
    @Test func checkSurvivesAValidateThatCrashesOrHangs() throws {
        let dir = TestPaths.temporaryDirectory()
        let plugins = dir + "/plugins", profiles = dir + "/profiles"
        for d in [plugins, profiles] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        for (name, body) in [("Crash", "abort();"), ("Hang", "for (;;) pause();")] {
            let source = CFixture.plugin(id: "test.\(name.lowercased())", manifest: #"{"classes":[{"name":"\#(name)Sensor"}]}"#, validate: body)
            _ = try CFixture.build(source, name: name, in: plugins)
            try #"{"id": "\#(name.lowercased())", "driver": "\#(name)Sensor", "channels": [{"name": "Value"}]}"#
                .write(toFile: profiles + "/\(name).json", atomically: true, encoding: .utf8)
        }
        let file = dir + "/site.json"
        try #"""
        {"version": 1, "edge_id": "e", "devices": [
          {"device_id": "c", "profile": "crash"}, {"device_id": "h", "profile": "hang"},
          {"device_id": "pv", "profile": "simulated_pv", "parameters": {"sunrise_hour": 20, "sunset_hour": 8}}]}
        """#.write(toFile: file, atomically: true, encoding: .utf8)
        let options = ["--plugins", plugins, "--plugins", TestPaths.pluginDirectory, "--profiles", profiles, "--profiles", TestPaths.profileDirectory]
        for command in [["switchyard-edge", "check"], ["switchyard", "config", "validate"]] {
            let r = try Program.run(command[0], Array(command.dropFirst()) + [file] + options)
            #expect(r.status == 1, "\(command): \(r.stderr)")
            #expect(r.stderr.contains("devices[0].parameters: (device c) CrashSensor of test.crash 1.0.0 refused it: its validate crashed (signal 6"), "\(r.stderr)")
            #expect(r.stderr.contains("devices[1].parameters: (device h) HangSensor of test.hang 1.0.0 refused it: its validate did not return within 2 s"), "\(r.stderr)")
            #expect(r.stderr.contains("devices[2].parameters: (device pv) SimulatedPV of switchyard.simulated-devices 1.0.0 refused it: sunset_hour (8.0)"),
                    "the calls after them still ran: \(r.stderr)")
        }
    }

    @Test func theExampleFileIsTheEmbeddedDemoSite() throws {
        let r = try Program.run("switchyard-edge", ["example-config"])
        #expect(r.status == 0)
        let embedded = try JSONValue(parsing: r.stdout)
        let file = try JSONValue(parsing: String(contentsOfFile: TestPaths.packageRoot + "/examples/simulated-site.json", encoding: .utf8))
        #expect(embedded == file)
        let check = try Program.run("switchyard-edge", ["check", TestPaths.packageRoot + "/examples/simulated-site.json"])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("valid — 4 devices, 2 controllers, 2 alarms"))
    }
}

@Suite struct CLITests {
    @Test func listsPluginsAndRefusesABrokenOneByName() throws {
        let dir = TestPaths.temporaryDirectory()
        try FileManager.default.copyItem(atPath: TestPaths.plugin("BalancingController"), toPath: dir + "/libBalancingController.so")
        try "junk".write(toFile: dir + "/libjunk.so", atomically: true, encoding: .utf8)
        let r = try Program.run("switchyard", ["plugin", "list", "--plugins", dir])
        #expect(r.status == 0)
        #expect(r.stdout.contains("switchyard.balancing 1.0.0  controller  ABI 1.2  BalancingController"))
        #expect(r.stdout.contains("REFUSED \(dir)/libjunk.so: not a loadable shared object: expected an ELF shared object, found no ELF header"))
    }

    @Test func inspectsAPluginAndItsSchema() throws {
        let r = try Program.run("switchyard", ["plugin", "inspect", TestPaths.plugin("PeakShavingController")])
        #expect(r.status == 0)
        #expect(r.stdout.contains("plugin   switchyard.peak-shaving 1.0.0"))
        #expect(r.stdout.contains("threshold_watts: number, [W], >= 0, required, hot"))
        #expect(r.stdout.contains("battery: string, device with ess.*, required"))

        let json = try Program.run("switchyard", ["plugin", "inspect", "--json", TestPaths.plugin("ExampleCDriver")])
        let doc = try JSONValue(parsing: json.stdout)
        #expect(doc["id"] == "switchyard.example-c")
        #expect(doc["classes"]?.arrayValue?.first?["parameters"]?["properties"]?["amplitude"]?["minimum"] == 0)

        // A bare file name means the file in the current folder, not a library search.
        let bare = Process()
        bare.executableURL = URL(fileURLWithPath: TestPaths.executable("switchyard"))
        bare.arguments = ["plugin", "inspect", "libExampleCDriver.so"]
        bare.currentDirectoryURL = URL(fileURLWithPath: TestPaths.pluginDirectory)
        let pipe = Pipe()
        bare.standardOutput = pipe
        try bare.run()
        let bareOutput = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        bare.waitUntilExit()
        #expect(bare.terminationStatus == 0)
        #expect(bareOutput.contains("plugin   switchyard.example-c 1.0.0"))

        let missing = try Program.run("switchyard", ["plugin", "inspect", "/nonexistent/libx.so"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("refused: /nonexistent/libx.so: no such file"))
    }

    /// `plugin inspect` shows every keyword the host validates; a schema
    /// using each one, nested members and array items included.
    @Test func inspectShowsEverySchemaKeywordTheHostValidates() throws {
        let dir = TestPaths.temporaryDirectory()
        let manifest = #"""
        {"classes":[{"name":"KeywordSensor","description":"every keyword","parameters":{"type":"object","title":"ignored","required":["count"],
          "properties":{
            "ratio":{"type":"number","minimum":0,"maximum":1,"default":0.5,"unit":"%","hot":true,"description":"A ratio"},
            "step":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":10},
            "mode":{"type":"string","enum":["a","b"],"default":"a"},
            "count":{"type":"integer","minimum":1},
            "meter":{"type":"string","device":"meter"},
            "limits":{"type":"array","items":{"type":"number","minimum":0}},
            "extra":{"type":"object","properties":{"x":{"type":"boolean"}},"required":["x"],"additionalProperties":true},
            "anything":{}}}}]}
        """#
        let path = try CFixture.build(CFixture.plugin(manifest: manifest.replacingOccurrences(of: "\n", with: "")), name: "keywords", in: dir)
        let r = try Program.run("switchyard", ["plugin", "inspect", path])
        #expect(r.status == 0, "\(r.stderr)")
        let expected = """
        class KeywordSensor — every keyword
          parameters:
            anything: any
            count: integer, >= 1, required
            extra: object, other members accepted
              x: boolean, required
            limits: array
              items[]: number, >= 0
            meter: string, device with meter.*
            mode: string, one of "a"|"b", default "a"
            ratio: number, [%], >= 0, <= 1, default 0.5, hot
                A ratio
            step: number, > 0, < 10
        """
        #expect(r.stdout.contains(expected), "\(r.stdout)")
        #expect(r.stdout.contains("validate no: the schema only"), "the fixture has no validate")
        let shipped = try Program.run("switchyard", ["plugin", "inspect", TestPaths.plugin("BalancingController")])
        #expect(shipped.stdout.contains("validate yes: the plugin checks instance configs itself (ABI 1.2)"), "\(shipped.stdout)")
    }

    @Test func lintsProfiles() throws {
        let ok = try Program.run("switchyard", ["profile", "lint", TestPaths.profileDirectory + "/simulated/simulated_battery.json"])
        #expect(ok.status == 0)
        let dir = TestPaths.temporaryDirectory()
        try #"{"id": "x", "driver": "D", "channels": [{"name": "P", "standard": "ess.Power"}]}"#.write(toFile: dir + "/x.json", atomically: true, encoding: .utf8)
        let bad = try Program.run("switchyard", ["profile", "lint", dir + "/x.json"])
        #expect(bad.status != 0)
        #expect(bad.stdout.contains("\(dir)/x.json: channels[0].standard: unknown standard channel \"ess.Power\""))

        // Issue 14, item 7: the request count is the driver's, and a point never read is named.
        try #"""
            {"id": "y", "driver": "modbus", "source": "tests", "poll_groups": {"fast": {"interval_ms": 1000}, "ids": {"interval_ms": "once"}},
             "points": [{"name": "P", "address": 0, "type": "int16", "group": "fast"},
                        {"name": "Serial", "address": 10, "type": "string", "length": 4, "group": "ids"},
                        {"name": "Spare", "address": 300, "type": "uint16", "internal": true, "group": "fast"}]}
            """#.write(toFile: dir + "/y.json", atomically: true, encoding: .utf8)
        let warned = try Program.run("switchyard", ["profile", "lint", dir + "/y.json"])
        #expect(warned.status == 0)
        #expect(warned.stdout.contains("3 points, 2 requests per full poll"), "\(warned.stdout)")
        #expect(warned.stdout.contains("\(dir)/y.json: warning: points[2]: internal point \"Spare\" is no point's scale factor, so the driver never reads it"), "\(warned.stdout)")
    }
}
