import Testing
import SwitchyardHTTPGuard
import SwitchyardJSON
import SwitchyardServer
import SwitchyardServerClient
import SwitchyardTestSupport

/// Issue 26 item 5: the server's HTTP framing, over raw sockets.
@Suite("server HTTP framing", .serialized)
struct HTTPFramingTests {
    static func start() async throws -> ServerFixture {
        var options = ServerFixture.testOptions
        options.framingLimits.headTimeoutSeconds = 1
        options.framingLimits.bodyIdleTimeoutSeconds = 1
        options.framingLimits.bodyTimeoutSeconds = 3
        return try await ServerFixture.start(.sqlite, options: options)
    }

    @Test("a head over the limit gets 431, before auth and on /healthz; many such connections each get theirs")
    func headTooLarge() async throws {
        let fixture = try await Self.start()
        let big = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: \(String(repeating: "a", count: 40_000))\r\n\r\n"
        let answer = try await RawHTTP.exchange(port: fixture.port, big)
        #expect(answer.status == 431, "\(answer.text.prefix(300))")
        #expect(answer.closedByServer)
        #expect(answer.text.contains("header_fields_too_large"))
        let many = "GET /healthz HTTP/1.1\r\n" + (0..<150).map { "X-\($0): 1\r\n" }.joined() + "\r\n"
        #expect(try await RawHTTP.exchange(port: fixture.port, many).status == 431, "more than 100 fields")
        var statuses: [Int?] = []
        for _ in 0..<30 { statuses.append(try await RawHTTP.exchange(port: fixture.port, big).status) }
        #expect(statuses.allSatisfy { $0 == 431 }, "\(statuses)")
        #expect(try await RawHTTP.exchange(port: fixture.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status == 200)
        try await fixture.stop()
    }

    @Test("ambiguous framing and bad request lines get 400; a long URL 414; a huge announced body 413")
    func framing() async throws {
        let fixture = try await Self.start()
        let cases: [(String, Int, String)] = [
            ("POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "negative Content-Length"),
            ("POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, "huge Content-Length"),
            ("POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400, "duplicate Content-Length"),
            ("POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n{}", 400, "a Content-Length list"),
            ("POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "CL with chunked"),
            ("POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "another transfer coding"),
            ("POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400, "bad chunk size"),
            ("POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n", 400, "chunk without CRLF"),
            ("GARBAGE\r\n\r\n", 400, "no request line"),
            ("GET /healthz HTTP/1.1 extra\r\n\r\n", 400, "four parts"),
            ("GET /healthz HTTP/2.0\r\n\r\n", 400, "another version"),
            ("GET /healthz HTTP/1.1\nHost: x\n\n", 400, "bare LF"),
            ("GET /healthz HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, "obs-fold"),
            ("GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n", 400, "space before colon"),
            ("GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400, "two Hosts"),
            ("GET /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: x\r\n\r\n", 414, "long URL"),
            ("POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n", 413, "body over every limit"),
        ]
        for (request, status, what) in cases {
            let answer = try await RawHTTP.exchange(port: fixture.port, request)
            #expect(answer.status == status, "\(what): \(answer.text.prefix(300))")
            #expect(answer.closedByServer, "\(what): the connection is closed after a refusal")
        }
        try await fixture.stop()
    }

    @Test("a well-framed request still works: pipelined, chunked, and a wrong method gets 405")
    func wellFramed() async throws {
        let fixture = try await Self.start()
        let two = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        let pipelined = try await RawHTTP.exchange(port: fixture.port, two)
        #expect(pipelined.statuses == [200, 200], "\(pipelined.text)")
        let chunked = "POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(fixture.root.token ?? "")\r\nContent-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + "9\r\n{\"id\": \"a\r\n" + "5\r\ncme\"}\r\n" + "0\r\n\r\n"
        let created = try await RawHTTP.exchange(port: fixture.port, chunked)
        #expect(created.status == 201, "\(created.text.prefix(400))")
        let wrong = try await RawHTTP.exchange(port: fixture.port, "DELETE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(wrong.status == 405, "\(wrong.text.prefix(300))")
        try await fixture.stop()
    }

    @Test("slow heads and slow bodies are answered 408 and closed")
    func slowClients() async throws {
        let fixture = try await Self.start()
        // Nothing at all, then half a head: the head timer (1 s here) answers.
        let silent = try await RawHTTP.exchange(port: fixture.port, [], readTimeoutSeconds: 20)
        #expect(silent.status == 408 && silent.closedByServer, "\(silent.text.prefix(200))")
        let halfHead = try await RawHTTP.exchange(port: fixture.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n", readTimeoutSeconds: 20)
        #expect(halfHead.status == 408 && halfHead.closedByServer, "\(halfHead.text.prefix(200))")
        // A head dribbled a byte at a time still has to finish in time.
        let dribble = Array("GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\r\n".utf8).map { [$0] }
        let slow = try await RawHTTP.exchange(port: fixture.port, dribble, pauseMs: 100, readTimeoutSeconds: 20)
        #expect(slow.status == 408, "\(slow.text.prefix(200))")
        // A body that stops coming.
        let body = "POST /api/v1/orgs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(fixture.root.token ?? "")\r\nContent-Type: application/json\r\n"
            + "Content-Length: 100\r\n\r\n{\"id\":"
        let stalled = try await RawHTTP.exchange(port: fixture.port, body, readTimeoutSeconds: 20)
        #expect(stalled.status == 408 && stalled.closedByServer, "\(stalled.text.prefix(200))")
        try await fixture.stop()
    }

    @Test("Switchyard-Reason is bounded: a long one is refused with 400 and nothing is stored")
    func reasonBounded() async throws {
        let fixture = try await Self.start()
        let long = String(repeating: "r", count: 70_000 / 10)
        let answer = try await fixture.root.send("POST", "/api/v1/orgs", json: ["id": "acme"], headers: [("Switchyard-Reason", long)])
        #expect(answer.status == 400, "\(answer.text)")
        #expect(answer.json?["error"]?["message"]?.stringValue?.contains("Switchyard-Reason") == true)
        #expect(try await fixture.store.organization("acme") == nil)
        try expectStatus(201, try await fixture.root.send("POST", "/api/v1/orgs", json: ["id": "acme"], headers: [("Switchyard-Reason", "ok")]))
        try await fixture.stop()
    }

    @Test("the framer alone: bytes pass on unchanged, across any split")
    func framerSplits() throws {
        let request = Array(("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n"
            + "GET /y HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi").utf8)
        for split in 1..<request.count {
            var framer = HTTPRequestFraming(limits: HTTPFramingLimits())
            let out = try framer.consume(Array(request[..<split])) + framer.consume(Array(request[split...]))
            #expect(out == request, "split at \(split)")
            #expect(framer.headsCompleted == 2 && framer.phase == .idle)
        }
    }
}
