import Dispatch
import Foundation
import Logging
import Testing
import SwitchyardEdgeService
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel
import SwitchyardTestSupport

/// `GET /channels` and `switchyard-edge status` (issue 14, items 5 and 6):
/// the documented JSON shape, text channels and labels, the same quality
/// names as the profiles' docs, and a table of values per device.
@Suite(.serialized) struct ChannelsEndpointTests {
    static let profile = #"""
        {"id": "meter_with_ids", "driver": "modbus", "source": "tests",
         "poll_groups": {"fast": {"interval_ms": 100}, "ids": {"interval_ms": "once"}},
         "points": [
           {"name": "Power", "address": 0, "type": "int16", "unit": "W", "channel": "meter.ActivePower", "group": "fast"},
           {"name": "State", "address": 1, "type": "enum", "values": {"1": "grid", "2": "island"}, "group": "fast"},
           {"name": "Alarms", "address": 2, "type": "bitfield", "bits": {"0": "overvoltage", "1": "overtemp"}, "group": "fast"},
           {"name": "Absent", "address": 3, "type": "uint16", "not_available": [65535], "group": "fast"},
           {"name": "Serial", "address": 10, "type": "string", "length": 4, "group": "ids"},
           {"name": "Limit", "address": 20, "type": "int16", "unit": "W", "access": "read_write", "group": "fast",
            "write": {"min": 0, "max": 5000, "step": 10, "read_back": true}}]}
        """#

    @Test func channelsCarryValuesTextsAndLabelsAndStatusShowsThemPerDevice() async throws {
        let peer = try PymodbusServer(units: [1: .init(holding: [0: [1500, 2, 0b11, 0xFFFF], 10: [0x534E, 0x2D34, 0x3231, 0], 20: [0]])])
        let profiles = TestPaths.temporaryDirectory()
        try Self.profile.write(toFile: profiles + "/meter_with_ids.json", atomically: true, encoding: .utf8)
        let host = EdgeHost(plugins: PluginCatalog.load(directories: TestPaths.pluginDirectories),
                            profiles: ProfileCatalog.load(directories: [profiles]))
        let config = try EdgeConfig(parsing: """
            {"version": 1, "edge_id": "c", "core_cycle": {"period_ms": 100},
             "modbus_devices": [{"device_id": "m", "profile": "meter_with_ids",
                                 "connection": {"protocol": "tcp", "host": "127.0.0.1", "port": \(peer.port), "unit_id": 1}}]}
            """, file: "test")
        try host.apply(config)
        try host.start()
        let service = EdgeService(host: host, source: .embedded(config), initial: config,
                                  pluginCacheDirectory: TestPaths.temporaryDirectory(), logger: Logger(label: "test"))
        let port = PymodbusServer.freePort()
        let server = StatusServer.start(service, port: port, logger: Logger(label: "test"))
        defer { host.stop() }

        var channels: [JSONValue] = []
        for _ in 0..<200 {
            if let (code, body) = try? await localRequest("GET", "/channels", port: port), code == 200,
               let doc = try? JSONValue(parsing: body), let all = doc.arrayValue,
               all.contains(where: { $0["name"] == "Serial" && $0["quality"] == "good" }),
               all.contains(where: { $0["name"] == "Power" && $0["quality"] == "good" }) {
                channels = all
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        func channel(_ name: String) -> JSONValue? { channels.first { $0["name"]?.stringValue == name } }
        let serial = try #require(channel("Serial"), "the string point never arrived")
        #expect(serial == ["address": "m/Serial", "device_id": "m", "name": "Serial", "standard": .null, "unit": .null,
                           "type": "text", "writable": false, "value": .null, "text": "SN-421", "quality": "good",
                           "device_state": "running"])
        #expect(channel("Power")?["value"] == .number(1500))
        #expect(channel("Power")?["standard"] == "meter.ActivePower")
        #expect(channel("Power")?["type"] == "number")
        #expect(channel("State")?["value"] == .number(2))
        #expect(channel("State")?["text"] == "island")
        #expect(channel("Alarms")?["text"] == "overvoltage, overtemp")
        // The same name as docs/profiles.md section 7, not "n/a".
        #expect(channel("Absent")?["quality"] == "not_available")

        let (_, statusBody) = try await localRequest("GET", "/status", port: port)
        let text = EdgeStatusText.render(try JSONValue(parsing: statusBody), channels: .array(channels))
        let lines = text.split(separator: "\n").map(String.init)
        let deviceLine = try #require(lines.firstIndex { $0.hasPrefix("device     m ") })
        let table = lines[(deviceLine + 1)...].prefix { $0.hasPrefix("             ") }
        #expect(table.count == 6, "\(text)")
        #expect(table.contains { $0.contains("Power") && $0.contains("1500") && $0.contains("W") }, "\(text)")
        #expect(table.contains { $0.contains("Serial") && $0.contains("\"SN-421\"") }, "\(text)")
        #expect(table.contains { $0.contains("State") && $0.contains("2 (island)") }, "\(text)")
        #expect(table.contains { $0.contains("Absent") && $0.hasSuffix("not_available") }, "\(text)")

        // A hand write through the port to the Modbus driver: the step applies and the answer says so.
        let (code, body) = try await localRequest("POST", "/write", port: port, body: #"{"channel": "m/Limit", "value": 4205}"#)
        #expect(code == 200, "\(body)")
        let answer = try JSONValue(parsing: body)
        #expect(answer["driver"]?.arrayValue?.contains { $0.stringValue?.contains("Limit: asked 4205, wrote 4210") == true } == true, "\(body)")
        let (refused, why) = try await localRequest("POST", "/write", port: port, body: #"{"channel": "m/Limit", "value": 9000}"#)
        #expect(refused == 422, "\(why)")
        #expect(why.contains("above the maximum 5000"))
        let device = try #require(host.status().devices.first)
        #expect(device.writes == 1)
        #expect(device.writesRefused == 1)
        await server.stop()
    }
}

/// The edge's own client, off the concurrency pool: it blocks its thread
/// until the answer, and the port's handlers need the pool (two tests
/// blocking both threads of a 2-core machine would starve the servers).
func localRequest(_ method: String, _ path: String, port: Int, body: String = "") async throws -> (Int, String) {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try LocalClient.request(method, path, port: port, body: body, timeoutSeconds: 30) })
        }
    }
}
