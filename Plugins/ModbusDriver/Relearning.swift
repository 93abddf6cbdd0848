/// When a device's refused addresses are tried again, and which refusals
/// are permanent. A device that answers "illegal data address" while it
/// boots serves the same registers a minute later, so nothing learned from a
/// refusal is kept for good: the poller forgets its learned holes and
/// disabled points when `isDue`, first 10 s after it learned something, then
/// at doubling intervals up to 30 min. A point refused on `permanentAfter`
/// tries in a row (about five minutes) while the device answers other reads
/// is reported once, loudly, as a profile that does not fit the device.
struct Relearning {
    static let initialNs: Int64 = 10_000_000_000
    static let maximumNs: Int64 = 1_800_000_000_000
    static let permanentAfter = 5

    struct Refusal: Equatable {
        var reason: String
        var count: Int
        var firstNs: Int64
        var permanent: Bool
    }

    enum Outcome: Equatable {
        /// Refused for the first time since it was last read.
        case first
        /// Refused again, as expected.
        case again
        /// Refused on this many tries in a row: reported once.
        case permanent(Int)
    }

    /// The time of the poll in progress (host clock).
    var nowNs: Int64 = 0
    /// When the next relearning is due; nil while nothing is learned.
    private(set) var dueNs: Int64?
    private var intervalNs = Self.initialNs
    private(set) var refusals: [String: Refusal] = [:]

    func isDue(_ nowNs: Int64) -> Bool { dueNs.map { nowNs >= $0 } ?? false }

    /// Something was learned (a hole or a refused point): schedules the
    /// next relearning if none is.
    mutating func learned(nowNs: Int64) {
        if dueNs == nil { dueNs = nowNs &+ intervalNs }
    }

    /// A point was refused.
    mutating func refused(_ name: String, reason: String) -> Outcome {
        learned(nowNs: nowNs)
        guard var r = refusals[name] else {
            refusals[name] = Refusal(reason: reason, count: 1, firstNs: nowNs, permanent: false)
            return .first
        }
        r.count += 1
        r.reason = reason
        defer { refusals[name] = r }
        if r.count >= Self.permanentAfter && !r.permanent {
            r.permanent = true
            return .permanent(r.count)
        }
        return .again
    }

    /// A point that was refused was read: true if it had been refused.
    mutating func readAgain(_ name: String) -> Bool {
        guard refusals.removeValue(forKey: name) != nil else { return false }
        if refusals.isEmpty { intervalNs = Self.initialNs }
        return true
    }

    /// The poller forgot what it learned; the next relearning waits longer.
    mutating func started(nowNs: Int64) {
        dueNs = nil
        intervalNs = min(intervalNs * 2, Self.maximumNs)
    }

    var nextRetryDescription: String {
        Self.describe(ns: max((dueNs ?? nowNs) - nowNs, 0))
    }

    func spanDescription(_ name: String) -> String {
        Self.describe(ns: refusals[name].map { nowNs - $0.firstNs } ?? 0)
    }

    /// One line for status pages: each point not read, why, and when it is
    /// tried again; nil when every point is read.
    func summary(disabled: Set<String>, nowNs: Int64) -> String? {
        guard !disabled.isEmpty else { return nil }
        let items = disabled.sorted().map { name -> String in
            guard let r = refusals[name] else { return name }
            var s = "\(name) (\(r.reason); refused \(r.count)×"
            if r.permanent { s += "; permanent: the profile does not fit this device" }
            return s + ")"
        }
        let retry = dueNs.map { "; tried again in " + Self.describe(ns: max($0 - nowNs, 0)) } ?? ""
        return "not read: " + items.joined(separator: ", ") + retry
    }

    static func describe(ns: Int64) -> String {
        let s = ns / 1_000_000_000
        if s < 120 { return "\(s) s" }
        return "\(s / 60) min"
    }
}
