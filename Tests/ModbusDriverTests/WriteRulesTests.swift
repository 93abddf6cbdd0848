import Testing
import SwitchyardHost
import SwitchyardTestSupport

/// Issue 14, items 3 and 4: write rules that say what they do, counters that
/// tell taken, refused and failed deliveries apart, and hand writes through
/// the Modbus driver's rules against a pymodbus peer.
@Suite(.serialized) struct WriteRulesTests {
    @Test func aValueOffTheStepIsWrittenRoundedAndSaysSoOnce() throws {
        let server = try PymodbusServer(units: [1: DriverFixture.unit])
        let log = LogCapture()
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: server.port)],
                                                                controllers: [DriverFixture.probe("p", output: "d/Setpoint", gain: 4205)]),
                                   extraProfiles: [try DriverFixture.folder()], logger: log.logger())
        site.run(cycles: 4)
        site.host.log.flush()
        #expect(site.value("d/Setpoint") == 4210)
        let text = "Setpoint: asked 4205, wrote 4210 (rounded to the step of 10 counted from -5000; a tie rounds away from -5000)"
        // Said once at info, however often the controller repeats the value.
        #expect(log.matching(text, level: .info).count == 1, "\(log.lines.map(\.message))")
        #expect(log.matching(text, level: .debug).count >= 2)
        #expect(log.matching(text).allSatisfy { $0.source == "device d" })
    }

    @Test func takenRefusedAndFailedWritesAreCountedApartAndAnOldRefusalIsNotCurrent() throws {
        let server = try PymodbusServer(units: [1: DriverFixture.unit])
        let config = { (gain: Double) in
            DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: server.port)],
                                 controllers: [DriverFixture.probe("p", output: "d/Setpoint", gain: gain)])
        }
        let site = try SiteHarness(config: config(9999), extraProfiles: [try DriverFixture.folder()])
        site.run(cycles: 3)
        // Inline, a cycle's setpoint is delivered at the start of the next: 2 deliveries.
        var status = try #require(site.host.status().devices.first)
        #expect(status.writes == 0, "a refused delivery counted as a write")
        #expect(status.writesRefused == 2)
        #expect(status.writeFailures == 0)
        #expect(status.lastWriteError?.contains("above the maximum 5000") == true)

        try site.apply(config(1230))
        site.run(cycles: 3)
        status = try #require(site.host.status().devices.first)
        // The last refused value was still queued when the change came: 3 refused, then 2 taken.
        #expect(status.writesRefused == 3)
        #expect(status.writes == 2)
        #expect(status.lastWriteError == nil, "an old refusal still reads as the current error")
        #expect(status.lastWriteFailure?.message.contains("above the maximum 5000") == true)
        #expect((status.lastWriteFailure?.wallClockNs ?? 0) > 0)
    }

    @Test func aHandWriteGoesThroughTheWriteRules() throws {
        let server = try PymodbusServer(units: [1: DriverFixture.unit])
        let log = LogCapture()
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: server.port)]),
                                   extraProfiles: [try DriverFixture.folder()], logger: log.logger(level: .info))
        site.run(cycles: 2)

        let rounded = site.host.submitWrite("d/Setpoint", value: 4205, force: false, requestedBy: "test")
        site.run(cycles: 3)
        guard case .written(let notes)? = rounded.outcome else { Issue.record("not written: \(String(describing: rounded.outcome))"); return }
        #expect(notes.contains { $0.contains("asked 4205, wrote 4210") }, "\(notes)")
        #expect(site.value("d/Setpoint") == 4210)  // read back from the device by the next poll
        #expect(server.requests.contains { $0.function == 6 && $0.address == 50 })

        let tooHigh = site.host.submitWrite("d/Setpoint", value: 9999, force: false, requestedBy: "test")
        site.run(cycles: 2)
        guard case .refused(let why)? = tooHigh.outcome else { Issue.record("not refused: \(String(describing: tooHigh.outcome))"); return }
        #expect(why.contains("above the maximum 5000"))
        #expect(site.value("d/Setpoint") == 4210)

        let readOnly = site.host.submitWrite("d/I16", value: 1, force: false, requestedBy: "test")
        guard case .refused(let ro)? = readOnly.outcome else { Issue.record("a read-only point was taken"); return }
        #expect(ro.contains("read-only"))

        // The audit: who, what, the value asked, what the driver wrote, the result.
        site.host.log.flush()
        let audit = log.matching("d/Setpoint = 4205 asked by test").first
        #expect(audit?.message.contains("written; driver: Setpoint: asked 4205, wrote 4210") == true, "\(log.lines.map(\.message))")
        #expect(log.matching("d/Setpoint = 9999 asked by test: refused").count == 1)
        #expect(log.matching("d/I16 = 1 asked by test: refused").count == 1)
    }
}
