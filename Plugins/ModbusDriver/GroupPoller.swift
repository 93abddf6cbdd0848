import SwitchyardModbusIO
import SwitchyardModbusProfile
import SwitchyardPluginKit

/// Reads poll groups with the fewest requests the planner allows, and
/// learns from "illegal data address" answers: the gaps a failed request
/// bridged become holes the planner avoids, each of its points is read on
/// its own, and a point the device has no register for is disabled (and
/// reported once) instead of failing its group every poll.
final class GroupPoller {
    let layout: PointLayout
    private var planner: ReadPlanner
    private let groupPoints: [String: [ModbusPoint]]
    private var plans: [String: [ReadRequest]] = [:]
    private(set) var disabled: Set<String> = []
    /// Requests made since start, for the benchmark and status.
    private(set) var requests = 0
    private let log: (String) -> Void

    init(layout: PointLayout, transport: ModbusTransport, groups: [String: [String]], log: @escaping (String) -> Void) {
        self.layout = layout
        planner = transport.planner
        var byGroup: [String: [ModbusPoint]] = [:]
        for (group, names) in groups {
            byGroup[group] = names.compactMap { layout.byName[$0] }.filter(\.access.isReadable)
        }
        groupPoints = byGroup
        self.log = log
    }

    func plan(_ group: String) throws(PluginError) -> [ReadRequest] {
        if let p = plans[group] { return p }
        let members = (groupPoints[group] ?? []).filter { !disabled.contains($0.name) }
        do {
            let p = try planner.plan(members.map(\.planned), all: layout.points.map(\.planned))
            plans[group] = p
            return p
        } catch {
            throw PluginError.invalid("poll group \(group): \(error)")
        }
    }

    /// Reads a group. Throws `.io` when the device or line failed (the
    /// host reconnects with backoff); learns and goes on after illegal
    /// addresses.
    func poll(group: String, link: Link, unit: Int, pauses: Link.Pauses) throws(PluginError) -> [(String, PointReading)] {
        var out: [(String, PointReading)] = []
        for request in try plan(group) {
            do {
                out += try read(request, link: link, unit: unit, pauses: pauses)
            } catch {
                switch error.kind {
                case .io:
                    throw PluginError.io(error.message)
                case .illegalDataAddress, .illegalFunction, .illegalDataValue:
                    out += try isolate(request, error: error, link: link, unit: unit, pauses: pauses)
                }
            }
        }
        return out
    }

    private func read(_ r: ReadRequest, link: Link, unit: Int, pauses: Link.Pauses) throws(ModbusConnection.Failure) -> [(String, PointReading)] {
        requests += 1
        let words = try link.perform(unit: unit, pauses: pauses) { c throws(ModbusConnection.Failure) in
            switch r.table {
            case .holding_register: try c.readRegisters(address: r.start, count: r.count)
            case .input_register: try c.readRegisters(input: true, address: r.start, count: r.count)
            case .coil: try c.readBits(address: r.start, count: r.count)
            case .discrete_input: try c.readBits(discrete: true, address: r.start, count: r.count)
            }
        }
        guard words.count == r.count else {
            throw ModbusConnection.Failure(kind: .io, message: "short answer: \(words.count) of \(r.count) registers")
        }
        return decode(r, words: words)
    }

    /// Decodes every point a request served (scale factors first).
    func decode(_ r: ReadRequest, words: [UInt16]) -> [(String, PointReading)] {
        let lookup: (RegisterTable, Int) -> UInt16? = { table, address in
            table == r.table && address >= r.start && address <= r.end ? words[address - r.start] : nil
        }
        var out: [(String, PointReading)] = []
        for name in r.points {
            guard let point = layout.byName[name] else { continue }
            var sf: PointReading?
            if case .point(let sfName) = point.scale, let sfPoint = layout.byName[sfName] {
                sf = PointCodec.read(sfPoint, registers: lookup)
            }
            if let reading = PointCodec.read(point, scaleFactor: sf, registers: lookup) { out.append((name, reading)) }
        }
        return out
    }

    /// A request was refused: remember the gaps it bridged, read its points
    /// one by one, disable those the device does not have.
    private func isolate(_ r: ReadRequest, error: ModbusConnection.Failure, link: Link, unit: Int, pauses: Link.Pauses) throws(PluginError) -> [(String, PointReading)] {
        let members = r.points.compactMap { layout.byName[$0] }
        // The stretches the request bridged that no point of the device
        // covers: probe each once; those refused become holes the planner
        // never bridges again. (Addresses of other points are left to those
        // points' own reads.)
        var covered = Set<Int>()
        for p in layout.points where p.table == r.table { covered.formUnion(p.address..<(p.address + p.count)) }
        for gap in Self.runs((r.start...r.end).filter { !covered.contains($0) }) {
            let probe = ReadRequest(table: r.table, start: gap.lowerBound, count: gap.count, points: [])
            do throws(ModbusConnection.Failure) {
                _ = try read(probe, link: link, unit: unit, pauses: pauses)
            } catch {
                if error.kind == .io { throw PluginError.io(error.message) }
                planner.unreadable[r.table, default: []].formUnion(gap)
            }
        }
        plans = [:]
        var out: [(String, PointReading)] = []
        let sfNames = layout.scaleFactorNames
        for point in members where !sfNames.contains(point.name) || members.count == 1 {
            guard let single = try? planner.plan([point.planned], all: layout.points.map(\.planned)), !single.isEmpty else { continue }
            do throws(ModbusConnection.Failure) {
                for s in single { out += try read(s, link: link, unit: unit, pauses: pauses) }
            } catch {
                if error.kind == .io { throw PluginError.io(error.message) }
                disabled.insert(point.name)
                out.append((point.name, .notAvailable))
                log("\(point.table.rawValue) \(point.address)…\(point.address + point.count - 1) (point \(point.name)): \(error.message); the point is disabled until the device is reconfigured")
            }
        }
        // Scale factors read alongside their values above; report them too.
        for sf in members where sfNames.contains(sf.name) && !out.contains(where: { $0.0 == sf.name }) && members.count > 1 {
            if let single = try? planner.plan([sf.planned]), let s = single.first, let readings = try? read(s, link: link, unit: unit, pauses: pauses) {
                out += readings
            }
        }
        return out
    }

    /// [1, 2, 3, 7, 8] → [1...3, 7...8].
    static func runs(_ addresses: [Int]) -> [ClosedRange<Int>] {
        var out: [ClosedRange<Int>] = []
        for a in addresses {
            if let last = out.last, last.upperBound + 1 == a { out[out.count - 1] = last.lowerBound...a } else { out.append(a...a) }
        }
        return out
    }
}
