import SwitchyardJSON

/// Reads the members of one JSON object into typed values, recording an issue
/// for every missing, mistyped, out-of-range or unknown member instead of
/// stopping at the first.
public struct ObjectReader {
    public let object: [String: JSONValue]
    public let path: JSONPath
    public let issues: IssueList
    /// The members read so far. An array, not a set: objects have a handful
    /// of members, and hashing each name cost more than scanning a few
    /// (validating thousands of configs on the server reads millions).
    private var known: [String] = []

    /// Nil (with an issue recorded) when `value` is not an object.
    public init?(_ value: JSONValue?, at path: JSONPath, issues: IssueList) {
        guard let value else {
            issues.add(path, "is required")
            return nil
        }
        guard case .object(let object) = value else {
            issues.add(path, "expected object, got \(value.typeName)")
            return nil
        }
        self.object = object
        self.path = path
        self.issues = issues
    }

    public mutating func value(_ key: String) -> JSONValue? {
        remember(key)
        return object[key]
    }

    public mutating func string(_ key: String) -> String? {
        guard let value = value(key), !value.isNull else { return nil }
        guard case .string(let s) = value else {
            issues.add(path.appending(key), "expected string, got \(value.typeName) \(value.brief)")
            return nil
        }
        return s
    }

    public mutating func requiredString(_ key: String) -> String? {
        guard let value = object[key], !value.isNull else {
            remember(key)
            issues.add(path.appending(key), object[key] == nil ? "is required" : "is required (got null)")
            return nil
        }
        guard let s = string(key) else { return nil }
        if s.isEmpty {
            issues.add(path.appending(key), "must not be empty")
            return nil
        }
        return s
    }

    public mutating func number(_ key: String, min: Double? = nil, max: Double? = nil) -> Double? {
        guard let value = value(key), !value.isNull else { return nil }
        guard case .number(let n) = value else {
            issues.add(path.appending(key), "expected number, got \(value.typeName) \(value.brief)")
            return nil
        }
        if let min, n < min {
            issues.add(path.appending(key), "must be >= \(JSONValue.format(min)), got \(JSONValue.format(n))")
            return nil
        }
        if let max, n > max {
            issues.add(path.appending(key), "must be <= \(JSONValue.format(max)), got \(JSONValue.format(n))")
            return nil
        }
        return n
    }

    /// An integer within `min...max`. Without a bound, the bound is the
    /// type's: ±(2^53 − 1), the integers a JSON number holds exactly (and
    /// every Swift `Int` conversion of them is safe). An out-of-range value
    /// is reported with the bound it broke, however large it is.
    public mutating func integer(_ key: String, min: Int? = nil, max: Int? = nil) -> Int? {
        guard let value = value(key), !value.isNull else { return nil }
        guard case .number(let n) = value, n.isWholeNumber else {
            issues.add(path.appending(key), "expected integer, got \(value.typeName) \(value.brief)")
            return nil
        }
        let low = Swift.max(min ?? -JSONValue.largestExactInteger, -JSONValue.largestExactInteger)
        let high = Swift.min(max ?? JSONValue.largestExactInteger, JSONValue.largestExactInteger)
        if n < Double(low) {
            issues.add(path.appending(key), "must be >= \(low), got \(JSONValue.format(n))")
            return nil
        }
        if n > Double(high) {
            issues.add(path.appending(key), "must be <= \(high), got \(JSONValue.format(n))")
            return nil
        }
        return Int(n)
    }

    public mutating func bool(_ key: String) -> Bool? {
        guard let value = value(key), !value.isNull else { return nil }
        guard case .bool(let b) = value else {
            issues.add(path.appending(key), "expected boolean, got \(value.typeName) \(value.brief)")
            return nil
        }
        return b
    }

    public mutating func array(_ key: String) -> [JSONValue]? {
        guard let value = value(key), !value.isNull else { return nil }
        guard case .array(let a) = value else {
            issues.add(path.appending(key), "expected array, got \(value.typeName)")
            return nil
        }
        return a
    }

    public mutating func objectMember(_ key: String) -> [String: JSONValue]? {
        guard let value = value(key), !value.isNull else { return nil }
        guard case .object(let o) = value else {
            issues.add(path.appending(key), "expected object, got \(value.typeName)")
            return nil
        }
        return o
    }

    public mutating func stringArray(_ key: String) -> [String]? {
        guard let items = array(key) else { return nil }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            if case .string(let s) = item { out.append(s) } else {
                issues.add(path.appending(key).appending(index: i), "expected string, got \(item.typeName)")
            }
        }
        return out
    }

    /// One of a fixed set of strings.
    public mutating func choice<T: RawRepresentable>(_ key: String, _ type: T.Type) -> T?
    where T.RawValue == String, T: CaseIterable {
        guard let s = string(key) else { return nil }
        guard let v = T(rawValue: s) else {
            let allowed = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            issues.add(path.appending(key), "must be one of \(allowed); got \"\(s.echoed())\"")
            return nil
        }
        return v
    }

    /// Records an issue for every member that no accessor asked for, which
    /// catches misspelt keys (`treshold_watts`) that would otherwise be ignored.
    private mutating func remember(_ key: String) {
        if !known.contains(key) { known.append(key) }
    }

    public func rejectUnknownKeys(allowing extra: Set<String> = []) {
        let unknown = object.keys.filter { !known.contains($0) && !extra.contains($0) }
        guard !unknown.isEmpty else { return }
        for key in unknown.sorted() {
            let candidates = Set(known).union(extra).sorted()
            var message = "unknown field \"\(key.echoed())\""
            if let suggestion = closestMatch(to: key, in: candidates) {
                message += " (did you mean \"\(suggestion)\"?)"
            }
            issues.add(path.appending(key), message)
        }
    }
}

/// The candidate within a small edit distance of `word`, for "did you mean".
/// Bounded in cost, whatever the input: a word longer than
/// `suggestionLimit` (no name is that long) gets no suggestion, and a
/// candidate whose length alone puts it out of reach is not compared.
public func closestMatch(to word: String, in candidates: [String]) -> String? {
    guard word.utf8.count <= suggestionLimit else { return nil }
    let letters = Array(word)
    let reach = max(2, letters.count / 4)
    var best: (String, Int)?
    for candidate in candidates where candidate.utf8.count <= 4 * suggestionLimit {
        let other = Array(candidate)
        guard abs(other.count - letters.count) <= reach else { continue }
        let d = editDistance(letters, other)
        if d <= reach, best == nil || d < best!.1 { best = (candidate, d) }
    }
    return best?.0
}

/// The longest name (in UTF-8 bytes) for which "did you mean" looks for a suggestion.
public let suggestionLimit = 64

func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
