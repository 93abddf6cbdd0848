import CSwitchyardPlugin

/// Quality of a value in the process image.
public enum Quality: Int32, Sendable {
    case good = 0, stale = 1, fault = 2, notAvailable = 3
}

/// A resolved channel: an index into the host's process image. Resolve once
/// (in `init` or `configure`), then use it every cycle.
public struct Channel: Sendable, Hashable {
    public let handle: Int32
    public let address: String
}

/// A value read from the process image.
public struct Sample: Sendable {
    public var value: Double
    public var quality: Quality
    public var timestampNs: Int64

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

    public enum LogLevel: Int32, Sendable {
        case trace = 0, debug, info, warning, error
    }

    /// [thread-safe]
    public func log(_ level: LogLevel, _ message: String) {
        message.withCString { api.pointee.log(api.pointee.context, level.rawValue, $0) }
    }

    /// [thread-safe] The host's monotonic clock.
    public var monotonicNs: Int64 { api.pointee.monotonic_ns(api.pointee.context) }

    /// [thread-safe] The host's wall clock, ns since the Unix epoch.
    public var wallClockNs: Int64 { api.pointee.wall_clock_ns(api.pointee.context) }

    /// [control] Resolves `device_id/Channel` (a controller) or `Channel` (a
    /// driver's own channel).
    public func channel(_ address: String) throws(PluginError) -> Channel {
        var buffer = [CChar](repeating: 0, count: 512)
        let handle = address.withCString { api.pointee.channel(api.pointee.context, $0, &buffer, buffer.count) }
        guard handle >= 0 else {
            let message = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw PluginError(.unavailable, message.isEmpty ? "no channel \(address)" : message)
        }
        return Channel(handle: handle, address: address)
    }

    /// [cycle] The channel's value in this cycle's snapshot.
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

    /// [cycle] The value if its quality is good, else nil.
    public func value(_ channel: Channel) -> Double? {
        let s = read(channel)
        return s.isGood && s.value.isFinite ? s.value : nil
    }

    public enum WriteResult: Sendable {
        case accepted
        /// An earlier controller set this channel in this cycle.
        case conflict
        case refused(String)
    }

    /// [cycle] Requests a setpoint. The first controller to set a channel in a
    /// cycle wins.
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
