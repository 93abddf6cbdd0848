import Foundation
import Testing
import SwitchyardJSON
import SwitchyardModbusProfile
import SwitchyardModel

private func profile(_ text: String) throws -> ModbusProfile {
    try ModbusProfile(json: JSONValue(parsing: text), file: "p.json")
}

private let meter = """
{ "id": "m", "driver": "modbus", "poll_groups": { "fast": { "interval_ms": 1000 } },
  "points": [
    { "name": "W", "address": 10, "type": "int16", "scale": { "point": "W_SF" }, "channel": "meter.ActivePower", "sign": "inverted",
      "not_available": [32768], "range": [-50000, 50000], "group": "fast" },
    { "name": "W_SF", "address": 11, "type": "int16", "internal": true, "group": "fast" },
    { "name": "Limit", "address": 20, "type": "uint16", "access": "read_write", "group": "fast",
      "write": { "min": 0, "max": 100, "step": 5 } }
  ],
  "tests": [ { "name": "export 1234.5 W", "registers": { "holding_register": { "10": [12345, 65535] } },
               "expect": { "W": -1234.5 } } ] }
"""

@Suite struct ProfileTests {
    @Test func readsWithScaleFactorSignAndSentinel() throws {
        let m = try profile(meter)
        let w = try #require(m.point(named: "W"))
        let sf = PointReading(value: -1)
        #expect(PointCodec.decode(w, words: [12345], scaleFactor: sf) == PointReading(value: -1234.5))
        #expect(PointCodec.decode(w, words: [0x8000], scaleFactor: sf).quality == .notAvailable)
        #expect(PointCodec.decode(w, words: [100], scaleFactor: .notAvailable).quality == .notAvailable)
        #expect(PointCodec.decode(w, words: [30000], scaleFactor: PointReading(value: 1)).quality == .implausible)
        #expect(m.tests[0].run(on: m).isEmpty)
    }

    @Test func writesAreCheckedRoundedAndEncoded() throws {
        let m = try profile(meter)
        let limit = try #require(m.point(named: "Limit"))
        let prepared = try PointCodec.prepareWrite(limit, value: 42).get()
        #expect(prepared.deviceValue == 40 && prepared.registers == [40])
        guard case .failure(let refusal) = PointCodec.prepareWrite(limit, value: 120) else { Issue.record("not refused"); return }
        #expect(refusal.description == "Limit: 120 is above the maximum 100")
        guard case .failure(let readOnly) = PointCodec.prepareWrite(try #require(m.point(named: "W")), value: 1) else { Issue.record("not refused"); return }
        #expect(readOnly.reason == "is read-only")
    }

    @Test func aWrongGoldenVectorSaysWhereAndWhat() throws {
        let bad = meter.replacingOccurrences(of: "\"W\": -1234.5", with: "\"W\": 1234.5")
        let m = try profile(bad)
        let failures = m.tests[0].run(on: m)
        #expect(failures.map(\.description) == ["tests[0].expect.W: export 1234.5 W: W: expected 1234.5, got -1234.5"])
    }

    @Test func profileErrorsNameFileAndPath() throws {
        let broken = meter
            .replacingOccurrences(of: "\"group\": \"fast\" },\n    { \"name\": \"W_SF\"", with: "\"group\": \"fats\" },\n    { \"name\": \"W_SF\"")
            .replacingOccurrences(of: "\"step\": 5", with: "\"step\": 0")
        let error = #expect(throws: ValidationError.self) { try profile(broken) }
        let text = error?.description ?? ""
        #expect(text.contains("p.json: points[0].group: poll group \"fats\" is not declared in poll_groups (did you mean \"fast\"?)"))
        #expect(text.contains("p.json: points[2].write.step: must be > 0"))
    }

    @Test func extendsMergesPointsByNameAndDropsRemovedOnes() throws {
        let parent = try JSONValue(parsing: meter)
        let child = try JSONValue(parsing: """
            { "id": "m2", "extends": "m", "transport": { "default_unit_id": 3 },
              "points": [ { "name": "W", "address": 30 }, { "name": "Limit", "remove": true },
                          { "name": "Hz", "address": 40, "type": "uint16", "scale": 0.01, "group": "fast" } ] }
            """)
        let (resolved, errors) = ProfileInheritance.resolve(["m": .init(json: parent, file: "m.json"), "m2": .init(json: child, file: "m2.json")])
        #expect(errors.isEmpty)
        let m2 = try ModbusProfile(json: try #require(resolved["m2"]).json, file: "m2.json")
        #expect(m2.points.map(\.name) == ["W", "W_SF", "Hz"])
        #expect(m2.point(named: "W")?.address == 30)
        #expect(m2.point(named: "W")?.inverted == true)  // inherited
        #expect(m2.transport.defaultUnitId == 3)

        let loop = try JSONValue(parsing: #"{ "id": "a", "extends": "b" }"#)
        let loop2 = try JSONValue(parsing: #"{ "id": "b", "extends": "a" }"#)
        let (_, loopErrors) = ProfileInheritance.resolve(["a": .init(json: loop, file: "a.json"), "b": .init(json: loop2, file: "b.json")])
        #expect(loopErrors.map(\.description).contains("a.json: extends: extends itself through a → b → a"))
    }

    @Test func pointsBecomeChannelsReachableByShortStandardNames() throws {
        let p = try DeviceProfile(parsing: meter, file: "m.json")
        #expect(p.channels.map(\.name) == ["W", "Limit"])  // the scale factor is internal
        #expect(p.channel(named: "ActivePower")?.name == "W")
        #expect(p.channel(named: "meter.ActivePower")?.name == "W")
        #expect(p.pollGroups.first?.channels == ["W", "Limit"])
    }

    @Test func sunSpecDiscoveryWalksTheModelChain() throws {
        var map: [Int: UInt16] = [40000: 0x5375, 40001: 0x6E53, 40002: 1, 40003: 4, 40008: 103, 40009: 2, 40012: 0xFFFF, 40013: 0]
        for a in 40004...40007 { map[a] = 0 }
        map[40010] = 0; map[40011] = 0
        let chain = try SunSpecDiscovery.scan { address, count in
            try (address..<(address + count)).map { a in
                guard let w = map[a] else { throw SunSpecDiscovery.Failure(message: "illegal address \(a)") }
                return w
            }
        }
        #expect(chain.base == 40000)
        #expect(chain.models == [.init(id: 1, start: 40002, length: 4), .init(id: 103, start: 40008, length: 2)])
        map[40000] = 0
        #expect(throws: SunSpecDiscovery.Failure.self) { try SunSpecDiscovery.scan { a, c in try (a..<(a + c)).map { guard let w = map[$0] else { throw SunSpecDiscovery.Failure(message: "x") }; return w } } }
    }

    @Test func theSimulationDecodesAsGoodValuesAndFollowsWrites() throws {
        let m = try profile(meter)
        let sim = ProfileSimulation(profile: m)
        sim.update(timeSeconds: 10)
        let w = try #require(m.point(named: "W"))
        let sf = PointCodec.read(try #require(m.point(named: "W_SF"))) { sim.word($0, $1) }
        #expect(PointCodec.read(w, scaleFactor: sf) { sim.word($0, $1) }?.quality == .good)
        #expect(sim.isPresent(.holding_register, 10...11))
        #expect(!sim.isPresent(.holding_register, 10...12))
        sim.write(.holding_register, address: 20, words: [55])
        #expect(sim.writtenValue("Limit") == 55)
        sim.update(timeSeconds: 11)
        #expect(sim.word(.holding_register, 20) == 55)
    }

    @Test func aModbusProfileDoesNotDeclareChannels() throws {
        let withChannels = meter.replacingOccurrences(of: "\"driver\": \"modbus\",", with: "\"driver\": \"modbus\", \"channels\": [{\"name\": \"W\"}],")
        let error = #expect(throws: ValidationError.self) { try profile(withChannels) }
        #expect(error?.description.contains("p.json: channels: a modbus profile's channels are its points") == true)
    }

    @Test func hostileLayoutsAreRefusedNotTrapped() throws {
        let text = """
        { "id": "h", "driver": "modbus", "poll_groups": { "g": { "interval_ms": 1e300 } },
          "points": [
            { "name": "Wide", "address": 65535, "type": "uint64", "group": "g" },
            { "name": "A", "address": 0, "type": "string", "length": 10, "group": "g" },
            { "name": "B", "address": 2, "type": "uint16", "group": "g" },
            { "name": "C", "address": 5, "type": "uint16", "group": "g" },
            { "name": "Gone", "address": 20, "type": "uint16", "group": "g", "remove": true },
            { "name": "Slow", "address": 30, "type": "uint16", "access": "write", "write": { "min_interval_ms": 8e15 } }
          ] }
        """
        let error = #expect(throws: ValidationError.self) { try profile(text) }
        let issues = error?.description ?? ""
        #expect(issues.contains("points[0].address: the point's 4 registers would run past address 65535"))
        #expect(issues.contains("points[2].address: overlaps point \"A\""))
        #expect(issues.contains("points[3].address: overlaps point \"A\""))
        #expect(issues.contains("points[4].remove: names no point of the profile this one extends"))
        #expect(issues.contains("points[5].write.min_interval_ms: must be <= 86400000"))
    }
}
