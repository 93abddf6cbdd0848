#if canImport(Glibc)
import Glibc
#endif

/// A device that answers as a profile describes it, for running a site
/// without hardware (`switchyard sim modbus`): every point holds a plausible
/// value that moves with time, setpoints written to it are kept and acted
/// on (a battery follows `ess.SetActivePower`, its SoC moves, the grid
/// meter sees it), and addresses no point covers do not exist. A SunSpec
/// profile is served as a SunSpec device: the `SunS` marker at 40000 and
/// one model of each kind the profile knows.
///
/// Not thread-safe: one server thread owns it.
public final class ProfileSimulation {
    public let profile: ModbusProfile
    /// Points at their addresses on this simulated device.
    public private(set) var points: [ModbusPoint] = []
    private var image: [RegisterTable: [Int: UInt16]] = [:]
    private var present: [RegisterTable: [ClosedRange<Int>]] = [:]
    private var scaleFactors: [String: Int] = [:]
    private var written: [String: Double] = [:]
    /// Point name by the standard channel it implements.
    private var pointOfStandard: [String: String] = [:]
    private var soc = 55.0
    private var importWh = 1_250_000.0, exportWh = 830_000.0, pvWh = 4_200_000.0
    private var lastTime: Double?

    public init(profile: ModbusProfile) {
        self.profile = profile
        points = profile.points
        if profile.isSunSpec { layOutSunSpec() }
        for p in points {
            present[p.table, default: []].append(p.address...(p.address + p.count - 1))
        }
        // A device answers everywhere its profile says it may be read.
        for (table, ranges) in profile.transport.readable { present[table, default: []] += ranges }
        for p in points { if let s = p.standard { pointOfStandard[s] = pointOfStandard[s] ?? p.name } }
        chooseScaleFactors()
        update(timeSeconds: 0)
    }

    /// True when every address of the range exists on the device.
    public func isPresent(_ table: RegisterTable, _ range: ClosedRange<Int>) -> Bool {
        let ranges = present[table] ?? []
        return range.allSatisfy { a in ranges.contains { $0.contains(a) } }
    }

    /// True when every address of the range belongs to a writable point.
    public func isWritable(_ table: RegisterTable, _ range: ClosedRange<Int>) -> Bool {
        range.allSatisfy { a in points.contains { $0.table == table && $0.access.isWritable && $0.address <= a && a < $0.address + $0.count } }
    }

    /// The raw word at an address (0 where nothing is stored).
    public func word(_ table: RegisterTable, _ address: Int) -> UInt16 { image[table]?[address] ?? 0 }

    /// The value last written to a point, in the standard channel's sign.
    public func writtenValue(_ point: String) -> Double? { written[point] }

    /// Recomputes every readable point for `timeSeconds` (monotonic).
    public func update(timeSeconds t: Double) {
        let dt = lastTime.map { max(0, min(t - $0, 60)) } ?? 0
        lastTime = t
        let battery = batteryPower()
        soc = min(100, max(0, soc - battery * dt / 3600 / 13_500 * 100))
        let pv = max(0, 4000 + 2500 * sin(t / 300))
        let load = 1500 + 600 * sin(t / 47) + 200 * sin(t / 7)
        let grid = load - pv - battery
        if grid > 0 { importWh += grid * dt / 3600 } else { exportWh -= grid * dt / 3600 }
        pvWh += pv * dt / 3600
        for (i, p) in points.enumerated() where p.access.isReadable && !p.isInternal {
            if p.access.isWritable, written[p.name] != nil { continue }
            let v: Double
            switch p.standard {
            case "ess.ActivePower": v = battery
            case "ess.Soc": v = soc
            case "ess.Capacity": v = 13_500
            case "ess.MaxChargePower", "ess.MaxDischargePower": v = soc > 1 && soc < 99 ? 5000 : 0
            case "ess.Temperature": v = 24 + 3 * sin(t / 600)
            case "ess.Cycles": v = 412
            case "meter.ActivePower": v = grid
            case "meter.ImportEnergy": v = importWh
            case "meter.ExportEnergy": v = exportWh
            case "meter.Frequency": v = 50 + 0.02 * sin(t / 13)
            case "meter.Voltage": v = 230 + 2 * sin(t / 17)
            case "pv.ActivePower": v = min(pv, writtenStandard("pv.SetActivePowerLimit") ?? .infinity)
            case "pv.Energy": v = pvWh
            case "load.ActivePower": v = load
            default: v = genericValue(p, t: t, phase: Double(i))
            }
            store(p, value: v)
        }
    }

    /// A write arrived: `words` were stored at `address`. Points it covers
    /// take the written value.
    public func write(_ table: RegisterTable, address: Int, words: [UInt16]) {
        for (k, w) in words.enumerated() { image[table, default: [:]][address + k] = w }
        for p in points where p.table == table && p.access.isWritable && p.address <= address + words.count - 1 && address <= p.address + p.count - 1 {
            let sf = sfValue(p)
            if let reading = PointCodec.read(p, scaleFactor: sf, registers: { self.image[$0]?[$1] }), let v = reading.value {
                written[p.name] = v
            }
        }
    }

    /// The value last written to the point implementing a standard setpoint.
    private func writtenStandard(_ standard: String) -> Double? {
        pointOfStandard[standard].flatMap { written[$0] }
    }

    private func batteryPower() -> Double {
        guard let setpoint = writtenStandard("ess.SetActivePower") else { return 0 }
        if setpoint > 0 && soc <= 0 || setpoint < 0 && soc >= 100 { return 0 }
        return max(-5000, min(5000, setpoint))
    }

    private func genericValue(_ p: ModbusPoint, t: Double, phase: Double) -> Double {
        if let first = p.values.keys.min() { return Double(first) }
        if p.type == .bitfield || !p.bits.isEmpty { return 0 }
        if p.type == .bit { return 0 }
        // Typical values by unit, moving a little; then the plausible range's middle.
        let typical: [String: (Double, Double)] = ["V": (230, 2), "Hz": (50, 0.02), "A": (6, 1), "W": (1200, 200), "VA": (1300, 200),
                                                   "var": (150, 50), "degC": (35, 3), "C": (35, 3), "%": (50, 5), "Wh": (1_000_000, 0), "kWh": (1000, 0),
                                                   "VAh": (1_100_000, 0), "varh": (200_000, 0), "Ah": (280, 0), "AH": (280, 0), "Pct": (95, 2)]
        if let u = p.unit, let (mid, swing) = typical[u] {
            let v = mid + swing * sin(t / 30 + phase)
            if p.plausible.map({ $0.contains(v) }) ?? true { return v }
        }
        if let r = p.plausible { return (r.lowerBound + r.upperBound) / 2 + (r.upperBound - r.lowerBound) / 4 * sin(t / 30 + phase) }
        return 100 + 10 * sin(t / 30 + phase)
    }

    private func sfValue(_ p: ModbusPoint) -> PointReading? {
        guard case .point(let name) = p.scale else { return nil }
        return PointReading(value: Double(scaleFactors[name] ?? 0))
    }

    /// Writes a point's value (standard sign) into the image.
    private func store(_ p: ModbusPoint, value: Double) {
        if p.type == .string {
            let text = p.name.hasSuffix("Mn") ? "Switchyard" : p.name.hasSuffix("Md") ? "Simulated " + profile.id : "SIM-1"
            var bytes = Array(text.utf8.prefix(p.count * 2))
            bytes += [UInt8](repeating: 0, count: p.count * 2 - bytes.count)
            for k in 0..<p.count { image[p.table, default: [:]][p.address + k] = UInt16(bytes[2 * k]) << 8 | UInt16(bytes[2 * k + 1]) }
            return
        }
        let deviceValue = p.inverted ? -value : value
        var sf: Double?
        if case .point(let name) = p.scale { sf = Double(scaleFactors[name] ?? 0) }
        guard let raw = p.scale.raw(for: deviceValue, offset: p.offset, scaleFactor: sf) else { return }
        if p.type == .bit {
            let on: UInt16 = raw == 0 ? 0 : 1
            if p.table == .coil || p.table == .discrete_input {
                image[p.table, default: [:]][p.address] = on
            } else {
                let old = image[p.table]?[p.address] ?? 0
                image[p.table, default: [:]][p.address] = on == 1 ? old | (1 << UInt16(p.bit)) : old & ~(1 << UInt16(p.bit))
            }
            return
        }
        let value = p.type == .float32 || p.type == .float64 ? raw : raw.rounded()
        guard let words = RegisterCodec.encode(value, as: p.type, byteOrder: p.byteOrder, wordOrder: p.wordOrder) else { return }
        for (k, w) in words.enumerated() { image[p.table, default: [:]][p.address + k] = w }
    }

    /// Each scale factor gets the smallest power of ten (down to 10^-2)
    /// at which the values it scales fit their registers.
    private func chooseScaleFactors() {
        for sfPoint in points where sfPoint.type == .int16 {
            let users = points.filter { if case .point(let n) = $0.scale { return n == sfPoint.name }; return false }
            guard !users.isEmpty else { continue }
            var chosen = 0
            for e in -2...6 {
                let fits = users.allSatisfy { u in
                    // What the simulation serves stays within 20 000 (watts of
                    // the coherent site; energies sit in 32-bit registers): a
                    // narrower range allows a finer factor, a generous one
                    // (±10 MW on a generic SunSpec inverter) must not make the
                    // simulated watts coarse.
                    let magnitude = min(u.plausible.map { max(abs($0.lowerBound), abs($0.upperBound)) } ?? 20_000, 20_000)
                    let limit: Double = switch u.type {
                    case .int16: 32_000
                    case .uint16, .enum, .bitfield: 65_000
                    case .int32: 2e9
                    default: 4e9
                    }
                    return magnitude / pow10(e) <= limit
                }
                if fits { chosen = e; break }
            }
            scaleFactors[sfPoint.name] = chosen
            store(sfPoint, value: Double(chosen))
        }
    }

    /// The SunSpec chain at 40000: marker, one model of each group, end.
    private func layOutSunSpec() {
        let base = 40000
        var address = base + 2
        var found: [SunSpecDiscovery.FoundModel] = []
        var groups: Set<String> = []
        for model in profile.sunspecModels where groups.insert(model.group).inserted {
            let length = model.length ?? (model.points.map { $0.address + $0.count }.max() ?? 0)
            // A chain that would not fit the address space is served as far as it fits.
            guard address + 2 + length + 2 <= 65536 else { break }
            found.append(.init(id: model.id, start: address, length: length))
            address += 2 + length
        }
        var words: [Int: UInt16] = [base: SunSpecDiscovery.marker[0], base + 1: SunSpecDiscovery.marker[1]]
        for f in found {
            words[f.start] = UInt16(f.id)
            words[f.start + 1] = UInt16(f.length)
            for a in (f.start + 2)..<(f.start + 2 + f.length) { words[a] = 0 }
        }
        words[address] = SunSpecDiscovery.endId
        words[address + 1] = 0
        image[.holding_register] = words
        present[.holding_register, default: []].append(base...(address + 1))
        points += SunSpecLayout.place(found, using: profile.sunspecModels)
    }
}
