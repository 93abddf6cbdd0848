import Crypto
import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardModbusProfile
import SwitchyardModel
import SwitchyardPack
import SwitchyardTelemetry
#if canImport(Glibc)
import Glibc
#endif

/// What the targets need besides their input, built once: a validator over
/// the repo's device profiles, and an envelope verifier that knows a key
/// (the seed corpus holds envelopes signed with it).
public struct FuzzContext: Sendable {
    public let validator: ConfigValidator
    public let verifier: EnvelopeVerifier
    /// Signs seed envelopes (fixed, so that the corpus stays valid).
    public let signer: EnvelopeSigner
    /// The vendor key the pack target trusts; the pack seeds are signed with
    /// it (`switchyard-fuzz pack-key` prints its private key file).
    public let packKey: VendorPrivateKey
    public let packTrust: PackTrust

    /// `profileDirectory`: the repo's `DeviceProfiles` (searched one folder deep).
    public init(profileDirectory: String) {
        var profiles: [String: DeviceProfile] = [:]
        for file in Self.jsonFiles(profileDirectory) {
            guard let text = Self.read(file), let json = try? JSONValue(parsing: Array(text.utf8)),
                  let profile = try? DeviceProfile.checked(json, file: file) else { continue }
            profiles[profile.id] = profile
        }
        validator = ConfigValidator(classes: [:], profiles: profiles)
        let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))
        signer = EnvelopeSigner(keyId: "fuzz", privateKey: key)
        verifier = EnvelopeVerifier(keys: ["fuzz": key.publicKey])
        packKey = VendorPrivateKey(vendor: "Fuzz", key: try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 9, count: 32)))
        packTrust = PackTrust([packKey.publicKey])
    }

    /// A signed envelope (JSON text) whose content digest is that of `{}`,
    /// for the envelope target's seed corpus.
    public func seedEnvelope(version: Int) -> String {
        let envelope = ConfigEnvelope(edgeId: "e1", version: version, baseVersion: version > 1 ? version - 1 : nil,
                                      contentSHA256: ConfigDigest(of: .object([:])), issuedAt: 1_760_000_000, expiresAt: 1_760_600_000,
                                      keyId: "fuzz")
        return (try? signer.sign(envelope).jsonValue.canonicalText) ?? ""
    }

    /// Writes the chunk target's seeds into `folder`: three chunks, one per
    /// value mode, with irregular times and a quality change.
    public func writeChunkSeeds(to folder: String) {
        let t: Int64 = 1_767_225_600_000
        var xor: [Sample] = [], scaled: [Sample] = [], quality: [Sample] = []
        for i in 0..<40 {
            let n = Int64(i)
            xor.append(Sample(timeMs: t + n * 1000 + n % 3, value: Double(i) * 0.37 + Double.pi))
            let decimal: Double = i == 20 ? Double.nan : Double(2300 + i % 5) * 0.1
            scaled.append(Sample(timeMs: t + n * 1000, value: decimal))
            quality.append(Sample(timeMs: t + n * 100, value: 1, quality: i > 30 ? 2 : 0))
        }
        let seeds = [("xor.bin", xor), ("scaled.bin", scaled), ("quality.bin", quality)]
        for (name, samples) in seeds {
            let bytes = SampleChunk.encode(samples)
            guard let f = fopen(folder + "/" + name, "wb") else { continue }
            _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
            fclose(f)
        }
    }

    static func jsonFiles(_ directory: String) -> [String] {
        var out: [String] = []
        for name in entries(directory) {
            let path = directory + "/" + name
            if name.hasSuffix(".json") { out.append(path) } else { out += entries(path).filter { $0.hasSuffix(".json") }.map { path + "/" + $0 } }
        }
        return out.sorted()
    }

    static func entries(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names
    }

    /// A whole file, or nil.
    public static func readBytes(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    static func read(_ path: String) -> String? { readBytes(path).map { String(decoding: $0, as: UTF8.self) } }

    /// The files of a corpus folder, sorted.
    public static func corpus(_ directory: String) -> [String] {
        entries(directory).filter { !$0.hasPrefix(".") }.sorted().map { directory + "/" + $0 }
    }
}
