import SwitchyardModel

/// A consistent picture of the host for status pages, the console display
/// and tests. Taken on demand; never blocks the cycle for longer than a copy.
public struct HostStatus: Sendable {
    public var edgeId: String?
    public var configVersion: Int?
    public var generation: Int
    /// Cycles started so far, and the one that began with the running
    /// generation: a change requested when `cyclesStarted` was n took effect
    /// in the next cycle if `appliedAtCycle` is n + 1.
    public var cyclesStarted: UInt64
    public var appliedAtCycle: UInt64
    public var periodMs: Int?
    public var statistics: CycleStatistics
    public var controllers: [ControllerStatus]
    public var devices: [DeviceStatus]
    public var activeAlarms: [String]
    public var recentAlarmEvents: [AlarmEvent]
    public var lastApplyError: String?
    public var plugins: [PluginSummary]
}

public struct PluginSummary: Sendable, Hashable {
    public var id: String
    public var version: String
    public var kind: PluginKind
    public var path: String
    /// The file mapped: `path`, or a versioned copy after a swap.
    public var loadedFrom: String
    public var classes: [String]
}

extension EdgeHost {
    public func status() -> HostStatus {
        let s = sharedSnapshot()
        let running = s.running
        return HostStatus(
            edgeId: running?.resolved.config.edgeId,
            configVersion: running?.resolved.config.version,
            generation: s.appliedGeneration,
            cyclesStarted: cyclesStarted.load(ordering: .relaxed),
            appliedAtCycle: s.appliedAtCycle,
            periodMs: running?.resolved.config.coreCycle.periodMs,
            statistics: s.statistics,
            controllers: s.controllers,
            devices: running?.workers.map { w in
                var d = w.status.withLock { $0 }
                d.diagnostics = w.page.diagnostics.withLock { $0 }
                return d
            } ?? [],
            activeAlarms: s.activeAlarms.sorted(),
            recentAlarmEvents: s.alarmEvents,
            lastApplyError: s.lastApplyError,
            plugins: plugins.plugins.map {
                PluginSummary(id: $0.id, version: $0.version, kind: $0.kind, path: $0.path, loadedFrom: $0.loadedFrom, classes: $0.manifest.classes.map(\.name))
            })
    }

    /// The latest value of `device/Channel` as its device published it
    /// (without waiting for a cycle), or nil if there is no such channel.
    public func reading(_ address: String) -> ChannelReading? {
        guard let handle = directory.handle(for: address), let running = sharedSnapshot().running else { return nil }
        for worker in running.workers {
            if let r = worker.page.reading(handle, nowNs: clock.monotonicNs()) { return r }
        }
        return nil
    }

    /// Every channel of the running config.
    public var channels: [ChannelInfo] { directory.all }

    /// Forgets the measured statistics (e.g. after warm-up in a benchmark).
    public func resetStatistics() {
        withShared { s in
            let period = s.statistics.periodNs
            s.statistics = CycleStatistics()
            s.statistics.periodNs = period
        }
    }
}
