import Testing
import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardModel

/// After a delta the agent re-encodes and re-reads only the top-level
/// members the patch changed (`CanonicalMembers`, `EdgeConfig(json:previous:changed:)`).
/// Whatever the change, the result must be what encoding and reading the
/// whole document gives.
@Suite struct DeltaReuseTests {
    static func document(version: Int = 1, devices: Int = 6) -> JSONValue {
        .object([
            "version": .number(Double(version)),
            "edge_id": "e1",
            "core_cycle": ["period_ms": 1000],
            "scheduler": ["controllers": [
                ["id": "peak", "class": "PeakShavingController", "parameters": ["threshold_watts": 6000]],
                ["id": "balance", "class": "BalancingController", "apply": "immediate", "parameters": ["min_soc": 20]],
            ]],
            "devices": .array((0..<devices).map { i in
                ["device_id": .string("dev\(i)"), "profile": "simulated_load", "parameters": ["base_w": .number(Double(100 * i))]]
            }),
            "alarms": [["id": "soc_low", "channel": "dev0/Soc", "condition": "<", "threshold": 20, "severity": "warning"]],
            "sync": ["probation_cycles": 5],
        ])
    }

    /// Changes as an operator would make them, each a new version.
    static let changes: [(String, @Sendable (inout [String: JSONValue]) -> Void)] = [
        ("a controller parameter", { d in d["scheduler"] = ["controllers": [
            ["id": "peak", "class": "PeakShavingController", "parameters": ["threshold_watts": 6500]],
            ["id": "balance", "class": "BalancingController", "apply": "immediate", "parameters": ["min_soc": 20]],
        ]] }),
        ("a device added", { d in
            if case .array(var devices)? = d["devices"] {
                devices.append(["device_id": "dev_new", "profile": "simulated_pv"])
                d["devices"] = .array(devices)
            }
        }),
        ("a device removed", { d in
            if case .array(var devices)? = d["devices"] {
                devices.remove(at: 2)
                d["devices"] = .array(devices)
            }
        }),
        ("the alarms removed", { d in d["alarms"] = nil }),
        ("a new top-level member", { d in d["metadata"] = ["note": "tuned"] }),
        ("the sync settings", { d in d["sync"] = ["probation_cycles": 7, "interval_s": 60] }),
    ]

    @Test(arguments: changes.indices)
    func reusingTheBaseGivesWhatTheWholeDocumentGives(_ index: Int) throws {
        let (label, change) = Self.changes[index]
        let base = Self.document()
        guard case .object(var members) = base else { Issue.record("not an object"); return }
        change(&members)
        members["version"] = 2
        let target = JSONValue.object(members)
        let patch = JSONDiff.patch(from: base, to: target)
        let changed = try #require(patch.changedTopLevelMembers, "\(label)")
        #expect(changed.contains("version"), "\(label)")
        #expect(try patch.apply(to: base) == target)

        guard case .object(let baseObject) = base else { return }
        let encoded = CanonicalMembers(baseObject).updated(to: members, changed: changed)
        #expect(encoded.bytes == target.canonicalBytes, "\(label): \(encoded.text)")

        let whole = try EdgeConfig(json: target)
        let reused = try EdgeConfig(json: target, previous: try EdgeConfig(json: base), changed: changed)
        #expect(reused == whole, "\(label)")
    }

    @Test func aMemberLeftOutOfTheChangesIsEncodedStaleAndTheHashShowsIt() throws {
        let base = Self.document()
        guard case .object(let baseObject) = base, case .object(var members) = Self.document(devices: 7) else { return }
        members["version"] = 2
        let stale = CanonicalMembers(baseObject).updated(to: members, changed: ["version"])
        #expect(stale.bytes != JSONValue.object(members).canonicalBytes, "the caller's SHA-256 check relies on this")
    }

    @Test func aBrokenChangedSectionIsStillReported() throws {
        let base = Self.document()
        guard case .object(var members) = base, case .array(var devices)? = members["devices"] else { return }
        devices.append(["device_id": "dev1", "profile": "simulated_pv"])
        members["devices"] = .array(devices)
        let target = JSONValue.object(members)
        let changed = try #require(JSONDiff.patch(from: base, to: target).changedTopLevelMembers)
        #expect(throws: ValidationError.self) { try EdgeConfig(json: target, previous: try EdgeConfig(json: base), changed: changed) }
        do {
            _ = try EdgeConfig(json: target, previous: try EdgeConfig(json: base), changed: changed)
        } catch {
            #expect("\(error)".contains("devices[6]: device_id \"dev1\""), "\(error)")
            #expect("\(error)".contains("already used"), "\(error)")
        }
    }

    @Test func thePatchNamesTheMembersItTouches() throws {
        let pointer = { (text: String) in try JSONPointer(parsing: text) }
        let patch = JSONPatch([
            .replace(path: try pointer("/scheduler/controllers/0/parameters/threshold_watts"), value: 1),
            .move(from: try pointer("/alarms/0"), path: try pointer("/archive/0")),
            .test(path: try pointer("/devices/0/device_id"), value: "dev0"),
        ])
        #expect(patch.changedTopLevelMembers == ["scheduler", "alarms", "archive"])
        #expect(JSONPatch([.replace(path: .root, value: [:])]).changedTopLevelMembers == nil, "a new document: nothing to reuse")
    }
}
