import SwitchyardPluginKit

/// A device with whatever channels its profile declares: every readable
/// channel publishes a slow sine with its own phase, and every writable
/// channel `X` echoes the value written to it on the channel `XEcho`, if the
/// profile has one. For benchmarks (many devices × many channels) and tests.
final class SimulatedGeneric: Driver {
    static let className = "SimulatedGeneric"
    static let summary = "Simulated device with the channels of its profile; writes are echoed on <name>Echo"
    static let parameters: [Parameter] = [
        .number("amplitude", "Amplitude of the published sines", default: 100),
        .number("offset", "Offset of the published sines", default: 0),
        .number("fail_polls_from_s", "Simulated fault: polls fail from this many seconds after start (negative: never)", default: -1, unit: "s"),
    ]

    let host: HostContext
    let amplitude, offset, failFromS: Double
    var readable: [(Channel, Double)] = []
    var echo: [Int32: Channel] = [:]
    let startNs: Int64

    init(host: HostContext, config: InstanceConfig) throws {
        self.host = host
        let p = config.parameters
        amplitude = try p.double("amplitude")
        offset = try p.double("offset")
        failFromS = try p.double("fail_polls_from_s")
        startNs = host.monotonicNs
        let channels = config.profile?["channels"]?.arrayValue ?? []
        let names = Set(channels.compactMap { $0["name"]?.stringValue })
        for (i, c) in channels.enumerated() {
            guard let name = c["name"]?.stringValue else { continue }
            let access = c["access"]?.stringValue ?? "read"
            let channel = try host.channel(name)
            if access == "read" {
                readable.append((channel, Double(i)))
            } else if names.contains(name + "Echo") {
                echo[channel.handle] = try host.channel(name + "Echo")
            }
        }
    }

    func poll(group: String) throws {
        let now = host.monotonicNs
        if failFromS >= 0, Double(now - startNs) / 1e9 >= failFromS {
            throw PluginError.io("simulated device stopped answering")
        }
        let t = Double(now) / 1e9
        for (channel, phase) in readable where !echoTargets.contains(channel.handle) {
            host.publish(channel, offset + amplitude * sin(t / 60 + phase))
        }
    }

    private lazy var echoTargets: Set<Int32> = Set(echo.values.map(\.handle))

    func write(_ setpoints: [Setpoint]) throws {
        for s in setpoints {
            guard let target = echo[s.channel] else { throw PluginError.invalid("channel \(s.channel) has no echo channel") }
            host.publish(target, s.value)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
