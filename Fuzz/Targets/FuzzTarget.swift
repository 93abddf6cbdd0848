import SwitchyardConfigDoc
import SwitchyardHTTPFraming
import SwitchyardJSON
import SwitchyardModbusProfile
import SwitchyardModel
import SwitchyardPack
import SwitchyardPluginKit
import SwitchyardTelemetry

/// The entry functions of the fuzz targets (docs/fuzzing.md), shared by the
/// libFuzzer executable `switchyard-fuzz` and the test that replays the
/// corpora and every crash found. Each takes any bytes; a trap, or a
/// property below that does not hold, is a finding. Refusing the input
/// (an error) is the expected outcome for most inputs.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `JSONValue(parsing:)`; what parses re-parses from its canonical text to the same value.
    case json
    /// `EdgeConfig` reading, then `ConfigValidator.resolve` against the repo's profiles.
    case config
    /// A device profile: `DeviceProfile.checked` (Modbus profiles: every lint
    /// check), then the full read plan, then decoding every point from registers made of the input.
    case profile
    /// `RegisterCodec.decode` of input registers in every type and order; `encode` of what decoded.
    case registers
    /// An RFC 6902 patch (the first JSON value of the input's lines) applied
    /// to a document (the rest), and a diff's patch reproducing the result.
    case patch
    /// `SignedEnvelope(decoding:)` and `EnvelopeVerifier.verify` of the input as a JSON envelope.
    case envelope
    /// The request framer in front of both HTTP servers: the input as bytes
    /// from a client, whole and split in two (at a point the first byte
    /// picks); both readings agree, and what passes on is the input's bytes.
    case http
    /// Plugin parameters as a plugin sees them: the input validated against
    /// a schema made with the kit (`Parameter.integer`, `.number`, …) by the
    /// validator the host uses, then, when it passes, read with the kit's
    /// getters (`Parameters.int`, …), which must not trap on what validation let through.
    case parameters
    /// A pack archive as an edge will download it: `PackReader` with the
    /// context's trusted key (small limits, so that inputs reach them); what
    /// it accepts has every listed file and no other.
    case pack
    /// A stored telemetry chunk: `SampleChunk.decode`; what decodes encodes
    /// and decodes again to the same samples, bit for bit.
    case chunk

    /// Runs the target on one input.
    public func run(_ bytes: [UInt8], _ context: FuzzContext) {
        switch self {
        case .json: Self.json(bytes)
        case .config: Self.config(bytes, context)
        case .profile: Self.profile(bytes)
        case .registers: Self.registers(bytes)
        case .patch: Self.patch(bytes)
        case .envelope: Self.envelope(bytes, context)
        case .http: Self.http(bytes)
        case .parameters: Self.parameters(bytes)
        case .pack: Self.pack(bytes, context)
        case .chunk: Self.chunk(bytes)
        }
    }

    static func json(_ bytes: [UInt8]) {
        guard let value = try? JSONValue(parsing: bytes) else { return }
        let text = value.canonicalText
        guard let again = try? JSONValue(parsing: Array(text.utf8)) else {
            fatalError("the canonical text of a parsed document does not parse: \(text.prefix(200))")
        }
        precondition(again.isJSONEqual(to: value), "canonical text does not re-parse to the same value: \(text.prefix(200))")
    }

    static func config(_ bytes: [UInt8], _ context: FuzzContext) {
        guard let value = try? JSONValue(parsing: bytes), let config = try? EdgeConfig(json: value) else { return }
        _ = config.executionPlan
        _ = try? context.validator.resolve(config)
        _ = EdgeConfig.layerIssues(value)
    }

    static func profile(_ bytes: [UInt8]) {
        guard let value = try? JSONValue(parsing: bytes), let profile = try? DeviceProfile.checked(value, file: "fuzz") else { return }
        _ = profile.channels.map { profile.channel(named: $0.name) }
        guard profile.driver == ModbusProfile.driverClass, let modbus = try? ModbusProfile(json: value, file: "fuzz") else { return }
        _ = try? modbus.fullPollPlan()
        // Registers from the input's own bytes, so that decoding sees varied words.
        let words = stride(from: 0, to: bytes.count - 1, by: 2).prefix(256).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        for point in modbus.points.prefix(64) {
            let count = max(0, min(point.count, 128))
            let slice = (0..<count).map { words.isEmpty ? 0 : words[$0 % words.count] }
            _ = PointCodec.decode(point, words: slice[...])
        }
    }

    static func registers(_ bytes: [UInt8]) {
        guard bytes.count >= 3 else { return }
        let types = ValueType.allCases, bytesOrders = ByteOrder.allCases, wordOrders = WordOrder.allCases
        let type = types[Int(bytes[0]) % types.count]
        let byteOrder = bytesOrders[Int(bytes[1]) % bytesOrders.count]
        let wordOrder = wordOrders[Int(bytes[1] >> 4) % wordOrders.count]
        let bit = Int(bytes[2]) % 16  // The profile reader admits 0...15.
        let words = stride(from: 3, to: bytes.count - 1, by: 2).prefix(64).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        let value = RegisterCodec.decode(words[...], as: type, byteOrder: byteOrder, wordOrder: wordOrder, bit: bit)
        _ = RegisterCodec.rawPattern(words[...], byteOrder: byteOrder, wordOrder: wordOrder)
        if case .number(let n) = value {
            _ = RegisterCodec.encode(n, as: type, byteOrder: byteOrder, wordOrder: wordOrder)
        }
        if words.count >= 2 {
            let n = Double(bitPattern: UInt64(words[0]) << 48 | UInt64(words[1]) << 16 | UInt64(bytes[2]))
            _ = RegisterCodec.encode(n, as: type, byteOrder: byteOrder, wordOrder: wordOrder)
        }
    }

    static func patch(_ bytes: [UInt8]) {
        // The patch, a newline, the document.
        let newline = bytes.firstIndex(of: 10) ?? bytes.count
        guard let patchValue = try? JSONValue(parsing: Array(bytes[..<newline])),
              let patch = try? JSONPatch(decoding: patchValue) else { return }
        let document = newline < bytes.count ? (try? JSONValue(parsing: Array(bytes[(newline + 1)...]))) ?? .object([:]) : .object([:])
        guard let patched = try? patch.apply(to: document) else { return }
        let diff = JSONDiff(granularity: .fineGrained).patch(from: document, to: patched)
        guard let replayed = try? diff.apply(to: document) else { fatalError("a diff's own patch does not apply to its source") }
        precondition(replayed.isJSONEqual(to: patched), "a diff's patch does not reproduce its target")
    }

    static func envelope(_ bytes: [UInt8], _ context: FuzzContext) {
        guard let value = try? JSONValue(parsing: bytes) else { return }
        let signed: SignedEnvelope
        do {
            signed = try SignedEnvelope(decoding: value)
        } catch {
            return
        }
        for current in [nil, 0, 1, Int.max] as [Int?] {
            _ = try? context.verifier.verify(signed, content: value, edgeId: signed.envelope.edgeId, currentVersion: current, now: 1_760_000_000)
        }
        if let text = String(validating: bytes, as: UTF8.self) { _ = try? SignedEnvelope(header: text) }
    }

    static func http(_ bytes: [UInt8]) {
        var limits = HTTPFramingLimits()
        limits.maxRequestLineBytes = 256  // Small limits, so that inputs reach them.
        limits.maxHeadBytes = 1024
        limits.maxHeaderFields = 8
        limits.maxBodyBytes = 4096
        var whole = HTTPRequestFraming(limits: limits)
        let wholeResult = Result { () throws(HTTPRequestFraming.Refusal) in try whole.consume(bytes) }
        let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        var parts = HTTPRequestFraming(limits: limits)
        let partsResult = Result { () throws(HTTPRequestFraming.Refusal) in
            try parts.consume(Array(bytes[..<split])) + parts.consume(Array(bytes[split...]))
        }
        switch (wholeResult, partsResult) {
        case (.success(let a), .success(let b)):
            precondition(a == b, "the framer passes on other bytes when the input is split at \(split)")
            precondition(a.count <= bytes.count, "the framer passes on more bytes than it was given")
            precondition(whole.phase == parts.phase && whole.headsCompleted == parts.headsCompleted, "split input ends in another state")
            if whole.phase == .upgradePending { _ = try? whole.upgradeAnswered(switched: bytes.count % 2 == 0) }
        case (.failure(let a), .failure(let b)):
            precondition(a.status == b.status, "a split input is refused with \(b.status), whole with \(a.status)")
        default:
            preconditionFailure("the framer accepts the input whole or split but not both (split at \(split))")
        }
    }

    static let parameterSchema = Parameter.objectSchema([
        .integer("seed", "a seed without bounds", default: 1),
        .integer("count", "a bounded count", min: 0, max: 100, default: 5),
        .number("gain", "a bounded number", min: -10, max: 10, default: 1),
        .string("mode", "a choice", oneOf: ["a", "b"], default: "a"),
        .boolean("on", "a switch", default: true),
    ])

    static func parameters(_ bytes: [UInt8]) {
        guard let value = try? JSONValue(parsing: bytes) else { return }
        let issues = IssueList()
        guard let schema = ParameterSchema(json: parameterSchema, at: .root, issues: issues) else {
            fatalError("the kit's schema does not read: \(issues.issues)")
        }
        let checked = schema.validate(value, at: .root, issues: issues)
        guard issues.isEmpty, case .object(let members) = checked else { return }
        let parameters = Parameters(members)
        _ = try? parameters.int("seed")
        _ = try? parameters.int("count")
        _ = try? parameters.double("gain")
        _ = try? parameters.string("mode")
        _ = try? parameters.bool("on")
    }

    static func pack(_ bytes: [UInt8], _ context: FuzzContext) {
        let limits = PackArchive.Limits(maximumEntries: 16, maximumFileBytes: 1 << 16, maximumTotalBytes: 1 << 17)
        guard let pack = try? PackReader.open(archiveBytes: bytes, file: "fuzz.pack.tar", trust: context.packTrust, limits: limits) else { return }
        precondition(Set(pack.files.keys) == Set((pack.manifest.files ?? []).map(\.path)), "an accepted pack's files are not the manifest's")
        for entry in pack.manifest.files ?? [] {
            precondition(pack.files[entry.path]?.count == entry.size, "\(entry.path) was accepted with another size")
        }
    }

    static func chunk(_ bytes: [UInt8]) {
        guard let samples = try? SampleChunk.decode(bytes) else { return }
        guard let again = try? SampleChunk.decode(SampleChunk.encode(samples)) else {
            fatalError("a decoded chunk's own encoding does not decode")
        }
        precondition(again.count == samples.count && zip(again, samples).allSatisfy { $0.isIdentical(to: $1) },
                     "a decoded chunk does not survive encoding again")
    }
}
