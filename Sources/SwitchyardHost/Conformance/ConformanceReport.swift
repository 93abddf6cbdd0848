import SwitchyardJSON

/// One row of a conformance run: what was checked, the outcome, and why.
public struct ConformanceCheck: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        case pass
        case fail
        /// Does not apply to this driver (e.g. no hot parameter to change),
        /// or could not run because an earlier call hung or failed.
        case skip
    }

    public var name: String
    public var outcome: Outcome
    public var reason: String

    public init(_ name: String, _ outcome: Outcome, _ reason: String) {
        self.name = name
        self.outcome = outcome
        self.reason = reason
    }
}

/// The result of `DriverConformance.run`: one row per check.
public struct ConformanceReport: Sendable {
    public var library: String
    public var pluginId: String?
    public var pluginVersion: String?
    public var className: String
    public var profileId: String
    public var checks: [ConformanceCheck] = []

    /// True when no check failed (skipped checks do not fail a run).
    public var passed: Bool { !checks.contains { $0.outcome == .fail } }

    public func check(named name: String) -> ConformanceCheck? { checks.first { $0.name == name } }

    /// The pass/fail table `switchyard plugin test` prints.
    public var table: String {
        let width = max(5, checks.map(\.name.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        var lines = ["\(pluginId ?? library) \(pluginVersion ?? "")  class \(className)  profile \(profileId)", ""]
        lines.append(pad("CHECK", width) + "  RESULT  REASON")
        for c in checks {
            lines.append(pad(c.name, width) + "  " + pad(c.outcome.rawValue.uppercased(), 6) + "  " + c.reason)
        }
        let failed = checks.filter { $0.outcome == .fail }.count
        let skipped = checks.filter { $0.outcome == .skip }.count
        lines.append("")
        lines.append(failed == 0
            ? "PASS: \(checks.count - skipped) checks passed" + (skipped > 0 ? ", \(skipped) skipped" : "")
            : "FAIL: \(failed) of \(checks.count) checks failed")
        return lines.joined(separator: "\n")
    }

    /// The same for machines (`--json`).
    public var json: JSONValue {
        var doc: [String: JSONValue] = [
            "library": .string(library), "class": .string(className), "profile": .string(profileId), "passed": .bool(passed),
            "checks": .array(checks.map { ["check": .string($0.name), "result": .string($0.outcome.rawValue), "reason": .string($0.reason)] }),
        ]
        if let pluginId { doc["plugin"] = .string(pluginId) }
        if let pluginVersion { doc["version"] = .string(pluginVersion) }
        return .object(doc)
    }
}
