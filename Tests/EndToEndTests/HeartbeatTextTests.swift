import Logging
import Testing
import SwitchyardAgent
import SwitchyardEdgeService
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel
import SwitchyardTestSupport

/// Issue 14, item 5: a device's strings (serial number, model) reach the
/// heartbeat's metrics, as `device_info`.
@Suite(.serialized) struct HeartbeatTextTests {
    @Test func textChannelsReachTheHeartbeat() throws {
        let profiles = TestPaths.temporaryDirectory()
        try #"""
            {"id": "ids_only", "driver": "modbus", "source": "tests", "poll_groups": {"ids": {"interval_ms": "once"}, "fast": {"interval_ms": 1000}},
             "points": [{"name": "Serial", "address": 0, "type": "string", "length": 2, "group": "ids"},
                        {"name": "Model", "address": 2, "type": "string", "length": 2, "group": "ids"},
                        {"name": "Power", "address": 4, "type": "int16", "group": "fast"}]}
            """#.write(toFile: profiles + "/ids_only.json", atomically: true, encoding: .utf8)
        let peer = try PymodbusServer(units: [1: .init(holding: [0: [0x4142, 0x4344, 0x5859, 0x5A00, 7]])])
        let config = """
            {"version": 1, "edge_id": "h", "modbus_devices": [{"device_id": "m", "profile": "ids_only",
              "connection": {"protocol": "tcp", "host": "127.0.0.1", "port": \(peer.port), "unit_id": 1}}]}
            """
        let site = try SiteHarness(config: config, extraProfiles: [profiles])
        site.run(cycles: 2)
        let service = EdgeService(host: site.host, source: .embedded(try EdgeConfig(parsing: config, file: nil)), initial: nil,
                                  pluginCacheDirectory: TestPaths.temporaryDirectory(), logger: Logger(label: "test"))
        let sample = HostApplier(service: service).sample()
        #expect(sample.deviceTexts == ["m": ["Serial": "ABCD", "Model": "XYZ"]])
        #expect(SyncAgent.deviceInfo(sample) == ["m": ["Serial": "ABCD", "Model": "XYZ"]])
    }
}
