import SwitchyardJSON

/// Which layers gave a path of the effective config its value.
public struct Explanation: Sendable, Hashable, CustomStringConvertible {
    /// What one layer did at the explained location.
    public enum Action: Sendable, Hashable {
        /// The layer has this value there (for an object, its partial object).
        case set(JSONValue)
        /// The layer deleted it (`null`, or a keyed element's delete marker).
        case deleted
        /// The layer deleted an enclosing member or element (at this pointer
        /// in its own document).
        case deletedAncestor(JSONPointer)
        /// The layer put a value of another kind at an enclosing location
        /// (this pointer in its own document), which removed everything
        /// below it.
        case replacedAncestor(JSONPointer, JSONValue)

        var isSet: Bool {
            if case .set = self { return true }
            return false
        }
    }

    public struct Entry: Sendable, Hashable {
        public let layer: LayerIdentity
        public let action: Action

        public init(layer: LayerIdentity, action: Action) {
            self.layer = layer
            self.action = action
        }
    }

    /// The path asked about, in the effective document.
    public let path: JSONPointer
    /// The location whose history `entries` is: `path`, or the enclosing
    /// array when `path` points into an array that layers replace as a whole.
    public let unitPath: JSONPointer
    /// The effective value at `path`; nil when the path is not in the
    /// effective document (for example, deleted by a layer).
    public let value: JSONValue?
    /// Every layer that touched `unitPath`, in merge order. Entries before
    /// the first `set` (deleting what was never there) are left out.
    public let entries: [Entry]
    /// The layers whose values make up the effective value: for a leaf the
    /// one that set it; for an object or keyed array every layer that
    /// contributed members since it was last replaced or deleted.
    public let contributors: [LayerIdentity]
    /// True when the unit is an object or keyed array, whose members layers
    /// merge rather than replace.
    public let merges: Bool

    public init(
        path: JSONPointer, unitPath: JSONPointer, value: JSONValue?, entries: [Entry],
        contributors: [LayerIdentity], merges: Bool
    ) {
        self.path = path
        self.unitPath = unitPath
        self.value = value
        self.entries = entries
        self.contributors = contributors
        self.merges = merges
    }

    /// The layer that set the value last; nil when the path is absent.
    public var setBy: LayerIdentity? {
        guard value != nil, let last = entries.last, case .set = last.action else { return nil }
        return last.layer
    }

    /// The earlier entries the effective value overrode, most recent first.
    public var overridden: [Entry] {
        guard value != nil else { return [] }
        return Array(entries.dropLast().reversed())
    }

    /// For people, one line per layer, most recent first:
    ///
    ///     /scheduler/controllers/1/parameters/threshold_watts = 48000
    ///       set by site "Site A" (site:a v7)
    ///       overrode organization "Acme" (organization:acme v12): 50000
    public var description: String {
        var lines: [String] = []
        let where_ = path.isRoot ? "\"\" (the document)" : path.description
        if let value {
            lines.append("\(where_) = \(excerpt(value))")
        } else {
            lines.append("\(where_): not in the effective config")
        }
        if unitPath != path { lines.append("  (inside \(unitPath), which layers replace as a whole)") }
        if value != nil, merges {
            lines.append("  merged from " + contributors.map(\.description).joined(separator: ", "))
        }
        for (index, entry) in entries.reversed().enumerated() {
            let verb = value == nil || merges ? "" : index == 0 ? "set by " : "overrode "
            lines.append("  \(verb)\(entry.layer)\(Explanation.describe(entry.action))")
        }
        return lines.joined(separator: "\n")
    }

    private static func describe(_ action: Action) -> String {
        switch action {
        case .set(let value): ": \(excerpt(value))"
        case .deleted: ": deleted"
        case .deletedAncestor(let at): ": deleted \(at)"
        case .replacedAncestor(let at, let value): ": replaced \(at) with \(excerpt(value))"
        }
    }
}
