import Testing
import SwitchyardModbusProfile

func p(_ name: String, _ address: Int, _ count: Int = 1, sf: String? = nil, table: RegisterTable = .holding_register) -> PlannedPoint {
    PlannedPoint(name: name, table: table, address: address, count: count, scaleFactor: sf)
}

@Suite struct PlannerTests {
    @Test func contiguousPointsAndSmallGapsBecomeOneRequest() throws {
        let plan = try ReadPlanner().plan([p("A", 100, 2), p("B", 102), p("C", 110, 2)])
        #expect(plan.map(\.description) == ["holding_register 100+12 [A, B, C]"])
    }

    @Test func neverReadsOutsideTheReadableRanges() throws {
        // The device has registers 0…9 and 20…29 only: the gap is never read.
        let planner = ReadPlanner(readable: [.holding_register: [0...9, 20...29]])
        let plan = try planner.plan([p("A", 5, 2), p("B", 8, 2), p("C", 20), p("D", 28, 2)])
        #expect(plan.map(\.description) == ["holding_register 5+5 [A, B]", "holding_register 20+10 [C, D]"])
        #expect(throws: PlanError.self) { try planner.plan([p("X", 9, 2)]) }  // straddles the gap
    }

    @Test func respectsTheRequestSizeWithoutSplittingAPoint() throws {
        let plan = try ReadPlanner(maxRegisters: 10).plan([p("A", 0, 4), p("B", 4, 4), p("C", 8, 4), p("D", 12, 2)])
        #expect(plan.map(\.description) == ["holding_register 0+8 [A, B]", "holding_register 8+6 [C, D]"])
        #expect(plan.allSatisfy { $0.count <= 10 })
    }

    @Test func keepsAScaleFactorInTheRequestOfItsValues() throws {
        // SunSpec model 103 style: values first, their scale factors further on.
        let points = [p("A", 40083, sf: "A_SF"), p("W", 40091, sf: "W_SF"), p("A_SF", 40087), p("W_SF", 40092), p("Hz", 40093, sf: "Hz_SF"), p("Hz_SF", 40094)]
        let plan = try ReadPlanner().plan(points)
        #expect(plan.map(\.description) == ["holding_register 40083+12 [A, A_SF, W, W_SF, Hz, Hz_SF]"])
        // With a small request size, W still travels with W_SF.
        let small = try ReadPlanner(maxRegisters: 5).plan(points)
        for r in small {
            for (value, sf) in [("A", "A_SF"), ("W", "W_SF"), ("Hz", "Hz_SF")] where r.points.contains(value) {
                #expect(r.points.contains(sf), "\(value) read without \(sf): \(small)")
            }
        }
        // Only the group's points are planned, but a scale factor is found among all points.
        let one = try ReadPlanner().plan([p("W", 40091, sf: "W_SF")], all: points)
        #expect(one.map(\.description) == ["holding_register 40091+2 [W, W_SF]"])
    }

    @Test func explainsWhatCannotBePlanned() {
        #expect(throws: PlanError(point: "W", reason: "its scale factor \"W_SF\" is not a point of this profile")) {
            try ReadPlanner().plan([p("W", 10, sf: "W_SF")])
        }
        let far = [p("W", 0, sf: "SF"), p("SF", 200)]
        #expect(throws: PlanError.self) { try ReadPlanner().plan(far) }  // 201 registers > 125
    }

    @Test func avoidsAddressesTheDeviceRefused() throws {
        // The device answered "illegal data address" for 105: split around it.
        let planner = ReadPlanner(unreadable: [.holding_register: [105]])
        let plan = try planner.plan([p("A", 100, 2), p("B", 103, 2), p("C", 106, 2)])
        #expect(plan.map(\.description) == ["holding_register 100+5 [A, B]", "holding_register 106+2 [C]"])
    }

    @Test func tablesArePlannedApart() throws {
        let plan = try ReadPlanner().plan([p("A", 0), p("B", 1, table: .input_register), p("C", 2), p("D", 0, table: .coil)])
        #expect(plan.map(\.description) == ["coil 0+1 [D]", "input_register 1+1 [B]", "holding_register 0+3 [A, C]"])
    }
}
