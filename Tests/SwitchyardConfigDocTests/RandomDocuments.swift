import SwitchyardJSON
import SwitchyardTestSupport

/// Random documents of the shapes configs have: nested objects, plain
/// arrays, and arrays of objects keyed by `id` or `device_id`. Keys come
/// from a small set (including ones that need pointer escapes) so that two
/// documents share structure.
struct RandomDocuments {
    var generator: SeededGenerator

    static let keys = ["a", "b", "c", "id", "device_id", "x/y", "m~n", "", "é", "e\u{301}", "0", "-"]

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &generator) < percent }

    mutating func scalar() -> JSONValue {
        switch Int.random(in: 0..<7, using: &generator) {
        case 0: return .null
        case 1: return .bool(chance(50))
        case 2: return .number(Double(Int.random(in: -3...3, using: &generator)))
        case 3: return .number(Double(Int.random(in: -1000...1000, using: &generator)) / 8)
        case 4: return .string(["", "x", "~/", "\u{E9}", "e\u{301}", "long string value", "q\"b\\n\n\t\u{1}\u{7F}😀"].randomElement(using: &generator)!)
        case 5: return .number([1e15, 1e16, 1e21, -0.0, 0.1, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 123456.789].randomElement(using: &generator)!)
        default: return .string(String(Int.random(in: 0..<50, using: &generator)))
        }
    }

    mutating func value(depth: Int) -> JSONValue {
        guard depth > 0 else { return scalar() }
        switch Int.random(in: 0..<10, using: &generator) {
        case 0..<3: return scalar()
        case 3..<6: return object(depth: depth)
        case 6..<8: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in value(depth: depth - 1) })
        default: return keyedArray(depth: depth)
        }
    }

    mutating func object(depth: Int) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for _ in 0..<Int.random(in: 0...5, using: &generator) {
            members[RandomDocuments.keys.randomElement(using: &generator)!] = value(depth: depth - 1)
        }
        return .object(members)
    }

    mutating func keyedArray(depth: Int) -> JSONValue {
        let keyMember = chance(50) ? "id" : "device_id"
        let ids = Array((0..<8).shuffled(using: &generator).prefix(Int.random(in: 0...6, using: &generator)))
        return .array(ids.map { id in keyedElement(keyMember: keyMember, id: id, depth: depth) })
    }

    mutating func keyedElement(keyMember: String, id: Int, depth: Int) -> JSONValue {
        var element = object(depth: depth).objectValue ?? [:]
        element[keyMember] = .string("k\(id)")
        return .object(element)
    }

    /// A variant of `value` with a few random edits: changed scalars,
    /// removed and added members, inserted, removed and reordered
    /// elements, changed kinds.
    mutating func mutate(_ value: JSONValue, depth: Int) -> JSONValue {
        if chance(8) { return self.value(depth: depth) }
        switch value {
        case .object(var members):
            for key in members.keys.sorted() {
                if chance(10) { members[key] = nil } else if chance(40) { members[key] = mutate(members[key]!, depth: depth - 1) }
            }
            if chance(25) { members[RandomDocuments.keys.randomElement(using: &generator)!] = self.value(depth: depth - 1) }
            return .object(members)
        case .array(var items):
            let keyMember = ["id", "device_id"].first { member in !items.isEmpty && items.allSatisfy { $0[member] != nil } }
            for index in items.indices where chance(40) {
                // Keep an element's key so keyed arrays stay keyed.
                var changed = mutate(items[index], depth: depth - 1)
                if let keyMember, var members = changed.objectValue {
                    members[keyMember] = items[index][keyMember]
                    changed = .object(members)
                }
                items[index] = changed
            }
            for index in items.indices.reversed() where chance(20) { items.remove(at: index) }
            var usedKeys = Set(items.compactMap { item in keyMember.flatMap { item[$0] } })
            for _ in 0..<Int.random(in: 0...2, using: &generator) {
                var element = self.value(depth: depth - 1)
                if let keyMember {
                    element = keyedElement(keyMember: keyMember, id: Int.random(in: 0..<12, using: &generator), depth: depth - 1)
                    guard usedKeys.insert(element[keyMember]!).inserted else { continue }
                }
                items.insert(element, at: Int.random(in: 0...items.count, using: &generator))
            }
            if items.count > 1 && chance(10) { items.swapAt(0, items.count - 1) }
            return .array(items)
        default:
            return chance(50) ? scalar() : value
        }
    }
}
