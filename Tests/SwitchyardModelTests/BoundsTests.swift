import Testing
import SwitchyardJSON
import SwitchyardModel

/// Every integer of a config, as a path of keys into a minimal document, with
/// its domain. The table in docs/configuration.md says the same.
private let configIntegers: [(path: [String], range: ClosedRange<Int>)] = [
    (["version"], 0...JSONValue.largestExactInteger),
    (["core_cycle", "period_ms"], 10...3_600_000),
    (["core_cycle", "supervisor", "overrun_alert_threshold"], 1...1_000_000),
    (["core_cycle", "supervisor", "controller_failure_limit"], 1...1_000_000),
    (["core_cycle", "supervisor", "recovery_delay_ms"], 0...86_400_000),
    (["sync", "interval_s"], 5...86_400),
    (["sync", "probation_cycles"], 1...100_000),
    (["sync", "metrics_interval_s"], 1...86_400),
    (["sync", "state_report_min_s"], 0...3_600),
]

/// `{"version": 1, "edge_id": "e"}` with `value` at `path`.
private func document(_ path: [String], _ value: Double) -> JSONValue {
    func nest(_ keys: ArraySlice<String>) -> JSONValue {
        guard let first = keys.first else { return .number(value) }
        return .object([first: nest(keys.dropFirst())])
    }
    var members: [String: JSONValue] = ["version": 1, "edge_id": "e"]
    let top = nest(path[...])
    for (k, v) in top.objectValue! { members[k] = v }
    return .object(members)
}

private func issues(_ json: JSONValue) -> [String] {
    do {
        _ = try EdgeConfig(json: json)
        return []
    } catch {
        return error.issues.map(\.description)
    }
}

@Suite struct BoundsTests {
    // MARK: The three reported crashes, refused by the shared validator

    @Test func aPollIntervalBeyondADayIsRefused() throws {
        let text = #"{"version":1,"edge_id":"e","devices":[{"device_id":"h","profile":"simulated_load","poll_interval_ms":3074457345619}]}"#
        let error = #expect(throws: ValidationError.self) { try EdgeConfig(parsing: text, file: "site.json") }
        #expect(error?.description == "site.json: devices[0].poll_interval_ms: must be <= 86400000, got 3074457345619")
    }

    @Test func aProfilePollGroupIntervalBeyondADayIsRefused() throws {
        let text = #"{"id": "p", "driver": "SimulatedLoad", "channels": [{"name": "A"}], "poll_groups": {"fast": {"interval_ms": 3074457345619, "channels": ["A"]}}}"#
        let error = #expect(throws: ValidationError.self) { try DeviceProfile(parsing: text, file: "p.json") }
        #expect(error?.description == "p.json: poll_groups.fast.interval_ms: must be <= 86400000, got 3074457345619")
    }

    @Test func aRecoveryDelayBeyondADayIsRefused() throws {
        let text = #"{"version":1,"edge_id":"e","core_cycle":{"supervisor":{"recovery_delay_ms":9223372036855}}}"#
        let error = #expect(throws: ValidationError.self) { try EdgeConfig(parsing: text, file: nil) }
        #expect(error?.description == "core_cycle.supervisor.recovery_delay_ms: must be <= 86400000, got 9223372036855")
    }

    @Test(arguments: [("9223372036854775808", "9.223372036854776e18"), ("1e308", "1e308"), ("-1e308", "-1e308")])
    func aSchemaIntegerWithoutMaximumIsBoundedByItsType(literal: String, shown: String) throws {
        let manifest = try PluginManifest(parsing: #"{"classes": [{"name": "Sim", "parameters": {"type": "object", "properties": {"seed": {"type": "integer", "default": 2}}}}]}"#)
        let classes = ["Sim": PluginClassInfo(pluginId: "t", pluginVersion: "1", kind: .driver, entry: manifest.classes[0])]
        let profile = try DeviceProfile(parsing: #"{"id": "sim", "driver": "Sim", "channels": [{"name": "A"}]}"#, file: nil)
        let c = try EdgeConfig(parsing: #"{"version":1,"edge_id":"e","devices":[{"device_id":"h","profile":"sim","parameters":{"seed":\#(literal)}}]}"#, file: nil)
        let error = #expect(throws: ValidationError.self) { try ConfigValidator(classes: classes, profiles: ["sim": profile]).resolve(c) }
        let bound = literal.hasPrefix("-") ? ">= -9007199254740991" : "<= 9007199254740991"
        #expect(error?.description == "devices[0].parameters.seed: must be \(bound), got \(shown)")

        // The type's bound itself is accepted, and a declared maximum still wins.
        let edge = try EdgeConfig(parsing: #"{"version":1,"edge_id":"e","devices":[{"device_id":"h","profile":"sim","parameters":{"seed":9007199254740991}}]}"#, file: nil)
        #expect(try ConfigValidator(classes: classes, profiles: ["sim": profile]).resolve(edge).devices[0].parameters["seed"] == 9007199254740991)
    }

    // MARK: The whole class: every integer of a config has a domain

    @Test func everyConfigIntegerAcceptsItsBoundsAndRefusesBeyond() {
        for (path, range) in configIntegers {
            let where_ = path.joined(separator: ".")
            #expect(issues(document(path, Double(range.lowerBound))) == [], "\(where_) at its minimum")
            #expect(issues(document(path, Double(range.upperBound))) == [], "\(where_) at its maximum")
            #expect(issues(document(path, Double(range.upperBound) - 1)) == [], "\(where_) at its maximum - 1")
            #expect(issues(document(path, Double(range.lowerBound) - 1)) == ["\(where_): must be >= \(range.lowerBound), got \(JSONValue.format(Double(range.lowerBound) - 1))"])
            if range.upperBound < JSONValue.largestExactInteger {
                #expect(issues(document(path, Double(range.upperBound) + 1)) == ["\(where_): must be <= \(range.upperBound), got \(range.upperBound + 1)"])
            }
            // Huge values name the bound, not "expected integer, got integer 9.22e18".
            #expect(issues(document(path, 9.223372036854775807e18)) == ["\(where_): must be <= \(range.upperBound), got 9.223372036854776e18"])
            #expect(issues(document(path, 1e308)) == ["\(where_): must be <= \(range.upperBound), got 1e308"])
        }
    }

    @Test func executionOrderAndPollIntervalHaveDomains() {
        func controller(_ order: String) -> [String] {
            issues(try! JSONValue(parsing: #"{"version":1,"edge_id":"e","scheduler":{"controllers":[{"id":"c","class":"X","execution_order":\#(order)}]}}"#))
        }
        #expect(controller("1000000") == [])
        #expect(controller("-1000000") == [])
        #expect(controller("1000001") == ["scheduler.controllers[0].execution_order: must be <= 1000000, got 1000001"])
        #expect(controller("-9223372036854775809") == ["scheduler.controllers[0].execution_order: must be >= -1000000, got -9.223372036854776e18"])
        func device(_ interval: String) -> [String] {
            issues(try! JSONValue(parsing: #"{"version":1,"edge_id":"e","devices":[{"device_id":"d","profile":"p","poll_interval_ms":\#(interval)}]}"#))
        }
        #expect(device("1") == [])
        #expect(device("86400000") == [])
        #expect(device("0") == ["devices[0].poll_interval_ms: must be >= 1, got 0"])
        #expect(device("-0") == ["devices[0].poll_interval_ms: must be >= 1, got 0"])
    }

    @Test func anIntegerWithoutDeclaredBoundsIsBoundedByItsType() {
        let issues = IssueList()
        var r = ObjectReader(["a": 9007199254740991, "b": -9007199254740992, "c": 9223372036854775807.0], at: .root, issues: issues)!
        #expect(r.integer("a") == JSONValue.largestExactInteger)
        #expect(r.integer("b") == nil)
        #expect(r.integer("c", min: 0, max: Int.max) == nil, "a declared bound beyond the type's does not widen it")
        #expect(issues.issues.map(\.description) == ["b: must be >= -9007199254740991, got -9007199254740992",
                                                      "c: must be <= 9007199254740991, got 9.223372036854776e18"])
    }

    // MARK: Messages that echo input

    @Test func echoedInputIsEscapedAndBounded() {
        #expect("a\nError: forged\u{1B}[31m".echoed() == "a\\nError: forged\\u{1B}[31m")
        #expect("\u{7F}\u{9B}\u{202E}\t\r".echoed() == "\\u{7F}\\u{9B}\\u{202E}\\t\\r")
        #expect("plain é 😀".echoed() == "plain é 😀")
        let long = String(repeating: "x", count: 1_000_000)
        #expect(long.echoed() == String(repeating: "x", count: 100) + "…(1000000 bytes)")
        #expect(String(repeating: "x", count: 100).echoed() == String(repeating: "x", count: 100))
    }

    @Test func aKeyWithANewlineCannotForgeALine() throws {
        let text = #"{"version": 1, "edge_id": "e", "x\nError: all is fine\u001b[0m": 1}"#
        let error = #expect(throws: ValidationError.self) { try EdgeConfig(parsing: text, file: "site.json") }
        let description = error?.description ?? ""
        #expect(!description.contains("\n") && !description.contains("\u{1B}"))
        #expect(description == #"site.json: x\nError: all is fine\u{1B}[0m: unknown field "x\nError: all is fine\u{1B}[0m""#)
    }

    @Test func aHugeUnknownNameComesBackCutAndWithoutSuggestionWork() throws {
        let name = String(repeating: "ActivePowe", count: 100_000)  // 1 MB
        let c = try config("[]", alarms: #"[{"id": "x", "channel": "b1/\#(name)", "condition": ">", "threshold": 1}]"#)
        let clock = ContinuousClock()
        let started = clock.now
        let error = #expect(throws: ValidationError.self) { try ConfigValidator(classes: catalog(), profiles: profiles()).resolve(c) }
        let elapsed = clock.now - started
        let message = try #require(error?.issues.first?.message)
        #expect(message == "device \"b1\" (profile bat) has no channel \"\(String(name.prefix(100)))…(1000000 bytes)\"")
        // Generous: it took 40 s before; the edit distance is no longer computed for such names.
        #expect(elapsed < .seconds(5))
        // Short names still get their suggestion.
        #expect(closestMatch(to: "ActivPower", in: ["ActivePower", "Soc"]) == "ActivePower")
        #expect(closestMatch(to: String(repeating: "a", count: 65), in: [String(repeating: "a", count: 64)]) == nil)
    }

    @Test func aHugeUnknownKeyAndValueAreCut() throws {
        let key = String(repeating: "k", count: 200)
        let value = String(repeating: "v", count: 200)
        let text = #"{"version": 1, "edge_id": "e", "\#(key)": 1, "alarms": [{"id": "a", "channel": "d/c", "condition": "\#(value)", "threshold": 1}]}"#
        let error = #expect(throws: ValidationError.self) { try EdgeConfig(parsing: text, file: nil) }
        let lines = error?.issues.map(\.description) ?? []
        let cutKey = String(repeating: "k", count: 100) + "…(200 bytes)"
        #expect(lines.contains("\(cutKey): unknown field \"\(cutKey)\""))
        #expect(lines.contains("alarms[0].condition: must be one of \"<\", \"<=\", \">\", \">=\", \"==\", \"!=\"; got \"\(String(repeating: "v", count: 100))…(200 bytes)\""))
        #expect(lines.allSatisfy { $0.count < 400 })
    }

    @Test func aHugeNumberIsNotEchoedWhole() {
        let digits = "1" + String(repeating: "0", count: 100_000)
        let error = #expect(throws: ValidationError.self) { try EdgeConfig(parsing: #"{"version": \#(digits)}"#, file: "site.json") }
        let text = error?.description ?? ""
        #expect(text.count < 300)
        #expect(text.hasSuffix("…(100001 bytes) is out of range"))
    }

    // MARK: Invalid UTF-8

    @Test func invalidUTF8IsRefusedWithItsByteOffset() {
        let bytes = Array(#"{"edge_id":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8)
        #expect(JSONValue.firstInvalidUTF8Offset(in: bytes) == 12)
        #expect(JSONValue.firstInvalidUTF8Offset(in: Array("é😀ok".utf8)) == nil)
        #expect(JSONValue.firstInvalidUTF8Offset(in: [0x61, 0xED, 0xA0, 0x80]) == 1, "a surrogate")
        #expect(JSONValue.firstInvalidUTF8Offset(in: [0x61, 0x62, 0xE2, 0x82]) == 2, "cut short")
        let error = #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: bytes) }
        #expect(error?.reason == "string is not valid UTF-8 (byte offset 12)")
        #expect(error?.column == 13)
    }
}
