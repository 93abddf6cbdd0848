import Testing
import SwitchyardJSON
import SwitchyardPluginKit

/// The plugin kit's getters run inside the host: on any value they return or
/// throw, never trap.
@Suite struct ParametersTests {
    @Test(arguments: [9.223372036854775808e18, -9.3e18, 1e308, -1e308, Double.greatestFiniteMagnitude])
    func anIntegerBeyondIntIsAnErrorNotATrap(value: Double) throws {
        let p = Parameters(["seed": .number(value)])
        let error = #expect(throws: PluginError.self) { try p.int("seed") }
        #expect(error?.code == .invalid)
        #expect(error?.message == "parameter \"seed\" is \(JSONValue.format(value)), beyond the integers this plugin can hold")
        #expect(try p.double("seed") == value)
    }

    @Test func integersInRangeConvertExactly() throws {
        let p = Parameters(["max": .number(Double(JSONValue.largestExactInteger)), "min": .number(-9.2e18), "zero": .number(-0.0), "one": 1])
        #expect(try p.int("max") == JSONValue.largestExactInteger)
        #expect(try p.int("min") == -9_200_000_000_000_000_000)
        #expect(try p.int("zero") == 0)
        #expect(try p.int("one") == 1)
    }

    @Test func aFractionOrAnotherTypeIsAnError() {
        let p = Parameters(["half": 0.5, "text": "1", "nan": .number(.nan), "inf": .number(.infinity)])
        for name in ["half", "text", "nan", "inf", "absent"] {
            #expect(throws: PluginError.self, "\(name)") { try p.int(name) }
        }
        #expect(throws: PluginError.self) { try p.double("text") }
        #expect(throws: PluginError.self) { try p.bool("half") }
        #expect(throws: PluginError.self) { try p.string("half") }
    }
}
