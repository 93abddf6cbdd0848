/// The versions of another pack a pack works with: comparators separated
/// by spaces, all of which must hold (`>=1.2.0 <2.0.0`). A comparator is
/// `>=V`, `>V`, `<=V`, `<V`, `=V` or `V` (exactly V), `^V` (compatible:
/// `>=V` and below the next major, or the next minor for `0.y.z`), `~V`
/// (`>=V` and below the next minor), or `*` (any version).
public struct VersionRange: Sendable, Hashable, CustomStringConvertible {
    public enum Comparator: Sendable, Hashable {
        case atLeast(SemanticVersion), above(SemanticVersion), atMost(SemanticVersion), below(SemanticVersion), exactly(SemanticVersion)
    }

    public let text: String
    public let comparators: [Comparator]

    /// Nil with the reason when `text` is not a well-formed range, or one no version can satisfy.
    public static func parse(_ text: String) -> Result<VersionRange, ParseError> {
        let tokens = text.split(separator: " ")
        guard !tokens.isEmpty else { return .failure(ParseError(reason: "is empty; write a range such as \">=1.0.0 <2.0.0\" or \"*\"")) }
        var comparators: [Comparator] = []
        for token in tokens {
            if token == "*" { continue }
            var body = token
            var make: (SemanticVersion) -> [Comparator] = { [.exactly($0)] }
            for (prefix, f) in [(">=", { [Comparator.atLeast($0)] }), ("<=", { [.atMost($0)] }), (">", { [.above($0)] }), ("<", { [.below($0)] }),
                                ("=", { [.exactly($0)] }), ("^", Self.caret), ("~", Self.tilde)] as [(String, (SemanticVersion) -> [Comparator])]
            where token.hasPrefix(prefix) {
                body = token.dropFirst(prefix.count)
                make = f
                break
            }
            guard let version = SemanticVersion(String(body)) else {
                return .failure(ParseError(reason: "\"\(token)\" is not a comparator: expected >=, >, <=, <, =, ^ or ~ followed by a semantic version such as 1.2.0"))
            }
            comparators += make(version)
        }
        let range = VersionRange(text: text, comparators: comparators)
        if range.isEmpty {
            return .failure(ParseError(reason: "\"\(text)\" matches no version (its lower bound is not below its upper bound)"))
        }
        return .success(range)
    }

    public struct ParseError: Error, Sendable, Hashable {
        public let reason: String
    }

    public func contains(_ v: SemanticVersion) -> Bool {
        comparators.allSatisfy { c in
            switch c {
            case .atLeast(let x): v >= x
            case .above(let x): v > x
            case .atMost(let x): v <= x
            case .below(let x): v < x
            case .exactly(let x): v == x
            }
        }
    }

    public var description: String { text }

    static func caret(_ v: SemanticVersion) -> [Comparator] {
        let next = v.major > 0 ? SemanticVersion(v.major + 1, 0, 0) : SemanticVersion(0, v.minor + 1, 0)
        return [.atLeast(v), .below(next)]
    }

    static func tilde(_ v: SemanticVersion) -> [Comparator] {
        [.atLeast(v), .below(SemanticVersion(v.major, v.minor + 1, 0))]
    }

    /// Whether no version satisfies every comparator. The versions a range
    /// holds form an interval; when it is not empty its lowest member is
    /// one of the candidates: an inclusive bound, or the smallest version
    /// above an exclusive one (`>1.2.3`: `1.2.4-0`), or `0.0.0-0`.
    var isEmpty: Bool {
        var candidates = [SemanticVersion(0, 0, 0, prerelease: ["0"])]
        for c in comparators {
            switch c {
            case .atLeast(let x), .atMost(let x), .exactly(let x): candidates.append(x)
            case .above(let x):
                candidates.append(x.prerelease.isEmpty ? SemanticVersion(x.major, x.minor, x.patch + 1, prerelease: ["0"])
                                                       : SemanticVersion(x.major, x.minor, x.patch, prerelease: x.prerelease + ["0"]))
            case .below: break
            }
        }
        return !candidates.contains { contains($0) }
    }
}
