/// Why a pack could not be read, built, signed or trusted. Names the file
/// (the pack, or a file inside it), the field when there is one, and a
/// reason a vendor or operator can act on.
public struct PackError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// `pack.json` is not a manifest of this format.
        case malformedManifest = "malformed_manifest"
        /// The archive is not a strict ustar archive within the limits.
        case invalidArchive = "invalid_archive"
        /// A path is absolute, climbs out of the pack, or uses characters packs do not allow.
        case unsafePath = "unsafe_path"
        /// A file the manifest lists is not in the pack.
        case missingFile = "missing_file"
        /// The pack holds a file the manifest does not list.
        case unlistedFile = "unlisted_file"
        /// A file's SHA-256 or size is not the manifest's.
        case hashMismatch = "hash_mismatch"
        /// The manifest carries no signature.
        case unsigned
        /// The manifest is signed with a key that is not trusted.
        case unknownKey = "unknown_key"
        /// The signature does not match the manifest under its key.
        case badSignature = "bad_signature"
        /// A key file is not a key of this format.
        case invalidKey = "invalid_key"
        /// The pack does not fit this host (platform, plugin ABI, host version, dependencies).
        case incompatible
        /// A check of `pack lint` failed.
        case lintFailed = "lint_failed"
        /// A file could not be read or written.
        case io
    }

    public let code: Code
    /// The pack, key or file the error is about.
    public let file: String?
    /// The manifest field (a JSON path such as `plugins[0].platform`) or archive entry.
    public let field: String?
    public let message: String

    public init(_ code: Code, file: String? = nil, field: String? = nil, _ message: String) {
        self.code = code
        self.file = file
        self.field = field
        self.message = message
    }

    /// The same error about `file` (when it names none yet).
    public func inFile(_ file: String) -> PackError {
        self.file == nil ? PackError(code, file: file, field: field, message) : self
    }

    public var description: String {
        var text = file.map { "\($0): " } ?? ""
        if let field { text += "\(field): " }
        return text + message
    }
}
