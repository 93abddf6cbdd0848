import CSwitchyardPlugin
import Synchronization
import SwitchyardModel

#if canImport(Glibc)
import Glibc
#endif

/// The call of the descriptor or driver table an instance under test is in.
enum ConformancePhase: String, Sendable {
    case idle = "no call"
    case create, configure, destroy, start, poll, write, stop
    case destroyed = "after destroy"

    /// The [io] calls, during which a driver may publish and report.
    var isIO: Bool { self == .start || self == .poll || self == .write || self == .stop }
}

/// The host side of one driver instance under test: a `sy_host_api` whose
/// functions behave as the edge's do (channel handles, publish results) and
/// also record every breach of the header's rules — a host function called
/// from a thread or at a time its tag does not allow, a value for a channel
/// the profile does not have, of an unknown type or quality, or stamped with
/// another clock than the host's.
///
/// Thread rules for a driver (docs/plugins.md 5.2): `channel` only during
/// `create` or `configure`, on the thread running that call; `publish`,
/// `publish_text` and `report` only during an [io] call (`start`, `poll`,
/// `write`, `stop`), on the thread running it; `read` and `write` never (they
/// are a controller's); nothing after `destroy` returned. `log` and the
/// clocks are [thread-safe].
final class ConformanceHost: @unchecked Sendable {
    // @unchecked: `table` points to memory written once in init and then
    // only read; all mutable state is behind `state`'s lock.
    struct State {
        var phase: ConformancePhase = .idle
        var callThread: pthread_t?
        /// Distinct breaches of the thread and timing rules, with a count.
        var violations: [String] = []
        var violationCount = 0
        /// Distinct problems with published values, with a count.
        var valueProblems: [String] = []
        var valueProblemCount = 0
        var published = 0
        var publishedChannels: Set<Int32> = []
        /// Calls of functions that are not [thread-safe] while no call of
        /// the plugin runs (a thread it left running).
        var lateCalls = 0
        /// What the plugin logged, oldest first (the first 1000 lines).
        var logs: [String] = []

        mutating func violation(_ message: String) {
            violationCount += 1
            if violations.count < 12, !violations.contains(message) { violations.append(message) }
        }

        mutating func valueProblem(_ message: String) {
            valueProblemCount += 1
            if valueProblems.count < 12, !valueProblems.contains(message) { valueProblems.append(message) }
        }
    }

    let state = Mutex(State())
    let deviceId: String
    let directory: ChannelDirectory
    let handles: [Int32]
    let owned: Set<Int32>
    let clock = SystemClock()
    /// Published timestamps must lie between this and the time of publishing.
    let startNs: Int64
    /// The table handed to `create`; its `context` is this object.
    let table = UnsafeMutablePointer<sy_host_api>.allocate(capacity: 1)

    init(deviceId: String, profile: DeviceProfile, startNs: Int64) {
        self.deviceId = deviceId
        self.startNs = startNs
        directory = ChannelDirectory()
        handles = directory.register(device: deviceId, profile: profile)
        owned = Set(handles)
        table.initialize(to: sy_host_api(
            struct_size: UInt32(MemoryLayout<sy_host_api>.size),
            // Retained for the life of the process, like the table: see below.
            context: Unmanaged.passRetained(self).toOpaque(),
            log: conformanceLog, monotonic_ns: conformanceMonotonic, wall_clock_ns: conformanceWallClock,
            channel: conformanceChannel, read: conformanceRead, write: conformanceWrite, publish: conformancePublish,
            publish_text: conformancePublishText, report: conformanceReport))
    }

    // Neither the table nor this object is ever freed: a plugin that keeps
    // calling after destroy (a thread it left running) must find a table
    // that still works, so that the breach is recorded instead of crashing
    // the tool. A run creates a handful of them.

    static func from(_ raw: UnsafeMutableRawPointer?) -> ConformanceHost {
        Unmanaged<ConformanceHost>.fromOpaque(raw!).takeUnretainedValue()
    }

    /// Called on the thread that makes the call, just before it.
    func enter(_ phase: ConformancePhase) {
        state.withLock {
            $0.phase = phase
            $0.callThread = pthread_self()
        }
    }

    /// Called on the same thread right after the call returned.
    func leave(to phase: ConformancePhase = .idle) {
        state.withLock {
            $0.phase = phase
            $0.callThread = nil
        }
    }

    var snapshot: State { state.withLock { $0 } }

    /// Records `function` against the rules: allowed only during `phases`,
    /// on the thread running that call.
    func check(_ function: String, tag: String, allowedDuring phases: [ConformancePhase]) {
        state.withLock { s in
            if s.phase == .idle || s.phase == .destroyed { s.lateCalls += 1 }
            if s.phase == .destroyed {
                s.violation("\(function) called after destroy returned")
            } else if !phases.contains(s.phase) {
                let allowed = phases.map(\.rawValue).joined(separator: "/")
                s.violation("\(function) \(tag) called during \(s.phase.rawValue) (allowed only during \(allowed))")
            } else if let thread = s.callThread, pthread_equal(thread, pthread_self()) == 0 {
                s.violation("\(function) \(tag) called from another thread than the one running \(s.phase.rawValue)")
            }
        }
    }

    /// `log` and the clocks may come from any thread, but not after destroy.
    func checkAnyThread(_ function: String) {
        state.withLock { s in
            if s.phase == .destroyed { s.violation("\(function) called after destroy returned") }
        }
    }

    static let ioPhases: [ConformancePhase] = [.start, .poll, .write, .stop]

    func name(of handle: Int32) -> String { directory.info(handle)?.name ?? "handle \(handle)" }

    func publish(_ handle: Int32, _ value: sy_value) -> sy_status {
        check("publish", tag: "[io]", allowedDuring: Self.ioPhases)
        let now = clock.monotonicNs()
        return state.withLock { s in
            guard owned.contains(handle) else {
                s.valueProblem("publish to channel handle \(handle), not one of device \(deviceId)'s channels")
                return SY_ERR_UNAVAILABLE
            }
            let name = name(of: handle)
            if directory.info(handle)?.isText == true {
                s.valueProblem("\(name) is a text channel: publish its text with publish_text, not a number with publish")
            }
            if !(SY_QUALITY_GOOD...SY_QUALITY_NOT_AVAILABLE).contains(value.quality) {
                s.valueProblem("\(name): quality \(value.quality) is none of SY_QUALITY_*")
            }
            switch value.type {
            case SY_VALUE_F64:
                if value.quality == SY_QUALITY_GOOD && !value.f64.isFinite { s.valueProblem("\(name): a good value that is not finite (\(value.f64))") }
            case SY_VALUE_I64:
                break
            case SY_VALUE_BOOL:
                if value.i64 != 0 && value.i64 != 1 { s.valueProblem("\(name): a BOOL value of \(value.i64) (must be 0 or 1)") }
            case SY_VALUE_NONE:
                if value.quality == SY_QUALITY_GOOD { s.valueProblem("\(name): a good value of type SY_VALUE_NONE") }
            default:
                s.valueProblem("\(name): value type \(value.type) is none of SY_VALUE_*")
            }
            if value.type != SY_VALUE_NONE, !(startNs...now).contains(value.timestamp_ns) {
                s.valueProblem("\(name): timestamp \(value.timestamp_ns) is not from host->monotonic_ns (expected between \(startNs) and \(now))")
            }
            s.published += 1
            s.publishedChannels.insert(handle)
            return SY_OK
        }
    }

    func publishText(_ handle: Int32, quality: Int32, timestampNs: Int64) -> sy_status {
        check("publish_text", tag: "[io]", allowedDuring: Self.ioPhases)
        let now = clock.monotonicNs()
        return state.withLock { s in
            guard owned.contains(handle) else {
                s.valueProblem("publish_text to channel handle \(handle), not one of device \(deviceId)'s channels")
                return SY_ERR_UNAVAILABLE
            }
            if directory.info(handle)?.isText == true {
                let name = name(of: handle)
                if !(SY_QUALITY_GOOD...SY_QUALITY_NOT_AVAILABLE).contains(quality) {
                    s.valueProblem("\(name): text quality \(quality) is none of SY_QUALITY_*")
                }
                if !(startNs...now).contains(timestampNs) {
                    s.valueProblem("\(name): text timestamp \(timestampNs) is not from host->monotonic_ns")
                }
                s.published += 1
                s.publishedChannels.insert(handle)
            }
            return SY_OK
        }
    }

    func resolve(_ address: String) -> Int32? {
        let full = address.contains("/") ? address : deviceId + "/" + address
        guard let handle = directory.handle(for: full), owned.contains(handle) else { return nil }
        return handle
    }
}

private let conformanceLog: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void = { context, _, message in
    let host = ConformanceHost.from(context)
    host.checkAnyThread("log")
    let text = message.map { boundedString($0, 1024) } ?? ""
    host.state.withLock { if $0.logs.count < 1000 { $0.logs.append(text) } }
}

private let conformanceMonotonic: @convention(c) (UnsafeMutableRawPointer?) -> Int64 = { context in
    let host = ConformanceHost.from(context)
    host.checkAnyThread("monotonic_ns")
    return host.clock.monotonicNs()
}

private let conformanceWallClock: @convention(c) (UnsafeMutableRawPointer?) -> Int64 = { context in
    let host = ConformanceHost.from(context)
    host.checkAnyThread("wall_clock_ns")
    return host.clock.wallClockNs()
}

private let conformanceChannel: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> sy_channel = {
    context, address, error, capacity in
    let host = ConformanceHost.from(context)
    host.check("channel", tag: "[control]", allowedDuring: [.create, .configure])
    let name = address.map { String(cString: $0) } ?? ""
    guard let handle = host.resolve(name) else {
        copyError("device \(host.deviceId) has no channel \"\(name)\" in its profile", to: error, capacity: capacity)
        return SY_CHANNEL_INVALID
    }
    return handle
}

private let conformanceRead: @convention(c) (UnsafeMutableRawPointer?, sy_channel, UnsafeMutablePointer<sy_value>?) -> sy_status = { context, _, _ in
    let host = ConformanceHost.from(context)
    host.state.withLock { $0.violation("read [cycle] called by a driver (it is a controller's function)") }
    return SY_ERR_UNAVAILABLE
}

private let conformanceWrite: @convention(c) (UnsafeMutableRawPointer?, sy_channel, UnsafePointer<sy_value>?) -> sy_status = { context, _, _ in
    let host = ConformanceHost.from(context)
    host.state.withLock { $0.violation("write [cycle] called by a driver (it is a controller's function)") }
    return SY_ERR_INVALID
}

private let conformancePublish: @convention(c) (UnsafeMutableRawPointer?, sy_channel, UnsafePointer<sy_value>?) -> sy_status = { context, handle, value in
    let host = ConformanceHost.from(context)
    guard let value else {
        host.state.withLock { $0.valueProblem("publish with a NULL value") }
        return SY_ERR_INVALID
    }
    return host.publish(handle, value.pointee)
}

private let conformancePublishText: @convention(c) (UnsafeMutableRawPointer?, sy_channel, UnsafePointer<CChar>?, Int32, Int64) -> sy_status = {
    context, handle, _, quality, timestampNs in
    ConformanceHost.from(context).publishText(handle, quality: quality, timestampNs: timestampNs)
}

private let conformanceReport: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = { context, key, _ in
    let host = ConformanceHost.from(context)
    host.check("report", tag: "[io]", allowedDuring: ConformanceHost.ioPhases)
    if key == nil { host.state.withLock { $0.valueProblem("report with a NULL key") } }
}
