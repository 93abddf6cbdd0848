/// Why a patch document could not be decoded, or could not be applied.
///
/// `message` is what to show: it names the operation by its 0-based index in
/// the patch, its op and path, and the reason, for example
/// `operation 3 (replace /scheduler/controllers/5): index 5 is out of range (array has 2 elements)`.
public struct JSONPatchError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The patch text is not JSON.
        case invalidJSON
        /// The patch document is not an array.
        case notAnArray
        /// An operation is not an object, lacks a member, has a member of the
        /// wrong type, or names an unknown op.
        case malformedOperation
        /// A `path` or `from` member is not a valid JSON Pointer.
        case invalidPointer
        /// A member named by a pointer does not exist.
        case noSuchMember
        /// An array token is not an index (`01`, `1e0`, `x`).
        case invalidArrayIndex
        /// An index is past the end of an array.
        case indexOutOfRange
        /// A pointer goes through a string, number, boolean or null.
        case notAContainer
        /// A `test` found a different value.
        case testFailed
        /// A `move` would put a value inside itself.
        case moveIntoOwnChild
        /// A `remove` of the whole document: there would be no document left.
        case removeRoot
    }

    public let code: Code
    /// The operation's 0-based index in the patch; nil for errors about the
    /// patch as a whole.
    public let operationIndex: Int?
    /// The operation's `op`, when it is known.
    public let op: String?
    /// The operation's `path` (escaped text form), when it is known.
    public let path: String?
    /// The `from` of a `move` or `copy` (escaped text form), when it is known.
    public let from: String?
    /// The operation's member that is wrong (`path`, `from`, `value`, `op`),
    /// for decoding errors.
    public let member: String?
    /// What is wrong, without the operation prefix.
    public let reason: String

    public init(
        code: Code, operationIndex: Int?, op: String?, path: String?, from: String? = nil, member: String?,
        reason: String
    ) {
        self.code = code
        self.operationIndex = operationIndex
        self.op = op
        self.path = path
        self.from = from
        self.member = member
        self.reason = reason
    }

    /// `operation N (op path): reason` (`(move /to from /from)` for move and
    /// copy), or the reason alone for errors about the whole patch.
    public var message: String {
        guard let operationIndex else { return reason }
        var words: [String] = []
        if let op { words.append(op) }
        if let path { words.append(path.isEmpty ? "\"\"" : path) }
        if let from { words.append("from " + (from.isEmpty ? "\"\"" : from)) }
        let label = words.isEmpty ? "operation \(operationIndex)" : "operation \(operationIndex) (\(words.joined(separator: " ")))"
        return "\(label): \(reason)"
    }

    public var description: String { message }
}

extension JSONPatchError.Code {
    init(_ code: JSONPointerError.Code) {
        switch code {
        case .invalidSyntax, .invalidEscape: self = .invalidPointer
        case .noSuchMember: self = .noSuchMember
        case .invalidArrayIndex: self = .invalidArrayIndex
        case .indexOutOfRange: self = .indexOutOfRange
        case .notAContainer: self = .notAContainer
        }
    }
}
