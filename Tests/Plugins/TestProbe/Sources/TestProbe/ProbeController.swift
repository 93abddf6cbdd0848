import SwitchyardPluginKit

@c @implementation
public func switchyard_plugin_entry_v1() -> UnsafePointer<sy_plugin_descriptor>! {
    PluginExport.controllers(id: "switchyard.test-probe", version: "0.1.0", ProbeController.self)
}

/// A controller for tests. It writes `gain` to `output` and the number of
/// cycles this instance has run to `counter_output`, so a test can see hot
/// changes and re-creations; it fails, refuses or crashes on request; and it
/// checks in every cycle that Swift generics, protocol conformances and
/// dynamic casts work inside this plugin image while other plugins with their
/// own copy of the kit are loaded in the same process.
final class ProbeController: Controller {
    static let className = "ProbeController"
    static let summary = "Test probe: writes gain and a cycle counter; fails on request"
    static let parameters: [Parameter] = [
        .string("output", "Channel to write gain to (empty: none)", default: "", hot: false),
        .string("counter_output", "Channel to write the cycle count to (empty: none)", default: "", hot: false),
        .number("gain", "Value written to output", default: 1, hot: true),
        .string("mode", "ok, fail (every cycle), fail_first (the first fail_cycles cycles), refuse_create, refuse_configure (refuse any hot change), crash, noop (return at once: for measuring the call itself)",
                oneOf: ["ok", "fail", "fail_first", "refuse_create", "refuse_configure", "crash", "noop"], default: "ok", hot: true),
        .integer("fail_cycles", "Cycles to fail in mode fail_first", min: 0, default: 0, hot: true),
        .string("label", "A parameter that is not hot", default: ""),
        .number("recreate_above", "configure answers needs-recreate when gain exceeds this", default: 1e9, hot: true),
    ]

    let host: HostContext
    let output: Channel?
    let counterOutput: Channel?
    var gain: Double
    var mode: String
    var failCycles: Int
    var label: String
    var cycles = 0

    init(host: HostContext, config: InstanceConfig) throws {
        self.host = host
        let p = config.parameters
        mode = try p.string("mode")
        if mode == "refuse_create" { throw PluginError.invalid("refusing to start as asked (mode refuse_create)") }
        let out = try p.string("output")
        output = out.isEmpty ? nil : try host.channel(out)
        let counter = try p.string("counter_output")
        counterOutput = counter.isEmpty ? nil : try host.channel(counter)
        gain = try p.double("gain")
        failCycles = try p.int("fail_cycles")
        label = try p.string("label")
        try RuntimeCheck.run()
    }

    func configure(_ p: Parameters) throws -> Reconfiguration {
        if try p.string("mode") == "refuse_configure" { throw PluginError.invalid("refusing the change as asked (mode refuse_configure)") }
        if try p.double("gain") > p.double("recreate_above") { return .needsRecreate }
        if try p.string("label") != label || p["output"] != .string(output?.address ?? "") || p["counter_output"] != .string(counterOutput?.address ?? "") {
            return .needsRecreate
        }
        gain = try p.double("gain")
        mode = try p.string("mode")
        failCycles = try p.int("fail_cycles")
        return .applied
    }

    func execute(_ cycle: CycleInfo) throws {
        if mode == "noop" { return }
        cycles += 1
        switch mode {
        case "fail": throw PluginError.invalid("failing as asked (mode fail)")
        case "fail_first" where cycles <= failCycles: throw PluginError.invalid("failing cycle \(cycles) of \(failCycles) as asked")
        case "crash": fatalError("crashing as asked (mode crash)")
        default: break
        }
        try RuntimeCheck.run()
        if let output { host.write(output, gain) }
        if let counterOutput { host.write(counterOutput, Double(cycles)) }
    }
}

/// Generics, associated types, existentials and dynamic casts, checked for
/// the answers Swift guarantees. If two plugins' copies of a type were ever
/// confused by the runtime, one of these would come out wrong.
enum RuntimeCheck {
    protocol Shape { var area: Double { get } }
    struct Square: Shape, Equatable { var side: Double; var area: Double { side * side } }
    struct Circle: Shape { var r: Double; var area: Double { 3 * r * r } }
    protocol Summing { associatedtype Element; func sum(_ xs: [Element]) -> Element }
    struct DoubleSum: Summing { func sum(_ xs: [Double]) -> Double { xs.reduce(0, +) } }

    static func total<S: Summing>(_ s: S, _ xs: [S.Element]) -> S.Element { s.sum(xs) }

    static func run() throws {
        let shapes: [any Shape] = [Square(side: 2), Circle(r: 1), Square(side: 3)]
        let squares = shapes.compactMap { $0 as? Square }
        let anyValues: [Any] = [Square(side: 1), "text", 42, Circle(r: 2)]
        let shapeCount = anyValues.filter { $0 is any Shape }.count
        let area = total(DoubleSum(), shapes.map(\.area))
        guard squares == [Square(side: 2), Square(side: 3)], shapeCount == 2, area == 16,
              (anyValues[2] as? Int) == 42, (anyValues[1] as? Int) == nil
        else {
            throw PluginError(.internal, "Swift runtime check failed: squares \(squares), shapes \(shapeCount), area \(area)")
        }
    }
}
