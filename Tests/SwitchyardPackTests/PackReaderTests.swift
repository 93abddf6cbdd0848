import Foundation
import SwitchyardConfigDoc
import SwitchyardPack
import SwitchyardTestSupport
import Testing

@Suite struct PackReaderTests {
    func open(_ bytes: [UInt8], trust: PackTrust = PackFixtures.trust) -> Result<VerifiedPack, PackError> {
        do throws(PackError) {
            return .success(try PackReader.open(archiveBytes: bytes, file: "t.pack.tar", trust: trust))
        } catch {
            return .failure(error)
        }
    }

    func code(_ r: Result<VerifiedPack, PackError>) -> PackError.Code? {
        if case .failure(let e) = r { return e.code }
        return nil
    }

    @Test func signedArchiveOpensWithEveryFile() throws {
        let (m, entries) = PackFixtures.manifest()
        let pack = try open(try PackFixtures.archive(try PackFixtures.fixedKey.sign(m), entries)).get()
        #expect(pack.signer.keyId == PackFixtures.fixedKey.keyId)
        #expect(pack.files["profiles/a.json"] == Array("{\"id\": \"a\"}\n".utf8))
        #expect(pack.files.count == 2)
    }

    @Test func untrustedOrAlteredPacksAreRefused() throws {
        let (m, entries) = PackFixtures.manifest()
        let signed = try PackFixtures.fixedKey.sign(m)
        // Unsigned, foreign-signed.
        #expect(code(open(try PackFixtures.archive(m, entries))) == .unsigned)
        #expect(code(open(try PackFixtures.archive(try PackFixtures.otherKey.sign(m), entries))) == .unknownKey)
        // A manifest changed after signing.
        var altered = signed
        altered.version = SemanticVersion(9, 0, 0)
        #expect(code(open(try PackFixtures.archive(altered, entries))) == .badSignature)
        // A file changed, one added, one missing.
        var changed = entries
        changed[1].bytes[2] ^= 1
        let tampered = open(try PackFixtures.archive(signed, changed))
        #expect(code(tampered) == .hashMismatch)
        if case .failure(let e) = tampered { #expect(e.field == "profiles/a.json" && e.file == "t.pack.tar") }
        #expect(code(open(try PackFixtures.archive(signed, entries + [.init(path: "extra.so", bytes: [1])]))) == .unlistedFile)
        #expect(code(open(try PackFixtures.archive(signed, [entries[0]]))) == .missingFile)
        // The manifest not first.
        let reordered = try PackArchive.write(entries + [.init(path: PackPath.manifest, bytes: Array(signed.fileText.utf8))])
        #expect(code(open(reordered)) == .invalidArchive)
        // A byte flipped in the middle of the archive file.
        var flipped = try PackFixtures.archive(signed, entries)
        flipped[flipped.count / 2] ^= 0x20
        #expect(code(open(flipped)) != nil)
    }

    @Test func signatureIsCheckedBeforeAnyFile() throws {
        // A foreign-signed pack whose file is also tampered: the signature is the refusal.
        let (m, entries) = PackFixtures.manifest()
        var changed = entries
        changed[0].bytes[0] ^= 1
        #expect(code(open(try PackFixtures.archive(try PackFixtures.otherKey.sign(m), changed))) == .unknownKey)
    }

    @Test func keyFilesRoundTripAndRefuseEdits() throws {
        let dir = TestPaths.temporaryDirectory()
        let key = PackFixtures.fixedKey
        try PackFiles.create(Array(key.fileText.utf8), at: dir + "/v.key", mode: 0o600)
        try PackFiles.create(Array(key.publicKey.fileText.utf8), at: dir + "/v.pub", mode: 0o644)
        #expect(try VendorPrivateKey.load(dir + "/v.key").keyId == key.keyId)
        #expect(try PackTrust.load(folders: [dir]).keys.keys.sorted() == [key.keyId])
        // A key file readable by others is refused; so is a key id that is not the key's.
        chmod(dir + "/v.key", 0o644)
        #expect(PackFixtures.refusal { () throws(PackError) in try VendorPrivateKey.load(dir + "/v.key") }?.code == .invalidKey)
        let forged = key.publicKey.fileText.replacingOccurrences(of: key.keyId, with: PackFixtures.otherKey.keyId)
        try PackFixtures.write(forged, to: dir + "/forged.pub")
        let error = PackFixtures.refusal { () throws(PackError) in try PackTrust.load(keyFiles: [dir + "/forged.pub"]) }
        #expect(error?.code == .invalidKey && error?.field == "key_id")
        // Never overwritten.
        #expect(PackFixtures.refusal { () throws(PackError) in try PackFiles.create([1], at: dir + "/v.pub", mode: 0o644) }?.code == .io)
    }
}

/// Damage anywhere in a signed archive: the reader refuses it, or (a byte
/// no check covers, such as a header's time or owner) hands out exactly the
/// signed files. It never hands out altered content and never crashes.
@Suite struct PackArchiveDamageTests {
    @Test func everyDamagedArchiveIsRefusedOrYieldsTheSignedFiles() throws {
        let (m, entries) = PackFixtures.manifest()
        let archive = try PackFixtures.archive(try PackFixtures.fixedKey.sign(m), entries)
        let original = Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0.bytes) })
        var random = SeededGenerator(seed: 15)
        var refused = 0
        for _ in 0..<3000 {
            var damaged = archive
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                damaged[Int.random(in: 0..<damaged.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            }
            if Bool.random(using: &random) { damaged = Array(damaged.prefix(Int.random(in: 0...damaged.count, using: &random))) }
            do throws(PackError) {
                let pack = try PackReader.open(archiveBytes: damaged, file: "d", trust: PackFixtures.trust)
                #expect(pack.files == original)
            } catch {
                refused += 1
            }
        }
        // Nearly every damage lands on a checked byte: headers are checksummed, data is hashed, padding must be zero.
        #expect(refused > 2700, "\(refused) of 3000 refused")
    }
}
