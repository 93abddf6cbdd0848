import ArgumentParser
import SwitchyardConfigDoc
import SwitchyardHost
import SwitchyardPack
import SwitchyardPackBuild

/// The vendor's side of packs (docs/packs.md): arguments and printing only;
/// the work is SwitchyardPack's and SwitchyardPackBuild's.
struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack", abstract: "Profile and plugin packs: init, lint, build, sign, verify, inspect.",
        subcommands: [Init.self, Lint.self, Build.self, Sign.self, Verify.self, Inspect.self])

    /// Runs `body`, turning a `PackError` into a refusal (stderr, exit 1).
    static func refusing<T>(_ body: () throws(PackError) -> T) throws -> T {
        do { return try body() } catch { throw CLI.refused("refused: \(error)") }
    }

    static func printReport(_ report: PackLintReport) {
        for line in report.checked { print("  ok       \(line)") }
        for line in report.warnings { print("  warning  \(line)") }
        for error in report.errors { print("  FAILED   \(error)") }
    }

    struct Keys: ParsableArguments {
        @Option(name: .customLong("key"), help: "A vendor's public key file (*.pub) to trust (repeatable).")
        var keys: [String] = []
        @Option(name: .customLong("trust"), help: "A folder of trusted vendor public keys (*.pub) (repeatable).")
        var folders: [String] = []

        var given: Bool { !keys.isEmpty || !folders.isEmpty }
        func trust() throws -> PackTrust { try PackCommand.refusing { () throws(PackError) in try PackTrust.load(keyFiles: keys, folders: folders) } }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a skeleton pack.json into a folder (created if missing).")

        @Argument(help: "The pack folder.") var folder: String
        @Option(help: "The pack's id, reverse-DNS (com.example.inverters).") var id: String
        @Option(help: "The vendor's name.") var vendor: String

        func run() throws {
            guard PackManifest.isReverseDNS(id) else { throw CLI.usage("--id must be reverse-DNS, lowercase, such as com.example.inverters; got \"\(id)\"") }
            FileSystem.makeDirectories(folder)
            let manifest = PackBuilder.skeleton(id: id, vendor: vendor)
            let path = folder + "/" + PackPath.manifest
            try PackCommand.refusing { () throws(PackError) in try PackFiles.create(Array(manifest.fileText.utf8), at: path, mode: 0o644) }
            print("wrote \(path): add your profiles to \"profiles\" and plugin binaries to \"plugins\", then `switchyard pack lint \(folder)`")
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every check of a pack folder: profile lint and golden vectors, plugin binaries (entry, ABI, exports), compatibility and dependencies.")

        @Argument(help: "The pack folder.") var folder: String
        @Option(name: .customLong("profiles"), help: "A folder of profiles the pack's profiles may extend (repeatable).") var profiles: [String] = []

        func run() throws {
            let build = try PackCommand.refusing { () throws(PackError) in try PackBuilder.prepare(folder: folder, profileDirectories: profiles) }
            print("\(build.manifest.id) \(build.manifest.version): \(build.manifest.files?.count ?? 0) file(s)")
            PackCommand.printReport(build.report)
            let r = build.report
            print("\(r.passed ? "passed" : "FAILED"): \(r.checked.count) checks ok, \(r.warnings.count) warnings, \(r.errors.count) problems")
            if !r.passed { throw ExitCode(1) }
        }
    }

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hash every file, read plugins' ABI from their binaries, lint, and write the pack archive; refused if any check fails.")

        @Argument(help: "The pack folder.") var folder: String
        @Option(help: "The archive to write. Default: ID-VERSION.pack.tar in the current folder.") var out: String?
        @Option(help: "Sign with this vendor private key file (else sign later with `pack sign`).") var key: String?
        @Option(name: .customLong("profiles"), help: "A folder of profiles the pack's profiles may extend (repeatable).") var profiles: [String] = []

        func run() throws {
            let build = try PackCommand.refusing { () throws(PackError) in
                let signer = try key.map { (path: String) throws(PackError) in try VendorPrivateKey.load(path) }
                return try PackBuilder.build(folder: folder, profileDirectories: profiles, key: signer)
            }
            let m = build.manifest
            let path = out ?? "\(m.id)-\(m.version).pack.tar"
            let bytes = try PackCommand.refusing { () throws(PackError) in
                let bytes = try build.archive()
                try PackFiles.write(bytes, to: path)
                return bytes
            }
            PackCommand.printReport(build.report)
            print("built \(path): \(m.id) \(m.version), \(m.files?.count ?? 0) files, \(bytes.count) bytes, sha256 \(ConfigDigest(canonicalBytes: bytes).hex)")
            print(m.signature.map { "signed by \($0.keyId)" } ?? "unsigned: sign it with `switchyard pack sign \(path) --key VENDOR.key`")
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a pack archive (every file is checked against its manifest first), or a folder's pack.json (after every lint check).")

        @Argument(help: "The pack archive or folder.") var target: String
        @Option(help: "The vendor private key file.") var key: String
        @Option(help: "For an archive: write the signed archive here instead of replacing it.") var out: String?
        @Option(name: .customLong("profiles"), help: "For a folder: profiles the pack's profiles may extend (repeatable).") var profiles: [String] = []

        func run() throws {
            let signed: PackManifest = try PackCommand.refusing { () throws(PackError) in
                let signer = try VendorPrivateKey.load(key)
                if PackFiles.kind(target) == .directory {
                    let build = try PackBuilder.build(folder: target, profileDirectories: profiles, key: signer)
                    try PackFiles.write(Array(build.manifest.fileText.utf8), to: target + "/" + PackPath.manifest)
                    return build.manifest
                }
                let (manifest, bytes) = try PackBuilder.sign(archiveBytes: try PackFiles.read(target, limitBytes: 512 << 20), file: target, key: signer)
                try PackFiles.write(bytes, to: out ?? target)
                return manifest
            }
            print("signed \(out ?? target): \(signed.id) \(signed.version) by \(signed.signature?.keyId ?? "?"), manifest sha256 \(signed.digest.hex)")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a pack archive or folder: structure, signature by a trusted key, every file's size and SHA-256; and whether it fits this host.")

        @Argument(help: "The pack archive or folder.") var target: String
        @OptionGroup var keys: Keys

        func run() throws {
            guard keys.given else { throw CLI.usage("name the trusted keys: --key VENDOR.pub or --trust FOLDER") }
            let trust = try keys.trust()
            let pack = try PackCommand.refusing { () throws(PackError) in
                PackFiles.kind(target) == .directory ? try PackReader.open(folder: target, trust: trust) : try PackReader.open(archive: target, trust: trust)
            }
            let m = pack.manifest
            print("verified \(target): \(m.id) \(m.version) by \(m.vendor)")
            print("  signature  ed25519, key \(pack.signer.keyId) (\(pack.signer.vendor))")
            print("  files      \(pack.files.count), every size and SHA-256 as signed, none unlisted")
            PackCommand.printCompatibility(m)
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a pack's manifest and what was checked. Without --key/--trust the signature is not checked.")

        @Argument(help: "The pack archive or folder.") var target: String
        @OptionGroup var keys: Keys
        @Flag(help: "Print the manifest as JSON.") var json = false

        func run() throws {
            let folder = PackFiles.kind(target) == .directory
            let (m, files) = try PackCommand.refusing { () throws(PackError) in
                folder ? try PackReader.inspectUntrusted(folder: target) : try PackReader.inspectUntrusted(archiveBytes: try PackFiles.read(target, limitBytes: 512 << 20), file: target)
            }
            var signatureLine = m.signature == nil ? "none (unsigned)" : "by key \(m.signature!.keyId), not checked (give --key or --trust)"
            var signatureFailed = false
            if keys.given, m.signature != nil {
                let trust = try keys.trust()
                do {
                    let key = try trust.verify(m, file: target)
                    signatureLine = "valid, key \(key.keyId) (\(key.vendor))"
                } catch {
                    signatureLine = "REFUSED: \(error.message)"
                    signatureFailed = true
                }
            }
            if json {
                print(m.jsonValue.prettyText)
            } else {
                print("pack         \(m.id) \(m.version)")
                print("vendor       \(m.vendor)")
                print("description  \(m.description)")
                print("license      \(m.license)")
                print("host         Switchyard \(m.minHostVersion) or later")
                for p in m.profiles { print("profile      \(p.path) (\(p.id ?? "?"))") }
                for p in m.plugins {
                    let i = p.identity.map { "\($0.pluginId) \($0.pluginVersion) \($0.kind), ABI \($0.abiMajor).\($0.abiMinor)" } ?? "?"
                    print("plugin       \(p.path) [\(p.platform.rawValue)] \(i)")
                }
                for d in m.dependencies { print("depends on   \(d.id) \(d.versions)") }
                print("manifest     sha256 \(m.digest.hex)")
                print("checked:")
                print("  \(folder ? "folder   " : "archive  ")  \(folder ? "regular files only" : "strict ustar, regular files only, paths inside the pack, no duplicates, within limits")")
                print("  files      \(files.count), every size and SHA-256 as the manifest lists, none unlisted")
                print("  signature  \(signatureLine)")
                PackCommand.printCompatibility(m)
            }
            if signatureFailed { throw ExitCode(1) }
        }
    }

    static func printCompatibility(_ m: PackManifest) {
        guard let platform = PackPlatform.current else { return }
        let host = PackHost(platform: platform, abiMajor: Int(PluginABI.major), abiMinor: Int(PluginABI.minor))
        let problems = PackCompatibility.problems(m, host: host)
        let here = "Switchyard \(host.version) \(platform.rawValue) ABI \(host.abiMajor).\(host.abiMinor)"
        if problems.isEmpty { print("  this host  fits (\(here))") }
        for p in problems { print("  this host  does not fit (\(here)): \(p)") }
    }
}

extension KeyCommand {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A new vendor signing key for packs: NAME.key (private, mode 0600) and NAME.pub (public, to give to operators).",
            discussion: "Both files are JSON; the key id is ed25519: and the first 16 hex digits of the public key's SHA-256 (docs/packs.md). Existing files are never overwritten.")

        @Option(help: "The vendor's name, recorded in both files.") var vendor: String
        @Option(help: "The files' name without extension. Default: the vendor's name in lowercase, with '-' for other characters.") var name: String?
        @Option(help: "The folder to write to.") var dir: String = "."

        func run() throws {
            let base = name ?? String(vendor.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
            let key = VendorPrivateKey(vendor: vendor)
            let privatePath = "\(dir)/\(base).key", publicPath = "\(dir)/\(base).pub"
            try PackCommand.refusing { () throws(PackError) in
                guard PackFiles.kind(publicPath) == .missing else { throw PackError(.io, file: publicPath, "already exists; not overwritten") }
                try PackFiles.create(Array(key.fileText.utf8), at: privatePath, mode: 0o600)
                try PackFiles.create(Array(key.publicKey.fileText.utf8), at: publicPath, mode: 0o644)
            }
            print("key \(key.keyId) for \(vendor)")
            print("private  \(privatePath) (mode 0600: keep it secret, back it up)")
            print("public   \(publicPath) (give it to the operators who install your packs)")
        }
    }
}
