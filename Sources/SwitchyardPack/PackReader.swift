import SwitchyardConfigDoc

/// A pack whose manifest is signed by a trusted key and whose every file
/// has the size and SHA-256 the manifest lists. Only `PackReader` makes one.
public struct VerifiedPack: Sendable {
    public let manifest: PackManifest
    /// The key that signed the manifest.
    public let signer: VendorPublicKey
    /// Every file but `pack.json`, by path.
    public let files: [String: [UInt8]]
}

/// Opens pack archives and folders without trusting them.
///
/// Order of checks: the archive's structure (`PackArchive.read`), the
/// manifest's form and completeness, the signature (before any other file
/// is looked at), then every file: listed, same size, same SHA-256, and
/// every listed file present.
public enum PackReader {
    /// Reads and verifies the archive at `path`.
    public static func open(archive path: String, trust: PackTrust, limits: PackArchive.Limits = .standard) throws(PackError) -> VerifiedPack {
        let bytes = try PackFiles.read(path, limitBytes: limits.maximumTotalBytes + (limits.maximumEntries + 3) * PackArchive.block * 2)
        return try open(archiveBytes: bytes, file: path, trust: trust, limits: limits)
    }

    public static func open(archiveBytes: [UInt8], file: String, trust: PackTrust, limits: PackArchive.Limits = .standard) throws(PackError) -> VerifiedPack {
        let (manifest, entries) = try manifestFirst(archiveBytes, file: file, limits: limits)
        let signer = try trust.verify(manifest, file: file)
        let files = try check(manifest, entries: entries, file: file)
        return VerifiedPack(manifest: manifest, signer: signer, files: files)
    }

    /// Reads and verifies a pack folder: its `pack.json` must be complete and signed.
    public static func open(folder: String, trust: PackTrust, limits: PackArchive.Limits = .standard) throws(PackError) -> VerifiedPack {
        let manifest = try folderManifest(folder, limits: limits)
        let signer = try trust.verify(manifest, file: folder + "/" + PackPath.manifest)
        let files = try folderFiles(folder, manifest: manifest, limits: limits)
        return VerifiedPack(manifest: manifest, signer: signer, files: files)
    }

    /// What `pack inspect` shows without keys: the manifest and whether
    /// every file matches it. The signature is NOT checked; nothing from
    /// this may be installed.
    public static func inspectUntrusted(archiveBytes: [UInt8], file: String, limits: PackArchive.Limits = .standard) throws(PackError) -> (PackManifest, [String: [UInt8]]) {
        let (manifest, entries) = try manifestFirst(archiveBytes, file: file, limits: limits)
        return (manifest, try check(manifest, entries: entries, file: file))
    }

    public static func inspectUntrusted(folder: String, limits: PackArchive.Limits = .standard) throws(PackError) -> (PackManifest, [String: [UInt8]]) {
        let manifest = try folderManifest(folder, limits: limits)
        return (manifest, try folderFiles(folder, manifest: manifest, limits: limits))
    }

    static func manifestFirst(_ bytes: [UInt8], file: String, limits: PackArchive.Limits) throws(PackError) -> (PackManifest, [PackArchive.Entry]) {
        let entries = try PackArchive.read(bytes, file: file, limits: limits)
        guard let first = entries.first, first.path == PackPath.manifest else {
            throw PackError(.invalidArchive, file: file, "the first entry is \(entries.first.map { "\"\($0.path)\"" } ?? "missing"); a pack archive starts with \(PackPath.manifest)")
        }
        let manifest = try PackManifest(parsing: first.bytes, file: "\(file): \(PackPath.manifest)")
        try requireComplete(manifest, file: file)
        return (manifest, Array(entries.dropFirst()))
    }

    static func requireComplete(_ manifest: PackManifest, file: String) throws(PackError) {
        if let (field, reason) = manifest.completenessProblem {
            throw PackError(.malformedManifest, file: file, field: field, "the manifest is not complete: \(reason)")
        }
    }

    /// Every entry listed with its size and hash, every listed file present.
    static func check(_ manifest: PackManifest, entries: [PackArchive.Entry], file: String) throws(PackError) -> [String: [UInt8]] {
        let listed = Dictionary(uniqueKeysWithValues: (manifest.files ?? []).map { ($0.path, $0) })
        var out: [String: [UInt8]] = [:]
        for entry in entries {
            guard let expected = listed[entry.path] else {
                throw PackError(.unlistedFile, file: file, field: entry.path, "is in the pack but not in the signed manifest; refused")
            }
            try match(entry.bytes, expected, file: file)
            out[entry.path] = entry.bytes
        }
        if let missing = (manifest.files ?? []).first(where: { out[$0.path] == nil }) {
            throw PackError(.missingFile, file: file, field: missing.path, "is listed in the manifest but not in the pack")
        }
        return out
    }

    static func match(_ bytes: [UInt8], _ expected: PackManifest.File, file: String) throws(PackError) {
        guard bytes.count == expected.size else {
            throw PackError(.hashMismatch, file: file, field: expected.path, "is \(bytes.count) bytes; the manifest says \(expected.size)")
        }
        let digest = ConfigDigest(canonicalBytes: bytes)
        guard digest == expected.sha256 else {
            throw PackError(.hashMismatch, file: file, field: expected.path, "has SHA-256 \(digest.hex); the manifest says \(expected.sha256.hex)")
        }
    }

    static func folderManifest(_ folder: String, limits: PackArchive.Limits) throws(PackError) -> PackManifest {
        let path = folder + "/" + PackPath.manifest
        guard PackFiles.kind(folder) == .directory else { throw PackError(.io, file: folder, "is not a folder") }
        guard PackFiles.kind(path) == .file else { throw PackError(.missingFile, file: path, "a pack folder has a \(PackPath.manifest)") }
        let manifest = try PackManifest(parsing: try PackFiles.read(path, limitBytes: 16 << 20), file: path)
        try requireComplete(manifest, file: path)
        return manifest
    }

    static func folderFiles(_ folder: String, manifest: PackManifest, limits: PackArchive.Limits) throws(PackError) -> [String: [UInt8]] {
        let present = try PackFiles.listFiles(in: folder).filter { $0 != PackPath.manifest }
        guard present.count <= limits.maximumEntries else {
            throw PackError(.invalidArchive, file: folder, "holds \(present.count) files; at most \(limits.maximumEntries)")
        }
        var entries: [PackArchive.Entry] = []
        var total = 0
        for rel in present {
            if let problem = PackPath.problem(rel) { throw PackError(.unsafePath, file: folder, field: rel, problem) }
            let bytes = try PackFiles.read(folder + "/" + rel, limitBytes: limits.maximumFileBytes)
            total += bytes.count
            guard total <= limits.maximumTotalBytes else { throw PackError(.invalidArchive, file: folder, "holds more than \(limits.maximumTotalBytes) bytes") }
            entries.append(PackArchive.Entry(path: rel, bytes: bytes))
        }
        return try check(manifest, entries: entries, file: folder)
    }
}
