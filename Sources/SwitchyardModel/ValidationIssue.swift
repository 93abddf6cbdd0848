import SwitchyardJSON

/// One thing wrong with a document: where (`path`), and why (`message`,
/// phrased so that a user can fix it). `file` names the document when known.
public struct ValidationIssue: Sendable, Hashable, CustomStringConvertible {
    public var file: String?
    public var path: JSONPath
    public var message: String

    /// The longest message an issue keeps, in characters.
    public static let messageLimit = 1_000

    /// `message` is made safe to print (control characters escaped, cut at
    /// `messageLimit`): the parts of it that quote input are bounded where
    /// they are written, and this catches any that is not.
    public init(file: String? = nil, path: JSONPath, message: String) {
        self.file = file
        self.path = path
        self.message = message.echoed(limit: Self.messageLimit)
    }

    public var description: String {
        let location = path.components.isEmpty ? "" : "\(path): "
        if let file { return "\(file): \(location)\(message)" }
        return "\(location)\(message)"
    }
}

/// A document was refused. Carries every issue found, not only the first, so
/// one round of edits can fix them all.
public struct ValidationError: Error, Sendable, CustomStringConvertible {
    public var issues: [ValidationIssue]

    public init(_ issues: [ValidationIssue]) {
        self.issues = issues
    }

    public init(file: String? = nil, path: JSONPath = .root, _ message: String) {
        self.issues = [ValidationIssue(file: file, path: path, message: message)]
    }

    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }

    /// The same issues attributed to `file`.
    public func inFile(_ file: String) -> ValidationError {
        ValidationError(issues.map { var issue = $0; issue.file = issue.file ?? file; return issue })
    }
}

/// Collects issues while a document is read, so that reading goes on after
/// the first problem. Reference type so nested readers share one list.
public final class IssueList {
    public private(set) var issues: [ValidationIssue] = []

    public init() {}

    public func add(_ path: JSONPath, _ message: String) {
        issues.append(ValidationIssue(path: path, message: message))
    }

    public func add(contentsOf other: [ValidationIssue]) {
        issues.append(contentsOf: other)
    }

    public var isEmpty: Bool { issues.isEmpty }

    /// Throws every collected issue, if there is any.
    public func check() throws(ValidationError) {
        if !issues.isEmpty { throw ValidationError(issues) }
    }
}

extension JSONValue {
    /// Parses a document, turning a syntax error into a ValidationError that
    /// names the file, line and column.
    public static func parse(_ text: String, file: String?) throws(ValidationError) -> JSONValue {
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw ValidationError(file: file, "invalid JSON at \(error)")
        }
    }

    /// A short rendering of a value for error messages: its JSON text
    /// (control characters escaped), cut after 60 characters with
    /// `…(N bytes)`.
    public var brief: String {
        canonicalText.echoed(limit: 60)
    }
}
