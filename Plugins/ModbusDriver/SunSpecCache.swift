#if canImport(Glibc)
import Glibc
#endif
import SwitchyardJSON
import SwitchyardModbusProfile

/// A SunSpec device's model chain, kept in the device's data folder so a
/// restart does not scan again: at start the driver checks the marker and
/// every model header where the cache says they are (one short read each)
/// and rescans if anything moved. Keyed by endpoint, so a device moved to
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
        // A file that is not exactly what `store` writes is no cache (it may
        // have been edited or cut short): scan instead.
        func whole(_ v: JSONValue?, _ range: ClosedRange<Int>) -> Int? {
            guard let n = v?.numberValue, n.rounded(.towardZero) == n, n >= Double(range.lowerBound), n <= Double(range.upperBound) else { return nil }
            return Int(n)
        }
        guard let path, let text = Self.read(path), let json = try? JSONValue(parsing: text),
              json["endpoint"]?.stringValue == endpoint, let base = whole(json["base"], 0...65534),
              let items = json["models"]?.arrayValue, !items.isEmpty else { return nil }
        var models: [SunSpecDiscovery.FoundModel] = []
        for m in items {
            guard let a = m.arrayValue, a.count == 3, let id = whole(a[0], 1...65534), let start = whole(a[1], 0...65533),
                  let length = whole(a[2], 0...65535), start + 2 + length <= 65536 else { return nil }
            models.append(.init(id: id, start: start, length: length))
        }
        return .init(base: base, models: models)
    }

    func store(_ chain: SunSpecDiscovery.Chain) {
        guard let path else { return }
        let json: JSONValue = ["endpoint": .string(endpoint), "base": .number(Double(chain.base)),
                               "models": .array(chain.models.map { [.number(Double($0.id)), .number(Double($0.start)), .number(Double($0.length))] })]
        Self.write(json.prettyText + "\n", to: path)
    }

    /// True when the device still has the chain where the cache says: the
    /// marker, every model header and the end marker (a firmware update may
    /// add or move models after the common one).
    static func stillValid(_ chain: SunSpecDiscovery.Chain, read: (Int, Int) throws -> [UInt16]) -> Bool {
        guard (try? read(chain.base, 2)) == SunSpecDiscovery.marker else { return false }
        for m in chain.models {
            guard (try? read(m.start, 2)) == [UInt16(m.id), UInt16(m.length)] else { return false }
        }
        guard let last = chain.models.last, last.start + 2 + last.length <= 65534,
              let end = try? read(last.start + 2 + last.length, 2) else { return false }
        return end[0] == SunSpecDiscovery.endId || end[0] == 0
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
