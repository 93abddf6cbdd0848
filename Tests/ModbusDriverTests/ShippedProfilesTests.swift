import Foundation
import Testing
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModbusProfile
import SwitchyardModel
import SwitchyardTestSupport

/// The profiles in DeviceProfiles/, the spec's example config, and the
/// simulator, end to end.
@Suite(.serialized) struct ShippedProfilesTests {
    static let catalog = ProfileCatalog.load(directories: [TestPaths.profileDirectory])

    @Test func everyShippedProfileLoadsAndPassesItsGoldenVectors() throws {
        #expect(Self.catalog.errors.isEmpty, "\(Self.catalog.errors)")
        let modbus = Self.catalog.profiles.values.filter { $0.driver == ModbusProfile.driverClass }
        #expect(modbus.count >= 8)
        for profile in modbus {
            let m = try ModbusProfile(json: profile.document, file: profile.file)
            #expect(!m.tests.isEmpty, "\(profile.id) has no golden vectors")
            #expect(profile.source != nil, "\(profile.id) does not say where its register map comes from")
            for v in m.tests { #expect(v.run(on: m).isEmpty, "\(profile.id): \(v.run(on: m))") }
        }
    }

    /// The measured points (`ModbusPoint.isMeasured`) of a profile, flat and
    /// of every SunSpec model, by channel name.
    static func measured(_ m: ModbusProfile) -> [(name: String, point: ModbusPoint)] {
        m.points.filter(\.isMeasured).map { ($0.name, $0) }
            + m.sunspecModels.flatMap { model in model.points.filter(\.isMeasured).map { ("\(model.group).\($0.name)", $0) } }
    }

    /// Raw values at the edges of what a point's register can carry: a float
    /// of ±4.25e+37, an integer's extremes (and their neighbours, in case an
    /// extreme is the point's "not available" sentinel).
    static func garbage(for p: ModbusPoint) -> [[UInt16]] {
        let values: [Double] = switch p.type {
        case .float32, .float64: [4.25e37, -4.25e37]
        case .int16: [32767, 32766, -32768, -32767]
        case .uint16: [65535, 65534]
        case .int32: [2_147_483_647, 2_147_483_646, -2_147_483_648, -2_147_483_647]
        case .uint32: [4_294_967_295, 4_294_967_294]
        case .int64: [4.6e18, -4.6e18]
        case .uint64: [9.2e18]
        default: []
        }
        return values.compactMap { RegisterCodec.encode($0, as: p.type, byteOrder: p.byteOrder, wordOrder: p.wordOrder) }
    }

    /// Issue 28 item 6: `ActivePower = 4.25e+37` and a SunSpec `Hz` of 6.5e14
    /// with an allowed scale factor were published as good. Every measured
    /// point of every shipped Modbus profile has a range, and what its
    /// register can carry beyond that range (a huge float, the largest raw
    /// value, a scale factor of 10^10) decodes as implausible (quality
    /// fault), never good. A profile added without ranges fails here.
    @Test func garbageOnEveryMeasuredPointOfTheShippedProfilesIsAFault() throws {
        let modbus = Self.catalog.profiles.values.filter { $0.driver == ModbusProfile.driverClass }.sorted { $0.id < $1.id }
        #expect(modbus.count >= 8)
        for profile in modbus {
            let m = try ModbusProfile(json: profile.document, file: profile.file)
            let measured = Self.measured(m)
            #expect(!measured.isEmpty, "\(profile.id) has no measured points")
            #expect(m.unrangedMeasurements.isEmpty, "\(profile.id): \(m.unrangedMeasurements.map(\.name))")
            var powerFaults = 0, powerRegistersWithoutRoom = 0
            for (name, p) in measured {
                guard let range = p.plausible else {
                    Issue.record("\(profile.id): \(name) has no range")
                    continue
                }
                var scaleFactor: PointReading?
                if case .point = p.scale { scaleFactor = PointReading(value: 10) }
                // Integers without a scale-factor point that cannot leave the
                // range (Victron's 16-bit whole watts) carry no garbage beyond it.
                let cannotLeave = scaleFactor == nil && p.type != .float32 && p.type != .float64
                var faults = 0
                for words in Self.garbage(for: p) {
                    let reading = PointCodec.decode(p, words: words[...], scaleFactor: scaleFactor)
                    if reading.quality == .notAvailable { continue }  // the sentinel
                    if reading.quality == .implausible { faults += 1; continue }
                    #expect(cannotLeave && reading.value.map { range.contains(p.inverted ? -$0 : $0) } == true,
                            "\(profile.id): \(name) decodes \(words) as \(reading), not as a fault (range \(range))")
                }
                if p.unit == "W" {
                    if faults > 0 { powerFaults += 1 } else if cannotLeave { powerRegistersWithoutRoom += 1 }
                }
            }
            // Per profile: garbage on its power points is a fault, unless
            // no power register of it can carry a value beyond its range.
            #expect(powerFaults > 0 || powerRegistersWithoutRoom > 0, "\(profile.id): no power point turns garbage into a fault")
            if !["victron_gx"].contains(profile.id) { #expect(powerFaults > 0, "\(profile.id)") }
        }
    }

    /// The ranges fit the values the simulator serves (`switchyard sim
    /// modbus`): no shipped profile's simulated device reads as faulty.
    @Test func theSimulatorServesEveryShippedProfileWithinItsRanges() throws {
        for profile in Self.catalog.profiles.values where profile.driver == ModbusProfile.driverClass {
            let m = try ModbusProfile(json: profile.document, file: profile.file)
            let sim = ProfileSimulation(profile: m)
            sim.update(timeSeconds: 100)
            let byName = Dictionary(sim.points.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            var good = 0
            for p in sim.points where p.isMeasured {
                var sf: PointReading?
                if case .point(let name) = p.scale, let sfPoint = byName[name] { sf = PointCodec.read(sfPoint) { sim.word($0, $1) } }
                let reading = PointCodec.read(p, scaleFactor: sf) { sim.word($0, $1) }
                #expect(reading?.quality != .implausible, "\(profile.id): \(p.name) simulated as \(reading.map { "\($0)" } ?? "nothing")")
                if reading?.quality == .good { good += 1 }
            }
            #expect(good >= 3, "\(profile.id): \(good) good simulated values")
            // A generous range (±10 MW on a generic SunSpec inverter) does not
            // make the simulated watts coarse: the scale factor stays at 10^0.
            if profile.id == "sunspec_inverter", let sf = byName["inverter.W_SF"] {
                #expect(PointCodec.read(sf) { sim.word($0, $1) }?.value == 0)
            }
        }
    }

    /// `switchyard profile lint` names a measured point without a range
    /// (file, path, what to add) as a warning, exit status 0, and has
    /// nothing to say about the shipped profiles.
    @Test func profileLintWarnsAboutAMeasuredPointWithoutARange() throws {
        let switchyard = TestPaths.executable("switchyard")
        let files = Self.catalog.profiles.values.compactMap(\.file).sorted()
        #expect(files.count >= 13)
        let shipped = try CFixture.run(switchyard, ["profile", "lint", "--profiles", TestPaths.profileDirectory] + files)
        #expect(shipped.components(separatedBy: ": ok (").count - 1 == files.count, "\(shipped)")
        #expect(!shipped.contains("warning"), "\(shipped)")

        // The SDM630 under another id, with the range of its total power removed.
        let sdm630 = try String(contentsOfFile: TestPaths.profileDirectory + "/eastron/eastron_sdm630.json", encoding: .utf8)
        let ranged = #""unit": "W", "range": [-103500, 103500], "group""#
        #expect(sdm630.contains(ranged))
        let dir = TestPaths.temporaryDirectory()
        try sdm630.replacingOccurrences(of: #""id": "eastron_sdm630""#, with: #""id": "my_meter""#)
            .replacingOccurrences(of: ranged, with: #""unit": "W", "group""#)
            .write(toFile: dir + "/my_meter.json", atomically: true, encoding: .utf8)
        let warned = try CFixture.run(switchyard, ["profile", "lint", "--profiles", TestPaths.profileDirectory, dir + "/my_meter.json"])
        #expect(warned.contains("\(dir)/my_meter.json: ok (my_meter"), "\(warned)")
        #expect(warned.contains("\(dir)/my_meter.json: points[10]: warning: \"ActivePower\" (W) is measured but has no \"range\": add \"range\": [min, max]"), "\(warned)")
        #expect(warned.components(separatedBy: "warning").count - 1 == 1, "\(warned)")
    }

    @Test func theSpecExampleLoadsAsWritten() throws {
        let path = TestPaths.packageRoot + "/Tests/Fixtures/configs/spec-000-example.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        // Kept equal to the spec's example where the spec is at hand.
        if let spec = try? String(contentsOfFile: TestPaths.packageRoot + "/../shared/spec/000_e4bce86950730710.txt", encoding: .utf8) {
            #expect(spec.contains(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let plugins = PluginCatalog.load(directories: TestPaths.pluginDirectories)
        let config = try EdgeConfig(parsing: text, file: path)
        let resolved = try ConfigValidator(classes: plugins.classes, profiles: Self.catalog.profiles).resolve(config)
        #expect(resolved.devices.map(\.profile.id).sorted() == ["sma_sunny_tripower", "tesla_powerwall_2"])
        // The controllers were bound to the one battery; there is no meter.
        #expect(resolved.controllers.allSatisfy { $0.parameters["battery"] == .string("bms_main") })
        // Poll groups name channels by their short standard names; drivers see channel names.
        let bms = try #require(resolved.devices.first { $0.id == "bms_main" })
        #expect(bms.pollGroups.first { $0.name == "fast" }?.channels == ["battery.W", "battery.SoC"])
    }

    @Test func theModbusExampleSiteValidates() throws {
        let path = TestPaths.packageRoot + "/examples/modbus-site.json"
        let plugins = PluginCatalog.load(directories: TestPaths.pluginDirectories)
        let config = try EdgeConfig(parsing: try String(contentsOfFile: path, encoding: .utf8), file: path)
        let resolved = try ConfigValidator(classes: plugins.classes, profiles: Self.catalog.profiles).resolve(config)
        #expect(resolved.devices.count == 3)
    }

    @Test func aSunSpecDeviceServedByPymodbusIsDiscoveredAndRead() throws {
        let profile = try #require(Self.catalog.profiles["sunspec_inverter"])
        let m = try ModbusProfile(json: profile.document, file: profile.file)
        let vector = try #require(m.tests.first)
        var holding: [Int: [UInt16]] = [:]
        for (address, word) in vector.registers[.holding_register] ?? [:] { holding[address] = [word] }
        let server = try PymodbusServer(units: [1: .init(holding: holding)])
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("inv", port: server.port, profile: "sunspec_inverter")]))
        site.run(cycles: 3)
        var checked = 0
        for (name, expected, _) in vector.expect {
            guard case .number(let n) = expected, let c = profile.channel(named: name), c.standard != nil || !name.hasSuffix("_SF") else { continue }
            let got = site.host.reading("inv/" + name)
            if let v = got?.value, got?.quality == .good {
                #expect(abs(v - n) <= max(1e-6, abs(n) * 1e-6), "\(name)")
                checked += 1
            }
        }
        #expect(checked >= 3, "too few SunSpec values were read: \(checked)")
        #expect(site.host.reading("inv/inverter.W")?.quality == .good)
    }

    /// Issue 28 item 6, through the driver: a SunSpec inverter that serves
    /// Hz = 65000 with Hz_SF = 10 (an allowed scale factor: 6.5e14 Hz) gets
    /// inverter.Hz published as fault, while its good values stay good.
    @Test func aSunSpecHzOfSixPointFiveE14IsPublishedAsFault() throws {
        let profile = try #require(Self.catalog.profiles["sunspec_inverter"])
        let m = try ModbusProfile(json: profile.document, file: profile.file)
        var holding: [Int: UInt16] = try #require(m.tests.first).registers[.holding_register] ?? [:]
        // Walk the vector's chain (model 1, then 103) to where 103's data starts.
        var start = 40002
        while let id = holding[start], id != 103, id != 0xFFFF, let length = holding[start + 1] { start += 2 + Int(length) }
        #expect(holding[start] == 103)
        let model = try #require(m.sunspecModels.first { $0.id == 103 })
        let hz = try #require(model.points.first { $0.name == "Hz" }), hzSF = try #require(model.points.first { $0.name == "Hz_SF" })
        holding[start + 2 + hz.address] = 65000
        holding[start + 2 + hzSF.address] = 10
        let server = try PymodbusServer(units: [1: .init(holding: holding.mapValues { [$0] })])
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("inv", port: server.port, profile: "sunspec_inverter")]))
        site.run(cycles: 3)
        #expect(site.host.reading("inv/inverter.Hz")?.quality == .fault)
        #expect(site.host.reading("inv/inverter.W")?.quality == .good)
        #expect(site.host.reading("inv/inverter.W")?.value == 12340)
    }

    @Test func aDiscoveredSunSpecMapIsCachedAndReusedAfterARestart() throws {
        let profile = try #require(Self.catalog.profiles["sunspec_inverter"])
        let m = try ModbusProfile(json: profile.document, file: profile.file)
        // The device's chain starts at 50000: a scan tries 40000 and 0 first.
        var holding: [Int: [UInt16]] = [:]
        for (address, word) in try #require(m.tests.first).registers[.holding_register] ?? [:] { holding[address + 10000] = [word] }
        let server = try PymodbusServer(units: [1: .init(holding: holding)])
        let data = TestPaths.temporaryDirectory()
        let config = DriverFixture.config(devices: [DriverFixture.tcpDevice("inv", port: server.port, profile: "sunspec_inverter")])
        func probes() -> Int { server.requests.filter { $0.function == 3 && ($0.address == 40000 || $0.address == 0) }.count }

        let first = try SiteHarness(config: config, dataDirectory: data)
        first.run(cycles: 2)
        #expect(first.host.reading("inv/inverter.W")?.quality == .good)
        first.host.stop()
        #expect(probes() == 2)  // 40000 and 0 tried before 50000
        #expect(FileManager.default.fileExists(atPath: data + "/devices/inv/sunspec-chain.json"))

        // After a restart the cached chain is checked where it is (every
        // header), without probing the other bases.
        let second = try SiteHarness(config: config, dataDirectory: data)
        second.run(cycles: 2)
        #expect(second.host.reading("inv/inverter.W")?.quality == .good)
        #expect(probes() == 2)

        // A corrupt cache is no cache: scanned again, nothing traps.
        try #"{"endpoint": "x", "base": 1e300, "models": [[70000, -1, 1e300]]}"#.write(toFile: data + "/devices/inv/sunspec-chain.json", atomically: true, encoding: .utf8)
        let third = try SiteHarness(config: config, dataDirectory: data)
        third.run(cycles: 2)
        #expect(third.host.reading("inv/inverter.W")?.quality == .good)
    }

    @Test func theSimulatorServesAProfileAndTakesWrites() throws {
        let profiles = try DriverFixture.folder()
        let sim = try PeerProcess([TestPaths.executable("switchyard"), "sim", "modbus", "--profile", profiles + "/test_modbus_device.json",
                                   "--port", "0", "--profiles", TestPaths.profileDirectory], what: "switchyard sim modbus")
        let port = try #require(try Self.port(of: sim))
        let site = try SiteHarness(config: DriverFixture.config(devices: [DriverFixture.tcpDevice("d", port: port)],
                                                                controllers: [DriverFixture.probe("p", output: "d/Setpoint", gain: 420)]),
                                   extraProfiles: [profiles])
        site.run(cycles: 4)
        #expect(site.value("d/Setpoint") == 420)
        #expect(site.value("d/Voltage") != nil)
        #expect(site.quality("d/Percent") == .good)
        #expect(site.host.status().devices[0].lastWriteError == nil)
    }

    @Test func theSimulatorIsASunSpecDeviceForDiscovery() throws {
        let sim = try PeerProcess([TestPaths.executable("switchyard"), "sim", "modbus", "--profile", "sunspec_battery", "--port", "0",
                                   "--profiles", TestPaths.profileDirectory], what: "switchyard sim modbus")
        let port = try #require(try Self.port(of: sim))
        let out = try CFixture.run(TestPaths.executable("switchyard"), ["profile", "discover", "--host", "127.0.0.1", "--port", String(port),
                                                                      "--profiles", TestPaths.profileDirectory])
        #expect(out.contains("model 802"))
        #expect(out.contains("sunspec_battery"))
        #expect(out.contains("manufacturer Switchyard"))
    }

    /// The port from "serving … on 127.0.0.1:PORT (…".
    static func port(of sim: PeerProcess) throws -> Int? {
        guard let r = sim.banner.range(of: "127.0.0.1:") else { return nil }
        return Int(sim.banner[r.upperBound...].prefix { $0.isNumber })
    }
}
