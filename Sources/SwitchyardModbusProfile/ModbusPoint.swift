import SwitchyardJSON
import SwitchyardModel

/// One point of a Modbus profile's `points` array (or of a SunSpec model,
/// placed at its discovered address).
public struct ModbusPoint: Sendable, Equatable {
    public enum Access: String, Sendable, CaseIterable {
        case read, write, read_write

        public var isReadable: Bool { self != .write }
        public var isWritable: Bool { self != .read }
    }

    /// How setpoints are written to this point.
    public struct WriteRule: Sendable, Equatable {
        public enum Function: String, Sendable, CaseIterable {
            /// FC6 (one register) or FC5 (one coil).
            case single
            /// FC16 (several registers) or FC15 (several coils).
            case multiple
        }

        public var min: Double?
        public var max: Double?
        /// Values are rounded to a multiple of `step` (counted from `min`, or 0).
        public var step: Double?
        public var function: Function
        /// Read the point back after writing and report a mismatch.
        public var readBack = false
        /// Writes closer together are deferred (never dropped) until due.
        public var minIntervalMs = 0
        /// Skip a write of the value the device already has from us.
        public var onChangeOnly = false

        public init(function: Function) {
            self.function = function
        }
    }

    public var name: String
    public var description: String?
    public var table: RegisterTable
    /// 0-based protocol address.
    public var address: Int
    public var type: ValueType
    /// Registers read (strings: their `length`).
    public var count: Int
    public var bit: Int
    public var byteOrder: ByteOrder
    public var wordOrder: WordOrder
    public var scale: Scale
    public var offset: Double
    public var unit: String?
    /// Raw patterns meaning "not available" (SunSpec: 0x8000 for int16, …).
    public var notAvailable: [UInt64]
    /// Values outside it are implausible (quality fault).
    public var plausible: ClosedRange<Double>?
    public var access: Access
    /// The standard channel it implements (`ess.Soc`), if any.
    public var standard: String?
    /// The device counts the other way round from the standard channel.
    public var inverted: Bool
    /// Enum labels by raw value.
    public var values: [Int: String]
    /// Bitfield labels by bit number.
    public var bits: [Int: String]
    /// Not a channel (scale factors, raw identifiers).
    public var isInternal: Bool
    /// The poll group that reads it.
    public var group: String?
    public var write: WriteRule?
    public var path: JSONPath

    public var planned: PlannedPoint {
        var sf: String?
        if case .point(let name) = scale { sf = name }
        return PlannedPoint(name: name, table: table, address: address, count: count, scaleFactor: sf)
    }

    public var isBitTable: Bool { table.holdsBits }
}
