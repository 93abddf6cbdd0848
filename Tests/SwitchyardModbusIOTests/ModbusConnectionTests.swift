import Foundation
import Testing
import SwitchyardModbusIO
import SwitchyardModbusProfile
import SwitchyardTestSupport

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
        #expect(error?.message.contains("read holding registers 99+2") == true)
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
