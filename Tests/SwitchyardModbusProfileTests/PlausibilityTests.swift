import Testing
import SwitchyardJSON
import SwitchyardModbusProfile
import SwitchyardModel

/// Plausibility ranges: what `profile lint` asks a range of, and what a
/// range does to garbage.
@Suite struct PlausibilityTests {
    private static let profile = """
    { "id": "p", "driver": "modbus", "poll_groups": { "fast": { "interval_ms": 1000 } },
      "points": [
        { "name": "Power", "address": 0, "type": "float32", "unit": "W", "group": "fast" },
        { "name": "Voltage", "address": 2, "type": "float32", "unit": "V", "range": [0, 300], "group": "fast" },
        { "name": "Cycles", "channel": "ess.Cycles", "address": 4, "type": "uint32", "group": "fast" },
        { "name": "Soc", "address": 6, "type": "uint16", "unit": "%WHRtg", "group": "fast" },
        { "name": "State", "address": 7, "type": "enum", "values": { "1": "on" }, "group": "fast" },
        { "name": "Alarms", "address": 8, "type": "uint16", "unit": "A", "bits": { "0": "over_current" }, "group": "fast" },
        { "name": "Events", "address": 9, "type": "uint32", "group": "fast" },
        { "name": "Limit", "address": 11, "type": "uint16", "unit": "W", "access": "read_write", "group": "fast" },
        { "name": "Temp", "address": 12, "type": "int16", "unit": "degC", "scale": { "point": "Temp_SF" }, "group": "fast" },
        { "name": "Temp_SF", "address": 13, "type": "int16", "unit": "W", "internal": true }
      ],
      "sunspec": { "models": [ { "id": 802, "group": "battery", "poll_group": "fast", "points": [
        { "name": "W", "offset": 0, "type": "int16", "unit": "W", "scale": { "point": "W_SF" } },
        { "name": "W_SF", "offset": 1, "type": "int16", "internal": true },
        { "name": "Hz", "offset": 2, "type": "uint16", "unit": "Hz", "range": [45, 65] }
      ] } ] },
      "tests": [ { "registers": { "holding_register": { "2": [17254, 32768] } }, "expect": { "Voltage": 230.5 } } ] }
    """

    @Test func lintNamesEveryMeasuredPointWithoutARange() throws {
        let m = try ModbusProfile(json: JSONValue(parsing: Self.profile), file: "p.json")
        let unranged = m.unrangedMeasurements
        // Measured: a unit of a physical quantity (percent with a qualifier
        // too), or a standard channel. Not: ranged, enums, bitfields,
        // unitless counters, settings, internal points.
        #expect(unranged.map(\.name) == ["Power", "Cycles", "Soc", "Temp", "battery.W"])
        #expect(unranged.map { "\($0.path)" } == ["points[0]", "points[2]", "points[3]", "points[8]", "sunspec.models[0].points[0]"])
        let line = "\(unranged[0])"
        #expect(line.hasPrefix("points[0]: warning: \"Power\" (W) is measured but has no \"range\""))
        #expect(line.contains("add \"range\": [min, max]"))
    }

    @Test func aProfileWithRangesEverywhereHasNothingToSay() throws {
        var text = Self.profile
        for (point, range) in [("\"unit\": \"W\", \"group\"", "\"unit\": \"W\", \"range\": [-15000, 15000], \"group\""),
                               ("\"channel\": \"ess.Cycles\",", "\"channel\": \"ess.Cycles\", \"range\": [0, 100000],"),
                               ("\"unit\": \"%WHRtg\",", "\"unit\": \"%WHRtg\", \"range\": [0, 100],"),
                               ("\"unit\": \"degC\",", "\"unit\": \"degC\", \"range\": [-40, 120],"),
                               ("\"unit\": \"W\", \"scale\": { \"point\": \"W_SF\" }", "\"unit\": \"W\", \"range\": [-10500, 10500], \"scale\": { \"point\": \"W_SF\" }")] {
            #expect(text.contains(point))
            text = text.replacingOccurrences(of: point, with: range)
        }
        let m = try ModbusProfile(json: JSONValue(parsing: text), file: "p.json")
        #expect(m.unrangedMeasurements.isEmpty, "\(m.unrangedMeasurements)")
    }

    @Test func aRangeTurnsAHugeFloatOrScaleFactorIntoAFault() throws {
        let m = try ModbusProfile(json: JSONValue(parsing: Self.profile), file: "p.json")
        let huge = RegisterCodec.encode(4.25e37, as: .float32)!
        // Without a range a random float is a good value: the reason for the lint.
        let power = try #require(m.point(named: "Power"))
        #expect(PointCodec.decode(power, words: huge[...]).quality == .good)
        var ranged = power
        ranged.plausible = -15_000...15_000
        #expect(PointCodec.decode(ranged, words: huge[...]).quality == .implausible)
        #expect(PointCodec.decode(ranged, words: RegisterCodec.encode(9876, as: .float32)![...]) == PointReading(value: 9876))
        // A SunSpec Hz of 65000 × 10^10 with an allowed scale factor.
        let hz = try #require(m.sunspecModels.first?.points.first { $0.name == "Hz" })
        #expect(hz.plausible == 45...65)
        var scaled = hz
        scaled.scale = .point("Hz_SF")
        #expect(PointCodec.decode(scaled, words: [65000], scaleFactor: PointReading(value: 10)).quality == .implausible)
        #expect(PointCodec.decode(scaled, words: [5001], scaleFactor: PointReading(value: -2)) == PointReading(value: 50.01))
    }
}
