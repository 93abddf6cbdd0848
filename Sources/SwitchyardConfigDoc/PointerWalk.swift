import SwitchyardJSON

/// A pointer that failed part-way: the code and a message without the
/// pointer itself, which the caller adds in its own form.
struct PointerFailure: Error {
    let code: JSONPointerError.Code
    let message: String
}

/// Where a walk is: the token being applied is `tokens[depth]`.
struct PointerPosition {
    let tokens: [String]
    let depth: Int

    var token: String { tokens[depth] }
    var isLast: Bool { depth == tokens.count - 1 }
    var container: JSONPointer { JSONPointer(tokens: Array(tokens[..<depth])) }

    /// " in /a/b" for a token before the last one, whose container the
    /// reader cannot see in the pointer alone; empty otherwise.
    var location: String {
        isLast || depth == 0 ? "" : " in \(container)"
    }

    var containerName: String { depth == 0 ? "the document" : "\(container)" }

    func noSuchMember() -> PointerFailure {
        PointerFailure(code: .noSuchMember, message: "member \"\(token)\" does not exist\(location)")
    }

    func notAContainer(_ value: JSONValue) -> PointerFailure {
        PointerFailure(
            code: .notAContainer,
            message: "\(containerName) is \(article(value.typeName)) \(value.typeName), so it has no member or element \"\(token)\""
        )
    }

    /// The index `token` names in an array of `count` elements. `-` and
    /// `count` itself are accepted only when `allowingEnd` (for `add`).
    func index(count: Int, allowingEnd: Bool) throws(PointerFailure) -> Int {
        if token == "-" {
            if allowingEnd { return count }
            throw PointerFailure(
                code: .indexOutOfRange,
                message: "\"-\" names the position after the last element\(location), not an element (array has \(elementCount(count)))"
            )
        }
        guard let index = JSONPointer.arrayIndex(token) else {
            throw PointerFailure(
                code: .invalidArrayIndex,
                message: "\"\(token)\" is not an array index\(location) (indices are 0, 1, 2 … without leading zeros, or \"-\" to append)"
            )
        }
        let limit = allowingEnd ? count : count - 1
        guard index <= limit else {
            throw PointerFailure(
                code: .indexOutOfRange,
                message: "index \(index) is out of range\(location) (array has \(elementCount(count)))"
            )
        }
        return index
    }

    func advanced() -> PointerPosition { PointerPosition(tokens: tokens, depth: depth + 1) }
}

func elementCount(_ count: Int) -> String { count == 1 ? "1 element" : "\(count) elements" }

func article(_ word: String) -> String {
    guard let first = word.first else { return "a" }
    return "aeiou".contains(first) ? "an" : "a"
}

extension JSONValue {
    /// The value at `tokens[position.depth...]` below this one.
    func value(at position: PointerPosition) throws(PointerFailure) -> JSONValue {
        var current = self
        var position = position
        while position.depth < position.tokens.count {
            switch current {
            case .object(let members):
                guard let child = members[position.token] else { throw position.noSuchMember() }
                current = child
            case .array(let items):
                current = items[try position.index(count: items.count, allowingEnd: false)]
            default:
                throw position.notAContainer(current)
            }
            position = position.advanced()
        }
        return current
    }

    /// Walks, in place, to the container that holds the last token and runs
    /// `body` on it. Containers along the way are taken out of `self` while
    /// `body` runs so that copy-on-write copies only what is shared with
    /// another value. `position.tokens` must not be empty.
    mutating func withParent<R>(
        at position: PointerPosition,
        _ body: (inout JSONValue, PointerPosition) throws(PointerFailure) -> R
    ) throws(PointerFailure) -> R {
        if position.isLast { return try body(&self, position) }
        switch self {
        case .object(var members):
            guard let index = members.index(forKey: position.token) else { throw position.noSuchMember() }
            self = .null
            defer { self = .object(members) }
            return try members.values[index].withParent(at: position.advanced(), body)
        case .array(var items):
            let index = try position.index(count: items.count, allowingEnd: false)
            self = .null
            defer { self = .array(items) }
            return try items[index].withParent(at: position.advanced(), body)
        default:
            throw position.notAContainer(self)
        }
    }
}
