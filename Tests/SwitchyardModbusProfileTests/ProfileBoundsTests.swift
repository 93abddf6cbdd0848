import Foundation
import Testing
import SwitchyardJSON
import SwitchyardModbusProfile
import SwitchyardModel

/// A profile's integers keep their ranges whatever the value: huge ones are
/// reported with the bound, and a Modbus profile's poll interval is checked
/// like any other profile's.
@Suite struct ProfileBoundsTests {
    @Test func hugeTransportAndPointIntegersNameTheirBound() throws {
        let r = try readPoints("""
            [{"name": "A", "address": 9223372036854775808, "type": "uint16", "group": "g"},
             {"name": "B", "address": 1, "type": "uint16", "group": "g", "access": "read_write", "write": {"min_interval_ms": 1e308}}]
            """, transport: #"{"timeout_ms": 9223372036854775808, "delay_between_requests_ms": 3074457345619, "default_unit_id": -1e308}"#)
        #expect(r.issues.contains("transport.timeout_ms: must be <= 60000, got 9.223372036854776e18"))
        #expect(r.issues.contains("transport.delay_between_requests_ms: must be <= 60000, got 3074457345619"))
        #expect(r.issues.contains("transport.default_unit_id: must be >= 0, got -1e308"))
        #expect(r.issues.contains("points[0].address: must be <= 65535, got 9.223372036854776e18"))
        #expect(r.issues.contains("points[1].write.min_interval_ms: must be <= 86400000, got 1e308"))
    }

    @Test func aModbusPollIntervalBeyondADayIsRefused() throws {
        let text = """
            {"id": "m", "driver": "modbus", "poll_groups": {"fast": {"interval_ms": 3074457345619}, "day": {"interval_ms": 86400000}},
             "points": [{"name": "W", "address": 10, "type": "int16", "group": "fast"}, {"name": "E", "address": 11, "type": "int16", "group": "day"}]}
            """
        let error = #expect(throws: ValidationError.self) { try DeviceProfile(parsing: text, file: "m.json") }
        #expect(error?.description == "m.json: poll_groups.fast.interval_ms: must be <= 86400000, got 3074457345619")
        let fixed = try DeviceProfile(parsing: text.replacingOccurrences(of: "3074457345619", with: "1"), file: "m.json")
        #expect(fixed.pollGroups.map(\.intervalMs) == [86_400_000, 1])
    }
}
