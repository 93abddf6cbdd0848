import SwitchyardModbusIO
import SwitchyardModbusProfile
import SwitchyardPluginKit

/// One point of a planned request, ready to decode: where its words sit
/// in the answer, its flattened format, its scale factor's slot, and the
/// channel it publishes to (nil: internal). A class, so that handing it to
/// the sink costs one reference, not a copy.
final class CompiledPoint {
    let name: String
    let offset: Int
    let count: Int
    let format: PointFormat
    /// Index into the request's points of the scale factor, if any.
    let scaleFactor: Int?
    let channel: Channel?
    let isScaleFactor: Bool
    /// An enum's labels by raw value, a bitfield's by bit (empty: none).
    let labels: [Int: String]
    let bitLabels: [Int: String]

    init(name: String, offset: Int, count: Int, format: PointFormat, scaleFactor: Int?, channel: Channel?, isScaleFactor: Bool,
         labels: [Int: String] = [:], bitLabels: [Int: String] = [:]) {
        self.name = name
        self.offset = offset
        self.count = count
        self.format = format
        self.scaleFactor = scaleFactor
        self.channel = channel
        self.isScaleFactor = isScaleFactor
        self.labels = labels
        self.bitLabels = bitLabels
    }

    var isText: Bool { format.type == .string }
    var hasLabels: Bool { !labels.isEmpty || !bitLabels.isEmpty }

    /// The label of a raw value: an enum's, or a bitfield's set bits ("a, c").
    func label(_ raw: Int) -> String? {
        if let l = labels[raw] { return l }
        guard !bitLabels.isEmpty else { return nil }
        let set = bitLabels.keys.sorted().filter { raw >> $0 & 1 == 1 }.compactMap { bitLabels[$0] }
        return set.joined(separator: ", ")
    }
}

struct CompiledRequest {
    let request: ReadRequest
    let points: [CompiledPoint]
}

/// Reads poll groups with the fewest requests the planner allows, and
/// learns from "illegal data address" answers: the gaps a refused request
/// bridged are probed and those refused become holes the planner avoids,
/// each of its points is read on its own, and a point the device has no
/// register for is disabled (and reported) instead of failing its group
/// every poll. What was learned is tried again on a timer with backoff
/// (`Relearning`): a device that refused while it booted is read again; a
/// point refused on every try for minutes is reported as a profile that
/// does not fit the device.
final class GroupPoller {
    /// Called for every point read: its compiled form and its reading.
    typealias Sink = (CompiledPoint, PointReading) -> Void

    let layout: PointLayout
    private var planner: ReadPlanner
    private let groupPoints: [String: [ModbusPoint]]
    private let channels: [String: Channel]
    /// Every point of the device by name, for the planner.
    private let planned: [String: PlannedPoint]
    private var plans: [String: [CompiledRequest]] = [:]
    private(set) var disabled: Set<String> = []
    /// The planner as the profile made it, before anything was learned.
    private let initialPlanner: ReadPlanner
    private(set) var relearning = Relearning()
    private let log: (String) -> Void
    private let report: (String?) -> Void
    /// Pauses before asking a busy device (exception 6) again, within one poll.
    static let busyRetryMs = [50, 150, 400]

    /// `log` takes warnings, `report` the device's current refusals for
    /// status pages (nil: none).
    init(layout: PointLayout, transport: ModbusTransport, groups: [String: [String]], channels: [String: Channel],
         relearning: Relearning = Relearning(), log: @escaping (String) -> Void, report: @escaping (String?) -> Void = { _ in }) {
        self.layout = layout
        self.relearning = relearning
        planner = transport.planner
        initialPlanner = transport.planner
        self.report = report
        var byGroup: [String: [ModbusPoint]] = [:]
        for (group, names) in groups {
            byGroup[group] = ModbusProfile.polledPoints(names.compactMap { layout.byName[$0] })
        }
        groupPoints = byGroup
        self.channels = channels
        planned = ReadPlanner.index(layout.points.map(\.planned))
        self.log = log
    }

    func plan(_ group: String) throws(PluginError) -> [CompiledRequest] {
        if let p = plans[group] { return p }
        // A point that cannot be planned any more (a learned hole between it
        // and its scale factor) is disabled alone; the rest of the group goes on.
        for point in groupPoints[group] ?? [] where !disabled.contains(point.name) {
            if case .failure(let error) = Result(catching: { () throws(PlanError) in try planner.plan([point.planned], byName: planned) }) {
                disable(point.name, reason: error.reason)
            }
        }
        let members = (groupPoints[group] ?? []).filter { !disabled.contains($0.name) }
        do {
            let p = try planner.plan(members.map(\.planned), byName: planned).map(compile)
            plans[group] = p
            return p
        } catch {
            throw PluginError.invalid("poll group \(group): \(error)")
        }
    }

    private func compile(_ r: ReadRequest) -> CompiledRequest {
        let points = r.points.compactMap { layout.byName[$0] }
        let index = Dictionary(points.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        return CompiledRequest(request: r, points: points.map { p in
            var sf: Int?
            if case .point(let name) = p.scale { sf = index[name] }
            return CompiledPoint(name: p.name, offset: p.address - r.start, count: p.count, format: p.format, scaleFactor: sf,
                                 channel: channels[p.name], isScaleFactor: layout.scaleFactorNames.contains(p.name),
                                 labels: p.values, bitLabels: p.bits)
        })
    }

    /// Reads a group. Throws `.io` when the device or line failed (the
    /// host reconnects with backoff); learns and goes on after illegal
    /// addresses.
    func poll(group: String, link: Link, unit: Int, pauses: Link.Pauses, nowNs: Int64, sink: Sink) throws(PluginError) {
        relearning.nowNs = nowNs
        if relearning.isDue(nowNs) { relearn(nowNs: nowNs) }
        for compiled in try plan(group) {
            do {
                try read(compiled, link: link, unit: unit, pauses: pauses, sink: sink)
            } catch {
                switch error.kind {
                case .io, .unitFailure:
                    throw PluginError(failing: error)
                case .illegalDataAddress, .illegalFunction, .illegalDataValue:
                    try isolate(compiled.request, link: link, unit: unit, pauses: pauses, nowNs: nowNs, sink: sink)
                }
            }
        }
    }

    /// Reads some points once, outside the poll groups (the scale factors
    /// of write-only points, after connecting). Points that cannot be read
    /// are left out; an I/O failure throws.
    func readOnce(_ names: [String], link: Link, unit: Int, pauses: Link.Pauses, sink: Sink) throws(PluginError) {
        let points = names.compactMap { layout.byName[$0] }
        guard !points.isEmpty, let plan = try? planner.plan(points.map(\.planned), byName: planned) else { return }
        for r in plan {
            do throws(ModbusConnection.Failure) {
                try read(compile(r), link: link, unit: unit, pauses: pauses, sink: sink)
            } catch {
                if error.failsDevice { throw PluginError(failing: error) }
                log("could not read \(r.points.joined(separator: ", ")): \(error.message)")
            }
        }
    }

    private func read(_ c: CompiledRequest, link: Link, unit: Int, pauses: Link.Pauses, sink: Sink) throws(ModbusConnection.Failure) {
        let words = try fetch(c.request, link: link, unit: unit, pauses: pauses)
        Self.decode(c, words: words, sink: sink)
    }

    private func fetch(_ r: ReadRequest, link: Link, unit: Int, pauses: Link.Pauses) throws(ModbusConnection.Failure) -> [UInt16] {
        var busy = Self.busyRetryMs[...]
        let words: [UInt16]
        while true {
            do throws(ModbusConnection.Failure) {
                words = try link.perform(unit: unit, pauses: pauses) { c throws(ModbusConnection.Failure) in
                    switch r.table {
                    case .holding_register: try c.readRegisters(address: r.start, count: r.count)
                    case .input_register: try c.readRegisters(input: true, address: r.start, count: r.count)
                    case .coil: try c.readBits(address: r.start, count: r.count)
                    case .discrete_input: try c.readBits(discrete: true, address: r.start, count: r.count)
                    }
                }
                break
            } catch {
                // Busy is "ask again later": a few short pauses within the
                // poll, then the poll fails (and the worker backs off).
                guard error.isBusy, let pause = busy.popFirst() else { throw error }
                sleepMs(pause)
            }
        }
        guard words.count == r.count else {
            throw ModbusConnection.Failure(kind: .io, message: "short answer: \(words.count) of \(r.count) registers")
        }
        return words
    }

    /// Decodes every point a request served, each with its scale factor
    /// from the same answer; a string as text, an enum or bitfield with
    /// its label.
    static func decode(_ c: CompiledRequest, words: [UInt16], sink: Sink) {
        c.points.withUnsafeBufferPointer { points in
            for p in points {
                let own = words[p.offset..<(p.offset + p.count)]
                if p.isText {
                    guard case .text(let text) = RegisterCodec.decode(own, as: .string, byteOrder: p.format.byteOrder) else {
                        sink(p, .notAvailable)
                        continue
                    }
                    sink(p, PointReading(value: nil, text: text))
                    continue
                }
                var sf: Double?
                if let i = p.scaleFactor {
                    let s = points[i]
                    let (reading, _) = PointCodec.decode(s.format, words: words[s.offset..<(s.offset + s.count)], scaleFactor: nil)
                    sf = reading.quality == .good ? reading.value : nil
                }
                var (reading, raw) = PointCodec.decode(p.format, words: own, scaleFactor: sf)
                if p.hasLabels, reading.quality == .good, let raw { reading.text = p.label(raw) }
                sink(p, reading)
            }
        }
    }

    /// A request was refused: remember the holes it bridged, read its points
    /// one by one, disable those the device does not have.
    private func isolate(_ r: ReadRequest, link: Link, unit: Int, pauses: Link.Pauses, nowNs: Int64, sink: Sink) throws(PluginError) {
        // The stretches the request bridged that no point of the device
        // covers: probe each once; those refused become holes the planner
        // never bridges again. (Addresses of other points are left to those
        // points' own reads.)
        var covered = Set<Int>()
        for p in layout.points where p.table == r.table { covered.formUnion(p.address..<(p.address + p.count)) }
        for gap in Self.runs((r.start...r.end).filter { !covered.contains($0) }) {
            do throws(ModbusConnection.Failure) {
                _ = try fetch(ReadRequest(table: r.table, start: gap.lowerBound, count: gap.count, points: []), link: link, unit: unit, pauses: pauses)
            } catch {
                if error.failsDevice { throw PluginError(failing: error) }
                planner.unreadable[r.table, default: []].formUnion(gap)
                relearning.learned(nowNs: nowNs)
            }
        }
        plans = [:]
        let members = r.points.compactMap { layout.byName[$0] }
        let sfNames = layout.scaleFactorNames
        for point in members where !sfNames.contains(point.name) || members.count == 1 {
            guard let single = try? planner.plan([point.planned], byName: planned), !single.isEmpty else { continue }
            do throws(ModbusConnection.Failure) {
                for s in single { try read(compile(s), link: link, unit: unit, pauses: pauses, sink: sink) }
                if relearning.readAgain(point.name) {
                    log("point \(point.name) is read again: the device answers \(point.table.rawValue) \(point.address)…\(point.address + point.count - 1) now")
                }
            } catch {
                if error.failsDevice { throw PluginError(failing: error) }
                let c = compile(ReadRequest(table: point.table, start: point.address, count: point.count, points: [point.name]))
                for p in c.points { sink(p, .notAvailable) }
                disable(point.name, reason: "\(point.table.rawValue) \(point.address)…\(point.address + point.count - 1): \(Self.refusal(error))")
            }
        }
        publishReport(nowNs: nowNs)
    }

    /// Stops reading a point until the next relearning, and says so: once as
    /// a warning, and loudly once it was refused on every try for minutes.
    private func disable(_ name: String, reason: String) {
        disabled.insert(name)
        switch relearning.refused(name, reason: reason) {
        case .first:
            log("point \(name) is not read for now: \(reason); tried again in \(relearning.nextRetryDescription)")
        case .again:
            break
        case .permanent(let tries):
            log("point \(name) was refused on all \(tries) tries over \(relearning.spanDescription(name)) while the device answers other reads (\(reason)): the profile does not fit this device (another model or firmware?); fix the profile or leave the point out of the poll groups. Still tried every \(Relearning.describe(ns: Relearning.maximumNs))")
        }
    }

    /// Forgets learned holes and disabled points so that the next polls try
    /// them again (and learn again what is still refused).
    private func relearn(nowNs: Int64) {
        planner = initialPlanner
        plans = [:]
        disabled = []
        relearning.started(nowNs: nowNs)
    }

    private func publishReport(nowNs: Int64) {
        report(relearning.summary(disabled: disabled, nowNs: nowNs))
    }

    /// "exception 2 (Illegal data address)", without the endpoint prefix.
    static func refusal(_ error: ModbusConnection.Failure) -> String {
        if let e = error.exception { return "exception \(e) (\(ModbusConnection.Failure.name(ofException: e)))" }
        return error.message
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
