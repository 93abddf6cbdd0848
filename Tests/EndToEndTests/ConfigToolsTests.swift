import Foundation
import Testing
import SwitchyardJSON
import SwitchyardTestSupport

/// `switchyard config diff` and `apply-patch`, as an operator runs them.
@Suite struct ConfigToolsTests {
    let a = #"{"version": 1, "scheduler": {"controllers": [{"id": "ps", "parameters": {"threshold_watts": 50000}}, {"id": "bal"}]}, "alarms": []}"#
    let b = #"{"version": 2, "scheduler": {"controllers": [{"id": "ps", "parameters": {"threshold_watts": 48000}}, {"id": "bal"}]}, "alarms": []}"#

    func files(_ texts: [String: String]) throws -> String {
        let dir = TestPaths.temporaryDirectory()
        for (name, text) in texts { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return dir
    }

    @Test func diffThenApplyGivesTheTarget() throws {
        let dir = try files(["a.json": a, "b.json": b])
        let patch = try CFixture.run(TestPaths.executable("switchyard"), ["config", "diff", dir + "/a.json", dir + "/b.json"])
        let ops = try JSONValue(parsing: patch)
        #expect(ops.arrayValue?.count == 2)
        #expect(patch.contains("/scheduler/controllers/0/parameters/threshold_watts"))
        try patch.write(toFile: dir + "/p.json", atomically: true, encoding: .utf8)
        let result = try CFixture.run(TestPaths.executable("switchyard"), ["config", "apply-patch", dir + "/a.json", dir + "/p.json"])
        #expect(try JSONValue(parsing: result) == JSONValue(parsing: b))
    }

    @Test func aPatchThatDoesNotApplySaysWhichOperationAndWhy() throws {
        let dir = try files(["a.json": a, "p.json": #"[{"op": "test", "path": "/version", "value": 1}, {"op": "replace", "path": "/scheduler/controllers/5/id", "value": "x"}]"#])
        let error = #expect(throws: CFixture.FixtureError.self) {
            try CFixture.run(TestPaths.executable("switchyard"), ["config", "apply-patch", dir + "/a.json", dir + "/p.json"])
        }
        #expect(error?.message.contains("p.json: operation 1 (replace /scheduler/controllers/5/id)") == true)
        #expect(error?.message.contains("out of range") == true)
    }

    @Test func aBrokenDocumentIsNamedWithLineAndColumn() throws {
        let dir = try files(["a.json": "{\"version\": 1,\n  \"x\": }", "b.json": b])
        let error = #expect(throws: CFixture.FixtureError.self) {
            try CFixture.run(TestPaths.executable("switchyard"), ["config", "diff", dir + "/a.json", dir + "/b.json"])
        }
        #expect(error?.message.contains("a.json: invalid JSON at line 2") == true)
    }
}
