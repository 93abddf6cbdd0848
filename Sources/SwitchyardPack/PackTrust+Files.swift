extension PackTrust {
    /// The public key files named, and every `*.pub` file in the folders
    /// (not recursive). A file that is not a valid public key is refused,
    /// naming it: a trust folder with a broken key is a mistake to fix, not to skip.
    public static func load(keyFiles: [String] = [], folders: [String] = []) throws(PackError) -> PackTrust {
        var paths = keyFiles
        for folder in folders {
            guard PackFiles.kind(folder) == .directory else { throw PackError(.io, file: folder, "is not a folder of vendor public keys (*.pub)") }
            for name in try PackFiles.listFiles(in: folder) where !name.contains("/") && name.hasSuffix(".pub") {
                paths.append(folder + "/" + name)
            }
        }
        var trust = PackTrust()
        for path in paths {
            let bytes = try PackFiles.read(path, limitBytes: 64 << 10)
            guard let text = String(validating: bytes, as: UTF8.self) else { throw PackError(.invalidKey, file: path, "is not UTF-8 text") }
            trust.add(try VendorPublicKey(fileText: text, file: path))
        }
        return trust
    }
}

extension VendorPrivateKey {
    /// Reads a private key file. Refused when others may read it (mode
    /// beyond 0600): a vendor key readable by others is as good as leaked.
    public static func load(_ path: String) throws(PackError) -> VendorPrivateKey {
        if let mode = PackFiles.mode(path), mode & 0o077 != 0 {
            throw PackError(.invalidKey, file: path, "is readable by others (mode \(String(mode, radix: 8))); chmod 600 \(path)")
        }
        let bytes = try PackFiles.read(path, limitBytes: 64 << 10)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw PackError(.invalidKey, file: path, "is not UTF-8 text") }
        return try VendorPrivateKey(fileText: text, file: path)
    }
}
