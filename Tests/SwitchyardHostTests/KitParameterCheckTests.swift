import Logging
import Testing
@testable import SwitchyardHost
import SwitchyardJSON
import SwitchyardTestSupport

/// The Swift kit checks parameters against the class's declaration at the
/// boundary, in `create` and in `configure`: a plugin never runs with values
/// its own schema forbids, even when the host's validation was skipped (the
/// conformance suite's bad-parameter checks hand them in directly).
@Suite struct KitParameterCheckTests {
    let plugin: LoadedPlugin
    let context: InstanceContext

    init() throws {
        plugin = try LoadedPlugin.load(TestPaths.plugin("TestProbe"))
        context = InstanceContext(source: "controller p", deviceId: nil, page: nil, directory: ChannelDirectory(), clock: ManualClock(),
                                  log: LogQueue(logger: Logger(label: "test")), cycle: CycleState())
    }

    /// Every parameter of ProbeController at its default.
    static let defaults: [String: JSONValue] = [
        "output": "", "counter_output": "", "gain": 1, "mode": "ok", "fail_cycles": 0, "label": "", "recreate_above": 1e9,
    ]

    func create(_ changes: [String: JSONValue?]) throws(HostError) -> PluginInstance {
        var parameters = Self.defaults
        for (key, value) in changes { parameters[key] = value }
        return try PluginInstance.create(plugin: plugin, className: "ProbeController",
                                         config: ["id": "p", "parameters": .object(parameters)], context: context)
    }

    @Test func createRefusesValuesTheDeclarationForbids() throws {
        _ = try create([:])
        let below = #expect(throws: HostError.self) { try create(["fail_cycles": -1]) }
        #expect(below?.message == #"switchyard.test-probe 0.1.0: ProbeController refused to start (invalid): parameter "fail_cycles" must be >= 0, got -1"#)
        let notInteger = #expect(throws: HostError.self) { try create(["fail_cycles": 1.5]) }
        #expect(notInteger?.message.hasSuffix(#"parameter "fail_cycles" must be an integer, got 1.5"#) == true)
        let notChoice = #expect(throws: HostError.self) { try create(["mode": "sideways"]) }
        #expect(notChoice?.message.hasSuffix(#"parameter "mode" must be one of "ok", "fail", "fail_first", "refuse_create", "refuse_configure", "crash", "noop"; got "sideways""#) == true)
        let wrongType = #expect(throws: HostError.self) { try create(["gain": "high"]) }
        #expect(wrongType?.message.hasSuffix(#"parameter "gain" must be a number, got "high""#) == true)
    }

    @Test func configureRefusesThemToo() throws {
        let instance = try create([:])
        var parameters = Self.defaults
        parameters["fail_cycles"] = -2
        #expect(instance.configure(.object(parameters)) == .failed(#"parameter "fail_cycles" must be >= 0, got -2 (invalid)"#))
        parameters["fail_cycles"] = 3
        #expect(instance.configure(.object(parameters)) == .applied)
    }
}
