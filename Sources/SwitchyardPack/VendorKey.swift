import Crypto
import SwitchyardConfigDoc
import SwitchyardJSON

/// A vendor's Ed25519 public key and the id derived from it.
///
/// The key id is `ed25519:` followed by the first 16 hex digits of the
/// SHA-256 of the 32 raw key bytes: anyone holding the public key computes
/// the same id, so a key file cannot claim another key's id.
public struct VendorPublicKey: Sendable {
    public let vendor: String
    public let key: Curve25519.Signing.PublicKey

    public init(vendor: String, key: Curve25519.Signing.PublicKey) {
        self.vendor = vendor
        self.key = key
    }

    public var keyId: String { Self.keyId(of: key) }

    public static func keyId(of key: Curve25519.Signing.PublicKey) -> String {
        "ed25519:" + String(ConfigDigest(canonicalBytes: Array(key.rawRepresentation)).hex.prefix(16))
    }

    static let fileFormat = "switchyard-vendor-public-key-v1"

    /// The public key file: `{"format": "switchyard-vendor-public-key-v1",
    /// "vendor": …, "key_id": …, "public_key": "<base64, 32 bytes>"}`.
    public var fileText: String {
        JSONValue.object(["format": .string(Self.fileFormat), "vendor": .string(vendor), "key_id": .string(keyId),
                          "public_key": .string(SigningKeyText.base64(key))]).prettyText + "\n"
    }

    /// Reads a public key file; its `key_id` must be the one its key gives.
    public init(fileText: String, file: String) throws(PackError) {
        let (vendor, keyText) = try VendorPrivateKey.readKeyFile(fileText, file: file, format: Self.fileFormat, member: "public_key")
        let key: Curve25519.Signing.PublicKey
        do { key = try SigningKeyText.publicKey(keyText) } catch {
            throw PackError(.invalidKey, file: file, field: "public_key", error.message)
        }
        self.init(vendor: vendor.name, key: key)
        guard vendor.keyId == keyId else {
            throw PackError(.invalidKey, file: file, field: "key_id", "is \"\(vendor.keyId.echoed())\" but the key's id is \(keyId); the file was edited")
        }
    }
}

/// A vendor's Ed25519 private key, kept in a file only its owner can read.
public struct VendorPrivateKey: Sendable {
    public let vendor: String
    let key: Curve25519.Signing.PrivateKey

    /// A new random key.
    public init(vendor: String) {
        self.init(vendor: vendor, key: Curve25519.Signing.PrivateKey())
    }

    public init(vendor: String, key: Curve25519.Signing.PrivateKey) {
        self.vendor = vendor
        self.key = key
    }

    public var publicKey: VendorPublicKey { VendorPublicKey(vendor: vendor, key: key.publicKey) }
    public var keyId: String { publicKey.keyId }

    static let fileFormat = "switchyard-vendor-private-key-v1"

    /// The private key file: `{"format": "switchyard-vendor-private-key-v1",
    /// "vendor": …, "key_id": …, "private_key": "<base64, 32 bytes>"}`.
    public var fileText: String {
        JSONValue.object(["format": .string(Self.fileFormat), "vendor": .string(vendor), "key_id": .string(keyId),
                          "private_key": .string(SigningKeyText.base64(key))]).prettyText + "\n"
    }

    public init(fileText: String, file: String) throws(PackError) {
        let (vendor, keyText) = try Self.readKeyFile(fileText, file: file, format: Self.fileFormat, member: "private_key")
        let key: Curve25519.Signing.PrivateKey
        do { key = try SigningKeyText.privateKey(keyText) } catch {
            throw PackError(.invalidKey, file: file, field: "private_key", error.message)
        }
        self.init(vendor: vendor.name, key: key)
        guard vendor.keyId == keyId else {
            throw PackError(.invalidKey, file: file, field: "key_id", "is \"\(vendor.keyId.echoed())\" but the key's id is \(keyId); the file was edited")
        }
    }

    /// Signs the manifest's `signedBytes`; the result carries this key's id.
    public func sign(_ manifest: PackManifest) throws(PackError) -> PackManifest {
        var signed = manifest
        signed.signature = nil
        do {
            let value = try key.signature(for: signed.signedBytes)
            signed.signature = PackManifest.Signature(keyId: keyId, value: Array(value))
            return signed
        } catch {
            throw PackError(.invalidKey, "Ed25519 signing failed: \(error)")
        }
    }

    static func readKeyFile(_ text: String, file: String, format: String, member: String) throws(PackError) -> ((name: String, keyId: String), String) {
        let value: JSONValue
        do { value = try JSONValue(parsing: text) } catch {
            throw PackError(.invalidKey, file: file, "not a key file (JSON): \(error)")
        }
        let r = FieldReader(file: file)
        let o: [String: JSONValue]
        let found: String
        do {
            o = try r.object(value, "")
            found = try r.string(o, "format", at: "")
        } catch {
            throw PackError(.invalidKey, file: file, field: error.field, error.message)
        }
        guard found == format else {
            throw PackError(.invalidKey, file: file, field: "format", "is \"\(found.echoed())\"; expected \(format)")
        }
        do {
            return ((try r.nonEmpty(o, "vendor", at: ""), try r.string(o, "key_id", at: "")), try r.string(o, member, at: ""))
        } catch {
            throw PackError(.invalidKey, file: file, field: error.field, error.message)
        }
    }
}

extension PackManifest {
    /// What the signature covers: `switchyard-pack-manifest-v1\n` followed by
    /// the canonical encoding (sorted keys, no whitespace; SwitchyardJSON's)
    /// of the manifest without `signature`.
    public var signedBytes: [UInt8] {
        Array("switchyard-pack-manifest-v1\n".utf8) + JSONValue.object(unsignedMembers).canonicalBytes
    }

    /// The SHA-256 of `signedBytes`: the manifest's identity, whoever signed it.
    public var digest: ConfigDigest { ConfigDigest(canonicalBytes: signedBytes) }
}
