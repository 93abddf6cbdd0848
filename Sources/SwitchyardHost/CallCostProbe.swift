import CSwitchyardPlugin
import SwitchyardJSON

/// Measures what crossing the plugin ABI costs, next to the same call made
/// directly in Swift, in the same process and run. Used by switchyard-bench.
public enum CallCostProbe {
    public struct Result: Sendable {
        public var iterations: Int
        /// A controller's execute through the C descriptor (host → plugin).
        public var abiExecuteNs: Double
        /// The same no-op call through a Swift existential in the host.
        public var directExecuteNs: Double
        /// A host-service read through the host table (plugin → host).
        public var abiReadNs: Double
        /// The same read of the cycle image, directly.
        public var directReadNs: Double
    }

    /// `plugin` must provide `ProbeController` (the TestProbe plugin), which
    /// returns at once in mode "noop".
    public static func measure(plugin: LoadedPlugin, iterations: Int, clock: any CycleClock = SystemClock()) throws -> Result {
        let log = LogQueue(logger: .init(label: "bench"))
        let directory = ChannelDirectory()
        let cycle = CycleState()
        let context = InstanceContext(source: "bench", deviceId: nil, page: nil, directory: directory, clock: clock, log: log, cycle: cycle)
        let instance = try PluginInstance.create(plugin: plugin, className: "ProbeController",
                                                 config: ["id": "bench", "parameters": ["mode": "noop", "output": "", "counter_output": "", "gain": 1, "fail_cycles": 0, "label": ""]],
                                                 context: context)
        defer { instance.destroy() }
        let cycleContext = UnsafeMutablePointer<sy_cycle_context>.allocate(capacity: 1)
        defer { cycleContext.deallocate() }
        cycleContext.initialize(to: sy_cycle_context(struct_size: UInt32(MemoryLayout<sy_cycle_context>.size), cycle_index: 1, deadline_ns: 0, wall_clock_ns: 0, period_ns: 1))
        cycle.image.snapshot = [sy_value](repeating: .unavailable, count: 64)
        cycle.bound.claim()

        func time(_ body: () -> Void) -> Double {
            let start = clock.monotonicNs()
            body()
            return Double(clock.monotonicNs() - start) / Double(iterations)
        }

        var failures = 0
        let abiExecute = time {
            for _ in 0..<iterations where instance.execute(cycleContext) != nil { failures += 1 }
        }
        let steps: [any CycleStep] = [NoopStep()]
        let directExecute = time {
            for i in 0..<iterations where steps[i & 0].execute(cycleContext) != nil { failures += 1 }
        }
        let table = context.makeTable()
        defer { table.deallocate() }
        var out = sy_value()
        var sum = 0.0
        let abiRead = time {
            for i in 0..<iterations {
                _ = table.pointee.read(table.pointee.context, Int32(i & 63), &out)
                sum += out.f64
            }
        }
        let directRead = time {
            for i in 0..<iterations {
                if let v = readDirectly(cycle, Int32(i & 63)) { sum += v.f64 }
            }
        }
        precondition(failures == 0 && sum == 0, "the measured calls must succeed")
        return Result(iterations: iterations, abiExecuteNs: abiExecute, directExecuteNs: directExecute, abiReadNs: abiRead, directReadNs: directRead)
    }
}

/// The Swift-side equivalent of a controller's execute, for comparison.
protocol CycleStep {
    func execute(_ cycle: UnsafePointer<sy_cycle_context>) -> String?
}

final class NoopStep: CycleStep {
    @inline(never)
    func execute(_ cycle: UnsafePointer<sy_cycle_context>) -> String? { nil }
}

@inline(never)
func readDirectly(_ cycle: CycleState, _ handle: Int32) -> sy_value? {
    cycle.image.read(handle)
}
