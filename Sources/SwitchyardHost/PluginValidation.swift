import CSwitchyardPlugin
import Synchronization
import SwitchyardJSON
import SwitchyardModel

#if canImport(Glibc)
import Glibc
#endif

/// The validation every tool on a machine with the plugins runs: the
/// config against the manifests and profiles (`ConfigValidator`), then each
/// instance config against its plugin's own checks (ABI 1.2 `validate`).
/// `switchyard-edge check`, `switchyard config validate`, `EdgeHost.validate`
/// (every apply and hot reload) and the sync agent all come here.
extension PluginCatalog {
    /// How long one plugin `validate` call may take before it is treated as
    /// a refusal. The contract says validate must not block; this bounds
    /// what a plugin that breaks it costs (its thread is left behind).
    public static let validateTimeoutNs: Int64 = 2_000_000_000

    /// Where the plugins' `validate` calls run.
    public enum ValidateIsolation: Sendable {
        /// On a helper thread of this process: a call that blocks is a
        /// refusal and leaves its thread behind; a crash takes the process
        /// down. For the edge, which has threads of its own running.
        case thread
        /// In forked child processes: a call that crashes or blocks is a
        /// refusal and the child is gone. Only for a process with no other
        /// threads (the `check` and `config validate` commands): a child of
        /// a threaded process could inherit a lock held by another thread.
        case process
    }

    /// Checks `config` against these plugins and `profiles`, and then with
    /// the plugins' own `validate`. Throws every issue with its path; a
    /// plugin's refusal is reported at the instance's `parameters`, naming
    /// the device or controller, the class and the plugin's message.
    public func validate(_ config: EdgeConfig, profiles: ProfileCatalog, timeoutNs: Int64 = PluginCatalog.validateTimeoutNs,
                         isolation: ValidateIsolation = .thread) throws(ValidationError) -> ResolvedConfig {
        let resolved = try ConfigValidator(classes: classes, profiles: profiles.profiles).resolve(config)
        try checkInstances(resolved, timeoutNs: timeoutNs, isolation: isolation)
        return resolved
    }

    /// Runs the plugins' own checks on every controller and device of
    /// `resolved` whose plugin has `validate`; plugins of ABI 1.0 and 1.1
    /// are skipped. Schema validation must have passed: the plugins get the
    /// parameters with defaults filled in, as `create` would.
    public func checkInstances(_ resolved: ResolvedConfig, timeoutNs: Int64 = PluginCatalog.validateTimeoutNs,
                               isolation: ValidateIsolation = .thread) throws(ValidationError) {
        var calls: [PluginValidateCall] = []
        func add(_ plugin: LoadedPlugin?, _ className: String, _ config: JSONValue, _ path: JSONPath, _ subject: String) {
            guard let plugin, plugin.validates else { return }
            let call = PluginValidateCall(plugin: plugin, className: className, config: config, path: path, subject: subject)
            if !PluginValidateCall.wasAccepted(call) { calls.append(call) }
        }
        for device in resolved.devices {
            add(plugin(forClass: device.profile.driver), device.profile.driver, device.instanceConfig(dataDirectory: nil),
                device.config.path.appending("parameters"), "device \(device.id)")
        }
        for controller in resolved.controllers {
            add(plugin(forClass: controller.config.className), controller.config.className, controller.instanceConfig,
                controller.config.path.appending("parameters"), "controller \(controller.config.id)")
        }
        guard !calls.isEmpty else { return }
        let refusals = switch isolation {
        case .thread: PluginValidateCall.run(calls, timeoutNs: timeoutNs)
        case .process: PluginValidateCall.runInChildren(calls, timeoutNs: timeoutNs)
        }
        for (call, refusal) in zip(calls, refusals) where refusal == nil { PluginValidateCall.noteAccepted(call) }
        let issues = zip(calls, refusals).compactMap { call, refusal in
            refusal.map { ValidationIssue(path: call.path, message: "(\(call.subject)) \(call.className) of \(call.plugin.id) \(call.plugin.version) refused it: \($0)") }
        }
        if !issues.isEmpty { throw ValidationError(issues) }
    }
}

extension ResolvedConfig.Device {
    /// The instance config its driver's `create` gets; `validate` gets the
    /// same without a data folder (it does no I/O).
    func instanceConfig(dataDirectory: String?) -> JSONValue {
        var instance: [String: JSONValue] = [
            "id": .string(id),
            "device_id": .string(id),
            "profile": profile.document,
            "parameters": parameters,
            "poll_groups": .object(Dictionary(uniqueKeysWithValues: pollGroups.map { ($0.name, .array($0.channels.map(JSONValue.string))) })),
        ]
        if let connection = config.connection { instance["connection"] = connection }
        if let dataDirectory { instance["data_directory"] = .string(dataDirectory + "/devices/" + id) }
        return .object(instance)
    }
}

extension ResolvedConfig.Controller {
    /// The instance config its controller's `create` and `validate` get.
    var instanceConfig: JSONValue { ["id": .string(config.id), "parameters": parameters] }
}

/// One plugin `validate` call and where its refusal is reported.
struct PluginValidateCall: Sendable {
    let plugin: LoadedPlugin
    let className: String
    let config: JSONValue
    let path: JSONPath
    let subject: String

    /// Instance configs a plugin image accepted: validate is pure, so the
    /// same config is accepted again, and an apply that keeps most devices
    /// does not encode their configs and call their plugins again.
    /// Refusals are not kept. Bounded: cleared when it grows past 4096.
    private static let accepted = Mutex<Set<AcceptedKey>>([])

    /// The plugin is named by the file it was mapped from: a changed
    /// library is mapped from a new path, so its answers are its own.
    private struct AcceptedKey: Hashable, Sendable {
        let image: String
        let className: String
        let config: JSONValue
    }

    private var acceptedKey: AcceptedKey { AcceptedKey(image: plugin.loadedFrom, className: className, config: config) }

    static func wasAccepted(_ call: PluginValidateCall) -> Bool { accepted.withLock { $0.contains(call.acceptedKey) } }

    static func noteAccepted(_ call: PluginValidateCall) {
        accepted.withLock { set in
            if set.count >= 4096 { set.removeAll() }
            set.insert(call.acceptedKey)
        }
    }

    /// Classes whose `validate` did not return in time, by plugin image and
    /// class: they are not called again in this process (each call would
    /// leave another thread behind); a new plugin version gets a new chance.
    private static let hung = Mutex<Set<String>>([])

    private var hungKey: String { plugin.loadedFrom + "\u{0}" + className }

    /// Runs `calls` in order on a thread of their own and returns each one's
    /// refusal (nil: accepted). A call that makes no progress for `timeoutNs`
    /// is a refusal; its thread is abandoned (it cannot be stopped: the code
    /// is the plugin's, in this process) and the calls after it go on on a
    /// new thread.
    static func run(_ calls: [PluginValidateCall], timeoutNs: Int64) -> [String?] {
        var refusals = [String?](repeating: nil, count: calls.count)
        var next = 0
        let clock = SystemClock()
        while next < calls.count {
            let batch = Batch(Array(calls[next...]))
            OSThread.detach(name: "plugin-validate") { batch.work() }
            var done = 0
            var deadline = clock.monotonicNs() + timeoutNs
            while true {
                batch.signal.wait(untilNs: deadline)
                let (finished, results) = batch.progress()
                if finished == batch.calls.count {
                    for (i, r) in results.enumerated() { refusals[next + i] = r }
                    return refusals
                }
                if finished > done {
                    done = finished
                    deadline = clock.monotonicNs() + timeoutNs
                    continue
                }
                guard clock.monotonicNs() >= deadline else { continue }
                // calls[next + finished] has not returned: refuse it, give
                // up on this thread, and carry on after it.
                batch.abandon()
                for (i, r) in results.enumerated() { refusals[next + i] = r }
                let stuck = calls[next + finished]
                hung.withLock { _ = $0.insert(stuck.hungKey) }
                refusals[next + finished] = "its validate did not return within \(JSONValue.format(Double(timeoutNs) / 1e9)) s "
                    + "(validate must not block); treated as a refusal"
                next += finished + 1
                break
            }
        }
        return refusals
    }

    /// The refusal of one call, nil if the plugin accepted.
    fileprivate func call() -> String? {
        if Self.hung.withLock({ $0.contains(hungKey) }) {
            return "its validate did not return earlier in this process (validate must not block); not called again until the plugin is replaced"
        }
        return callPlugin()
    }

    /// The plugin's answer, without the bookkeeping of `call`.
    func callPlugin() -> String? {
        guard let validate = plugin.validateFunction else { return nil }
        let capacity = PluginInstance.errorCapacity
        var buffer = [CChar](repeating: 0, count: capacity)
        let status = config.canonicalText.withCString { json in
            className.withCString { name in
                buffer.withUnsafeMutableBufferPointer { validate(name, json, $0.baseAddress, capacity) }
            }
        }
        guard status != SY_OK else { return nil }
        buffer[capacity - 1] = 0
        let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return message.isEmpty ? statusName(status) : message
    }

    /// Calls made on one thread, with what the waiting thread reads.
    private final class Batch: Sendable {
        let calls: [PluginValidateCall]
        let signal = WakeSignal()
        private let state = Mutex<(results: [String?], abandoned: Bool)>(([], false))

        init(_ calls: [PluginValidateCall]) { self.calls = calls }

        func work() {
            for c in calls {
                if state.withLock({ $0.abandoned }) { return }
                let refusal = c.call()
                state.withLock { $0.results.append(refusal) }
                signal.signal()
            }
        }

        func progress() -> (Int, [String?]) { state.withLock { ($0.results.count, $0.results) } }
        func abandon() { state.withLock { $0.abandoned = true } }
    }
}
