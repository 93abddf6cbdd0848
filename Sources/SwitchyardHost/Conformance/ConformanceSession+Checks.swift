import CSwitchyardPlugin
import SwitchyardJSON
import SwitchyardModel

extension ConformanceSession {
    /// Every check, in the order of a device's life at the edge. Each row
    /// says why it passed or failed; rows that cannot run (an earlier call
    /// hung, create or start failed) are skipped with the reason.
    func run() -> [ConformanceCheck] {
        defer {
            control.finish()
            io.finish()
        }
        let groups = device.pollGroups.map(\.name)
        var instance: InstanceHandle?
        var main: ConformanceHost?
        var running = false

        // create, with the device's parameters as the edge resolves them.
        if let (result, handle, host) = create(device.parameters) {
            main = host
            if result.ok, let handle {
                instance = handle
                record("create", .pass, "created with parameters \(device.parameters.canonicalText)")
            } else if result.ok {
                record("create", .fail, "returned SY_OK without an instance")
            } else {
                record("create", .fail, "refused valid parameters \(device.parameters.canonicalText): \(result.described)")
            }
        } else {
            record("create", .fail, stuck ?? "")
        }

        func blocked(needsRunning: Bool) -> String? {
            if let stuck { return stuck }
            if instance == nil { return "there is no instance (create failed)" }
            if needsRunning && !running { return "start failed" }
            return nil
        }

        if let why = blocked(needsRunning: false) {
            skip(["start"], why)
        } else if let instance, let main {
            if let result = start(instance, main) {
                running = result.ok
                record("start", result.ok ? .pass : .fail, result.ok ? "started on the I/O thread" : result.described)
            } else {
                record("start", .fail, stuck ?? "")
            }
        }

        for pollGroup in device.pollGroups {
            let group = pollGroup.name
            let name = "poll \(group)"
            guard let instance, let main, blocked(needsRunning: true) == nil else {
                skip([name], blocked(needsRunning: true) ?? "")
                continue
            }
            let before = main.snapshot.published
            var failures: [String] = []
            for _ in 0..<options.pollsPerGroup {
                guard let result = poll(instance, main, group) else { break }
                if !result.ok { failures.append(result.described) }
            }
            let published = main.snapshot.published - before
            if let stuck {
                record(name, .fail, stuck)
            } else if let first = failures.first {
                record(name, .fail, "\(failures.count) of \(options.pollsPerGroup) polls failed: \(first)")
            } else if published == 0 && pollGroup.channels.isEmpty {
                // A group the profile declares but gives no point (a SunSpec
                // profile's spare "slow" group): nothing to read is no failure.
                record(name, .pass, "\(options.pollsPerGroup) polls; nothing published, and the group lists no channels")
            } else if published == 0 {
                record(name, .fail, "\(options.pollsPerGroup) polls returned SY_OK but published nothing "
                    + "(return an error from a poll that read nothing, docs/plugins.md 5.4)")
            } else {
                record(name, .pass, "\(options.pollsPerGroup) polls, \(published) values published")
            }
        }

        let writable = device.profile.channels.filter { $0.access.isWritable && !$0.isText }
        if writable.isEmpty { record("write", .skip, "the profile has no writable channel") }
        for channel in writable {
            let name = "write \(channel.name)"
            guard let instance, let main, blocked(needsRunning: true) == nil else {
                skip([name], blocked(needsRunning: true) ?? "")
                continue
            }
            guard let handle = main.resolve(channel.name) else {
                record(name, .fail, "no handle for the channel")
                continue
            }
            let value = DriverConformance.writeValue(for: channel.name, in: device.profile)
            let logged = main.snapshot.logs.count
            guard let result = write(instance, main, handle: handle, value: value) else {
                record(name, .fail, stuck ?? "")
                continue
            }
            // What the driver said: its status and message, and what it logged meanwhile.
            let said = main.snapshot.logs.dropFirst(logged).prefix(2).map { "; logged \"\($0)\"" }.joined()
            let what = "wrote \(JSONValue.format(value))\(channel.unit.map { " \($0)" } ?? "")"
            record(name, result.ok ? .pass : .fail, (result.ok ? "\(what): accepted" : "\(what): refused: \(result.described)") + said)
        }

        if let why = blocked(needsRunning: false) {
            skip(["configure (same parameters)"], why)
        } else if let instance, let main {
            if let result = configure(instance, main, device.parameters) {
                switch result.status {
                case SY_OK: record("configure (same parameters)", .pass, "applied")
                case SY_ERR_NEEDS_RECREATE:
                    record("configure (same parameters)", .pass, "asked for a new instance (SY_ERR_NEEDS_RECREATE); allowed, the edge then recreates it")
                default: record("configure (same parameters)", .fail, "refused the parameters it runs with: \(result.described)")
                }
            } else {
                record("configure (same parameters)", .fail, stuck ?? "")
            }
        }

        if let (parameter, value, parameters) = DriverConformance.hotChange(schema, device.parameters) {
            let name = "configure (hot \(parameter))"
            if let why = blocked(needsRunning: true) {
                skip([name], why)
            } else if let instance, let main, let result = configure(instance, main, parameters) {
                switch result.status {
                case SY_OK:
                    if let group = groups.first, let next = poll(instance, main, group) {
                        record(name, next.ok ? .pass : .fail, next.ok
                            ? "applied \(parameter) = \(value.canonicalText); the next poll succeeded"
                            : "applied \(parameter) = \(value.canonicalText), but the next poll failed: \(next.described)")
                    } else {
                        record(name, stuck == nil ? .pass : .fail, stuck ?? "applied \(parameter) = \(value.canonicalText)")
                    }
                case SY_ERR_NEEDS_RECREATE:
                    record(name, .fail, "\(parameter) is declared hot, but configure asked for a new instance (SY_ERR_NEEDS_RECREATE)")
                default:
                    record(name, .fail, "refused \(parameter) = \(value.canonicalText): \(result.described)")
                }
            } else {
                record(name, .fail, stuck ?? "")
            }
        } else {
            record("configure (hot parameter)", .skip, "the class declares no hot parameter")
        }

        if let (parameter, parameters) = DriverConformance.withoutRequired(schema, device.parameters) {
            refuses("refuses missing \(parameter)", parameters, what: "parameters without the required \(parameter)")
        } else {
            record("refuses missing parameter", .skip, "the class has no required parameter without a default")
        }
        // A driver without ranged parameters (the Modbus driver) is tried
        // with its connection instead (a port beyond 65535).
        if let (parameter, value, parameters) = DriverConformance.outOfRange(schema, device.parameters) {
            refuses("refuses out-of-range \(parameter)", parameters, what: "\(parameter) = \(value.canonicalText), outside its declared range")
        } else if let connectionSchema, let connection = device.config.connection,
                  let (member, value, changed) = DriverConformance.outOfRange(connectionSchema, connection) {
            refuses("refuses out-of-range connection.\(member)", device.parameters, connection: changed,
                    what: "connection.\(member) = \(value.canonicalText), outside its declared range")
        } else {
            record("refuses out-of-range parameter", .skip, "the class declares no parameter with a range or an enum")
        }

        if let why = blocked(needsRunning: true) {
            skip(["stop while polling"], why)
        } else if let instance, let main {
            stopWhilePolling(instance, main, group: groups.first ?? "")
            running = false
        }

        if let why = blocked(needsRunning: false) {
            skip(["start/stop ×\(options.startStopCycles)"], why)
        } else if let instance, let main {
            startStop(instance, main, group: groups.first)
        }

        if let why = blocked(needsRunning: false) {
            skip(["destroy"], why)
        } else if let instance, let main {
            if destroy(instance, main) {
                sleepMs(options.quietPeriodMs)
                record("destroy", .pass, "destroyed on the control thread")
            } else {
                record("destroy", .fail, stuck ?? "")
            }
        }

        threadRules()
        publishedValues()
        return checks
    }

    /// `create` with bad parameters must refuse, with a message.
    private func refuses(_ name: String, _ parameters: JSONValue, connection: JSONValue? = nil, what: String) {
        if let stuck {
            record(name, .skip, "not run: \(stuck)")
            return
        }
        guard let (result, handle, host) = create(parameters, connection: connection) else {
            record(name, .fail, stuck ?? "")
            return
        }
        if result.ok {
            if let handle { _ = destroy(handle, host) }
            record(name, .fail, "create accepted \(what)")
        } else if result.message.isEmpty {
            record(name, .fail, "create refused \(what) (\(statusName(result.status))) but gave no message")
        } else {
            record(name, .pass, "refused: \(result.described)")
        }
    }

    /// A stop requested while a poll runs: the edge's worker lets the poll
    /// finish and then calls `stop` on the same thread (calls on one
    /// instance never overlap). Both must return in time, and nothing may
    /// call the host once `stop` has returned.
    private func stopWhilePolling(_ instance: InstanceHandle, _ host: ConformanceHost, group: String) {
        let name = "stop while polling"
        let plugin = plugin
        let polled = CallCompletion<CallResult>()
        io.submit {
            host.enter(.poll)
            let error = UnsafeMutablePointer<CChar>.allocate(capacity: 1024)
            defer { error.deallocate() }
            error[0] = 0
            let status = group.withCString { plugin.descriptor.pointee.driver.pointee.poll(instance.raw, $0, error, 1024) }
            host.leave()
            polled.finish(CallResult(status: status, message: boundedString(error, 1023)))
        }
        let clock = SystemClock()
        let deadline = clock.monotonicNs() + timeoutNs
        while host.snapshot.phase != .poll, polled.value == nil, clock.monotonicNs() < deadline { sleepMs(1) }
        guard stop(instance, host) else {
            record(name, .fail, polled.value == nil ? "the poll did not return within \(options.callTimeoutMs) ms" : (stuck ?? ""))
            return
        }
        let before = host.snapshot.lateCalls
        sleepMs(options.quietPeriodMs)
        let late = host.snapshot.lateCalls - before
        let poll = polled.value.map { $0.ok ? "ok" : $0.described } ?? "?"
        if late > 0 {
            record(name, .fail, "\(late) host calls other than log and the clocks in the \(options.quietPeriodMs) ms after stop returned (a thread left running?)")
        } else {
            record(name, .pass, "stop requested during the poll (poll: \(poll)); stop returned, and no host call came after it")
        }
    }

    /// Repeated start/stop, then one more start and a poll: the instance
    /// still works after many reconnects.
    private func startStop(_ instance: InstanceHandle, _ host: ConformanceHost, group: String?) {
        let name = "start/stop ×\(options.startStopCycles)"
        for round in 1...max(1, options.startStopCycles) {
            guard let started = start(instance, host) else {
                record(name, .fail, "round \(round): \(stuck ?? "")")
                return
            }
            guard started.ok else {
                record(name, .fail, "round \(round): start failed: \(started.described)")
                return
            }
            guard stop(instance, host) else {
                record(name, .fail, "round \(round): \(stuck ?? "")")
                return
            }
        }
        guard let group else {
            record(name, .pass, "\(options.startStopCycles) rounds")
            return
        }
        guard let started = start(instance, host), started.ok else {
            record(name, .fail, "start after \(options.startStopCycles) rounds: \(stuck ?? "failed")")
            return
        }
        let polled = poll(instance, host, group)
        let stopped = stuck == nil && stop(instance, host)
        if let polled, polled.ok, stopped {
            record(name, .pass, "\(options.startStopCycles) rounds; then start, poll \(group) and stop succeeded")
        } else {
            record(name, .fail, stuck ?? "after \(options.startStopCycles) rounds, poll \(group) failed: \(polled?.described ?? "")")
        }
    }

    private func threadRules() {
        let states = hosts.map(\.snapshot)
        let count = states.reduce(0) { $0 + $1.violationCount }
        var distinct: [String] = []
        for s in states { for v in s.violations where !distinct.contains(v) { distinct.append(v) } }
        if count == 0 {
            record("thread rules", .pass, "every host call came on the thread and at the time its tag allows (docs/plugins.md 5.2)")
        } else {
            record("thread rules", .fail, "\(count) host calls broke the rules: " + distinct.prefix(4).joined(separator: "; "))
        }
    }

    private func publishedValues() {
        let states = hosts.map(\.snapshot)
        let count = states.reduce(0) { $0 + $1.valueProblemCount }
        var distinct: [String] = []
        for s in states { for v in s.valueProblems where !distinct.contains(v) { distinct.append(v) } }
        let published = states.reduce(0) { $0 + $1.published }
        let channels = Set(states.flatMap(\.publishedChannels)).count
        if count > 0 {
            record("published values", .fail, "\(count) bad values: " + distinct.prefix(4).joined(separator: "; "))
        } else if published == 0 {
            record("published values", .skip, "nothing was published")
        } else {
            record("published values", .pass, "\(published) values on \(channels) of \(device.profile.channels.count) channels: "
                + "the profile's channels, known types and qualities, host clock")
        }
    }
}
