/// The Modbus data tables.
public enum RegisterTable: String, Sendable, CaseIterable, Comparable {
    case coil, discrete_input, input_register, holding_register

    public static func < (a: RegisterTable, b: RegisterTable) -> Bool { a.rawValue < b.rawValue }

    /// Coils and discrete inputs hold bits, not registers.
    public var holdsBits: Bool { self == .coil || self == .discrete_input }
}

/// What the planner needs to know of a point.
public struct PlannedPoint: Sendable, Equatable {
    public var name: String
    public var table: RegisterTable
    /// 0-based protocol address of the first register (or bit, for coils).
    public var address: Int
    public var count: Int
    /// The scale-factor point that must be read in the same request.
    public var scaleFactor: String?

    public init(name: String, table: RegisterTable, address: Int, count: Int, scaleFactor: String? = nil) {
        self.name = name
        self.table = table
        self.address = address
        self.count = count
        self.scaleFactor = scaleFactor
    }

    var range: ClosedRange<Int> { address...(address + count - 1) }
}

/// One read request: a table, a start address and a count, and the points it serves.
public struct ReadRequest: Sendable, Equatable, CustomStringConvertible {
    public var table: RegisterTable
    public var start: Int
    public var count: Int
    public var points: [String]

    public var end: Int { start + count - 1 }

    public init(table: RegisterTable, start: Int, count: Int, points: [String]) {
        self.table = table
        self.start = start
        self.count = count
        self.points = points
    }

    public var description: String { "\(table.rawValue) \(start)+\(count) [\(points.joined(separator: ", "))]" }
}

/// Why a group cannot be read as declared.
public struct PlanError: Error, Sendable, Equatable, CustomStringConvertible {
    public var point: String
    public var reason: String

    public init(point: String, reason: String) {
        self.point = point
        self.reason = reason
    }

    public var description: String { "point \(point): \(reason)" }
}

/// Plans the reads of one poll group.
///
/// Guarantees: every point is read whole, in one request; a point with a
/// scale factor is read in the same request as that scale factor; no request
/// touches an address outside `readable` (per table; a table without ranges
/// is readable everywhere) or in `unreadable` (addresses the device answered
/// "illegal data address" for, learned at run time); no request is longer
/// than `maxRegisters` (`maxBits` for coils and discrete inputs). Within
/// those rules it makes as few requests as it can: points are merged,
/// gaps between them included, whenever the merged span stays inside one
/// readable stretch and the size limit.
public struct ReadPlanner: Sendable {
    public var readable: [RegisterTable: [ClosedRange<Int>]]
    public var unreadable: [RegisterTable: Set<Int>]
    public var maxRegisters: Int
    public var maxBits: Int

    public init(readable: [RegisterTable: [ClosedRange<Int>]] = [:], unreadable: [RegisterTable: Set<Int>] = [:],
                maxRegisters: Int = 125, maxBits: Int = 2000) {
        self.readable = readable
        self.unreadable = unreadable
        self.maxRegisters = maxRegisters
        self.maxBits = maxBits
    }

    /// A cluster: points that must share one request (a value and its scale factor).
    struct Cluster {
        var table: RegisterTable
        var range: ClosedRange<Int>
        var points: [String]
    }

    public func plan(_ points: [PlannedPoint], all: [PlannedPoint]? = nil) throws(PlanError) -> [ReadRequest] {
        try plan(points, byName: Self.index(all ?? points))
    }

    /// Every point by name, for `plan(_:byName:)` (build it once when planning often).
    public static func index(_ points: [PlannedPoint]) -> [String: PlannedPoint] {
        Dictionary(points.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// `byName`: every point of the device, where scale factors are found.
    public func plan(_ points: [PlannedPoint], byName: [String: PlannedPoint]) throws(PlanError) -> [ReadRequest] {
        // 1. Join each point with its scale factor; points sharing a scale
        //    factor end up in one cluster.
        var clusters: [Cluster] = []
        var clusterOf: [String: Int] = [:]
        for p in points {
            var members = [p]
            if let sfName = p.scaleFactor {
                guard let sf = byName[sfName] else { throw PlanError(point: p.name, reason: "its scale factor \"\(sfName)\" is not a point of this profile") }
                guard sf.table == p.table else { throw PlanError(point: p.name, reason: "its scale factor \"\(sfName)\" is in another table (\(sf.table.rawValue))") }
                members.append(sf)
            }
            let existing = Set(members.compactMap { clusterOf[$0.name] })
            var merged = Cluster(table: p.table, range: members[0].range, points: [])
            for m in members { merged.range = min(merged.range.lowerBound, m.address)...max(merged.range.upperBound, m.range.upperBound) }
            for i in existing.sorted(by: >) {
                let c = clusters[i]
                merged.range = min(merged.range.lowerBound, c.range.lowerBound)...max(merged.range.upperBound, c.range.upperBound)
                merged.points += c.points
            }
            merged.points += members.map(\.name).filter { !merged.points.contains($0) }
            for i in existing.sorted(by: >) { clusters.remove(at: i) }
            clusters.append(merged)
            clusterOf = [:]
            for (i, c) in clusters.enumerated() { for n in c.points { clusterOf[n] = i } }
        }
        // 2. Every cluster must be readable in one request.
        for c in clusters {
            let limit = limit(for: c.table)
            if c.range.count > limit {
                throw PlanError(point: c.points[0], reason: "spans \(c.range.count) addresses with the points it must be read with (\(c.points.joined(separator: ", "))); a request may read at most \(limit)")
            }
            if stretch(containing: c.range, in: c.table) == nil {
                throw PlanError(point: c.points[0], reason: "addresses \(c.range.lowerBound)…\(c.range.upperBound) (\(c.table.rawValue)) are not all inside one readable range")
            }
        }
        // 3. Greedy merge in address order: extend the current request while
        //    the union stays in one readable stretch and within the limit.
        var requests: [ReadRequest] = []
        for table in RegisterTable.allCases {
            let sorted = clusters.filter { $0.table == table }.sorted { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
            var current: (range: ClosedRange<Int>, points: [String])?
            for c in sorted {
                if let cur = current {
                    let union = cur.range.lowerBound...max(cur.range.upperBound, c.range.upperBound)
                    if union.count <= limit(for: table), stretch(containing: union, in: table) != nil {
                        current = (union, cur.points + c.points)
                        continue
                    }
                    requests.append(ReadRequest(table: table, start: cur.range.lowerBound, count: cur.range.count, points: cur.points))
                }
                current = (c.range, c.points)
            }
            if let cur = current { requests.append(ReadRequest(table: table, start: cur.range.lowerBound, count: cur.range.count, points: cur.points)) }
        }
        return requests
    }

    private func limit(for table: RegisterTable) -> Int {
        table.holdsBits ? maxBits : maxRegisters
    }

    /// The readable stretch that contains `range`, with learned holes cut out.
    private func stretch(containing range: ClosedRange<Int>, in table: RegisterTable) -> ClosedRange<Int>? {
        if let holes = unreadable[table], holes.contains(where: range.contains) { return nil }
        guard let declared = readable[table], !declared.isEmpty else { return range }
        return declared.first { $0.lowerBound <= range.lowerBound && range.upperBound <= $0.upperBound }
    }
}
