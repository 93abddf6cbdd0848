import CSwitchyardPlugin
import Logging
import Synchronization
import SwitchyardModel

/// The state shared by the cycle thread and the controllers' host calls:
/// this cycle's image. A class so that every controller's context refers to
/// the one the cycle owns.
final class CycleState: @unchecked Sendable {
    // @unchecked: `image` is touched only on the cycle thread (the read and
    // write host calls are [cycle]); `CycleBound` checks that in debug builds.
    var image = CycleImage()
    let bound = CycleBound()
}

/// What one instance's `sy_host_api.context` points to.
final class InstanceContext: @unchecked Sendable {
    // @unchecked: immutable after init; the referenced objects are themselves
    // thread-safe or (CycleState) only used on the cycle thread.
    let source: String
    let deviceId: String?
    let page: DevicePage?
    let directory: ChannelDirectory
    let clock: any CycleClock
    let log: LogQueue
    let cycle: CycleState
    /// Controllers: the handles of the config being built (a channel of a
    /// removed device stays in the directory but must not bind).
    let available: Set<Int32>?
    /// Devices of the config that have no running driver, with the reason.
    let unstarted: [String: String]
    /// While a device worker delivers a hand write: the lines the driver
    /// logs meanwhile (at any level), for the write's audit.
    let capture = Mutex<[String]?>(nil)

    init(source: String, deviceId: String?, page: DevicePage?, directory: ChannelDirectory, clock: any CycleClock, log: LogQueue,
         cycle: CycleState, available: Set<Int32>? = nil, unstarted: [String: String] = [:]) {
        self.available = available
        self.unstarted = unstarted
        self.source = source
        self.deviceId = deviceId
        self.page = page
        self.directory = directory
        self.clock = clock
        self.log = log
        self.cycle = cycle
    }

    static func from(_ raw: UnsafeMutableRawPointer?) -> InstanceContext {
        Unmanaged<InstanceContext>.fromOpaque(raw!).takeUnretainedValue()
    }

    /// A `sy_host_api` table for this context. The caller owns the memory and
    /// keeps this context alive as long as the table.
    func makeTable() -> UnsafeMutablePointer<sy_host_api> {
        let table = UnsafeMutablePointer<sy_host_api>.allocate(capacity: 1)
        table.initialize(to: sy_host_api(
            struct_size: UInt32(MemoryLayout<sy_host_api>.size),
            context: Unmanaged.passUnretained(self).toOpaque(),
            log: hostLog, monotonic_ns: hostMonotonic, wall_clock_ns: hostWallClock,
            channel: hostChannel, read: hostRead, write: hostWrite, publish: hostPublish, publish_text: hostPublishText, report: hostReport))
        return table
    }

    func resolve(_ address: String) -> Resolution {
        if let deviceId {
            // A driver names its own channels without the device part.
            let full = address.contains("/") ? address : deviceId + "/" + address
            guard let handle = directory.handle(for: full), page?.slot(of: handle) != nil else {
                return .failure("device \(deviceId) has no channel \"\(address)\" in its profile")
            }
            return .success(handle)
        }
        guard address.contains("/") else {
            return .failure("channel address \"\(address)\" must be \"device_id/Channel\"")
        }
        guard let handle = directory.handle(for: address), available?.contains(handle) ?? true else {
            let device = String(address.prefix { $0 != "/" })
            if let why = unstarted[device] { return .failure("\(address) is unavailable: device \(device) \(why)") }
            return .failure("no channel \"\(address)\" in the config")
        }
        if directory.info(handle)?.isText == true {
            return .failure("\(address) is a text channel: the process image that controllers read carries numbers only; "
                + "its text shows in /channels, switchyard-edge status and the heartbeats")
        }
        return .success(handle)
    }

    enum Resolution {
        case success(Int32)
        case failure(String)
    }
}

private let hostLog: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void = { context, level, message in
    let ctx = InstanceContext.from(context)
    let lvl: Logger.Level = switch level {
    case SY_LOG_TRACE: .trace
    case SY_LOG_DEBUG: .debug
    case SY_LOG_INFO: .info
    case SY_LOG_WARNING: .warning
    default: .error
    }
    let text = message.map { String(cString: $0) } ?? ""
    if ctx.deviceId != nil { ctx.capture.withLock { $0?.append(text) } }
    // A plugin warning each cycle about the same thing would bury the log:
    // repeated warnings and errors are let through once a minute, counted.
    if lvl >= .warning {
        ctx.log.emitLimited(lvl, ctx.source, text, nowNs: ctx.clock.monotonicNs())
    } else {
        ctx.log.emit(lvl, ctx.source, text)
    }
}

private let hostMonotonic: @convention(c) (UnsafeMutableRawPointer?) -> Int64 = { context in
    InstanceContext.from(context).clock.monotonicNs()
}

private let hostWallClock: @convention(c) (UnsafeMutableRawPointer?) -> Int64 = { context in
    InstanceContext.from(context).clock.wallClockNs()
}

private let hostChannel: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> sy_channel = {
    context, address, error, capacity in
    let ctx = InstanceContext.from(context)
    switch ctx.resolve(address.map { String(cString: $0) } ?? "") {
    case .success(let handle): return handle
    case .failure(let message):
        copyError(message, to: error, capacity: capacity)
        return SY_CHANNEL_INVALID
    }
}

private let hostRead: @convention(c) (UnsafeMutableRawPointer?, sy_channel, UnsafeMutablePointer<sy_value>?) -> sy_status = { context, handle, out in
    let cycle = InstanceContext.from(context).cycle
    cycle.bound.check()
    guard let out, let value = cycle.image.read(handle) else { return SY_ERR_UNAVAILABLE }
    out.pointee = value
    return SY_OK
}

private let hostWrite: @convention(c) (UnsafeMutableRawPointer?, sy_channel, UnsafePointer<sy_value>?) -> sy_status = { context, handle, value in
    let ctx = InstanceContext.from(context)
    guard ctx.deviceId == nil, let value else { return SY_ERR_INVALID }
    ctx.cycle.bound.check()
    return ctx.cycle.image.write(handle, value.pointee, by: ctx.source)
}

private let hostPublish: @convention(c) (UnsafeMutableRawPointer?, sy_channel, UnsafePointer<sy_value>?) -> sy_status = { context, handle, value in
    let ctx = InstanceContext.from(context)
    guard let page = ctx.page, let value else { return SY_ERR_INVALID }
    return page.publish(handle, value.pointee) ? SY_OK : SY_ERR_UNAVAILABLE
}

private let hostPublishText: @convention(c) (UnsafeMutableRawPointer?, sy_channel, UnsafePointer<CChar>?, Int32, Int64) -> sy_status = {
    context, handle, text, quality, timestampNs in
    let ctx = InstanceContext.from(context)
    guard let page = ctx.page else { return SY_ERR_INVALID }
    let isText = ctx.directory.info(handle)?.isText ?? false
    // Bounded: a text is a serial number or a label, not a document.
    let string = text.map { boundedString($0, 1024) }.map { String($0.prefix(256)) }
    return page.publishText(handle, string, isText: isText, quality: ValueQuality(rawValue: quality) ?? .fault, timestampNs: timestampNs)
        ? SY_OK : SY_ERR_UNAVAILABLE
}

private let hostReport: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = { context, key, text in
    let ctx = InstanceContext.from(context)
    guard let page = ctx.page, let key else { return }
    page.report(boundedString(key, 64), text.map { boundedString($0, 1024) })
}

/// A C string read up to its NUL or `limit` bytes, whichever comes first.
func boundedString(_ s: UnsafePointer<CChar>, _ limit: Int) -> String {
    var n = 0
    while n < limit && s[n] != 0 { n += 1 }
    return String(decoding: UnsafeRawBufferPointer(start: s, count: n), as: UTF8.self)
}

/// Copies a message into a C buffer, truncated and NUL-terminated.
func copyError(_ message: String, to buffer: UnsafeMutablePointer<CChar>?, capacity: Int) {
    guard let buffer, capacity > 0 else { return }
    let bytes = Array(message.utf8.prefix(capacity - 1))
    for (i, b) in bytes.enumerated() { buffer[i] = CChar(bitPattern: b) }
    buffer[bytes.count] = 0
}
