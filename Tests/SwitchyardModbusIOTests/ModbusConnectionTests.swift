import Foundation
import Testing
import SwitchyardModbusIO
import SwitchyardModbusProfile
import SwitchyardTestSupport

/// Tests/Fixtures/modbus/server.py (pymodbus) serving `spec` on a free port.
final class PymodbusServer {
    let process = Process()
    let port = Int.random(in: 20_000...40_000)

    init(holding: [Int: [UInt16]], input: [Int: [UInt16]] = [:]) throws {
        let dir = TestPaths.temporaryDirectory()
        func table(_ t: [Int: [UInt16]]) -> [String: [UInt16]] { Dictionary(uniqueKeysWithValues: t.map { (String($0.key), $0.value) }) }
        let spec: [String: Any] = ["port": port, "unit": 1, "holding": table(holding), "input": table(input)]
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: dir + "/spec.json"))
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-W", "ignore", TestPaths.packageRoot + "/Tests/Fixtures/modbus/server.py", dir + "/spec.json"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait for "ready".
        let line = out.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).contains("ready") else {
            throw CFixture.FixtureError(message: "the pymodbus server did not start (is pymodbus installed? make test installs it)")
        }
    }

    deinit {
        // SIGKILL: a signal mask inherited from the test runner cannot block it.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite(.serialized) struct ModbusConnectionTests {
    @Test func readsAndDecodesRegistersFromARealServer() throws {
        let server = try PymodbusServer(holding: [100: [0x42F6, 0xE979, 0xFFFF, 0xFFFE]], input: [0: [7]])
        let c = try ModbusConnection(host: "127.0.0.1", port: server.port, unitId: 1)
        try c.connect()
        let regs = try c.readRegisters(address: 100, count: 4)
        #expect(regs == [0x42F6, 0xE979, 0xFFFF, 0xFFFE])
        guard case .number(let f) = RegisterCodec.decode(regs[0..<2], as: .float32) else { Issue.record("not a number"); return }
        #expect(abs(f - 123.456) < 1e-4)
        #expect(RegisterCodec.decode(regs[2..<4], as: .int32) == .number(-2))
        #expect(try c.readRegisters(input: true, address: 0, count: 1) == [7])
    }

    @Test func anAddressTheDeviceDoesNotHaveIsReportedAsSuch() throws {
        let server = try PymodbusServer(holding: [100: [1, 2]])
        let c = try ModbusConnection(host: "127.0.0.1", port: server.port, unitId: 1)
        try c.connect()
        let error = #expect(throws: ModbusConnection.Failure.self) { try c.readRegisters(address: 99, count: 2) }
        #expect(error?.kind == .illegalDataAddress)
        #expect(error?.message.contains("read holding 99+2") == true)
        // The connection is still usable afterwards.
        #expect(try c.readRegisters(address: 100, count: 2) == [1, 2])
    }

    @Test func writesWithFC6AndFC16() throws {
        let server = try PymodbusServer(holding: [200: [0, 0, 0]])
        let c = try ModbusConnection(host: "127.0.0.1", port: server.port, unitId: 1)
        try c.connect()
        try c.writeRegisters(address: 200, values: [1234], single: true)
        try c.writeRegisters(address: 201, values: RegisterCodec.encode(-2, as: .int32)!, single: false)
        #expect(try c.readRegisters(address: 200, count: 3) == [1234, 0xFFFF, 0xFFFE])
    }

    @Test func noServerIsAnIOError() throws {
        let c = try ModbusConnection(host: "127.0.0.1", port: 1, unitId: 1, timeoutMs: 200)
        let error = #expect(throws: ModbusConnection.Failure.self) { try c.connect() }
        #expect(error?.kind == .io)
    }
}
