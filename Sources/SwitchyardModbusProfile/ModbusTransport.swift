/// A profile's `transport` section: what the device needs on the wire.
public struct ModbusTransport: Sendable, Equatable {
    public var defaultUnitId = 1
    public var maxRegistersPerRead = 125
    public var readable: [RegisterTable: [ClosedRange<Int>]] = [:]
    public var delayAfterConnectMs = 0
    public var delayBetweenRequestsMs = 0
    public var delayOnUnitChangeMs = 0
    public var timeoutMs = 1000

    public init() {}

    public var planner: ReadPlanner {
        ReadPlanner(readable: readable, maxRegisters: maxRegistersPerRead)
    }
}
