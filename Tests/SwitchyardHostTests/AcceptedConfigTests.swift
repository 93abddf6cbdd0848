import Testing
@testable import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel
import SwitchyardTestSupport

/// Random configs of the shape the schema gives: every integer drawn from its
/// domain's edges (minimum, minimum + 1, maximum − 1, maximum, 0, 1) or from
/// inside it, now and then from just outside it or far beyond (2^63, 1e308),
/// and every plugin parameter from its class's declared schema the same way.
struct RandomConfigs {
    var random: SeededGenerator
    let classes: [String: PluginClassInfo]
    let profiles: [String: DeviceProfile]

    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items.randomElement(using: &random)! }

    /// An integer for a domain; outside it about one time in thirty.
    mutating func integer(_ range: ClosedRange<Int>) -> JSONValue {
        if chance(3) {
            // Huge but below 2^53 (3074457345619 ms overflowed `* 3_000_000`), and beyond any Int.
            return .number(pick([Double(range.lowerBound) - 1, Double(range.upperBound) + 1, 3_074_457_345_619, 9_223_372_036_855,
                                 9.223372036854775808e18, -9.3e18, 1e308]))
        }
        var edges = [range.lowerBound, range.upperBound, Int.random(in: range, using: &random)]
        if range.lowerBound < range.upperBound { edges += [range.lowerBound + 1, range.upperBound - 1] }
        edges += [0, 1].filter(range.contains)
        return .number(Double(pick(edges)))
    }

    mutating func number(minimum: Double?, maximum: Double?) -> JSONValue {
        let low = minimum ?? -1e308, high = maximum ?? 1e308
        var candidates = [low, high, 0, 1, -1, 0.5, 1e15, -1e15, 1e308, -1e308, Double.random(in: max(low, -1e6)...max(min(high, 1e6), max(low, -1e6)), using: &random)]
        candidates = candidates.filter { $0 >= low && $0 <= high }
        if chance(3) { return .number(pick([low - 1, high + 1, 1e308])) }
        return .number(pick(candidates))
    }

    /// A value for the declared parameter `name`, or nil to leave it out
    /// (never when it is required). `devices`: device id → profile.
    mutating func value(_ name: String, _ schema: ParameterSchema, required: Bool, devices: [String: DeviceProfile], channels: [String]) -> JSONValue? {
        if !required && chance(25) { return nil }
        if let values = schema.enumValues {
            // The test probe's "crash" mode crashes on purpose.
            return pick(values.filter { $0 != "crash" })
        }
        switch schema.type {
        case .integer?:
            let limit = Double(JSONValue.largestExactInteger)
            let low = Int(max(schema.minimum ?? -limit, -limit)), high = Int(min(schema.maximum ?? limit, limit))
            return integer(low...high)
        case .number?: return number(minimum: schema.minimum, maximum: schema.maximum)
        case .boolean?: return .bool(chance(50))
        case .string?:
            if let family = schema.device {
                let fitting = devices.filter { $0.value.implements(family: family) }.keys.sorted()
                return fitting.isEmpty ? nil : .string(pick(fitting))
            }
            if name.hasSuffix("output") { return .string(pick(channels + [""])) }
            return .string(pick(["", "default", "site-b", "x\u{1B}[31m"]))
        default: return nil
        }
    }

    mutating func document() -> JSONValue {
        var members: [String: JSONValue] = ["version": integer(0...JSONValue.largestExactInteger), "edge_id": "e"]
        var supervisor: [String: JSONValue] = [:]
        if chance(70) { supervisor["overrun_alert_threshold"] = integer(EdgeConfig.Limits.cycleCount) }
        if chance(70) { supervisor["controller_failure_limit"] = integer(EdgeConfig.Limits.cycleCount) }
        if chance(70) { supervisor["recovery_delay_ms"] = integer(EdgeConfig.Limits.recoveryDelayMs) }
        if chance(70) { supervisor["auto_recovery"] = .bool(chance(70)) }
        members["core_cycle"] = ["period_ms": chance(50) ? 1000 : integer(EdgeConfig.Limits.periodMs), "supervisor": .object(supervisor)]

        var devices: [JSONValue] = []
        var chosen: [String: DeviceProfile] = [:]
        var writable: [String] = []
        var readable: [String] = []
        for i in 0..<Int.random(in: chance(10) ? 0...1 : 2...5, using: &random) {
            let id = "d\(i)"
            // Mostly a battery and a meter first, so that the controllers have devices to bind.
            let profileId = i < 2 && chance(80) ? ["simulated_battery", "simulated_grid_meter"][i] : pick(profiles.keys.sorted())
            let profile = profiles[profileId]!
            var device: [String: JSONValue] = ["device_id": .string(id), "profile": .string(profileId)]
            if chance(5) { device["enabled"] = false }
            if chance(50) { device["poll_interval_ms"] = integer(EdgeConfig.Limits.intervalMs) }
            if let schema = classes[profile.driver]?.entry.parameters {
                var parameters: [String: JSONValue] = [:]
                for (name, property) in schema.properties.sorted(by: { $0.key < $1.key }) {
                    parameters[name] = value(name, property, required: schema.required.contains(name), devices: [:], channels: [])
                }
                device["parameters"] = .object(parameters)
            }
            if chance(30) {
                let names = profile.channels.filter { $0.access != .write }.map(\.name)
                device["poll_groups"] = ["fast": .array(names.prefix(1).map(JSONValue.string)), "slow": .array(names.dropFirst().map(JSONValue.string))]
            }
            devices.append(.object(device))
            chosen[id] = profile
            writable += profile.channels.filter { $0.access == .write }.map { "\(id)/\($0.name)" }
            readable += profile.channels.filter { $0.access != .write }.map { "\(id)/\($0.name)" }
        }
        members["devices"] = .array(devices)

        var controllers: [JSONValue] = []
        let controllerClasses = classes.values.filter { $0.kind == .controller }.map(\.entry).sorted { $0.name < $1.name }
        for i in 0..<Int.random(in: 0...3, using: &random) {
            let entry = pick(controllerClasses)
            var parameters: [String: JSONValue] = [:]
            for (name, property) in entry.parameters.properties.sorted(by: { $0.key < $1.key }) {
                parameters[name] = value(name, property, required: entry.parameters.required.contains(name), devices: chosen, channels: writable)
            }
            var controller: [String: JSONValue] = ["id": .string("c\(i)"), "class": .string(entry.name), "parameters": .object(parameters)]
            if chance(60) { controller["execution_order"] = integer(EdgeConfig.Limits.executionOrder) }
            if chance(10) { controller["enabled"] = false }
            controllers.append(.object(controller))
        }
        members["scheduler"] = ["controllers": .array(controllers)]

        var alarms: [JSONValue] = []
        for i in 0..<(readable.isEmpty ? 0 : Int.random(in: 0...2, using: &random)) {
            alarms.append(["id": .string("a\(i)"), "channel": .string(pick(readable)), "condition": .string(pick([">", "<", "!=", ">="])),
                           "threshold": number(minimum: nil, maximum: nil), "hysteresis": number(minimum: 0, maximum: nil)])
        }
        members["alarms"] = .array(alarms)
        if chance(30) {
            members["sync"] = ["interval_s": integer(5...86_400), "probation_cycles": integer(1...100_000),
                               "metrics_interval_s": integer(1...86_400), "state_report_min_s": integer(0...3_600)]
        }
        return .object(members)
    }
}

/// Simulated profiles with poll groups at the edges of their domain, as files.
private func pollGroupProfiles() throws -> String {
    let directory = TestPaths.temporaryDirectory()
    let intervals: [String] = ["1", "2", "86399999", "86400000", "\"once\"", "3074457345619"]
    for (i, interval) in intervals.enumerated() {
        let text = """
        {"id": "groups_\(i)", "driver": "SimulatedGeneric",
         "channels": [{"name": "Value"}, {"name": "Setpoint", "access": "write"}, {"name": "SetpointEcho"}],
         "poll_groups": {"g": {"interval_ms": \(interval), "channels": ["Value", "SetpointEcho"]}}}
        """
        try FileSystem.writeText(text, to: directory + "/groups_\(i).json")
    }
    return directory
}

@Suite struct AcceptedConfigTests {
    /// The property: whatever config the validator accepts, preparing it and
    /// running cycles (inline device I/O, a manual clock) does not trap. A
    /// trap ends the test process, so reaching the end is the check; the
    /// counts make sure that most cases were accepted and ran.
    @Test func everyAcceptedConfigRunsWithoutATrap() throws {
        let plugins = PluginCatalog.load(directories: TestPaths.pluginDirectories)
        let profiles = ProfileCatalog.load(directories: [TestPaths.profileDirectory, try pollGroupProfiles()] + fixtureProfiles)
        // Modbus devices would try to reach hardware; every other profile takes part.
        let usable = profiles.profiles.filter { plugins.classes[$0.value.driver]?.pluginId.contains("modbus") == false }
        #expect(usable.keys.contains("groups_3") && !usable.keys.contains("groups_5"), "the profile beyond a day is refused when loaded")
        var generator = RandomConfigs(random: SeededGenerator(seed: 26), classes: plugins.classes, profiles: usable)
        var accepted = 0, ran = 0
        let cases = 400
        for _ in 0..<cases {
            let clock = ManualClock(startNs: 1_000_000_000)
            let host = EdgeHost(plugins: plugins, profiles: profiles, clock: clock, deviceIO: .inline)
            defer { host.stop() }
            for _ in 0..<2 {
                // A second config on the same host: kept workers are retimed, controllers reconfigured.
                guard let config = try? EdgeConfig(json: generator.document()) else { continue }
                do {
                    try host.apply(config)
                } catch {
                    continue
                }
                accepted += 1
                let periodNs = Int64(config.coreCycle.periodMs) * 1_000_000
                for _ in 0..<4 {
                    host.runCycle(deadlineNs: clock.monotonicNs())
                    clock.advance(byNs: periodNs)
                }
                // Far ahead: past every recovery delay and poll interval.
                clock.advance(byNs: 100_000_000_000_000)
                host.runCycle(deadlineNs: clock.monotonicNs())
                if host.status().periodMs == config.coreCycle.periodMs { ran += 1 }
            }
        }
        // 243 of 800 with this seed: refusals come mostly from plugins' own
        // cross-checks (min_soc below max_soc) and from values drawn out of range.
        #expect(accepted > cases / 2, "accepted \(accepted) of \(2 * cases)")
        #expect(ran == accepted, "every accepted config was swapped in and cycled")
    }
}
