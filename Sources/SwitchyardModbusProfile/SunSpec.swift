/// Finds a SunSpec device's model chain: the `SunS` marker at one of the
/// well-known bases, then (id, length) headers until the end marker.
/// Pure: the registers come from `read(address, count)`, so the driver, the
/// CLI's `profile discover` and the golden vectors share it.
public enum SunSpecDiscovery {
    public static let bases = [40000, 0, 50000]
    /// "SunS" as two registers.
    public static let marker: [UInt16] = [0x5375, 0x6E53]
    public static let endId: UInt16 = 0xFFFF
    /// A chain longer than this is taken as garbage, not a device.
    public static let maximumModels = 64

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }

    /// A model found on the device.
    public struct FoundModel: Sendable, Equatable {
        public var id: Int
        /// Address of the model's id register; its data starts at `start + 2`.
        public var start: Int
        public var length: Int

        public init(id: Int, start: Int, length: Int) {
            self.id = id
            self.start = start
            self.length = length
        }
    }

    public struct Chain: Sendable, Equatable {
        public var base: Int
        public var models: [FoundModel]

        public init(base: Int, models: [FoundModel]) {
            self.base = base
            self.models = models
        }
    }

    /// Scans the bases in order; the first with the marker wins. A read that
    /// throws at a base (illegal address, timeout) moves on to the next base.
    public static func scan(read: (Int, Int) throws -> [UInt16]) throws -> Chain {
        var tried: [String] = []
        for base in bases {
            guard let head = try? read(base, 2) else {
                tried.append("\(base): no answer")
                continue
            }
            guard head == marker else {
                tried.append("\(base): no SunS marker")
                continue
            }
            return Chain(base: base, models: try models(after: base, read: read))
        }
        throw Failure(message: "no SunSpec device (\(tried.joined(separator: "; ")))")
    }

    static func models(after base: Int, read: (Int, Int) throws -> [UInt16]) throws -> [FoundModel] {
        var out: [FoundModel] = []
        var address = base + 2
        while out.count < maximumModels {
            let header = try read(address, 2)
            guard header.count == 2 else { throw Failure(message: "short answer reading the model header at \(address)") }
            if header[0] == endId || header[0] == 0 { return out }
            let model = FoundModel(id: Int(header[0]), start: address, length: Int(header[1]))
            out.append(model)
            address += 2 + model.length
            guard address <= 65535 else { throw Failure(message: "the model chain runs past the last address") }
        }
        throw Failure(message: "more than \(maximumModels) models: not a SunSpec chain")
    }
}

/// Places a profile's SunSpec model points at the addresses where a device
/// has its models. The channel name of a model point is `group.name`.
public enum SunSpecLayout {
    public static func place(_ found: [SunSpecDiscovery.FoundModel], using models: [ModbusProfile.SunSpecModel]) -> [ModbusPoint] {
        let byId = Dictionary(models.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [ModbusPoint] = []
        var groupsPlaced: Set<String> = []
        for f in found {
            guard let model = byId[f.id] else { continue }
            // A device with two models of one kind (e.g. 101 and 103): the first wins.
            guard groupsPlaced.insert(model.group).inserted else { continue }
            for var p in model.points {
                // Points beyond what this device implements of the model are left out.
                guard p.address + p.count <= f.length else { continue }
                p.address += f.start + 2
                p.name = model.group + "." + p.name
                if case .point(let sf) = p.scale { p.scale = .point(model.group + "." + sf) }
                out.append(p)
            }
        }
        return out
    }

    /// The common model's identification strings (Mn, Md, Vr, SN) of a chain,
    /// read with `read`.
    public static func identity(_ chain: SunSpecDiscovery.Chain, read: (Int, Int) throws -> [UInt16]) throws -> (manufacturer: String, model: String, version: String, serial: String)? {
        guard let common = chain.models.first(where: { $0.id == 1 }), common.length >= 64 else { return nil }
        let words = try read(common.start + 2, 64)
        func text(_ offset: Int, _ length: Int) -> String {
            guard case .text(let s) = RegisterCodec.decode(words[offset..<(offset + length)], as: .string) else { return "" }
            return s
        }
        return (text(0, 16), text(16, 16), text(40, 8), text(48, 16))
    }
}
