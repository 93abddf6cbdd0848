#if canImport(Glibc)
import Glibc
#endif
import SwitchyardJSON
import SwitchyardModbusProfile

/// A SunSpec device's model chain, kept in the device's data folder so a
/// restart does not scan again: at start the driver checks the marker and
/// the first model header where the cache says they are (two reads) and
/// rescans only if they moved. Keyed by endpoint, so a device moved to
/// another address is scanned afresh.
struct SunSpecCache {
    let path: String?
    let endpoint: String

    init(directory: String?, endpoint: String) {
        path = directory.map { $0 + "/sunspec-chain.json" }
        self.endpoint = endpoint
        if let directory { Self.makeDirectories(directory) }
    }

    func load() -> SunSpecDiscovery.Chain? {
        guard let path, let text = Self.read(path), let json = try? JSONValue(parsing: text),
              json["endpoint"]?.stringValue == endpoint, let base = json["base"]?.numberValue else { return nil }
        let models = (json["models"]?.arrayValue ?? []).compactMap { m -> SunSpecDiscovery.FoundModel? in
            guard let a = m.arrayValue, a.count == 3, let id = a[0].numberValue, let start = a[1].numberValue, let length = a[2].numberValue else { return nil }
            return .init(id: Int(id), start: Int(start), length: Int(length))
        }
        return models.isEmpty ? nil : .init(base: Int(base), models: models)
    }

    func store(_ chain: SunSpecDiscovery.Chain) {
        guard let path else { return }
        let json: JSONValue = ["endpoint": .string(endpoint), "base": .number(Double(chain.base)),
                               "models": .array(chain.models.map { [.number(Double($0.id)), .number(Double($0.start)), .number(Double($0.length))] })]
        Self.write(json.prettyText + "\n", to: path)
    }

    /// True when the device still has the chain where the cache says.
    static func stillValid(_ chain: SunSpecDiscovery.Chain, read: (Int, Int) throws -> [UInt16]) -> Bool {
        guard let first = chain.models.first,
              (try? read(chain.base, 2)) == SunSpecDiscovery.marker,
              let header = try? read(first.start, 2) else { return false }
        return header == [UInt16(first.id), UInt16(first.length)]
    }

    static func read(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            bytes += buffer[0..<n]
            if bytes.count > 1 << 20 { return nil }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Written to a temporary file and renamed: a crash leaves the old cache or the new one.
    static func write(_ text: String, to path: String) {
        let temporary = path + ".tmp"
        guard let f = fopen(temporary, "w") else { return }
        let bytes = Array(text.utf8)
        let ok = fwrite(bytes, 1, bytes.count, f) == bytes.count
        fclose(f)
        if ok { rename(temporary, path) } else { unlink(temporary) }
    }

    static func makeDirectories(_ path: String) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            mkdir(prefix, 0o755)
        }
    }
}
