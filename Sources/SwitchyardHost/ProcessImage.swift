import CSwitchyardPlugin
import Synchronization
import SwitchyardModel

/// Quality of a value, as the host and the ABI define it.
public enum ValueQuality: Int32, Sendable, CustomStringConvertible {
    case good = 0, stale = 1, fault = 2, notAvailable = 3

    public var description: String {
        switch self {
        case .good: "good"
        case .stale: "stale"
        case .fault: "fault"
        case .notAvailable: "not_available"
        }
    }
}

/// A channel of the process image, addressed `device_id/Name`.
public struct ChannelInfo: Sendable, Hashable {
    public var address: String
    public var deviceId: String
    public var name: String
    public var standard: String?
    public var unit: String?
    public var writable: Bool
    /// A text channel: its value is text (`DevicePage.text`), never a number.
    public var isText = false
}

/// A value read out of the image, for status and display.
public struct ChannelReading: Sendable {
    public var value: Double?
    public var quality: ValueQuality
    public var timestampNs: Int64
    /// A text channel's value, or the label of a number (an enum's, a
    /// bitfield's set bits), as the driver published it.
    public var text: String? = nil
}

extension ValueQuality {
    /// The name in JSON documents (`/channels`, heartbeats) and profiles.
    public var jsonName: String {
        switch self {
        case .good: "good"
        case .stale: "stale"
        case .fault: "fault"
        case .notAvailable: "not_available"
        }
    }
}

extension sy_value {
    static let unavailable = sy_value(type: SY_VALUE_NONE, quality: SY_QUALITY_NOT_AVAILABLE, timestamp_ns: 0, f64: 0, i64: 0)

    var reading: ChannelReading {
        let number: Double? = switch type {
        case SY_VALUE_F64: f64
        case SY_VALUE_I64, SY_VALUE_BOOL: Double(i64)
        default: nil
        }
        return ChannelReading(value: number, quality: ValueQuality(rawValue: quality) ?? .fault, timestampNs: timestamp_ns)
    }

    var number: Double? { reading.value }
}

/// The channel directory of a host: address → handle. It only grows, so a
/// handle, once given out, names the same channel for the life of the process;
/// a device that is reconfigured gets its old handles back. [thread-safe]
public final class ChannelDirectory: Sendable {
    struct State: Sendable {
        var infos: [ChannelInfo] = []
        var byAddress: [String: Int32] = [:]
        /// `device/ess.Soc` → handle of the channel implementing it.
        var byStandard: [String: Int32] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Registers (or finds) the channels of a device from its profile.
    func register(device deviceId: String, profile: DeviceProfile) -> [Int32] {
        state.withLock { s in
            let handles = profile.channels.map { c in
                let address = deviceId + "/" + c.name
                let info = ChannelInfo(address: address, deviceId: deviceId, name: c.name, standard: c.standard, unit: c.unit,
                                       writable: c.access.isWritable, isText: c.isText)
                let handle: Int32
                if let existing = s.byAddress[address] {
                    handle = existing
                    s.infos[Int(handle)] = info
                } else {
                    handle = Int32(s.infos.count)
                    s.infos.append(info)
                    s.byAddress[address] = handle
                }
                if let standard = c.standard { s.byStandard[deviceId + "/" + standard] = handle }
                return handle
            }
            // `device/Soc` for the channel implementing ess.Soc, as DeviceProfile.channel(named:) resolves it.
            for (c, handle) in zip(profile.channels, handles) {
                guard let standard = c.standard else { continue }
                let suffix = DeviceProfile.standardSuffix(standard)
                if profile.channel(named: suffix)?.name == c.name { s.byStandard[deviceId + "/" + suffix] = handle }
            }
            return handles
        }
    }

    /// Resolves `device/Name` or `device/standard.Name`.
    public func handle(for address: String) -> Int32? {
        state.withLock { $0.byAddress[address] ?? $0.byStandard[address] }
    }

    public var count: Int { state.withLock { $0.infos.count } }

    /// The directory as it is, to restore if a config is refused after
    /// registering its channels.
    func checkpoint() -> State { state.withLock { $0 } }

    func restore(_ saved: State) { state.withLock { $0 = saved } }

    public func info(_ handle: Int32) -> ChannelInfo? {
        state.withLock { s in handle >= 0 && Int(handle) < s.infos.count ? s.infos[Int(handle)] : nil }
    }

    public var all: [ChannelInfo] { state.withLock { $0.infos } }
}

/// The latest values of one device's channels, written by its worker thread
/// [io] and copied into the snapshot by the cycle thread. One lock per device,
/// held only for a store or a copy, so devices never wait on each other.
final class DevicePage: Sendable {
    let deviceId: String
    let handles: [Int32]
    /// Slot of each handle, as a dense table from the lowest handle (a
    /// device's handles are nearly contiguous): no hashing on the publish path.
    private let firstHandle: Int32
    private let slots: [Int]
    /// Per channel: a value older than this is reported stale (nil: never).
    /// Changes with the poll intervals (a period change).
    let staleAfterNs: Mutex<[Int64?]>
    let values: Mutex<[sy_value]>
    /// What the driver reports about its device (`sy_host_api.report`).
    let diagnostics = Mutex<[String: String]>([:])
    /// Per channel: the text a driver published (`publish_text`), beside
    /// the numbers: a text channel's value, or a number's label.
    let texts: Mutex<[String?]>

    init(deviceId: String, handles: [Int32], staleAfterNs: [Int64?]) {
        self.deviceId = deviceId
        self.handles = handles
        self.staleAfterNs = Mutex(staleAfterNs)
        let low = handles.min() ?? 0
        var slots = [Int](repeating: -1, count: handles.isEmpty ? 0 : Int((handles.max() ?? 0) - low) + 1)
        for (i, h) in handles.enumerated() { slots[Int(h - low)] = i }
        self.firstHandle = low
        self.slots = slots
        values = Mutex([sy_value](repeating: .unavailable, count: handles.count))
        texts = Mutex([String?](repeating: nil, count: handles.count))
    }

    /// [io] Stores a channel's text. For a text channel it is the value:
    /// its quality and time are stored too (the number stays none). For a
    /// number it is the label of the value published last.
    func publishText(_ handle: Int32, _ text: String?, isText: Bool, quality: ValueQuality, timestampNs: Int64) -> Bool {
        guard let slot = slot(of: handle) else { return false }
        texts.withLock { $0[slot] = text }
        if isText {
            values.withLock { $0[slot] = sy_value(type: SY_VALUE_NONE, quality: quality.rawValue, timestamp_ns: timestampNs, f64: 0, i64: 0) }
        }
        return true
    }

    /// [io] Sets or (nil or empty text) clears one of the driver's reports.
    func report(_ key: String, _ text: String?) {
        diagnostics.withLock { d in
            if let text, !text.isEmpty {
                if d[key] != nil || d.count < 16 { d[key] = text }
            } else {
                d[key] = nil
            }
        }
    }

    /// [io] Stores a fresh value; false if the handle is not this device's.
    func slot(of handle: Int32) -> Int? {
        let i = Int(handle) - Int(firstHandle)
        guard i >= 0, i < slots.count, slots[i] >= 0 else { return nil }
        return slots[i]
    }

    func publish(_ handle: Int32, _ value: sy_value) -> Bool {
        guard let slot = slot(of: handle) else { return false }
        values.withLock { $0[slot] = value }
        return true
    }

    /// [io] Marks every channel with `quality`, keeping the last value, e.g.
    /// fault when the device stops answering.
    func mark(_ quality: ValueQuality, at timestampNs: Int64) {
        values.withLock { vs in
            for i in vs.indices {
                vs[i].quality = quality.rawValue
                vs[i].timestamp_ns = timestampNs
            }
        }
    }

    /// Copies the values into the snapshot, downgrading good values that are
    /// older than their deadline to stale.
    func copy(into snapshot: inout [sy_value], nowNs: Int64) {
        let stale = staleAfterNs.withLock { $0 }
        values.withLock { vs in
            for i in vs.indices {
                var v = vs[i]
                if v.quality == SY_QUALITY_GOOD, let limit = stale[i], Nanoseconds.subtracting(nowNs, v.timestamp_ns) > limit {
                    v.quality = SY_QUALITY_STALE
                }
                snapshot[Int(handles[i])] = v
            }
        }
    }

    /// The value as the next snapshot would see it (stale rule applied).
    func reading(_ handle: Int32, nowNs: Int64) -> ChannelReading? {
        guard let slot = slot(of: handle) else { return nil }
        var r = values.withLock { $0[slot].reading }
        r.text = texts.withLock { $0[slot] }
        if r.quality == .good, let limit = staleAfterNs.withLock({ $0[slot] }), Nanoseconds.subtracting(nowNs, r.timestampNs) > limit { r.quality = .stale }
        return r
    }
}

/// The values the controllers of one cycle see and the setpoints they
/// request. Owned by the cycle thread.
struct CycleImage {
    var snapshot: [sy_value] = []
    var writable: [Bool] = []
    var setpoints: [sy_value] = []
    var written: [Bool] = []
    /// Who set each channel written this cycle (`controller p`).
    var writers: [String] = []
    var writtenHandles: [Int32] = []

    /// Grows the arrays to cover every handle of the directory.
    mutating func resize(to directory: ChannelDirectory) {
        let infos = directory.all
        while snapshot.count < infos.count {
            snapshot.append(.unavailable)
            setpoints.append(.unavailable)
            written.append(false)
            writers.append("")
            writable.append(false)
        }
        for (i, info) in infos.enumerated() { writable[i] = info.writable }
        writtenHandles.reserveCapacity(infos.count)
    }

    func read(_ handle: Int32) -> sy_value? {
        guard handle >= 0, Int(handle) < snapshot.count else { return nil }
        return snapshot[Int(handle)]
    }

    /// First write in a cycle wins.
    mutating func write(_ handle: Int32, _ value: sy_value, by writer: String) -> sy_status {
        guard handle >= 0, Int(handle) < snapshot.count else { return SY_ERR_UNAVAILABLE }
        let i = Int(handle)
        guard writable[i] else { return SY_ERR_INVALID }
        if written[i] { return SY_ERR_CONFLICT }
        written[i] = true
        writers[i] = writer
        setpoints[i] = value
        writtenHandles.append(handle)
        return SY_OK
    }

    mutating func clearWrites() {
        for h in writtenHandles { written[Int(h)] = false }
        writtenHandles.removeAll(keepingCapacity: true)
    }
}
