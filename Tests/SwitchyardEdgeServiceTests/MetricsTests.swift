import Testing
import SwitchyardEdgeService
import SwitchyardHost
import SwitchyardTestSupport

@Suite struct MetricsTests {
    @Test func rendersTheTextFormatWithEscapedLabels() throws {
        let h = try SiteHarness(config: """
            {"version": 7, "edge_id": "e\\"1", "scheduler": {"controllers": [{"id": "p", "class": "ProbeController", "parameters": {"mode": "fail"}}]},
             "devices": [{"device_id": "a", "profile": "test_generic"}]}
            """, extraProfiles: [TestPaths.packageRoot + "/Tests/Fixtures/profiles"])
        h.run(cycles: 2)
        let text = PrometheusText.render(h.host.status())
        #expect(text.contains("# TYPE switchyard_cycles_total counter\nswitchyard_cycles_total 2\n"))
        #expect(text.contains("switchyard_config_version{edge_id=\"e\\\"1\"} 7\n"))
        #expect(text.contains("switchyard_controller_failures_total{controller=\"p\"} 2\n"))
        #expect(text.contains("switchyard_cycle_work_seconds{quantile=\"0.99\"} "))
        #expect(text.contains("switchyard_device_up{device=\"a\",profile=\"test_generic\"} 1\n"))
        // Deliveries taken, refused and failed are counted apart (issue 14, item 4).
        #expect(text.contains("switchyard_device_writes_total{device=\"a\"} 0\n"))
        #expect(text.contains("switchyard_device_writes_refused_total{device=\"a\"} 0\n"))
        #expect(text.contains("switchyard_device_write_failures_total{device=\"a\"} 0\n"))
        // Every sample line is `name{labels} value`.
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            #expect(line.split(separator: " ").count == 2, "\(line)")
        }
    }
}
