import CSwitchyardPlugin
import SwitchyardModel

#if canImport(Glibc)
import Glibc
#endif

/// A plugin library that passed every check: its descriptor's ABI version,
/// sizes, identity, function tables and manifest.
public final class LoadedPlugin: @unchecked Sendable {
    // @unchecked: all stored properties are immutable; the descriptor is
    // owned by the plugin image, which is never unmapped (RTLD_NODELETE).
    /// The file the plugin was found as.
    public let path: String
    /// The file actually mapped: `path`, or a versioned copy of it when the
    /// file changed after a first load (see `PluginCatalog.reload`).
    public let loadedFrom: String
    /// Identity of the file when it was loaded, to notice a replaced file.
    public let fingerprint: FileFingerprint?
    public let id: String
    public let version: String
    public let kind: PluginKind
    public let abiMajor: UInt32
    public let abiMinor: UInt32
    public let manifest: PluginManifest
    let descriptor: UnsafePointer<sy_plugin_descriptor>

    /// The manifest as the plugin states it (what `switchyard catalog push` uploads).
    public var manifestJSON: String { descriptor.pointee.manifest_json.map { String(cString: $0) } ?? "{}" }

    init(path: String, id: String, version: String, kind: PluginKind, abiMajor: UInt32, abiMinor: UInt32,
         manifest: PluginManifest, descriptor: UnsafePointer<sy_plugin_descriptor>, loadedFrom: String? = nil,
         fingerprint: FileFingerprint? = nil) {
        self.path = path
        self.loadedFrom = loadedFrom ?? path
        self.fingerprint = fingerprint
        self.id = id
        self.version = version
        self.kind = kind
        self.abiMajor = abiMajor
        self.abiMinor = abiMinor
        self.manifest = manifest
        self.descriptor = descriptor
    }

    /// The size of the descriptor and of the function tables as each minor
    /// version of ABI 1 defined them, indexed by minor version. A plugin built
    /// against an older minor has the smaller structs of its version; the host
    /// reads no field beyond them. abi.c checks that the 1.0 sizes never change.
    /// 1.1 added `publish_text` and `report` to the host's table only; 1.2
    /// appended `validate` to the descriptor.
    static let descriptorSizeByMinor: [UInt32] = [80, 80, 88]
    static let driverTableSizeByMinor: [UInt32] = [40, 40, 40]
    static let controllerTableSizeByMinor: [UInt32] = [16, 16, 16]

    /// The plugin's own checks (ABI 1.2 `validate`), or nil: a plugin built
    /// against 1.0 or 1.1 has none (its descriptor ends before the field),
    /// and a 1.2 plugin may leave it NULL.
    var validateFunction: (@convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> sy_status)? {
        guard abiMinor >= 2, descriptor.pointee.struct_size >= Self.descriptorSizeByMinor[2] else { return nil }
        return descriptor.pointee.validate
    }

    /// Whether the plugin checks instance configs itself (`validate`, ABI 1.2).
    public var validates: Bool { validateFunction != nil }

    /// Loads and checks the plugin at `path`. Nothing in the plugin is called
    /// before its ABI version has been checked, except the entry function
    /// itself, which must only return its static descriptor.
    public static func load(_ path: String) throws(PluginLoadError) -> LoadedPlugin {
        try load(path, mapping: path)
    }

    /// Loads `mapping` (a copy of `path`), reporting errors against `path`.
    static func load(_ path: String, mapping: String, fingerprint: FileFingerprint? = nil) throws(PluginLoadError) -> LoadedPlugin {
        let plugin: LoadedPlugin
        do { plugin = try loadFile(mapping) } catch { throw error.told(as: path, insteadOf: mapping) }
        return LoadedPlugin(path: path, id: plugin.id, version: plugin.version, kind: plugin.kind, abiMajor: plugin.abiMajor,
                            abiMinor: plugin.abiMinor, manifest: plugin.manifest, descriptor: plugin.descriptor, loadedFrom: mapping,
                            fingerprint: fingerprint ?? FileFingerprint(path: path))
    }

    private static func loadFile(_ path: String) throws(PluginLoadError) -> LoadedPlugin {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw PluginLoadError(file: path, reason: .missingFile, detail: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw PluginLoadError(file: path, reason: .notSharedObject, expected: "a regular file", found: "a directory or special file")
        }
        try checkELF(path)
        // dlopen runs a library's constructors and maps all of it: a library
        // that is no plugin (a plugin's dependency, `libGRDB-dynamic.so` in a
        // build folder) is refused from its symbol table, unopened.
        if exportsEntry(path) == false {
            throw PluginLoadError(file: path, reason: .missingEntry, expected: "exported function \(SY_ENTRY_SYMBOL)",
                                  found: "no such symbol in the dynamic symbol table")
        }

        // Without a '/', dlopen searches the library path instead of opening the file.
        let openPath = path.contains("/") ? path : "./" + path
        guard let handle = dlopen(openPath, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let message = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            throw PluginLoadError(file: path, reason: .notSharedObject, detail: message)
        }
        // Never dlclose: RTLD_NODELETE keeps the image mapped in any case, and a
        // Swift image must not be unloaded.
        guard let symbol = dlsym(handle, SY_ENTRY_SYMBOL) else {
            throw PluginLoadError(file: path, reason: .missingEntry, expected: "exported function \(SY_ENTRY_SYMBOL)", found: "no such symbol")
        }
        let entry = unsafeBitCast(symbol, to: sy_plugin_entry_fn.self)
        guard let d = entry() else {
            throw PluginLoadError(file: path, reason: .badDescriptor, expected: "a descriptor", found: "NULL from \(SY_ENTRY_SYMBOL)")
        }
        return try check(d, path: path)
    }

    static func checkELF(_ path: String) throws(PluginLoadError) {
        guard let f = fopen(path, "rb") else {
            throw PluginLoadError(file: path, reason: .missingFile, detail: String(cString: strerror(errno)))
        }
        defer { fclose(f) }
        var header = [UInt8](repeating: 0, count: 18)
        let n = fread(&header, 1, header.count, f)
        guard n == header.count, header[0] == 0x7F, header[1] == UInt8(ascii: "E"), header[2] == UInt8(ascii: "L"), header[3] == UInt8(ascii: "F") else {
            throw PluginLoadError(file: path, reason: .notSharedObject, expected: "an ELF shared object", found: n < 4 ? "a file of \(n) bytes" : "no ELF header")
        }
        // e_type, little-endian on the platforms we build for: 3 = ET_DYN.
        let type = UInt16(header[16]) | UInt16(header[17]) << 8
        guard type == 3 else {
            let name = [1: "a relocatable object (.o)", 2: "an executable", 4: "a core dump"][Int(type)] ?? "ELF type \(type)"
            throw PluginLoadError(file: path, reason: .notSharedObject, expected: "an ELF shared object (ET_DYN)", found: name)
        }
    }

    /// Whether the ELF file at `path` defines the plugin entry in its dynamic
    /// symbol table (`PluginBinary`); nil when that cannot be told (not a
    /// 64-bit little-endian ELF shared object, or a table that does not
    /// read), and the loader's own checks decide.
    static func exportsEntry(_ path: String) -> Bool? {
        guard let binary = try? PluginBinary.read(path) else { return nil }
        return binary.exports.contains(SY_ENTRY_SYMBOL)
    }

    static func check(_ d: UnsafePointer<sy_plugin_descriptor>, path: String) throws(PluginLoadError) -> LoadedPlugin {
        // Only the first three fields are read before the version is known.
        let major = d.pointee.abi_major
        let minor = d.pointee.abi_minor
        let size = d.pointee.struct_size
        guard major == UInt32(SY_ABI_MAJOR) else {
            throw PluginLoadError(file: path, reason: .abiMajorMismatch, field: "abi_major", expected: "\(SY_ABI_MAJOR)", found: "\(major)",
                                  detail: "rebuild the plugin against this host's switchyard_plugin.h")
        }
        guard minor <= UInt32(SY_ABI_MINOR) else {
            throw PluginLoadError(file: path, reason: .abiMinorTooNew, field: "abi_minor", expected: "at most \(SY_ABI_MINOR)", found: "\(minor)",
                                  detail: "upgrade the host, or rebuild the plugin against ABI 1.\(SY_ABI_MINOR)")
        }
        let minimumSize = descriptorSizeByMinor[Int(minor)]
        guard size >= minimumSize else {
            throw PluginLoadError(file: path, reason: .badDescriptor, field: "struct_size", expected: "at least \(minimumSize) bytes for ABI 1.\(minor)", found: "\(size)")
        }
        let desc = d.pointee
        let kind: PluginKind
        switch desc.kind {
        case SY_KIND_DRIVER: kind = .driver
        case SY_KIND_CONTROLLER: kind = .controller
        default:
            throw PluginLoadError(file: path, reason: .badDescriptor, field: "kind", expected: "SY_KIND_DRIVER (1) or SY_KIND_CONTROLLER (2)", found: "\(desc.kind)")
        }
        guard let idPointer = desc.plugin_id, case let id = String(cString: idPointer), !id.isEmpty else {
            throw PluginLoadError(file: path, reason: .badDescriptor, field: "plugin_id", expected: "a non-empty string", found: "NULL or empty")
        }
        guard isValidPluginId(id) else {
            throw PluginLoadError(file: path, reason: .badDescriptor, field: "plugin_id", expected: "letters, digits, '.', '-' and '_'", found: "\"\(id)\"")
        }
        guard let versionPointer = desc.plugin_version, case let version = String(cString: versionPointer), isSemanticVersion(version) else {
            throw PluginLoadError(file: path, reason: .badDescriptor, field: "plugin_version", expected: "a semantic version like 1.2.0",
                                  found: desc.plugin_version.map { "\"\(String(cString: $0))\"" } ?? "NULL")
        }
        for (field, present) in [("create", desc.create != nil), ("configure", desc.configure != nil), ("destroy", desc.destroy != nil)] where !present {
            throw PluginLoadError(file: path, reason: .badDescriptor, field: field, expected: "a function", found: "NULL")
        }
        switch kind {
        case .driver:
            guard let t = desc.driver else {
                throw PluginLoadError(file: path, reason: .badDescriptor, field: "driver", expected: "a driver function table", found: "NULL")
            }
            guard t.pointee.struct_size >= driverTableSizeByMinor[Int(minor)] else {
                throw PluginLoadError(file: path, reason: .badDescriptor, field: "driver.struct_size", expected: "at least \(driverTableSizeByMinor[Int(minor)])", found: "\(t.pointee.struct_size)")
            }
            if t.pointee.start == nil || t.pointee.poll == nil || t.pointee.write == nil || t.pointee.stop == nil {
                throw PluginLoadError(file: path, reason: .badDescriptor, field: "driver", expected: "start, poll, write and stop", found: "a NULL function")
            }
        case .controller:
            guard let t = desc.controller else {
                throw PluginLoadError(file: path, reason: .badDescriptor, field: "controller", expected: "a controller function table", found: "NULL")
            }
            guard t.pointee.struct_size >= controllerTableSizeByMinor[Int(minor)], t.pointee.execute != nil else {
                throw PluginLoadError(file: path, reason: .badDescriptor, field: "controller", expected: "a table with execute", found: "size \(t.pointee.struct_size) or NULL execute")
            }
        }
        guard let manifestPointer = desc.manifest_json else {
            throw PluginLoadError(file: path, reason: .badManifest, field: "manifest_json", expected: "a JSON document", found: "NULL")
        }
        let manifest: PluginManifest
        do {
            manifest = try PluginManifest(parsing: String(cString: manifestPointer))
        } catch {
            throw PluginLoadError(file: path, reason: .badManifest, field: "manifest_json", detail: error.issues.map(\.description).joined(separator: "; "))
        }
        return LoadedPlugin(path: path, id: id, version: version, kind: kind, abiMajor: major, abiMinor: minor, manifest: manifest, descriptor: d)
    }

    static func isValidPluginId(_ id: String) -> Bool {
        id.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
    }

    /// Numeric comparison of semantic versions (pre-release tags sort first).
    static func versionPrecedes(_ a: String, _ b: String) -> Bool {
        func parts(_ v: String) -> ([Int], Bool) {
            let split = v.split(separator: "-", maxSplits: 1)
            return (split[0].split(separator: ".").map { Int($0) ?? 0 }, split.count > 1)
        }
        let (x, xPre) = parts(a)
        let (y, yPre) = parts(b)
        if x != y { return x.lexicographicallyPrecedes(y) }
        return xPre && !yPre
    }

    static func isSemanticVersion(_ v: String) -> Bool {
        let core = v.split(separator: "-", maxSplits: 1).first.map(String.init) ?? ""
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}

/// What identifies the contents of a file without reading it: a replaced or
/// rewritten plugin library gets a new fingerprint.
public struct FileFingerprint: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modifiedNs: Int64

    public init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        modifiedNs = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    }
}
