import Crypto
import Foundation
import SwitchyardConfigDoc
import SwitchyardPack
import SwitchyardTestSupport

/// Keys, manifests and folders the pack tests share.
enum PackFixtures {
    /// A fixed key (seed bytes 1...32): signatures made with it are golden.
    static let fixedKey = VendorPrivateKey(vendor: "Test Vendor", key: try! Curve25519.Signing.PrivateKey(rawRepresentation: Array(1...32) as [UInt8]))
    static let otherKey = VendorPrivateKey(vendor: "Someone Else")

    static func file(_ path: String, _ text: String) -> (PackManifest.File, PackArchive.Entry) {
        let bytes = Array(text.utf8)
        return (PackManifest.File(path: path, sha256: ConfigDigest(canonicalBytes: bytes), size: bytes.count), PackArchive.Entry(path: path, bytes: bytes))
    }

    /// A complete manifest over two small files, and their entries.
    static func manifest() -> (PackManifest, [PackArchive.Entry]) {
        let a = file("profiles/a.json", "{\"id\": \"a\"}\n")
        let b = file("LICENSE", "Apache-2.0\n")
        let m = PackManifest(
            id: "com.example.test", version: SemanticVersion("1.2.3")!, vendor: "Test Vendor", description: "A pack for tests.",
            license: "Apache-2.0", minHostVersion: SemanticVersion(0, 9, 0), profiles: [.init(path: "profiles/a.json", id: "a")],
            dependencies: [.init(id: "org.switchyard.sunspec", versions: try! VersionRange.parse(">=2.0.0 <3.0.0").get())],
            files: [b.0, a.0])
        return (m, [b.1, a.1])
    }

    static func archive(_ manifest: PackManifest, _ entries: [PackArchive.Entry]) throws -> [UInt8] {
        try PackArchive.write([PackArchive.Entry(path: PackPath.manifest, bytes: Array(manifest.fileText.utf8))] + entries)
    }

    static var trust: PackTrust { PackTrust([fixedKey.publicKey]) }

    /// The error `body` throws, or nil.
    static func refusal<T>(_ body: () throws(PackError) -> T) -> PackError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error
        }
    }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
