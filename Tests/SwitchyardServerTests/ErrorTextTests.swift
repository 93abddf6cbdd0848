import Testing
import SwitchyardServerClient

/// What the CLI prints of a server's refusal: a problem's path holds the
/// document's keys as sent, so it is escaped before it reaches a terminal,
/// and a count from the server is printed without converting it to Int.
@Suite struct ErrorTextTests {
    @Test func problemPathsAreEscapedAndCountsCannotTrap() {
        let body = #"{"error": {"code": "invalid_config", "message": "refused", "problems": [{"edge": "e1", "path": "/x\nError: fine\u001b[0m", "message": "unknown field", "also_affects_edges": 1e300}]}}"#
        let text = ServerClient.Answer(status: 422, headers: [], text: body).errorText
        #expect(text == "HTTP 422 invalid_config: refused\n  edge e1 /x\\nError: fine\\u{1B}[0m: unknown field (and 1e300 more edges with the same layers)")
    }
}
