import Crypto
import Logging
import SwitchyardConfigDoc

#if canImport(Glibc)
import Glibc
#endif

/// The few files a server keeps beside its store: the signing key and the
/// first root token, both readable by the server's user only.
public enum ServerFiles {
    public static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw ServiceError(.internal, "cannot create the folder \(path): \(String(cString: strerror(errno)))")
        }
    }

    public static func writePrivate(path: String, text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ServiceError(.internal, "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw ServiceError(.internal, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    public static func readText(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func newKeyText() -> String { SigningKeyText.base64(Curve25519.Signing.PrivateKey()) }

    /// The signer from a key file; with `create`, a missing file is created
    /// with a new key (the embedded default).
    public static func signer(path: String, keyId: String, create: Bool, logger: Logger) throws -> EnvelopeSigner {
        if readText(path) == nil {
            guard create else { throw ServiceError(.internal, "the signing key \(path) does not exist (switchyard-server keygen \(path))") }
            try writePrivate(path: path, text: newKeyText() + "\n")
            logger.notice("created a new signing key in \(path)")
        }
        let text = (readText(path) ?? "").trimmingCharacters(in: " \n\r\t")
        do {
            return try EnvelopeSigner(keyId: keyId, privateKeyText: text)
        } catch {
            throw ServiceError(.internal, "the signing key \(path) does not read: \(error)")
        }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String { self[...].trimmingCharacters(in: set) }
}
