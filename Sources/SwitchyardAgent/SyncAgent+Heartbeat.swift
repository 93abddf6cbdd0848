import Foundation
import SwitchyardJSON
import SwitchyardModel

extension SyncAgent {
    /// Queues a heartbeat with the current version, state and errors in the
    /// cache's outbox (so a restart does not lose it) and wakes the sender.
    func report() {
        do {
            try cache.enqueueHeartbeat(heartbeatBody())
        } catch {
            logger.warning("the heartbeat outbox could not be written: \(error)")
        }
        heartbeatWanted.signal()
    }

    /// The heartbeat for the current version, state and errors.
    func heartbeatBody() -> String {
        heartbeat(withErrors: true).canonicalText
    }

    /// The version that runs and the state of the last version handled, and
    /// with `withErrors` the errors since the last confirmed version.
    private func heartbeat(withErrors: Bool) -> JSONValue {
        let s = state.withLock { $0 }
        var body: [String: JSONValue] = ["version": .number(Double(s.running?.version ?? 0)), "state": .string(s.reportState)]
        if withErrors { body["errors"] = .array(s.errors) }
        return .object(body)
    }

    /// Sends the outbox's newest heartbeat promptly, but at most one every
    /// `sync.state_report_min_s`; metrics every `sync.metrics_interval_s`;
    /// members that did not change since the last heartbeat the server took
    /// are left out (the server keeps them). Backs off while the server
    /// cannot be reached.
    func sendHeartbeats() async {
        var lastStateSent = ContinuousClock.now - .seconds(3600)
        var nextMetrics = ContinuousClock.now + .seconds(5)
        var retryAt: ContinuousClock.Instant?
        var backoff = Backoff(baseSeconds: 1, capSeconds: max(options.backoffCapSeconds, 1))
        var sentErrors: String?

        while !Task.isCancelled {
            heartbeatTurns.add(1, ordering: .relaxed)
            let settings = state.withLock { $0.running?.config.sync } ?? SyncSettings()
            let now = ContinuousClock.now
            let pending = (try? cache.newestHeartbeat()) ?? nil
            let metricsDue = now >= nextMetrics
            let stateDue = pending != nil && now >= lastStateSent + .seconds(settings.stateReportMinS)
            let retryDue = retryAt.map { now >= $0 } ?? true
            if retryDue && (stateDue || metricsDue) {
                var body = (pending.flatMap { try? JSONValue(parsing: $0.body) }) ?? heartbeat(withErrors: false)
                // What the server will hold as this edge's errors once it takes this heartbeat.
                let errorsText = body["errors"]?.canonicalText
                let sentErrorsCandidate = errorsText ?? sentErrors
                if case .object(var members) = body {
                    if errorsText == sentErrors { members["errors"] = nil }
                    if metricsDue { members["metrics"] = metrics() }
                    body = .object(members)
                }
                do {
                    let answer = try await client.send("POST", "/api/v1/edges/\(options.edgeId)/heartbeat", json: body,
                                                       timeoutSeconds: options.requestTimeoutSeconds)
                    contact(ok: true)
                    if (200..<300).contains(answer.status) || (400..<500).contains(answer.status) && answer.status != 429 && answer.status != 401 {
                        if !(200..<300).contains(answer.status) {
                            logger.warning("the server refused a heartbeat (\(answer.status)): \(answer.errorText)")
                        } else {
                            sentErrors = sentErrorsCandidate
                        }
                        if let pending { try? cache.heartbeatsSent(through: pending.id) }
                        lastStateSent = pending != nil ? now : lastStateSent
                        if metricsDue { nextMetrics = now + .seconds(settings.metricsIntervalS) }
                        retryAt = nil
                        backoff.reset()
                    } else {
                        retryAt = now + .milliseconds(Int64(backoff.next() * 1000) + 200)
                    }
                } catch {
                    contact(ok: false, "the server \(options.serverURL) could not be reached: \(error)")
                    retryAt = now + .milliseconds(Int64(backoff.next() * 1000) + 200)
                }
                continue
            }
            // Sleep until the next thing is due, or a new report; nothing is
            // sent before a retry is due, whatever else is waiting.
            var wakeAt = nextMetrics
            if pending != nil { wakeAt = min(wakeAt, lastStateSent + .seconds(settings.stateReportMinS)) }
            if let retryAt { wakeAt = max(wakeAt, retryAt) }
            await heartbeatWanted.wait(until: wakeAt)
        }
    }

    /// Cycle statistics and the agent's own figures.
    private func metrics() -> JSONValue {
        let h = applier.sample()
        let s = state.withLock { $0 }
        return [
            "cycles": .number(Double(h.cycles)),
            "overruns": .number(Double(h.overruns)),
            "overrun_alerts": .number(Double(h.overrunAlerts)),
            "cycle_work_p99_ms": .number((h.workP99Ms * 1000).rounded() / 1000),
            "controllers_disabled": .number(Double(h.controllers.values.filter { $0.disabled }.count)),
            "devices_in_fault": .number(Double(h.faultedDevices.count)),
            // Which ones and why (the first ten, the reasons cut short): an
            // operator's first question when the count is not zero.
            "devices_faulted": .object(Dictionary(uniqueKeysWithValues: h.faultedDevices.sorted { $0.key < $1.key }.prefix(10)
                .map { ($0.key, JSONValue.string(String($0.value.prefix(200)))) })),
            "boot": .number(Double(s.boot)),
            "websocket_up": .bool(s.websocketUp),
            "config_bytes_full": .number(Double(s.bytes.fullBytes)),
            "config_bytes_delta": .number(Double(s.bytes.deltaBytes)),
            "device_info": Self.deviceInfo(h),
        ]
    }

    /// `{"meter": {"Serial": "SN-421"}}`: each device's text channels.
    public static func deviceInfo(_ sample: HealthSample) -> JSONValue {
        .object(sample.deviceTexts.mapValues { texts in .object(texts.mapValues(JSONValue.string)) })
    }
}
