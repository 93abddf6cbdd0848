import CSwitchyardPlugin

/// Quality of a value in the process image (the header's `SY_QUALITY_*`).
/// Controllers act only on `.good` values; alarms are evaluated only on them.
public enum Quality: Int32, Sendable {
    /// `SY_QUALITY_GOOD`: a fresh, plausible reading.
    case good = 0
    /// `SY_QUALITY_STALE`: no fresh reading within its deadline.
    case stale = 1
    /// `SY_QUALITY_FAULT`: the reading failed or is implausible.
    case fault = 2
    /// `SY_QUALITY_NOT_AVAILABLE`: the device reports "not available", or
    /// the channel was never read.
    case notAvailable = 3
}

/// A resolved channel: an index into the host's process image. Resolve once
/// (in `init` or `configure`), then use it every cycle.
public struct Channel: Sendable, Hashable {
    /// The process image index (`sy_channel`). Stays valid for the life of
    /// the process: the same address always gets the same handle, even
    /// across config applies. Compare it with `Setpoint.channel`.
    public let handle: Int32
    /// The address it was resolved from, as given to `HostContext.channel(_:)`.
    public let address: String
}

/// A value read from the process image.
public struct Sample: Sendable {
    /// The value as a number (`I64` and `BOOL` values converted); NaN when
    /// the channel holds no number or could not be read.
    public var value: Double
    /// How far the value can be trusted.
    public var quality: Quality
    /// When the driver published it, on the host's monotonic clock (ns); 0
    /// when the channel could not be read.
    public var timestampNs: Int64

    /// `quality == .good`.
    public var isGood: Bool { quality == .good }
}

/// What the host offers an instance: logging, clocks, channels. Wraps the
/// `sy_host_api` table, which the host keeps valid until the instance is
/// destroyed.
public final class HostContext: @unchecked Sendable {
    // @unchecked: the table is immutable and owned by the host for the
    // instance's lifetime; each function documents its own thread rule.
    let api: UnsafePointer<sy_host_api>

    init(_ api: UnsafePointer<sy_host_api>) {
        self.api = api
    }

    /// The level of a log line (the header's `SY_LOG_*`).
    public enum LogLevel: Int32, Sendable {
        /// `SY_LOG_TRACE`: step by step, for development.
        case trace = 0
        /// `SY_LOG_DEBUG`: detail for finding a fault.
        case debug
        /// `SY_LOG_INFO`: a state change the operator may want to know.
        case info
        /// `SY_LOG_WARNING`: something is wrong, the plugin carries on.
        case warning
        /// `SY_LOG_ERROR`: something failed.
        case error
    }

    /// [thread-safe] Writes `message` to the host log, attributed to this
    /// instance. Log on state changes, not every cycle.
    public func log(_ level: LogLevel, _ message: String) {
        message.withCString { api.pointee.log(api.pointee.context, level.rawValue, $0) }
    }

    /// [thread-safe] The host's monotonic clock.
    public var monotonicNs: Int64 { api.pointee.monotonic_ns(api.pointee.context) }

    /// [thread-safe] The host's wall clock, ns since the Unix epoch.
    public var wallClockNs: Int64 { api.pointee.wall_clock_ns(api.pointee.context) }

    /// [control] Resolves `device_id/Channel` (a controller) or `Channel` (a
    /// driver's own channel); the channel's own name or its standard name
    /// (`bms/Soc` or `bms/ess.Soc`). Call it in `init` or `configure`, never
    /// per cycle. Throws `PluginError(.unavailable, …)` with the host's
    /// reason when the address does not exist.
    public func channel(_ address: String) throws(PluginError) -> Channel {
        var buffer = [CChar](repeating: 0, count: 512)
        let handle = address.withCString { api.pointee.channel(api.pointee.context, $0, &buffer, buffer.count) }
        guard handle >= 0 else {
            let message = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw PluginError(.unavailable, message.isEmpty ? "no channel \(address)" : message)
        }
        return Channel(handle: handle, address: address)
    }

    /// [cycle] The channel's value in this cycle's snapshot. Never fails: an
    /// invalid handle reads as NaN with quality `.notAvailable`.
    public func read(_ channel: Channel) -> Sample {
        var v = sy_value()
        guard api.pointee.read(api.pointee.context, channel.handle, &v) == SY_OK else {
            return Sample(value: .nan, quality: .notAvailable, timestampNs: 0)
        }
        let value: Double = switch v.type {
        case SY_VALUE_F64: v.f64
        case SY_VALUE_I64, SY_VALUE_BOOL: Double(v.i64)
        default: .nan
        }
        return Sample(value: value, quality: Quality(rawValue: v.quality) ?? .fault, timestampNs: v.timestamp_ns)
    }

    /// [cycle] The value if its quality is good and it is finite, else nil.
    public func value(_ channel: Channel) -> Double? {
        let s = read(channel)
        return s.isGood && s.value.isFinite ? s.value : nil
    }

    /// The answer to `write(_:_:)`.
    public enum WriteResult: Sendable {
        /// The setpoint is this cycle's for the channel; it reaches the
        /// device's driver after the cycle.
        case accepted
        /// An earlier controller set this channel in this cycle.
        case conflict
        /// The host refused it: the channel is not writable, the handle is
        /// invalid, or a driver called `write`. The text names the status.
        case refused(String)
    }

    /// [cycle] Requests a setpoint. The first controller to set a channel in a
    /// cycle wins; later writes get `.conflict`. Setpoints written in a cycle
    /// are delivered even if `execute` then throws. The host does not repeat
    /// a setpoint: a controller that must hold a value writes it every cycle.
    @discardableResult
    public func write(_ channel: Channel, _ value: Double) -> WriteResult {
        var v = sy_value(type: SY_VALUE_F64, quality: SY_QUALITY_GOOD, timestamp_ns: 0, f64: value, i64: 0)
        switch api.pointee.write(api.pointee.context, channel.handle, &v) {
        case SY_OK: return .accepted
        case SY_ERR_CONFLICT: return .conflict
        case let status: return .refused("status \(status)")
        }
    }

    /// [io] A driver reports a condition of its device for status pages
    /// (`diagnostics` in the edge's status), under a short key; nil or an
    /// empty text clears it. Does nothing in a host older than ABI 1.1.
    public func report(_ key: String, _ text: String?) {
        guard api.pointee.struct_size >= UInt32(MemoryLayout<sy_host_api>.offset(of: \sy_host_api.report)! + MemoryLayout<UnsafeRawPointer>.size),
              let report = api.pointee.report else { return }
        report(api.pointee.context, key, text)
    }

    /// [io] A driver publishes a fresh value of one of its channels. False
    /// if the channel is not one of this device's.
    @discardableResult
    public func publish(_ channel: Channel, _ value: Double, quality: Quality = .good) -> Bool {
        publish(channel, value, quality: quality, timestampNs: monotonicNs)
    }

    /// [io] A driver publishes the text of one of its channels: a text
    /// channel's value (a serial number; with its quality and time), or the
    /// label of the number published last (an enum's). False if the channel
    /// is not this device's, or the host is older than ABI 1.1 (no text path).
    @discardableResult
    public func publishText(_ channel: Channel, _ text: String?, quality: Quality = .good, timestampNs: Int64) -> Bool {
        guard hasTextPath, let publishText = api.pointee.publish_text else { return false }
        let status: sy_status = if let text {
            text.withCString { publishText(api.pointee.context, channel.handle, $0, quality.rawValue, timestampNs) }
        } else {
            publishText(api.pointee.context, channel.handle, nil, quality.rawValue, timestampNs)
        }
        return status == SY_OK
    }

    /// A 1.0 host's table ends before `publish_text`.
    private var hasTextPath: Bool {
        Int(api.pointee.struct_size) >= MemoryLayout<sy_host_api>.offset(of: \.publish_text)! + MemoryLayout<UnsafeRawPointer>.size
    }

    /// [io] The same, with the time of the reading (a driver publishing
    /// many values of one answer reads the clock once).
    @discardableResult
    public func publish(_ channel: Channel, _ value: Double, quality: Quality = .good, timestampNs: Int64) -> Bool {
        var v = sy_value(type: SY_VALUE_F64, quality: quality.rawValue, timestamp_ns: timestampNs, f64: value, i64: 0)
        return api.pointee.publish(api.pointee.context, channel.handle, &v) == SY_OK
    }
}
