import Foundation
import SwitchyardPack
import SwitchyardTestSupport
import Testing

/// The `switchyard` executable: exit status, files and messages of the
/// vendor's commands (the library tests cover each check).
@Suite struct PackCLITests {
    func run(_ arguments: [String], in dir: String) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestPaths.executable("switchyard"))
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func keyGenerateInitBuildVerifyAndRefuse() throws {
        let dir = TestPaths.temporaryDirectory()
        var r = try run(["key", "generate", "--vendor", "Acme Energy"], in: dir)
        #expect(r.status == 0, "\(r.err)")
        #expect(PackFiles.mode(dir + "/acme-energy.key") == 0o600)
        #expect(PackFiles.mode(dir + "/acme-energy.pub") == 0o644)
        // Never overwrites a key.
        r = try run(["key", "generate", "--vendor", "Acme Energy"], in: dir)
        #expect(r.status == 1 && r.err.contains("already exists"), "\(r.err)")

        r = try run(["pack", "init", "acme", "--id", "com.acme.meters", "--vendor", "Acme Energy"], in: dir)
        #expect(r.status == 0, "\(r.err)")
        // An empty pack does not lint, and is not built.
        r = try run(["pack", "lint", "acme"], in: dir)
        #expect(r.status == 1 && r.out.contains("holds no profile and no plugin"), "\(r.out)")
        r = try run(["pack", "build", "acme"], in: dir)
        #expect(r.status == 1 && r.err.contains("acme/pack.json"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/com.acme.meters-0.1.0.pack.tar"))

        try FileManager.default.copyItem(atPath: TestPaths.profileDirectory + "/eastron/eastron_sdm630.json", toPath: dir + "/acme/eastron_sdm630.json")
        var m = try PackManifest(parsing: try PackFiles.read(dir + "/acme/pack.json", limitBytes: 1 << 20), file: "pack.json")
        m.profiles = [.init(path: "eastron_sdm630.json")]
        try PackFixtures.write(m.fileText, to: dir + "/acme/pack.json")
        r = try run(["pack", "build", "acme", "--key", "acme-energy.key"], in: dir)
        #expect(r.status == 0 && r.out.contains("signed by ed25519:"), "\(r.out)\(r.err)")
        r = try run(["pack", "verify", "com.acme.meters-0.1.0.pack.tar", "--key", "acme-energy.pub"], in: dir)
        #expect(r.status == 0 && r.out.contains("verified") && r.out.contains("(Acme Energy)"), "\(r.out)\(r.err)")

        // Another vendor's key: refused, naming the archive and the reason.
        try FileManager.default.createDirectory(atPath: dir + "/other", withIntermediateDirectories: true)
        _ = try run(["key", "generate", "--vendor", "Other", "--dir", "other"], in: dir)
        r = try run(["pack", "verify", "com.acme.meters-0.1.0.pack.tar", "--trust", "other"], in: dir)
        #expect(r.status == 1 && r.err.contains("com.acme.meters-0.1.0.pack.tar") && r.err.contains("not trusted"), "\(r.err)")
        r = try run(["pack", "inspect", "com.acme.meters-0.1.0.pack.tar", "--trust", "other"], in: dir)
        #expect(r.status == 1 && r.out.contains("REFUSED"), "\(r.out)")
        // No keys named: a usage error, not a silent pass.
        r = try run(["pack", "verify", "com.acme.meters-0.1.0.pack.tar"], in: dir)
        #expect(r.status == 2, "\(r.err)")
    }
}
