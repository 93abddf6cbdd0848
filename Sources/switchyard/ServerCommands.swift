import ArgumentParser
import Dispatch
import SwitchyardConfigDoc
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel
import SwitchyardServerClient

#if canImport(Glibc)
import Glibc
#endif

// The operator side of `switchyard`: commands that talk to a
// switchyard-server over HTTP (docs/cli-server.md). Exit status: 0 done,
// 1 refused (by the server, or a local file that does not read), 2 usage,
// 3 the server cannot be reached.

/// Where the server is, who we are, and how to print.
struct ServerConnection: ParsableArguments {
    @Option(name: .customLong("server"),
            help: ArgumentHelp("The server's URL. Default: $SWITCHYARD_SERVER, else http://127.0.0.1:8480.", valueName: "url"))
    var server: String?

    @Option(name: .customLong("token"),
            help: ArgumentHelp("An operator token. Default: $SWITCHYARD_TOKEN, else the contents of the file named by $SWITCHYARD_TOKEN_FILE.",
                               valueName: "token"))
    var token: String?

    @Flag(help: "Print the server's JSON answer instead of text.")
    var json = false

    static let defaultURL = "http://127.0.0.1:8480"

    /// The client, or a usage error (exit 2) for a URL that is not http(s).
    func remote() throws -> Remote {
        let url = (server ?? Environment.get("SWITCHYARD_SERVER") ?? Self.defaultURL).trimmedWhitespace
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8 else {
            throw CLI.usage("--server takes an http:// or https:// URL, e.g. \(Self.defaultURL); got \"\(url)\"")
        }
        let secret = try resolvedToken()
        return Remote(client: ServerClient(baseURL: url, token: secret, failFast: true), url: url, hasToken: secret != nil, json: json)
    }

    func resolvedToken() throws -> String? {
        if let token { return token.trimmedWhitespace }
        if let value = Environment.get("SWITCHYARD_TOKEN"), !value.trimmedWhitespace.isEmpty { return value.trimmedWhitespace }
        if let file = Environment.get("SWITCHYARD_TOKEN_FILE"), !file.isEmpty {
            do {
                let text = try FileSystem.readText(file, limitBytes: 64 << 10).trimmedWhitespace
                return text.isEmpty ? nil : text
            } catch {
                throw CLI.refused("SWITCHYARD_TOKEN_FILE: \(error)")
            }
        }
        return nil
    }
}

/// `--reason`, on every write.
struct ChangeReason: ParsableArguments {
    @Option(help: ArgumentHelp("Why: recorded with the change in the audit log (sent as Switchyard-Reason).", valueName: "text"))
    var reason: String?

    var headers: [(String, String)] {
        guard let reason else { return [] }
        // A header value is one line of visible characters.
        let clean = String(reason.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
        return clean.trimmedWhitespace.isEmpty ? [] : [("Switchyard-Reason", clean.trimmedWhitespace)]
    }
}

/// Exit statuses and messages on stderr.
enum CLI {
    static let refusedCode: Int32 = 1
    static let usageCode: Int32 = 2
    static let unreachableCode: Int32 = 3

    static func printError(_ text: String) {
        fflush(nil)  // What stdout holds goes first.
        let bytes = Array((text.hasSuffix("\n") ? text : text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            offset += n
        }
    }

    /// Prints `message` on stderr; throw the result.
    static func refused(_ message: String) -> ExitCode {
        printError(message)
        return ExitCode(refusedCode)
    }

    static func usage(_ message: String) -> ExitCode {
        printError("error: \(message)\n(see switchyard help <command>)")
        return ExitCode(usageCode)
    }
}

enum Environment {
    static func get(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}

/// Runs async work to completion from a synchronous command (the root
/// command is synchronous). The work runs detached, never on the caller's actor.
enum Blocking {
    private final class Box<T>: @unchecked Sendable {
        var result: Result<T, any Error>?
    }

    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                box.result = .success(try await body())
            } catch {
                box.result = .failure(error)
            }
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }
}

/// A connected client: every call either answers 2xx, or prints why not
/// and exits (1 refused, 3 unreachable).
struct Remote {
    let client: ServerClient
    let url: String
    let hasToken: Bool
    let json: Bool

    /// Any answer the server gives; exit 3 when it gives none.
    func raw(_ method: String, _ path: String, body: JSONValue? = nil, headers: [(String, String)] = []) throws -> ServerClient.Answer {
        let client = client
        do {
            return try Blocking.run { try await client.send(method, path, json: body, headers: headers) }
        } catch {
            CLI.printError("cannot reach the switchyard server at \(url): \(Self.describe(error))\n"
                + "(set --server or SWITCHYARD_SERVER to the server's URL)")
            throw ExitCode(CLI.unreachableCode)
        }
    }

    /// A 2xx answer, or the server's error on stderr and exit 1.
    @discardableResult
    func call(_ method: String, _ path: String, body: JSONValue? = nil, headers: [(String, String)] = []) throws -> ServerClient.Answer {
        let answer = try raw(method, path, body: body, headers: headers)
        guard (200..<300).contains(answer.status) else { throw refusal(answer) }
        return answer
    }

    func refusal(_ answer: ServerClient.Answer, hint: String? = nil) -> ExitCode {
        var text = answer.errorText
        if answer.status == 401 && !hasToken {
            text += "\n(no token given: pass --token, or set SWITCHYARD_TOKEN or SWITCHYARD_TOKEN_FILE)"
        }
        if answer.json?["error"] == nil {
            text += "\n(that is not an answer of a switchyard-server: is \(url) the right URL?)"
        }
        if let hint { text += "\n" + hint }
        return CLI.refused(text)
    }

    /// Prints the answer's body as the server sent it.
    func printRaw(_ answer: ServerClient.Answer) {
        print(answer.text, terminator: answer.text.hasSuffix("\n") ? "" : "\n")
    }

    /// The body as JSON; a 2xx answer that is not JSON is a refusal.
    func document(_ answer: ServerClient.Answer) throws -> JSONValue {
        guard let value = answer.json else {
            throw CLI.refused("the server at \(url) answered HTTP \(answer.status) with something that is not JSON: \(String(answer.text.prefix(200)))")
        }
        return value
    }

    /// A list endpoint: its JSON with --json, else a table of the `member`
    /// array (or `empty` when it has none).
    func printList(_ path: String, member: String, empty: String, columns: [String], row: (JSONValue) -> [String]) throws {
        let answer = try call("GET", path)
        if json { return printRaw(answer) }
        let items = try document(answer)[member]?.arrayValue ?? []
        if items.isEmpty { return print(empty) }
        Pretty.table(columns, items.map(row))
    }

    /// The usual answer of a write: the change, how many edges got a new
    /// version, and the warnings.
    func report(_ answer: ServerClient.Answer, _ what: String) {
        if json { return printRaw(answer) }
        let value = answer.json ?? .null
        var line = what
        // Numbers from the server go through Pretty.int, which cannot trap on any value.
        if value["change_id"]?.numberValue != nil { line += ": change \(Pretty.int(value["change_id"]))" }
        if let count = value["edges_with_new_version"]?.numberValue {
            line += ", \(Pretty.int(value["edges_with_new_version"])) edge\(count == 1 ? "" : "s") with a new version"
        }
        print(line)
        if let warning = value["warning"]?.stringValue { print("warning: \(warning)") }
        if let skipped = value["pinned_edges_skipped"]?.arrayValue, !skipped.isEmpty {
            print("pinned, so skipped (switchyard config unpin ORG EDGE to release): "
                + skipped.compactMap(\.stringValue).joined(separator: ", "))
        }
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("ECONNREFUSED") {
            return "connection refused (is switchyard-server running there?)"
        }
        if text.contains("connectTimeout") || text.contains("deadlineExceeded") { return "timed out connecting" }
        return text
    }
}

/// Paths of the API, with every caller-given segment percent-encoded.
enum API {
    static func org(_ org: String) -> String { "/api/v1/orgs/\(segment(org))" }

    static func path(_ org: String, _ parts: String...) -> String {
        parts.reduce(self.org(org)) { $0 + "/" + segment($1) }
    }

    static func segment(_ text: String) -> String { encode(text, keep: "-._~") }

    static func query(_ items: [(String, String?)]) -> String {
        let present = items.compactMap { name, value in value.map { "\(name)=\(encode($0, keep: "-._~/"))" } }
        return present.isEmpty ? "" : "?" + present.joined(separator: "&")
    }

    private static func encode(_ text: String, keep: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80, c.isLetter || c.isNumber || keep.contains(c) {
                out.append(c)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}

/// Reading the operator's files.
enum InputFile {
    /// A JSON file (`-`: standard input), or exit 1 naming the file, line and column.
    static func json(_ path: String) throws -> JSONValue {
        let text = try self.text(path)
        do {
            return try JSONValue.parse(text, file: path == "-" ? "(standard input)" : path)
        } catch {
            throw CLI.refused("\(error)")
        }
    }

    static func text(_ path: String) throws -> String {
        do {
            return try FileSystem.readText(path == "-" ? "/dev/stdin" : path)
        } catch {
            throw CLI.refused("\(error)")
        }
    }
}

/// Text for people.
enum Pretty {
    static func int(_ value: JSONValue?) -> String {
        guard let n = value?.numberValue else { return "-" }
        return n.isWholeNumber && abs(n) < 1e15 ? String(Int(n)) : JSONValue.format(n)
    }

    static func text(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: "-"
        case .string(let s)?: s
        case let other?: other.canonicalText
        }
    }

    static func list(_ value: JSONValue?) -> String {
        let items = value?.arrayValue?.map { text($0) } ?? []
        return items.isEmpty ? "-" : items.joined(separator: ",")
    }

    /// A value on one line, cut to `limit` characters.
    static func excerpt(_ value: JSONValue?, limit: Int = 80) -> String {
        let text = value.map(\.canonicalText) ?? "-"
        return text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }

    /// Columns padded to their widest cell (the last one not padded).
    static func table(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        for row in all {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }
            print(line)
        }
    }

    static func now() -> Int64 { Int64(Glibc.time(nil)) }

    /// `2026-02-15T10:30:00Z` from seconds since 1970.
    static func timestamp(_ value: JSONValue?) -> String {
        guard let n = value?.numberValue, n.isFinite, abs(n) < 1e12 else { return "-" }
        return UTCTime.iso8601(Int64(n))
    }

    /// `42s ago`, `5m ago`, `3h ago`, `2d ago`.
    static func age(since value: JSONValue?) -> String {
        guard let n = value?.numberValue, n.isFinite, abs(n) < 1e12 else { return "-" }
        let seconds = max(0, now() - Int64(n))
        switch seconds {
        case ..<120: return "\(seconds)s ago"
        case ..<7200: return "\(seconds / 60)m ago"
        case ..<172_800: return "\(seconds / 3600)h ago"
        default: return "\(seconds / 86_400)d ago"
        }
    }

    /// One RFC 6902 operation on a line.
    static func operation(_ op: JSONValue) -> String {
        let name = op["op"]?.stringValue ?? "?"
        let path = op["path"]?.stringValue ?? ""
        switch name {
        case "remove": return "remove  \(path)"
        case "move", "copy": return "\(name)  \(op["from"]?.stringValue ?? "") → \(path)"
        default: return "\(name)  \(path) = \(excerpt(op["value"], limit: 100))"
        }
    }
}

/// Partial config documents built on the command line: `--set
/// /pointer=VALUE`, composed like layers (objects merge, keyed arrays
/// merge by key).
enum Fragment {
    static let policy = MergePolicy.switchyard

    /// `/scheduler/controllers/ctrlPeakShaving0/parameters/threshold_watts=48000` →
    /// `{"scheduler":{"controllers":[{"id":"ctrlPeakShaving0","parameters":{"threshold_watts":48000}}]}}`.
    /// VALUE is JSON, or else a string; `null` deletes (a keyed element: `{"id": k, "$delete": true}`).
    static func setting(_ text: String) throws -> JSONValue {
        guard let equals = text.firstIndex(of: "=") else {
            throw CLI.usage("--set takes /json/pointer=VALUE, e.g. /core_cycle/period_ms=500; got \"\(text)\"")
        }
        let pointerText = String(text[..<equals])
        let valueText = String(text[text.index(after: equals)...])
        let pointer: JSONPointer
        do {
            pointer = try JSONPointer(parsing: pointerText.hasPrefix("/") ? pointerText : "/" + pointerText)
        } catch {
            throw CLI.usage("--set \(text): \(error)")
        }
        guard !pointer.isRoot else { throw CLI.usage("--set needs a path below the document root, e.g. /core_cycle/period_ms=500") }
        let value = (try? JSONValue(parsing: valueText)) ?? .string(valueText)
        return try nest(pointer.tokens[...], prefix: [], value: value, whole: text)
    }

    private static func nest(_ tokens: ArraySlice<String>, prefix: [String], value: JSONValue, whole: String) throws -> JSONValue {
        guard let token = tokens.first else { return value }
        let rest = tokens.dropFirst()
        guard let rule = policy.rule(for: prefix) else {
            return .object([token: try nest(rest, prefix: prefix + [token], value: value, whole: whole)])
        }
        // An element of a keyed array, named by its key.
        let at = JSONPointer(tokens: prefix).description
        if JSONPointer.arrayIndex(token) != nil {
            throw CLI.usage("--set \(whole): \(at) holds elements keyed by \"\(rule.keyMember)\"; name the element by its \(rule.keyMember), "
                + "not its position (e.g. \(at)/<\(rule.keyMember)>/...)")
        }
        var element: [String: JSONValue]
        if rest.isEmpty {
            switch value {
            case .null:
                element = [policy.deleteMarker: true]
            case .object(let members):
                element = members
            default:
                throw CLI.usage("--set \(whole): an element of \(at) is an object; set one of its members, or the whole element as {...}")
            }
        } else {
            guard case .object(let members) = try nest(rest, prefix: prefix + [token], value: value, whole: whole) else {
                throw CLI.usage("--set \(whole): cannot build an element of \(at) from this path")
            }
            element = members
        }
        element[rule.keyMember] = .string(token)
        return .array([.object(element)])
    }

}
