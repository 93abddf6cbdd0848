/// Why a JSON Pointer could not be parsed or resolved.
public struct JSONPointerError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The text does not start with `/` (and is not empty).
        case invalidSyntax
        /// A `~` is not followed by `0` or `1`.
        case invalidEscape
        /// An object has no member with the token's name.
        case noSuchMember
        /// A token on an array is not an RFC 6901 index (`01`, `1e0`, `x`).
        case invalidArrayIndex
        /// An index is at or past the end of the array (or is `-`).
        case indexOutOfRange
        /// A token is applied to a string, number, boolean or null.
        case notAContainer
    }

    public let code: Code
    /// The pointer as given (escaped text form).
    public let pointer: String
    /// What is wrong, for a person: names the token, what was expected and
    /// what was found.
    public let message: String

    public init(code: Code, pointer: String, message: String) {
        self.code = code
        self.pointer = pointer
        self.message = message
    }

    public var description: String {
        pointer.isEmpty ? message : "JSON Pointer \"\(pointer)\": \(message)"
    }
}
