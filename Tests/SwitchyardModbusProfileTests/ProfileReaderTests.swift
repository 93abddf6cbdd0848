import Testing
import SwitchyardJSON
import SwitchyardModbusProfile
import SwitchyardModel

func readPoints(_ text: String, transport: String = "{}") throws -> (points: [ModbusPoint], issues: [String]) {
    let issues = IssueList()
    let t = ModbusProfileReader.transport(try JSONValue(parsing: transport), at: JSONPath.root.appending("transport"), issues: issues)
    let points = ModbusProfileReader.points(try JSONValue(parsing: text), at: JSONPath.root.appending("points"), issues: issues)
    if issues.isEmpty { ModbusProfile.lint(points, transport: t, issues: issues) }
    return (points, issues.issues.map(\.description))
}

@Suite struct ProfileReaderTests {
    @Test func readsASunSpecStylePointWithItsScaleFactor() throws {
        let r = try readPoints("""
            [{"name": "W", "address": 40083, "type": "int16", "scale": {"point": "W_SF"}, "unit": "W", "not_available": [32768],
              "channel": "pv.ActivePower", "group": "fast"},
             {"name": "W_SF", "address": 40084, "type": "int16", "group": "fast"},
             {"name": "Serial", "address": 40052, "type": "string", "length": 16, "group": "once"}]
            """, transport: #"{"readable": {"holding_register": [[40000, 40200]]}, "max_registers_per_read": 100}"#)
        #expect(r.issues == [])
        #expect(r.points[0].scale == .point("W_SF"))
        #expect(r.points[0].notAvailable == [32768])
        #expect(r.points[0].planned.scaleFactor == "W_SF")
        #expect(r.points[2].count == 16)
    }

    @Test func reportsEveryProblemWithItsPath() throws {
        let r = try readPoints("""
            [{"name": "A", "address": 1, "type": "int32"},
             {"name": "B", "address": 2, "type": "uint16"},
             {"name": "C", "address": 70000, "type": "float32"},
             {"name": "D", "address": 5, "type": "string"},
             {"name": "E", "address": 6, "type": "uint16", "scale": {"power_of_ten": 99}},
             {"name": "F", "table": "coil", "address": 0, "type": "uint16"},
             {"name": "G", "address": 8, "type": "int16", "byte_ordr": "little"}]
            """)
        #expect(r.issues.contains("points[2].address: must be <= 65535, got 70000"))
        #expect(r.issues.contains("points[3].length: is required for a string (in registers)"))
        #expect(r.issues.contains("points[4].scale: expected a number, {\"power_of_ten\": n} with |n| <= 10, or {\"point\": \"SCALE_FACTOR_POINT\"}"))
        #expect(r.issues.contains("points[5].type: a coil holds bits: use type \"bit\""))
        #expect(r.issues.contains("points[6].byte_ordr: unknown field \"byte_ordr\" (did you mean \"byte_order\"?)"))
    }

    @Test func lintFindsOverlapsGapsAndLonelyScaleFactors() throws {
        let r = try readPoints("""
            [{"name": "A", "address": 10, "type": "int32", "group": "g"},
             {"name": "B", "address": 11, "type": "uint16", "group": "g"},
             {"name": "C", "address": 25, "type": "int16", "scale": {"point": "C_SF"}, "group": "g"},
             {"name": "C_SF", "address": 35, "type": "int16", "group": "g"},
             {"name": "D", "address": 50, "type": "int16", "scale": {"point": "Nope"}, "group": "g"},
             {"name": "Bit0", "address": 60, "type": "bit", "bit": 0, "group": "g"},
             {"name": "Bit1", "address": 60, "type": "bit", "bit": 1, "group": "g"}]
            """, transport: #"{"readable": {"holding_register": [[0, 29], [30, 60]]}}"#)
        #expect(r.issues.contains("points[1].address: overlaps point \"A\" (holding_register 10…11)"))
        #expect(r.issues.contains("points[2]: addresses 25…35 (holding_register) are not all inside one readable range"))
        #expect(r.issues.contains("points[4]: its scale factor \"Nope\" is not a point of this profile"))
        #expect(r.issues.count == 3, "bits of one register may share it: \(r.issues)")
    }
}
