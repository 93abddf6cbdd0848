/// The vendor keys a reader accepts signatures from, by key id.
public struct PackTrust: Sendable {
    public private(set) var keys: [String: VendorPublicKey] = [:]

    public init(_ keys: [VendorPublicKey] = []) {
        for key in keys { add(key) }
    }

    public mutating func add(_ key: VendorPublicKey) { keys[key.keyId] = key }

    /// Checks the manifest's signature: present, by a trusted key, valid over
    /// `signedBytes`. Returns the key that signed; throws the first failure.
    public func verify(_ manifest: PackManifest, file: String) throws(PackError) -> VendorPublicKey {
        guard let signature = manifest.signature else {
            throw PackError(.unsigned, file: file, field: "signature",
                            "the manifest is not signed; sign it with `switchyard pack sign \(file) --key VENDOR.key`")
        }
        guard let key = keys[signature.keyId] else {
            let known = keys.keys.sorted().joined(separator: ", ")
            throw PackError(.unknownKey, file: file, field: "signature.key_id",
                            "signed with key \(signature.keyId.echoed()), which is not trusted (trusted: \(known.isEmpty ? "none" : known))")
        }
        guard key.key.isValidSignature(signature.value, for: manifest.signedBytes) else {
            throw PackError(.badSignature, file: file, field: "signature.value",
                            "the signature does not match the manifest under key \(signature.keyId) (\(key.vendor)); the manifest was altered or signed with another key")
        }
        return key
    }
}
