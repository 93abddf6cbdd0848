import SwitchyardConfigDoc
import SwitchyardJSON
import Testing

/// Runs every case of json-patch-tests: `error` cases must fail, `expected`
/// cases must give that document, `disabled` cases are skipped but counted.
@Suite struct JSONPatchConformanceTests {
    struct Tally: Equatable {
        var ran = 0
        var passed = 0
        var skipped = 0
    }

    @Test func mainSuite() throws {
        let tally = try run("tests.json")
        // 95 records, 3 disabled: the numbers of upstream commit 2a928f9.
        #expect(tally == Tally(ran: 92, passed: 92, skipped: 3))
    }

    @Test func rfcExamples() throws {
        let tally = try run("spec_tests.json")
        // 17 records, 1 disabled.
        #expect(tally == Tally(ran: 16, passed: 16, skipped: 1))
    }

    func run(_ file: String) throws -> Tally {
        var tally = Tally()
        for (index, text) in ConformanceFixture.records(try ConformanceFixture.text(file)).enumerated() {
            let record: JSONValue
            do {
                record = try JSONValue(parsing: text)
            } catch {
                // Two disabled records have an operation with "op" twice; our
                // parser refuses duplicate keys, which is the RFC's answer
                // (A.13: such a patch is an error) and why they are disabled.
                #expect(error.reason.contains("duplicate key \"op\""), "\(file) #\(index): \(error)")
                #expect(text.contains("\"disabled\": true"), "\(file) #\(index) does not parse: \(error)")
                tally.skipped += 1
                continue
            }
            if record["disabled"] == .bool(true) {
                tally.skipped += 1
                continue
            }
            tally.ran += 1
            let label = "\(file) #\(index): \(record["comment"]?.stringValue ?? "(no comment)")"
            guard let doc = record["doc"], let patchDocument = record["patch"] else {
                Issue.record("\(label): no doc or patch")
                continue
            }
            let result: Result<JSONValue, JSONPatchError>
            do {
                result = .success(try JSONPatch(decoding: patchDocument).apply(to: doc))
            } catch {
                result = .failure(error)
            }
            switch (result, record["expected"], record["error"]) {
            case (.success(let actual), let expected?, nil):
                if actual.isJSONEqual(to: expected) {
                    tally.passed += 1
                } else {
                    Issue.record("\(label): expected \(expected), got \(actual)")
                }
            case (.failure, _, .some):
                tally.passed += 1
            case (.success, nil, nil):
                tally.passed += 1
            case (.success(let actual), _, let expectedError?):
                Issue.record("\(label): should fail (\(expectedError)), but gave \(actual)")
            case (.failure(let error), _, _):
                Issue.record("\(label): failed: \(error)")
            }
        }
        return tally
    }
}
