import Foundation
import Testing
import SwitchyardHost
import SwitchyardModbusProfile
import SwitchyardModel
import SwitchyardTestSupport

/// The Modbus driver against devices that misbehave as field devices do
/// (Tests/Fixtures/modbus/hostile.py): what the edge reports, what it
/// publishes, how hard it knocks, and how fast it lets go.
@Suite(.serialized) struct HostileDeviceTests {
    static func device(_ id: String, port: Int, profile: String = "test_modbus_device", timeoutMs: Int = 200, faultAfter: Int? = nil) -> String {
        let fault = faultAfter.map { #", "fault_after_failures": \#($0)"# } ?? ""
        return #"{ "device_id": "\#(id)", "profile": "\#(profile)"\#(fault), "connection": { "protocol": "tcp", "host": "127.0.0.1", "port": \#(port), "unit_id": 1, "timeout_ms": \#(timeoutMs) } }"#
    }

    /// Channels of the test profile the fixture's registers serve as good values.
    static let served = ["d/I16", "d/U32Swapped", "d/I64", "d/Status", "d/Voltage"]

    @Test func aDeviceThatAcceptsAndNeverAnswersIsFaultedAndBacksOffLikeARefusedOne() throws {
        let hostile = try HostileModbus([.init("hang", unit: DriverFixture.unit)])
        let refusedPort = PymodbusServer.freePort()
        let log = LogCapture()
        let site = try SiteHarness(config: DriverFixture.config(devices: [Self.device("hung", port: hostile.ports[0]),
                                                                          Self.device("refused", port: refusedPort)]),
                                   extraProfiles: [try DriverFixture.folder()], logger: log.logger())
        site.run(cycles: 1)
        // TCP connected, nothing read: not running.
        #expect(site.device("hung")?.state == .connecting)
        #expect(site.quality("hung/I16") != .good)
        site.run(cycles: 180)  // three simulated minutes
        let hung = try #require(site.device("hung"))
        let refused = try #require(site.device("refused"))
        #expect(hung.state == .faulted)
        #expect(hung.lastError?.contains("timed out") == true)
        #expect(hung.polls == hung.pollFailures)
        #expect(site.quality("hung/I16") == .fault)
        // Backoff doubles from 0.5 s to 60 s: about 10 attempts in 3 minutes,
        // not one a second (180) as when a connect reset the backoff.
        let connects = hostile.connects(port: hostile.ports[0])
        #expect(connects >= 5 && connects <= 14, "\(connects) connects in 3 simulated minutes")
        #expect(hung.connects == connects)
        // The same rhythm as a device that refuses the connection.
        #expect(abs(hung.consecutiveFailures - refused.consecutiveFailures) <= 2,
                "hung \(hung.consecutiveFailures) attempts, refused \(refused.consecutiveFailures)")
        #expect(refused.state == .faulted)
        #expect((hung.backoffMs ?? 0) >= 15_000)
        #expect(site.logged(log).contains { $0.contains("faulted after 3 failed attempts in a row") })
    }

    @Test func aDeviceThatRecoversIsRunningWithoutItsOldErrorAndSaysSo() throws {
        // Exception 4 (server failure) on its first 6 requests, then good answers.
        let hostile = try HostileModbus([.init("boot:4:6", unit: DriverFixture.unit)])
        let log = LogCapture()
        let site = try SiteHarness(config: DriverFixture.config(devices: [Self.device("d", port: hostile.ports[0])]),
                                   extraProfiles: [try DriverFixture.folder()], logger: log.logger())
        site.run(cycles: 4)
        #expect(site.device("d")?.state != .running)
        #expect(site.device("d")?.lastError?.contains("exception 4") == true)
        site.run(cycles: 60)
        let d = try #require(site.device("d"))
        #expect(d.state == .running)
        #expect(d.lastError == nil)
        #expect(d.lastFailure?.message.contains("exception 4") == true)
        #expect((d.lastFailure?.wallClockNs ?? 0) > 0)
        #expect(d.consecutiveFailures == 0)
        #expect(d.backoffMs == nil)
        #expect(site.value("d/I16") == 123.4)
        #expect(site.logged(log).contains { $0.contains("recovered: polling again after") })
    }

    @Test func exceptionsAndBrokenFramesOnEveryReadBackOff() throws {
        let modes = ["exception:4", "exception:6", "exception:11", "garbage", "truncated", "close", "close_mid", "bad_count"]
        let hostile = try HostileModbus(modes.map { HostileModbus.Device($0, unit: DriverFixture.unit) })
        let good = try HostileModbus([.init("ok", unit: DriverFixture.unit)])
        let devices = modes.indices.map { Self.device("m\($0)", port: hostile.ports[$0]) } + [Self.device("d", port: good.ports[0])]
        let site = try SiteHarness(config: DriverFixture.config(devices: devices), extraProfiles: [try DriverFixture.folder()])
        site.run(cycles: 120)
        for (i, mode) in modes.enumerated() {
            let status = try #require(site.device("m\(i)"))
            #expect(status.state == .faulted, "\(mode)")
            #expect(site.quality("m\(i)/I16") != .good, "\(mode)")
            // Once the device is known to fail, its backoff keeps knocks rare.
            let connects = hostile.connects(port: hostile.ports[i])
            #expect(connects <= 14, "\(mode): \(connects) connects in 2 simulated minutes")
            #expect(status.consecutiveFailures <= 14, "\(mode): \(status.consecutiveFailures) attempts")
        }
        // Busy (6) is asked again within the poll, a few times, before the poll fails.
        let busy = hostile.requests(port: hostile.ports[1])
        #expect(busy >= 2 * site.device("m1")!.pollFailures, "\(busy) requests for \(site.device("m1")!.pollFailures) failed polls")
        // Exceptions 4, 6 and 11 leave the connection open: one connect for all attempts.
        #expect(hostile.connects(port: hostile.ports[0]) == 1)
        // A healthy neighbour was never disturbed.
        #expect(site.device("d")?.state == .running)
        #expect(site.value("d/I16") == 123.4)
    }

    @Test func answersFromAnotherUnitTransactionOrProtocolAreNeverTakenAsGood() throws {
        let modes = ["wrong_unit", "wrong_protocol", "wrong_tid", "overlong", "trailing"]
        let words = ["unit", "protocol", "transaction", "its byte count says", "longer"]
        let hostile = try HostileModbus(modes.map { HostileModbus.Device($0, unit: DriverFixture.unit) } + [.init("ok", unit: DriverFixture.unit)])
        let devices = modes.indices.map { Self.device("m\($0)", port: hostile.ports[$0]) } + [Self.device("d", port: hostile.ports[modes.count])]
        let site = try SiteHarness(config: DriverFixture.config(devices: devices), extraProfiles: [try DriverFixture.folder()])
        site.run(cycles: 20)
        for (i, mode) in modes.enumerated() {
            for channel in Self.served {
                let address = channel.replacingOccurrences(of: "d/", with: "m\(i)/")
                #expect(site.quality(address) != .good, "\(mode): \(address) was taken as good")
            }
            let status = try #require(site.device("m\(i)"))
            #expect(status.state == .faulted, "\(mode)")
            #expect(status.lastError?.contains(words[i]) == true, "\(mode): \(status.lastError ?? "no error")")
        }
        // The same registers, framed correctly, read as good.
        for channel in Self.served { #expect(site.quality(channel) == .good, "\(channel)") }
    }

    @Test func aPointRefusedWhileTheDeviceBootsIsReadAgain() throws {
        // Exception 2 on the first 40 requests (a device still booting), then its registers.
        let hostile = try HostileModbus([.init("boot:2:40", unit: DriverFixture.unit)])
        let log = LogCapture()
        let site = try SiteHarness(config: DriverFixture.config(devices: [Self.device("d", port: hostile.ports[0])]),
                                   extraProfiles: [try DriverFixture.folder()], logger: log.logger())
        site.run(cycles: 3)
        #expect(site.quality("d/I16") != .good)
        #expect(site.device("d")?.diagnostics["disabled_points"]?.contains("not read: ") == true)
        // Refusals are no poll failures: the device answers, it runs.
        #expect(site.device("d")?.state == .running)
        site.run(cycles: 120)
        #expect(site.value("d/I16") == 123.4)
        #expect(site.value("d/Voltage") == 230.1)
        // What the device still refuses (it has no register 31 or 40) stays
        // reported; what it serves now is no longer.
        let report = site.device("d")?.diagnostics["disabled_points"] ?? ""
        #expect(!report.contains("I16"), "\(report)")
        #expect(report.contains("Absent"), "\(report)")
        #expect(site.logged(log).contains { $0.contains("point I16 is read again") })
    }

    @Test func aPointRefusedOnEveryTryIsReportedAsAProfileThatDoesNotFit() throws {
        let server = try PymodbusServer(units: [1: DriverFixture.unit])
        let log = LogCapture()
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: server.port)]),
                                   extraProfiles: [try DriverFixture.folder()], logger: log.logger())
        site.run(cycles: 600)  // ten simulated minutes
        let report = site.device("d")?.diagnostics["disabled_points"] ?? ""
        #expect(report.contains("Absent (holding_register 40…40: exception 2 (Illegal data address)"), "\(report)")
        #expect(report.contains("permanent: the profile does not fit this device"), "\(report)")
        #expect(site.logged(log).filter { $0.contains("point Absent was refused on all 5 tries") }.count == 1)
        // Tried again on a timer with backoff: a handful of times, not every poll.
        let tries = server.requests.filter { $0.function == 3 && $0.address <= 40 && 40 < $0.address + $0.count }.count
        #expect(tries >= 5 && tries <= 12, "\(tries) reads of register 40 in 10 minutes")
        #expect(site.device("d")?.state == .running)
        #expect(site.value("d/GapB") == 9)
    }

    @Test func aTricklingDeviceIsCutAtItsTimeoutAndStopDoesNotWaitForIt() throws {
        // One byte every 250 ms: under any byte timeout, forever over the request's.
        let hostile = try HostileModbus([.init("trickle:250", unit: DriverFixture.unit), .init("trickle:250", unit: DriverFixture.unit)])
        let good = try PymodbusServer(units: [1: DriverFixture.unit])
        let host = EdgeHost(plugins: PluginCatalog.load(directories: TestPaths.pluginDirectories),
                            profiles: ProfileCatalog.load(directories: [TestPaths.profileDirectory, try DriverFixture.folder()]))
        try host.apply(EdgeConfig(parsing: DriverFixture.config(devices: [Self.device("t1", port: hostile.ports[0], timeoutMs: 400),
                                                                          Self.device("t2", port: hostile.ports[1], timeoutMs: 400),
                                                                          DriverFixture.tcpDevice("d", port: good.port)], periodMs: 100),
                                  file: nil))
        try host.start()
        Thread.sleep(forTimeInterval: 2)
        let status = host.status().devices
        let started = ContinuousClock.now
        host.stop()
        let stopTook = ContinuousClock.now - started
        for id in ["t1", "t2"] {
            let t = try #require(status.first { $0.deviceId == id })
            #expect(t.state != .running)
            #expect(t.lastError?.contains("timed out: the answer was incomplete after 400 ms") == true, "\(t.lastError ?? "")")
        }
        #expect(status.first { $0.deviceId == "d" }?.state == .running)
        // Both workers are asked at once and each waits out at most its
        // current request: 400 ms, plus generous room for a loaded machine.
        #expect(stopTook < .milliseconds(2500), "stop took \(stopTook)")
    }

    @Test func shippedProfilesAgainstHostileDevices() throws {
        // Three register maps and one SunSpec device (which random registers do not pass as SunSpec).
        let profiles = ["eastron_sdm630", "sma_sunny_tripower", "victron_gx", "tesla_powerwall_2"]
        let modes = ["random", "sentinel", "exception:4", "wrong_unit", "hang"]
        var devices: [HostileModbus.Device] = []
        for _ in profiles {
            devices += [.init("ok", fill: "random"), .init("ok", fill: "sentinel"), .init("exception:4"), .init("wrong_unit"), .init("hang")]
        }
        let hostile = try HostileModbus(devices)
        var config: [String] = []
        for (p, profile) in profiles.enumerated() {
            for (m, _) in modes.enumerated() {
                config.append(Self.device("\(profile)_\(m)", port: hostile.ports[p * modes.count + m], profile: profile))
            }
        }
        let site = try SiteHarness(config: DriverFixture.config(devices: config), extraProfiles: [])
        site.run(cycles: 30)
        #expect(site.host.status().statistics.cycles == 30)
        for profile in profiles {
            for (m, mode) in modes.enumerated() {
                let status = try #require(site.device("\(profile)_\(m)"))
                let channels = site.host.channels.filter { $0.address.hasPrefix("\(profile)_\(m)/") }
                #expect(!channels.isEmpty)
                switch mode {
                case _ where ["random", "sentinel"].contains(mode) && profile == "tesla_powerwall_2":
                    // No SunSpec marker at any base: refused at connect, nothing published.
                    #expect(status.state == .faulted, "\(profile) \(mode)")
                    #expect(status.lastError?.contains("no SunSpec device") == true, "\(status.lastError ?? "")")
                    for c in channels { #expect(site.quality(c.address) != .good, "\(profile) \(mode): \(c.address)") }
                case "random", "sentinel":
                    // Whatever the registers hold, the device answers: it runs.
                    #expect(status.state == .running, "\(profile) \(mode): \(status.lastError ?? "")")
                    if mode == "sentinel" {
                        // 0xFFFF, 0x8000, 0x7FFF, 0xFFFE by turns: never a good SoC or power.
                        for c in channels where c.address.hasSuffix("/Soc") {
                            #expect(site.quality(c.address) != .good, "\(c.address) = \(site.host.reading(c.address)?.value.map { "\($0)" } ?? "-")")
                        }
                    }
                default:
                    #expect(status.state == .faulted, "\(profile) \(mode)")
                    for c in channels { #expect(site.quality(c.address) != .good, "\(profile) \(mode): \(c.address)") }
                }
            }
        }
    }
}

/// A SunSpec device that drops off and comes back: the same device keeps its
/// discovered chain (one read of marker and common model), another one (a
/// new serial number or firmware) is discovered again.
@Suite(.serialized) struct SunSpecReconnectTests {
    @Test func aReconnectKeepsTheChainOfTheSameDeviceAndWalksItForAnotherOne() throws {
        let catalog = ProfileCatalog.load(directories: [TestPaths.profileDirectory])
        let profile = try #require(catalog.profiles["sunspec_inverter"])
        let m = try ModbusProfile(json: profile.document, file: profile.file)
        let words: [Int: UInt16] = try #require(m.tests.first).registers[.holding_register] ?? [:]
        // The headers of the chain: the marker, then each model's id and length.
        var headers: Set<Int> = [40000]
        var start = 40002
        while let id = words[start], id != 0xFFFF, let length = words[start + 1] {
            headers.insert(start)
            start += 2 + Int(length)
        }
        headers.insert(start)
        #expect(headers.count >= 4)
        var server = try PymodbusServer(units: [1: .init(holding: words.mapValues { [$0] })])
        let port = server.port
        func chainWalks(_ s: PymodbusServer) -> Int { s.requests.filter { $0.function == 3 && $0.count == 2 && headers.contains($0.address) }.count }
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("inv", port: port, profile: "sunspec_inverter")]))
        site.run(cycles: 2)
        #expect(site.host.reading("inv/inverter.W")?.quality == .good)
        #expect(chainWalks(server) >= 1)

        // The same device back after an outage: no walk of the chain.
        server.stop()
        site.run(cycles: 3)
        #expect(site.host.reading("inv/inverter.W")?.quality == .fault)
        server = try PymodbusServer(units: [1: .init(holding: words.mapValues { [$0] })], port: port)
        site.run(cycles: 70)
        #expect(site.host.reading("inv/inverter.W")?.quality == .good)
        #expect(chainWalks(server) == 0, "\(server.requests.prefix(20))")
        #expect(server.requests.contains { $0.address == 40000 && $0.count > 2 })

        // Another device at the same address (its common model differs, as a
        // new serial number would): the chain is walked again.
        server.stop()
        site.run(cycles: 3)
        var other = words
        other[40004] = (other[40004] ?? 0) ^ 0x0101
        server = try PymodbusServer(units: [1: .init(holding: other.mapValues { [$0] })], port: port)
        site.run(cycles: 70)
        #expect(site.host.reading("inv/inverter.W")?.quality == .good)
        #expect(chainWalks(server) >= 1)
    }
}
