import SwitchyardJSON
import SwitchyardModbusIO
import SwitchyardModbusProfile
import SwitchyardModel
import SwitchyardPluginKit

/// One Modbus device, driven from its profile. Every method but `init`
/// runs on the device's worker thread [io]; the host never calls two at once.
final class ModbusDevice: Driver {
    static let className = "modbus"
    static let summary = "Any Modbus TCP or RTU device described by a profile (points, transport, SunSpec)"
    static let parameters: [Parameter] = []
    static var connection: [Parameter]? { ConnectionSpec.parameters }

    let host: HostContext
    let profile: ModbusProfile
    let spec: ConnectionSpec
    let pauses: Link.Pauses
    /// Poll group → the channel names the config asks it to read.
    let groupChannels: [String: [String]]
    /// This device's folder for caches, if the host gives one.
    let dataDirectory: String?
    /// Channels by name (flat points, and every SunSpec `group.name`).
    var channels: [String: Channel] = [:]
    /// Point names by channel handle, for setpoints.
    var pointOfHandle: [Int32: String] = [:]

    var link: Link?
    /// The points of this device at their addresses (SunSpec: as found at
    /// the last connect).
    var layout: PointLayout?
    var lastChain: SunSpecDiscovery.Chain?
    /// The marker and common model as read with `lastChain`: the same words
    /// at a reconnect mean the same device with the same firmware, so its
    /// chain is taken as it was (one read instead of a walk of the chain).
    var lastIdentity: [UInt16]?
    var poller: GroupPoller?
    var writer: SetpointWriter

    init(host: HostContext, config: InstanceConfig) throws {
        self.host = host
        guard let document = config.profile else { throw PluginError.invalid("device \(config.id): no profile was passed") }
        do {
            profile = try ModbusProfile(json: document, file: nil)
        } catch {
            throw PluginError.invalid("profile \(document["id"]?.stringValue ?? "?"): \(error)")
        }
        spec = try ConnectionSpec(config.connection?.objectValue ?? [:], defaultUnitId: profile.transport.defaultUnitId)
        let t = profile.transport
        pauses = Link.Pauses(afterConnectMs: t.delayAfterConnectMs, betweenRequestsMs: t.delayBetweenRequestsMs,
                             onUnitChangeMs: t.delayOnUnitChangeMs, timeoutMs: spec.timeoutMs ?? t.timeoutMs)
        groupChannels = config.pollGroups
        dataDirectory = config.dataDirectory
        // The channels the host registered for this profile (the same derivation).
        for name in Set(DeviceProfile.channelPoints(of: document).map(\.name)) {
            let channel = try host.channel(name)
            channels[name] = channel
            pointOfHandle[channel.handle] = name
        }
        writer = SetpointWriter()
        writer.log = { [host] level, message in host.log(level, message) }
        if !profile.isSunSpec { layout = PointLayout(points: profile.points) }
    }

    func start() throws {
        let link = try io { () throws(ModbusConnection.Failure) in try Link.acquire(spec, timeoutMs: pauses.timeoutMs) }
        self.link = link
        do {
            try connect(link)
        } catch {
            // The host calls `stop` only after a successful start: let go here.
            link.release()
            self.link = nil
            throw error
        }
    }

    private func connect(_ link: Link) throws {
        // Open now, so that a device that is not there fails here.
        try io { () throws(ModbusConnection.Failure) in try link.perform(unit: spec.unitId, pauses: pauses) { _ in } }
        // SunSpec: check the chain at every connect (the device may have
        // been updated); flat points, if any, sit beside the placed ones.
        if profile.isSunSpec { layout = PointLayout(points: profile.points + (try discover(link))) }
        guard let layout else { throw PluginError.io("no point layout") }
        // Holes and refused points are learned afresh at each connect (a
        // device that refused while booting gets another chance); how often
        // each point was refused carries over, so a permanent refusal is
        // still told from a transient one.
        let poller = GroupPoller(layout: layout, transport: profile.transport, groups: groupChannels, channels: channels,
                                 relearning: self.poller?.relearning ?? Relearning(),
                                 log: { [host] in host.log(.warning, $0) },
                                 report: { [host] in host.report("disabled_points", $0) })
        self.poller = poller
        writer.layout = layout
        // A device that restarted may have lost what we wrote: write again.
        writer.forgetWritten()
        // Scale factors that only writes need are read once per connect.
        let writeOnlyFactors = layout.points.filter { $0.access == .write }.compactMap { p -> String? in
            if case .point(let sf) = p.scale { return sf }
            return nil
        }
        if !writeOnlyFactors.isEmpty {
            try poller.readOnce(writeOnlyFactors, link: link, unit: spec.unitId, pauses: pauses) { point, reading in
                if point.isScaleFactor { writer.scaleFactors[point.name] = reading.value }
            }
        }
    }

    func stop() {
        link?.release()
        link = nil
    }

    /// Finds the SunSpec model chain (from the cache when the device still
    /// has it there) and places the profile's models on it.
    private func discover(_ link: Link) throws -> [ModbusPoint] {
        let chain: SunSpecDiscovery.Chain
        let cache = SunSpecCache(directory: dataDirectory, endpoint: spec.description)
        do {
            chain = try link.perform(unit: spec.unitId, pauses: pauses) { c throws(ModbusConnection.Failure) in
                if let known = lastChain, let identity = lastIdentity,
                   try c.readRegisters(address: known.base, count: identity.count) == identity {
                    return known
                }
                let read = { (address: Int, count: Int) throws -> [UInt16] in try c.readRegisters(address: address, count: count) }
                if let cached = cache.load(), SunSpecCache.stillValid(cached, read: read) { return cached }
                do {
                    let found = try SunSpecDiscovery.scan(read: read)
                    cache.store(found)
                    return found
                } catch let e as ModbusConnection.Failure {
                    throw e
                } catch {
                    throw ModbusConnection.Failure(kind: .illegalDataAddress, message: "\(error)")
                }
            }
        } catch {
            if error.failsDevice { throw PluginError.io("SunSpec discovery on \(spec.description): \(error)") }
            throw PluginError(.unavailable, "SunSpec discovery on \(spec.description): \(error)")
        }
        let known = Set(profile.sunspecModels.map(\.id))
        let placed = SunSpecLayout.place(chain.models, using: profile.sunspecModels)
        // Every SunSpec device has the common model; it alone is no match.
        let beyondCommon = chain.models.filter { $0.id != 1 && known.contains($0.id) }
        guard !placed.isEmpty, !beyondCommon.isEmpty else {
            throw PluginError(.unavailable, "\(spec.description) is a SunSpec device with models \(chain.models.map { String($0.id) }.joined(separator: ", ")); profile \(profile.id) knows none of them (\(known.sorted().map(String.init).joined(separator: ", ")))")
        }
        if chain != lastChain {
            host.log(.info, "SunSpec device at \(chain.base): models \(chain.models.map { "\($0.id)" }.joined(separator: ", ")); \(placed.count) points placed")
            lastIdentity = nil
        }
        lastChain = chain
        if lastIdentity == nil, let common = chain.models.first, common.id == 1, common.start + 2 + common.length - chain.base <= 125 {
            lastIdentity = try? link.perform(unit: spec.unitId, pauses: pauses) { c throws(ModbusConnection.Failure) in
                try c.readRegisters(address: chain.base, count: common.start + 2 + common.length - chain.base)
            }
        }
        return placed
    }

    func poll(group: String) throws {
        guard let link, let poller else { throw PluginError.io("not connected") }
        do throws(PluginError) {
            try writer.flushDue(nowNs: host.monotonicNs, link: link, unit: spec.unitId, pauses: pauses)
        } catch {
            if error.code == .io { throw error }
            // A held setpoint refused when it came due: report it, and poll on.
            host.log(.warning, "setpoint write refused: \(error.message)")
        }
        let now = host.monotonicNs
        try poller.poll(group: group, link: link, unit: spec.unitId, pauses: pauses, nowNs: now) { point, reading in
            if point.isScaleFactor { writer.scaleFactors[point.name] = reading.value }
            guard let channel = point.channel else { return }
            if point.isText {
                host.publishText(channel, reading.text, quality: reading.text == nil ? .notAvailable : .good, timestampNs: now)
                return
            }
            // The label first: the host shows it beside the number published last.
            if point.hasLabels { host.publishText(channel, reading.text, timestampNs: now) }
            switch reading.quality {
            case .good: host.publish(channel, reading.value ?? .nan, quality: reading.value == nil ? .notAvailable : .good, timestampNs: now)
            case .notAvailable: host.publish(channel, .nan, quality: .notAvailable, timestampNs: now)
            case .implausible: host.publish(channel, reading.value ?? .nan, quality: .fault, timestampNs: now)
            }
        }
    }

    func write(_ setpoints: [Setpoint]) throws {
        guard let link else { throw PluginError.io("not connected") }
        try writer.write(setpoints.map { (pointOfHandle[$0.channel] ?? "channel \($0.channel)", $0.value) },
                         nowNs: host.monotonicNs, link: link, unit: spec.unitId, pauses: pauses)
    }
}

extension PluginError {
    /// A failure that fails the whole poll: `.io` when the connection or
    /// line failed (the host drops it and reconnects after a backoff),
    /// `.unavailable` when the device answered that it cannot serve
    /// (exceptions 4, 5, 6 after retries, 0x0A, 0x0B): the connection is
    /// fine, and the host polls again on it after a backoff.
    init(failing error: ModbusConnection.Failure) {
        self = error.kind == .unitFailure ? PluginError(.unavailable, error.message) : PluginError.io(error.message)
    }
}

/// Runs a libmodbus step, turning its failure into the plugin error the host expects.
func io<T>(_ body: () throws(ModbusConnection.Failure) -> T) throws(PluginError) -> T {
    do {
        return try body()
    } catch {
        throw PluginError.io(error.message)
    }
}

/// The points of one device at their addresses, by name.
struct PointLayout {
    let points: [ModbusPoint]
    let byName: [String: ModbusPoint]
    let scaleFactorNames: Set<String>

    init(points: [ModbusPoint]) {
        self.points = points
        byName = Dictionary(points.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        scaleFactorNames = Set(points.compactMap { if case .point(let sf) = $0.scale { return sf }; return nil })
    }
}
