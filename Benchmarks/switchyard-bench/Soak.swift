import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel

#if canImport(Glibc)
import Glibc
#endif

/// The hot-reload soak: a simulated site at a 100 ms period takes a stream of
/// parameter changes, profile edits and plugin swaps, and we measure whether
/// the cycle notices: overruns, missed cycles, start lateness against a quiet
/// baseline in the same run, and how many cycles each change took to land.
struct Soak {
    let plugins: String
    let profiles: String
    /// The repository, for the C header and the swap plugin's source.
    let sourceRoot: String
    let baselineSeconds: Double
    let soakSeconds: Double
    let parameterChanges = 1000
    let profileChanges = 100
    let pluginSwaps = 10

    func run() throws {
        let dir = "/tmp/switchyard-soak-\(getpid())"
        let swapDir = dir + "/plugins"
        FileSystem.makeDirectories(swapDir)
        FileSystem.makeDirectories(dir + "/profiles")
        defer { _ = system("rm -rf '\(dir)'") }

        // Eleven builds of one C controller, each a new version.
        for v in 0...pluginSwaps {
            let flags = "-DPLUGIN_ID='\"bench.soak-swap\"' -DCLASS_NAME='\"SoakSwapController\"' -DPLUGIN_VERSION='\"1.0.\(v)\"' -DVALUE=\(v)"
            guard system("cc -shared -fPIC -O2 -I '\(sourceRoot)/SDK/Sources/CSwitchyardPlugin/include' \(flags) '\(sourceRoot)/Tests/Fixtures/plugins/versioned_controller.c' -o '\(dir)/swap-\(v).so'") == 0 else {
                print("soak: skipped (cc could not build Tests/Fixtures/plugins/versioned_controller.c)")
                return
            }
        }
        try FileSystem.copy(dir + "/swap-0.so", to: swapDir + "/libSoakSwap.so")
        let edited = dir + "/profiles/edited.json"
        try FileSystem.writeText(Self.editedProfile(revision: 0), to: edited)
        try FileSystem.writeText(Self.genericProfile, to: dir + "/profiles/generic.json")

        let host = EdgeHost(plugins: PluginCatalog.load(directories: [plugins, swapDir]),
                            profiles: ProfileCatalog.load(directories: [profiles, dir + "/profiles"]), logger: quietLogger("soak"))
        let base = try config(gain: 0)
        try host.apply(base)
        try host.start()
        defer { host.stop() }
        let clock = SystemClock()
        clock.sleep(untilNs: clock.monotonicNs() + 3_000_000_000)

        host.resetStatistics()
        clock.sleep(untilNs: clock.monotonicNs() + Int64(baselineSeconds * 1e9))
        let baseline = host.status().statistics

        host.resetStatistics()
        var delays: [String: [(cycles: UInt64, ms: Double)]] = ["parameter": [], "profile": [], "plugin swap": []]
        var failures: [String] = []
        let events = schedule()
        let start = clock.monotonicNs()
        for (i, event) in events.enumerated() {
            clock.sleep(untilNs: start + Int64(event.atSeconds * 1e9))
            let before = host.status().cyclesStarted
            let t0 = clock.monotonicNs()
            do {
                switch event.kind {
                case "parameter":
                    try host.apply(config(gain: Double(i)))
                case "profile":
                    try FileSystem.writeText(Self.editedProfile(revision: i), to: edited)
                    try host.reload(config(gain: Double(i)), pluginCacheDirectory: dir + "/cache")
                default:
                    let n = (delays["plugin swap"]?.count ?? 0) + 1
                    try FileSystem.copy(dir + "/swap-\(n).so", to: swapDir + "/libSoakSwap.so")
                    try host.reload(config(gain: Double(i)), pluginCacheDirectory: dir + "/cache")
                }
                let applied = host.status().appliedAtCycle
                delays[event.kind]!.append((applied - before, Double(clock.monotonicNs() - t0) / 1e6))
            } catch {
                failures.append("\(event.kind): \(error)")
            }
            host.log.flush()
        }
        let soak = host.status()
        let s = soak.statistics
        let periodUs = Double(s.periodNs) / 1e3

        print("hot-reload soak at \(s.periodNs / 1_000_000) ms: \(Int(baselineSeconds)) s quiet baseline, then \(Int(soakSeconds)) s with \(parameterChanges) parameter changes, \(profileChanges) profile edits, \(pluginSwaps) plugin swaps")
        print("  overruns            \(s.overruns) (target 0)      missed cycles \(s.missedCycles) (target 0)      quiet baseline: \(baseline.overruns) overruns, \(baseline.missedCycles) missed")
        print("  start lateness p99  with changes \(fixed(Double(s.lateness.percentile(0.99)) / 1e3, 1)) µs   quiet \(fixed(Double(baseline.lateness.percentile(0.99)) / 1e3, 1)) µs   (max \(fixed(Double(s.lateness.maxNs) / 1e3, 1)) µs vs \(fixed(Double(baseline.lateness.maxNs) / 1e3, 1)) µs; period \(fixed(periodUs, 0)) µs)")
        print("  work per cycle p99  with changes \(fixed(Double(s.work.percentile(0.99)) / 1e3, 1)) µs   quiet \(fixed(Double(baseline.work.percentile(0.99)) / 1e3, 1)) µs")
        for kind in ["parameter", "profile", "plugin swap"] {
            let d = delays[kind] ?? []
            guard !d.isEmpty else { continue }
            let cycles = d.map(\.cycles).sorted()
            let ms = d.map(\.ms).sorted()
            let next = cycles.filter { $0 <= 1 }.count
            print("  \(kind) changes: \(d.count) applied; took effect in the next cycle: \(next)/\(d.count) (max \(cycles.last!) cycles); request → applied p50 \(fixed(ms[ms.count / 2], 1)) ms, p99 \(fixed(ms[min(ms.count - 1, ms.count * 99 / 100)], 1)) ms, max \(fixed(ms.last!, 1)) ms")
        }
        print("  devices running at the end: \(soak.devices.filter { $0.state == .running }.count)/\(soak.devices.count); controllers with failures: \(soak.controllers.filter { $0.totalFailures > 0 }.count); refused changes: \(failures.count)")
        for f in failures.prefix(5) { print("    refused: \(f)") }
        print("")
    }

    struct Event {
        var atSeconds: Double
        var kind: String
    }

    /// Changes spread evenly over the soak, interleaved.
    func schedule() -> [Event] {
        var events: [Event] = []
        for i in 0..<parameterChanges { events.append(Event(atSeconds: soakSeconds * (Double(i) + 0.5) / Double(parameterChanges), kind: "parameter")) }
        for i in 0..<profileChanges { events.append(Event(atSeconds: soakSeconds * (Double(i) + 0.25) / Double(profileChanges), kind: "profile")) }
        for i in 0..<pluginSwaps { events.append(Event(atSeconds: soakSeconds * (Double(i) + 0.75) / Double(pluginSwaps), kind: "plugin swap")) }
        return events.sorted { $0.atSeconds < $1.atSeconds }
    }

    func config(gain: Double) throws -> EdgeConfig {
        let generic: [JSONValue] = (0..<10).map { ["device_id": .string("gen\($0)"), "profile": "soak_generic", "parameters": ["amplitude": 10]] }
        let doc: JSONValue = [
            "version": .number(gain + 1), "edge_id": "soak",
            "core_cycle": ["period_ms": 100, "supervisor": ["overrun_alert_threshold": 3]],
            "scheduler": ["controllers": [
                ["id": "peak", "class": "PeakShavingController", "execution_order": 1, "parameters": ["threshold_watts": 6000, "battery": "battery", "meter": "grid"]],
                ["id": "balance", "class": "BalancingController", "execution_order": 2, "parameters": ["battery": "battery", "meter": "grid"]],
                ["id": "probe", "class": "ProbeController", "execution_order": 3, "parameters": ["output": "gen1/Setpoint", "counter_output": "gen1/Counter", "gain": .number(gain)]],
                ["id": "swap", "class": "SoakSwapController", "execution_order": 4, "parameters": ["output": "gen2/Setpoint"]],
            ]],
            "devices": .array([
                ["device_id": "battery", "profile": "simulated_battery", "parameters": ["site": "soak"]],
                ["device_id": "pv", "profile": "simulated_pv", "parameters": ["site": "soak"]],
                ["device_id": "house", "profile": "simulated_load", "parameters": ["site": "soak"]],
                ["device_id": "grid", "profile": "simulated_grid_meter", "parameters": ["site": "soak"]],
                ["device_id": "edited", "profile": "soak_edited_live"],
            ] + generic),
        ]
        return try EdgeConfig(json: doc)
    }

    static let genericProfile = """
        {"id": "soak_generic", "driver": "SimulatedGeneric",
         "channels": [{"name": "Value"}, {"name": "Setpoint", "access": "write"}, {"name": "SetpointEcho"},
                      {"name": "Counter", "access": "write"}, {"name": "CounterEcho"}]}
        """

    /// The profile that is edited during the soak; only its one device restarts.
    static func editedProfile(revision: Int) -> String {
        """
        {"id": "soak_edited_live", "driver": "SimulatedGeneric", "description": "revision \(revision)",
         "channels": [{"name": "Value"}, {"name": "Setpoint", "access": "write"}, {"name": "SetpointEcho"}]}
        """
    }
}
