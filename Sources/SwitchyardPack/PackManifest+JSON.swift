import SwitchyardConfigDoc
import SwitchyardJSON

extension PackManifest {
    /// The manifest as JSON; `signature` included when present.
    public var jsonValue: JSONValue {
        var o = unsignedMembers
        if let signature {
            o["signature"] = .object(["algorithm": .string(Signature.algorithm), "key_id": .string(signature.keyId),
                                      "value": .string(Base64Text.encode(signature.value))])
        }
        return .object(o)
    }

    /// Every member but `signature`: what the signature covers.
    var unsignedMembers: [String: JSONValue] {
        var o: [String: JSONValue] = [
            "format": .number(Double(Self.format)), "id": .string(id), "version": .string(version.description),
            "vendor": .string(vendor), "description": .string(description), "license": .string(license),
            "host": .object(["min_version": .string(minHostVersion.description)]),
            "profiles": .array(profiles.map { p in
                var m: [String: JSONValue] = ["path": .string(p.path)]
                if let id = p.id { m["id"] = .string(id) }
                return .object(m)
            }),
            "plugins": .array(plugins.map { p in
                var m: [String: JSONValue] = ["path": .string(p.path), "platform": .string(p.platform.rawValue)]
                if let i = p.identity {
                    m["plugin_id"] = .string(i.pluginId)
                    m["plugin_version"] = .string(i.pluginVersion)
                    m["kind"] = .string(i.kind)
                    m["abi"] = .object(["major": .number(Double(i.abiMajor)), "minor": .number(Double(i.abiMinor))])
                }
                return .object(m)
            }),
            "dependencies": .array(dependencies.map { .object(["id": .string($0.id), "versions": .string($0.versions.text)]) }),
        ]
        if let files {
            o["files"] = .array(files.map {
                .object(["path": .string($0.path), "sha256": .string($0.sha256.hex), "size": .number(Double($0.size))])
            })
        }
        return o
    }

    /// The manifest file's text: pretty, keys sorted, final newline.
    public var fileText: String { jsonValue.prettyText + "\n" }

    /// Reads a manifest and checks every field's form (not the files, not the
    /// signature: `PackReader` does that). `file` names the source in errors.
    public init(parsing bytes: [UInt8], file: String) throws(PackError) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw PackError(.malformedManifest, file: file, "not JSON: \(error)")
        }
        try self.init(json: value, file: file)
    }

    public init(json: JSONValue, file: String) throws(PackError) {
        let r = FieldReader(file: file)
        let o = try r.object(json, "")
        try r.onlyKnown(o, ["format", "id", "version", "vendor", "description", "license", "host", "profiles", "plugins",
                            "dependencies", "files", "signature"], at: "")
        let format = try r.integer(o, "format", at: "")
        guard format == Self.format else {
            throw PackError(.malformedManifest, file: file, field: "format", "is \(format); this Switchyard reads format \(Self.format)")
        }
        let id = try r.string(o, "id", at: "")
        guard Self.isReverseDNS(id) else {
            throw PackError(.malformedManifest, file: file, field: "id",
                            "\"\(id.echoed())\" is not a reverse-DNS name such as com.example.inverters (lowercase labels, at least two)")
        }
        let version = try r.version(o, "version", at: "")
        let vendor = try r.nonEmpty(o, "vendor", at: "")
        let description = try r.nonEmpty(o, "description", at: "")
        let license = try r.nonEmpty(o, "license", at: "")
        let host = try r.object(try r.member(o, "host", at: ""), "host")
        try r.onlyKnown(host, ["min_version"], at: "host")
        let minHost = try r.version(host, "min_version", at: "host")

        var profiles: [Profile] = []
        for (i, item) in try r.array(o, "profiles", at: "").enumerated() {
            let at = "profiles[\(i)]"
            let p = try r.object(item, at)
            try r.onlyKnown(p, ["path", "id"], at: at)
            profiles.append(Profile(path: try r.path(p, "path", at: at), id: try r.optionalString(p, "id", at: at)))
        }
        var plugins: [Plugin] = []
        for (i, item) in try r.array(o, "plugins", at: "").enumerated() {
            let at = "plugins[\(i)]"
            let p = try r.object(item, at)
            try r.onlyKnown(p, ["path", "platform", "plugin_id", "plugin_version", "kind", "abi"], at: at)
            let platformText = try r.string(p, "platform", at: at)
            guard let platform = PackPlatform(rawValue: platformText) else {
                throw PackError(.malformedManifest, file: file, field: "\(at).platform",
                                "\"\(platformText.echoed())\" is not a platform; one of \(PackPlatform.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var identity: Identity?
            if p["plugin_id"] != nil || p["plugin_version"] != nil || p["kind"] != nil || p["abi"] != nil {
                let abi = try r.object(try r.member(p, "abi", at: at), "\(at).abi")
                try r.onlyKnown(abi, ["major", "minor"], at: "\(at).abi")
                let kind = try r.string(p, "kind", at: at)
                guard kind == "driver" || kind == "controller" else {
                    throw PackError(.malformedManifest, file: file, field: "\(at).kind", "is \"\(kind.echoed())\"; driver or controller")
                }
                identity = Identity(pluginId: try r.nonEmpty(p, "plugin_id", at: at), pluginVersion: try r.nonEmpty(p, "plugin_version", at: at),
                                    kind: kind, abiMajor: try r.integer(abi, "major", at: "\(at).abi"), abiMinor: try r.integer(abi, "minor", at: "\(at).abi"))
            }
            plugins.append(Plugin(path: try r.path(p, "path", at: at), platform: platform, identity: identity))
        }
        var dependencies: [Dependency] = []
        for (i, item) in try r.array(o, "dependencies", at: "").enumerated() {
            let at = "dependencies[\(i)]"
            let d = try r.object(item, at)
            try r.onlyKnown(d, ["id", "versions"], at: at)
            let depId = try r.string(d, "id", at: at)
            guard Self.isReverseDNS(depId) else {
                throw PackError(.malformedManifest, file: file, field: "\(at).id", "\"\(depId.echoed())\" is not a reverse-DNS pack id")
            }
            let text = try r.string(d, "versions", at: at)
            switch VersionRange.parse(text) {
            case .success(let range): dependencies.append(Dependency(id: depId, versions: range))
            case .failure(let e): throw PackError(.malformedManifest, file: file, field: "\(at).versions", e.reason)
            }
        }
        var files: [File]?
        if o["files"] != nil {
            var list: [File] = []
            for (i, item) in try r.array(o, "files", at: "").enumerated() {
                let at = "files[\(i)]"
                let f = try r.object(item, at)
                try r.onlyKnown(f, ["path", "sha256", "size"], at: at)
                let hex = try r.string(f, "sha256", at: at)
                guard hex.utf8.count == 64, hex.lowercased() == hex, let digest = ConfigDigest(hex: hex) else {
                    throw PackError(.malformedManifest, file: file, field: "\(at).sha256", "must be 64 lowercase hexadecimal digits")
                }
                let size = try r.integer(f, "size", at: at)
                guard size >= 0 else { throw PackError(.malformedManifest, file: file, field: "\(at).size", "is negative") }
                list.append(File(path: try r.path(f, "path", at: at), sha256: digest, size: size))
            }
            files = list
        }
        var signature: Signature?
        if let s = o["signature"], !s.isNull {
            let m = try r.object(s, "signature")
            try r.onlyKnown(m, ["algorithm", "key_id", "value"], at: "signature")
            let algorithm = try r.string(m, "algorithm", at: "signature")
            guard algorithm == Signature.algorithm else {
                throw PackError(.malformedManifest, file: file, field: "signature.algorithm", "is \"\(algorithm.echoed())\"; packs are signed with ed25519")
            }
            let text = try r.string(m, "value", at: "signature")
            guard let bytes = Base64Text.decode(text), bytes.count == 64 else {
                throw PackError(.malformedManifest, file: file, field: "signature.value", "must be a 64-byte Ed25519 signature in base64")
            }
            signature = Signature(keyId: try r.nonEmpty(m, "key_id", at: "signature"), value: bytes)
        }
        self.init(id: id, version: version, vendor: vendor, description: description, license: license, minHostVersion: minHost,
                  profiles: profiles, plugins: plugins, dependencies: dependencies, files: files, signature: signature)
        try checkConsistency(file: file)
    }

    /// Duplicate paths and ids, a pack that depends on itself, `pack.json` listed as a file.
    func checkConsistency(file: String) throws(PackError) {
        func duplicate(_ values: [String]) -> String? {
            var seen: Set<String> = []
            return values.first { !seen.insert($0).inserted }
        }
        if let d = duplicate(profiles.map(\.path)) { throw PackError(.malformedManifest, file: file, field: "profiles", "\(d) is listed twice") }
        if let d = duplicate(plugins.map(\.path)) { throw PackError(.malformedManifest, file: file, field: "plugins", "\(d) is listed twice") }
        if let d = duplicate(dependencies.map(\.id)) { throw PackError(.malformedManifest, file: file, field: "dependencies", "\(d) is listed twice") }
        if dependencies.contains(where: { $0.id == id }) {
            throw PackError(.malformedManifest, file: file, field: "dependencies", "the pack depends on itself (\(id))")
        }
        if let files {
            if let d = duplicate(files.map(\.path)) { throw PackError(.malformedManifest, file: file, field: "files", "\(d) is listed twice") }
            if files.contains(where: { $0.path == PackPath.manifest }) {
                throw PackError(.malformedManifest, file: file, field: "files", "lists \(PackPath.manifest), which is the manifest itself")
            }
        }
    }
}

/// Reads manifest fields, throwing errors that name the file and field.
struct FieldReader {
    let file: String

    func fail(_ field: String, _ message: String) -> PackError { PackError(.malformedManifest, file: file, field: field.isEmpty ? nil : field, message) }
    func join(_ at: String, _ key: String) -> String { at.isEmpty ? key : "\(at).\(key)" }

    func object(_ v: JSONValue, _ at: String) throws(PackError) -> [String: JSONValue] {
        guard case .object(let o) = v else { throw fail(at, "expected an object, got \(v.typeName)") }
        return o
    }

    func member(_ o: [String: JSONValue], _ key: String, at: String) throws(PackError) -> JSONValue {
        guard let v = o[key] else { throw fail(join(at, key), "is required") }
        return v
    }

    func onlyKnown(_ o: [String: JSONValue], _ keys: Set<String>, at: String) throws(PackError) {
        if let unknown = o.keys.sorted().first(where: { !keys.contains($0) }) {
            throw fail(join(at, unknown), "is not a field of format \(PackManifest.format); known: \(keys.sorted().joined(separator: ", "))")
        }
    }

    func string(_ o: [String: JSONValue], _ key: String, at: String) throws(PackError) -> String {
        let v = try member(o, key, at: at)
        guard case .string(let s) = v else { throw fail(join(at, key), "expected a string, got \(v.typeName)") }
        return s
    }

    func optionalString(_ o: [String: JSONValue], _ key: String, at: String) throws(PackError) -> String? {
        o[key] == nil ? nil : try string(o, key, at: at)
    }

    func nonEmpty(_ o: [String: JSONValue], _ key: String, at: String) throws(PackError) -> String {
        let s = try string(o, key, at: at)
        guard !s.isEmpty else { throw fail(join(at, key), "is empty") }
        return s
    }

    func integer(_ o: [String: JSONValue], _ key: String, at: String) throws(PackError) -> Int {
        let v = try member(o, key, at: at)
        guard case .number(let n) = v, n.rounded() == n, abs(n) <= 9_007_199_254_740_991 else {
            throw fail(join(at, key), "expected a whole number, got \(v.canonicalText.echoed())")
        }
        return Int(n)
    }

    func array(_ o: [String: JSONValue], _ key: String, at: String) throws(PackError) -> [JSONValue] {
        let v = try member(o, key, at: at)
        guard case .array(let a) = v else { throw fail(join(at, key), "expected an array, got \(v.typeName)") }
        return a
    }

    func version(_ o: [String: JSONValue], _ key: String, at: String) throws(PackError) -> SemanticVersion {
        let s = try string(o, key, at: at)
        guard let v = SemanticVersion(s) else { throw fail(join(at, key), "\"\(s.echoed())\" is not a semantic version such as 1.2.0") }
        return v
    }

    func path(_ o: [String: JSONValue], _ key: String, at: String) throws(PackError) -> String {
        let s = try string(o, key, at: at)
        if let problem = PackPath.problem(s) { throw PackError(.unsafePath, file: file, field: join(at, key), problem) }
        if s == PackPath.manifest { throw fail(join(at, key), "names \(PackPath.manifest), the manifest itself") }
        return s
    }
}
