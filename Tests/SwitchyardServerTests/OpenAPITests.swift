import Foundation
import Testing
@testable import SwitchyardServer

/// docs/openapi.yaml describes every route the server serves, and nothing
/// it does not serve. The document is read without a YAML library: only its
/// `paths:` section, line by line, in the layout the file keeps (path keys
/// at two spaces, methods at four, path parameters as `- name:` / `in: path`
/// list items).
@Suite("OpenAPI document")
struct OpenAPITests {
    @Test("every served route is documented, and every documented route is served")
    func routesMatch() throws {
        let outline = try OpenAPIOutline.parse(try Self.document())
        #expect(outline.problems.isEmpty, "docs/openapi.yaml: \(outline.problems.joined(separator: "; "))")

        let served = ServerAPI.routes
        #expect(served.count > 20, "ServerAPI.routes lists \(served.count) routes; the comparison below would prove little")
        let duplicates = Dictionary(grouping: served, by: { $0 }).filter { $0.value.count > 1 }.keys.map(Self.text).sorted()
        #expect(duplicates.isEmpty, "ServerAPI.routes lists these twice: \(duplicates)")

        let comparison = OpenAPIOutline.compare(served: Set(served), documented: outline.routes)
        #expect(comparison.missing.isEmpty,
                "served but missing from docs/openapi.yaml: \(comparison.missing.map(Self.text).joined(separator: ", "))")
        #expect(comparison.unserved.isEmpty,
                "documented in docs/openapi.yaml but not served: \(comparison.unserved.map(Self.text).joined(separator: ", "))")
    }

    @Test("every path parameter is declared under its path, and only those")
    func pathParameters() throws {
        let outline = try OpenAPIOutline.parse(try Self.document())
        #expect(!outline.paths.isEmpty, "no paths found in docs/openapi.yaml")
        let problems = outline.parameterProblems()
        #expect(problems.isEmpty, "docs/openapi.yaml: \(problems.joined(separator: "; "))")
    }

    @Test("every operation has a summary and its responses")
    func operationsDescribed() throws {
        let outline = try OpenAPIOutline.parse(try Self.document())
        let problems = outline.operationProblems()
        #expect(problems.isEmpty, "docs/openapi.yaml: \(problems.joined(separator: "; "))")
    }

    /// The checks above on a small document with known mistakes: they must
    /// find each of them (a check that cannot fail proves nothing).
    @Test("the checks catch a missing route, an unserved route, and undeclared parameters")
    func checksCanFail() throws {
        let text = """
            openapi: 3.1.0
            paths:
              /a/{x}:
                parameters:
                  - name: y
                    in: path
                get:
                  summary: A
                  responses:
                    "200": {description: ok}
              /b:
                post:
                  responses:
                    "200": {description: ok}
                delete:
                  summary: B
                  responses:
                    "200": {description: ok}
            components:
              schemas: {}
            """
        let outline = try OpenAPIOutline.parse(text)
        #expect(outline.routes == [ServerAPI.Route(method: "GET", path: "/a/{x}"), ServerAPI.Route(method: "POST", path: "/b"),
                                   ServerAPI.Route(method: "DELETE", path: "/b")])
        let comparison = OpenAPIOutline.compare(
            served: [ServerAPI.Route(method: "GET", path: "/a/{x}"), ServerAPI.Route(method: "GET", path: "/c")],
            documented: outline.routes)
        #expect(comparison.missing == [ServerAPI.Route(method: "GET", path: "/c")])
        #expect(comparison.unserved == [ServerAPI.Route(method: "DELETE", path: "/b"), ServerAPI.Route(method: "POST", path: "/b")])
        #expect(outline.parameterProblems() == [
            "/a/{x}: path parameter \"x\" has no `- name: x` / `in: path` entry",
            "/a/{x}: declares path parameter \"y\", which the path does not have",
        ])
        #expect(outline.operationProblems() == ["POST /b has no summary"])

        let broken = try OpenAPIOutline.parse("openapi: 3.1.0\ninfo: {}\n")
        #expect(broken.problems == ["no top-level `paths:` section"])
        let twice = try OpenAPIOutline.parse("paths:\n  /a:\n    get:\n      summary: x\n  /a:\n    get:\n      summary: y\n")
        #expect(twice.problems == ["path /a appears twice", "GET /a is documented twice"])
    }

    static func text(_ route: ServerAPI.Route) -> String { "\(route.method) \(route.path)" }

    /// docs/openapi.yaml of this checkout.
    static func document() throws -> String {
        let path = repositoryRoot() + "/docs/openapi.yaml"
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            Issue.record("cannot read \(path): \(error)")
            throw error
        }
    }

    /// This file is <root>/Tests/SwitchyardServerTests/OpenAPITests.swift.
    static func repositoryRoot(file: String = #filePath) -> String {
        var parts = file.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }
}

/// The `paths:` section of an OpenAPI YAML file, as far as the tests need it.
struct OpenAPIOutline {
    struct PathItem {
        var path: String
        /// The path item's lines after its key, up to the next path key.
        var lines: [String]
    }

    static let methods = ["get", "put", "post", "patch", "delete", "head", "options", "trace"]

    var paths: [PathItem] = []
    var routes: Set<ServerAPI.Route> = []
    /// Layout problems: no `paths:`, a path or operation listed twice.
    var problems: [String] = []

    static func parse(_ text: String) throws -> OpenAPIOutline {
        var outline = OpenAPIOutline()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        guard let start = lines.firstIndex(of: "paths:") else {
            outline.problems.append("no top-level `paths:` section")
            return outline
        }
        var seenPaths: Set<String> = []
        for line in lines[(start + 1)...] {
            if let first = line.first, first != " ", first != "#" { break }  // the next top-level key
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                let path = String(line.dropFirst(2).dropLast())
                if !seenPaths.insert(path).inserted { outline.problems.append("path \(path) appears twice") }
                outline.paths.append(PathItem(path: path, lines: []))
                continue
            }
            guard !outline.paths.isEmpty else { continue }
            outline.paths[outline.paths.count - 1].lines.append(line)
            if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let key = String(line.dropFirst(4).dropLast())
                if methods.contains(key) {
                    let route = ServerAPI.Route(method: key.uppercased(), path: outline.paths[outline.paths.count - 1].path)
                    if !outline.routes.insert(route).inserted {
                        outline.problems.append("\(route.method) \(route.path) is documented twice")
                    }
                }
            }
        }
        return outline
    }

    /// Served routes the document lacks, and documented routes nobody serves; each sorted.
    static func compare(served: Set<ServerAPI.Route>, documented: Set<ServerAPI.Route>)
        -> (missing: [ServerAPI.Route], unserved: [ServerAPI.Route]) {
        let order: (ServerAPI.Route, ServerAPI.Route) -> Bool = { ($0.path, $0.method) < ($1.path, $1.method) }
        return (served.subtracting(documented).sorted(by: order), documented.subtracting(served).sorted(by: order))
    }

    /// Each `{x}` of a path needs a list item with `name: x` and `in: path`
    /// in that path's block, and every such item must name a `{x}` of the path.
    func parameterProblems() -> [String] {
        var problems: [String] = []
        for item in paths {
            let inPath = Set(Self.templateNames(item.path))
            let declared = Set(Self.pathParameterItems(item.lines))
            for name in Self.templateNames(item.path) where !declared.contains(name) {
                problems.append("\(item.path): path parameter \"\(name)\" has no `- name: \(name)` / `in: path` entry")
            }
            for name in declared.sorted() where !inPath.contains(name) {
                problems.append("\(item.path): declares path parameter \"\(name)\", which the path does not have")
            }
        }
        return problems
    }

    /// Every operation needs a `summary:` and `responses:` directly under it.
    func operationProblems() -> [String] {
        var problems: [String] = []
        for item in paths {
            var current: String?
            var keys: Set<String> = []
            func finish() {
                guard let method = current else { return }
                if !keys.contains("summary") { problems.append("\(method.uppercased()) \(item.path) has no summary") }
                if !keys.contains("responses") { problems.append("\(method.uppercased()) \(item.path) has no responses") }
            }
            for line in item.lines {
                if line.hasPrefix("    "), !line.hasPrefix("     "), let colon = line.firstIndex(of: ":") {
                    finish()
                    let key = String(line[line.index(line.startIndex, offsetBy: 4)..<colon])
                    current = Self.methods.contains(key) ? key : nil
                    keys = []
                } else if current != nil, line.hasPrefix("      "), !line.hasPrefix("       "), let colon = line.firstIndex(of: ":") {
                    keys.insert(String(line[line.index(line.startIndex, offsetBy: 6)..<colon]))
                }
            }
            finish()
        }
        return problems
    }

    /// `{org}` and `{edge}` of `/api/v1/orgs/{org}/edges/{edge}`, in order.
    static func templateNames(_ path: String) -> [String] {
        var names: [String] = []
        var current: String?
        for ch in path {
            switch ch {
            case "{": current = ""
            case "}":
                if let name = current { names.append(name) }
                current = nil
            default: current?.append(ch)
            }
        }
        return names
    }

    /// The names of the list items in `lines` that hold both `name: X` and
    /// `in: path` as their own members (block style: `- name: x` then
    /// `  in: path` at the same indentation as `name`).
    static func pathParameterItems(_ lines: [String]) -> [String] {
        var names: [String] = []
        var item: [String: String]?
        var memberIndent = 0
        func close() {
            if let members = item, members["in"] == "path", let name = members["name"] { names.append(name) }
            item = nil
        }
        for line in lines {
            let indent = line.prefix { $0 == " " }.count
            let body = line.dropFirst(indent)
            if body.hasPrefix("- ") {
                close()
                item = [:]
                memberIndent = indent + 2
                if let (key, value) = member(body.dropFirst(2)) { item?[key] = value }
            } else if item != nil, indent == memberIndent, let (key, value) = member(body) {
                item?[key] = value
            } else if item != nil, !body.isEmpty, indent < memberIndent {
                close()
            }
        }
        close()
        return names
    }

    /// `key: value` with a plain scalar value; nil for anything else.
    private static func member(_ text: Substring) -> (String, String)? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let key = String(text[..<colon])
        let value = String(text[text.index(after: colon)...].drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        guard !key.isEmpty, !key.contains(" "), !value.isEmpty else { return nil }
        return (key, value)
    }
}
