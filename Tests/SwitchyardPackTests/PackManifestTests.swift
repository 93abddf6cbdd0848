import SwitchyardConfigDoc
import SwitchyardJSON
import SwitchyardPack
import Testing

@Suite struct PackManifestTests {
    /// The canonical manifest bytes and the fixed key's signature over them
    /// must never change: edges in the field verify packs signed today.
    @Test func canonicalBytesAndSignatureAreGolden() throws {
        let (manifest, _) = PackFixtures.manifest()
        #expect(manifest.digest.hex == "92d7cf723c2551878020984e490e63069d2566c779322d604fb0270920fc761c")
        #expect(PackFixtures.fixedKey.keyId == "ed25519:65b60673d6ed884b")
        let golden = "Ogex3yXb6IDPg5kNg9JhD0xOFae+34wrdoL66Tno+IaTL++WXjntYgCQwAb2akVssbBhkZQ0g4+oCd6zIpLVBQ=="
        var goldenSigned = manifest
        goldenSigned.signature = .init(keyId: PackFixtures.fixedKey.keyId, value: try #require(Base64Text.decode(golden)))
        #expect(try PackFixtures.trust.verify(goldenSigned, file: "pack.json").keyId == PackFixtures.fixedKey.keyId)
        let signed = try PackFixtures.fixedKey.sign(manifest)
        #if os(Linux)
        // BoringSSL's Ed25519 is deterministic (RFC 8032); CryptoKit on macOS adds randomness.
        #expect(Base64Text.encode(signed.signature!.value) == golden)
        #endif
        // Written and read back, the manifest signs the same bytes.
        let reread = try PackManifest(parsing: Array(signed.fileText.utf8), file: "pack.json")
        #expect(reread == signed)
        #expect(reread.signedBytes == manifest.signedBytes)
        #expect(try PackFixtures.trust.verify(reread, file: "pack.json").keyId == PackFixtures.fixedKey.keyId)
    }

    @Test func versionsOrderBySemverPrecedence() {
        let order = ["0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0"].map { SemanticVersion($0)! }
        #expect(order == order.sorted())
        #expect(SemanticVersion("2.0.0+pysunspec2.1.3.7") == SemanticVersion("2.0.0"))
        for bad in ["1.0", "01.0.0", "1.0.0-", "1.0.0+", "v1.0.0", "1.0.0-01", ""] { #expect(SemanticVersion(bad) == nil, "\(bad)") }
    }

    @Test func rangesParseMatchAndRefuseTheEmpty() throws {
        let r = try VersionRange.parse(">=1.2.0 <2.0.0").get()
        #expect(r.contains(SemanticVersion("1.2.0")!) && r.contains(SemanticVersion("1.9.9")!))
        #expect(!r.contains(SemanticVersion("2.0.0")!) && !r.contains(SemanticVersion("1.1.9")!))
        let caret = try VersionRange.parse("^0.3.1").get()
        #expect(caret.contains(SemanticVersion("0.3.9")!) && !caret.contains(SemanticVersion("0.4.0")!))
        #expect(try VersionRange.parse("*").get().contains(SemanticVersion("7.0.0")!))
        for bad in ["", ">=1.2", "=>1.0.0", ">=2.0.0 <1.0.0", ">1.0.0 <1.0.0", "1.0.0 2.0.0"] {
            if case .success = VersionRange.parse(bad) { Issue.record("\"\(bad)\" was accepted") }
        }
    }

    func decodeFailure(_ edit: (inout [String: JSONValue]) -> Void) -> PackError? {
        var o = PackFixtures.manifest().0.jsonValue.objectValue!
        edit(&o)
        return PackFixtures.refusal { () throws(PackError) in try PackManifest(json: .object(o), file: "pack.json") }
    }

    @Test func badManifestsAreRefusedNamingTheField() {
        let cases: [(String, (inout [String: JSONValue]) -> Void, PackError.Code, String)] = [
            ("unknown field", { $0["extra"] = 1 }, .malformedManifest, "extra"),
            ("id not reverse-DNS", { $0["id"] = "MyPack" }, .malformedManifest, "id"),
            ("version", { $0["version"] = "1.2" }, .malformedManifest, "version"),
            ("climbing path", { $0["files"] = [["path": "../evil", "sha256": .string(String(repeating: "0", count: 64)), "size": 1]] }, .unsafePath, "files[0].path"),
            ("absolute path", { $0["profiles"] = [["path": "/etc/passwd"]] }, .unsafePath, "profiles[0].path"),
            ("self dependency", { $0["dependencies"] = [["id": "com.example.test", "versions": "*"]] }, .malformedManifest, "dependencies"),
            ("bad range", { $0["dependencies"] = [["id": "com.example.other", "versions": ">=2.0.0 <1.0.0"]] }, .malformedManifest, "dependencies[0].versions"),
            ("platform", { $0["plugins"] = [["path": "x.so", "platform": "windows-x86"]] }, .malformedManifest, "plugins[0].platform"),
            ("hash", { $0["files"] = [["path": "a", "sha256": "abc", "size": 1]] }, .malformedManifest, "files[0].sha256"),
        ]
        for (name, edit, code, field) in cases {
            let error = decodeFailure(edit)
            #expect(error?.code == code, "\(name): \(String(describing: error))")
            #expect(error?.field == field, "\(name): \(String(describing: error))")
            #expect(error?.file == "pack.json", "\(name)")
        }
    }

    @Test func compatibilityNamesWhatDoesNotFit() {
        var (m, _) = PackFixtures.manifest()
        m.plugins = [.init(path: "p/lib.so", platform: .linuxAarch64, identity: .init(pluginId: "x", pluginVersion: "1.0.0", kind: "driver", abiMajor: 1, abiMinor: 2))]
        m.minHostVersion = SemanticVersion(1, 0, 0)
        let x86 = PackHost(version: SemanticVersion(0, 9, 0), platform: .linuxX86_64, abiMajor: 1, abiMinor: 1)
        #expect(PackCompatibility.problems(m, host: x86).compactMap(\.field) == ["host.min_version", "plugins"])
        let arm = PackHost(version: SemanticVersion(1, 0, 0), platform: .linuxAarch64, abiMajor: 1, abiMinor: 1)
        #expect(PackCompatibility.problems(m, host: arm).compactMap(\.field) == ["plugins[0].abi.minor"])
        #expect(PackCompatibility.dependencyProblems(m, available: [:]).count == 1)
        #expect(PackCompatibility.dependencyProblems(m, available: ["org.switchyard.sunspec": SemanticVersion(3, 0, 0)]).count == 1)
        #expect(PackCompatibility.dependencyProblems(m, available: ["org.switchyard.sunspec": SemanticVersion(2, 1, 0)]).isEmpty)
    }
}
