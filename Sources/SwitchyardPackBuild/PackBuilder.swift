import SwitchyardConfigDoc
import SwitchyardPack

/// A vendor's pack folder made into a complete manifest and the archive
/// entries, after every check of `PackLint`.
public struct PackBuild: Sendable {
    /// Complete (files, profile ids, plugin identities); signed when built with a key.
    public var manifest: PackManifest
    public var report: PackLintReport
    /// Every file but `pack.json`, in the manifest's order.
    public var files: [PackArchive.Entry]

    /// The archive: `pack.json` first, then the files.
    public func archive() throws(PackError) -> [UInt8] {
        try PackArchive.write([PackArchive.Entry(path: PackPath.manifest, bytes: Array(manifest.fileText.utf8))] + files)
    }
}

/// Builds packs from folders (docs/packs.md, "Building").
public enum PackBuilder {
    /// Reads `folder/pack.json` and every file beside it, fills the manifest
    /// (files with SHA-256 and size, profile ids, plugin identities read
    /// through the host's loader) and runs every lint check. Throws when
    /// the manifest or a file cannot be read at all; lint failures are in
    /// the report (`report.passed`). Whatever `files`, ids, identities or
    /// signature `pack.json` held are replaced by what the folder holds now.
    /// `profileDirectories`: where profiles this pack's profiles extend live.
    public static func prepare(folder: String, profileDirectories: [String] = []) throws(PackError) -> PackBuild {
        let manifestPath = folder + "/" + PackPath.manifest
        guard PackFiles.kind(folder) == .directory else { throw PackError(.io, file: folder, "is not a folder") }
        guard PackFiles.kind(manifestPath) == .file else {
            throw PackError(.missingFile, file: manifestPath, "a pack folder has a \(PackPath.manifest); `switchyard pack init \(folder)` writes one")
        }
        var manifest = try PackManifest(parsing: try PackFiles.read(manifestPath, limitBytes: 16 << 20), file: manifestPath)
        manifest.signature = nil

        var entries: [PackArchive.Entry] = []
        let limits = PackArchive.Limits.standard
        var total = 0
        for rel in try PackFiles.listFiles(in: folder) where rel != PackPath.manifest {
            if let problem = PackPath.problem(rel) { throw PackError(.unsafePath, file: folder + "/" + rel, problem) }
            let bytes = try PackFiles.read(folder + "/" + rel, limitBytes: limits.maximumFileBytes)
            total += bytes.count
            guard total <= limits.maximumTotalBytes, entries.count < limits.maximumEntries else {
                throw PackError(.invalidArchive, file: folder, "holds more than a pack may (\(limits.maximumEntries) files, \(limits.maximumTotalBytes) bytes)")
            }
            entries.append(PackArchive.Entry(path: rel, bytes: bytes))
        }
        manifest.files = entries.map { PackManifest.File(path: $0.path, sha256: ConfigDigest(canonicalBytes: $0.bytes), size: $0.bytes.count) }

        var report = PackLintReport()
        PackLint.check(&manifest, folder: folder, profileDirectories: profileDirectories, report: &report)
        return PackBuild(manifest: manifest, report: report, files: entries)
    }

    /// `prepare`, refused when any check failed (the first failure, with the
    /// count of the others), signed with `key` when given.
    public static func build(folder: String, profileDirectories: [String] = [], key: VendorPrivateKey? = nil) throws(PackError) -> PackBuild {
        var build = try prepare(folder: folder, profileDirectories: profileDirectories)
        if let first = build.report.errors.first {
            let more = build.report.errors.count - 1
            throw PackError(.lintFailed, file: first.file ?? folder, field: first.field,
                            first.message + (more > 0 ? " (and \(more) more problem\(more == 1 ? "" : "s"): run `switchyard pack lint \(folder)`)" : ""))
        }
        if let key { build.manifest = try key.sign(build.manifest) }
        return build
    }

    /// Signs an archive's manifest after checking every file against it;
    /// returns the new archive. A signature already there is replaced.
    public static func sign(archiveBytes: [UInt8], file: String, key: VendorPrivateKey) throws(PackError) -> (PackManifest, [UInt8]) {
        let (manifest, files) = try PackReader.inspectUntrusted(archiveBytes: archiveBytes, file: file)
        let signed = try key.sign(manifest)
        let entries = (signed.files ?? []).map { PackArchive.Entry(path: $0.path, bytes: files[$0.path] ?? []) }
        return (signed, try PackArchive.write([PackArchive.Entry(path: PackPath.manifest, bytes: Array(signed.fileText.utf8))] + entries))
    }

    /// A starting `pack.json` for `init`: no profiles, plugins or dependencies yet.
    public static func skeleton(id: String, vendor: String) -> PackManifest {
        PackManifest(id: id, version: SemanticVersion(0, 1, 0), vendor: vendor, description: "Say what devices or functions this pack adds.",
                     license: "LicenseRef-Proprietary", minHostVersion: SwitchyardRelease.version)
    }
}
