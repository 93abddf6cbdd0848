import SwitchyardModbusProfile

/// Serves a `ProfileSimulation` over Modbus TCP: reads of addresses the
/// profile does not cover, and writes to registers that are not setpoints,
/// get "illegal data address", like a real device; writes reach the
/// simulation. `switchyard sim modbus` runs one.
public final class SimulatedDeviceServer: ModbusServerHandler {
    public let simulation: ProfileSimulation
    private let monotonicSeconds: () -> Double

    public init(simulation: ProfileSimulation, monotonicSeconds: @escaping () -> Double) {
        self.simulation = simulation
        self.monotonicSeconds = monotonicSeconds
    }

    public func willAnswer(_ request: ModbusServer.Request, registers: ModbusServer.Registers) -> Bool {
        guard request.count > 0, request.address + request.count <= 65536 else { return false }
        // Larger requests than Modbus allows are refused by libmodbus itself.
        guard Self.withinLimit(request) else { return true }
        let table = Self.table(request.table)
        let range = request.address...(request.address + request.count - 1)
        guard simulation.isPresent(table, range) else { return false }
        // Like a device, refuse writes to registers that are not setpoints.
        if request.isWrite && !simulation.isWritable(table, range) { return false }
        if !request.isWrite {
            simulation.update(timeSeconds: monotonicSeconds())
            for a in range { registers.set(request.table, a, simulation.word(table, a)) }
        }
        return true
    }

    public func didWrite(_ request: ModbusServer.Request, registers: ModbusServer.Registers) {
        guard Self.withinLimit(request) else { return }  // libmodbus answered with an exception
        let words = (request.address..<(request.address + request.count)).map { registers.get(request.table, $0) }
        simulation.write(Self.table(request.table), address: request.address, words: words)
    }

    /// The request sizes Modbus allows (FC1/2: 2000 bits, FC3/4: 125
    /// registers, FC15: 1968 coils, FC16: 123 registers).
    static func withinLimit(_ r: ModbusServer.Request) -> Bool {
        let limit = r.isWrite ? (r.table == .coils ? 1968 : 123) : (r.table == .coils || r.table == .discreteInputs ? 2000 : 125)
        return r.count <= limit
    }

    static func table(_ t: ModbusServer.Table) -> RegisterTable {
        switch t {
        case .coils: .coil
        case .discreteInputs: .discrete_input
        case .holdingRegisters: .holding_register
        case .inputRegisters: .input_register
        }
    }
}
