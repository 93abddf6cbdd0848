import SwitchyardConfigDoc
import SwitchyardJSON

/// `pack.json`: what a pack is, what it holds, what it needs, and the
/// vendor's signature over all of it (docs/packs.md).
///
/// A vendor's folder may hold a partial manifest: `files`, the plugins'
/// identity and ABI, the profiles' ids and `signature` are filled by
/// `switchyard pack build`. A built or installed pack's manifest is
/// complete (`completenessProblem` is nil) and signed.
public struct PackManifest: Sendable, Hashable {
    /// The version of this manifest format (`"format"`).
    public static let format = 1

    public var id: String
    public var version: SemanticVersion
    public var vendor: String
    public var description: String
    /// An SPDX license expression or a short license name.
    public var license: String
    /// The lowest Switchyard release that can use the pack.
    public var minHostVersion: SemanticVersion
    public var profiles: [Profile]
    public var plugins: [Plugin]
    public var dependencies: [Dependency]
    /// Every file of the pack but `pack.json`, sorted by path; nil before `build`.
    public var files: [File]?
    public var signature: Signature?

    public struct Profile: Sendable, Hashable {
        public var path: String
        /// The profile's `id`, filled by `build`.
        public var id: String?
        public init(path: String, id: String? = nil) {
            self.path = path
            self.id = id
        }
    }

    public struct Plugin: Sendable, Hashable {
        public var path: String
        public var platform: PackPlatform
        /// Read from the binary's descriptor by `build`, never typed by hand.
        public var identity: Identity?
        public init(path: String, platform: PackPlatform, identity: Identity? = nil) {
            self.path = path
            self.platform = platform
            self.identity = identity
        }
    }

    /// What a plugin's descriptor says about it.
    public struct Identity: Sendable, Hashable {
        public var pluginId: String
        public var pluginVersion: String
        /// `driver` or `controller`.
        public var kind: String
        public var abiMajor: Int
        public var abiMinor: Int
        public init(pluginId: String, pluginVersion: String, kind: String, abiMajor: Int, abiMinor: Int) {
            self.pluginId = pluginId
            self.pluginVersion = pluginVersion
            self.kind = kind
            self.abiMajor = abiMajor
            self.abiMinor = abiMinor
        }
    }

    public struct Dependency: Sendable, Hashable {
        public var id: String
        public var versions: VersionRange
        public init(id: String, versions: VersionRange) {
            self.id = id
            self.versions = versions
        }
    }

    public struct File: Sendable, Hashable {
        public var path: String
        public var sha256: ConfigDigest
        public var size: Int
        public init(path: String, sha256: ConfigDigest, size: Int) {
            self.path = path
            self.sha256 = sha256
            self.size = size
        }
    }

    /// An Ed25519 signature over `signedBytes`, by the key `keyId` names.
    public struct Signature: Sendable, Hashable {
        public static let algorithm = "ed25519"
        public var keyId: String
        /// 64 bytes.
        public var value: [UInt8]
        public init(keyId: String, value: [UInt8]) {
            self.keyId = keyId
            self.value = value
        }
    }

    public init(id: String, version: SemanticVersion, vendor: String, description: String, license: String,
                minHostVersion: SemanticVersion = SwitchyardRelease.version, profiles: [Profile] = [], plugins: [Plugin] = [],
                dependencies: [Dependency] = [], files: [File]? = nil, signature: Signature? = nil) {
        self.id = id
        self.version = version
        self.vendor = vendor
        self.description = description
        self.license = license
        self.minHostVersion = minHostVersion
        self.profiles = profiles
        self.plugins = plugins
        self.dependencies = dependencies
        self.files = files
        self.signature = signature
    }

    /// Whether `id` is a reverse-DNS name: at least two dot-separated labels
    /// of lowercase letters, digits and `-`, each starting with a letter or digit.
    public static func isReverseDNS(_ id: String) -> Bool {
        let labels = id.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && id.utf8.count <= 128 && labels.allSatisfy { label in
            guard let first = label.unicodeScalars.first, first != "-", label.count <= 63 else { return false }
            return label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        }
    }

    /// Nil when the manifest is complete (as `build` leaves it); otherwise
    /// the field that is missing.
    public var completenessProblem: (field: String, reason: String)? {
        guard let files else { return ("files", "is missing; run `switchyard pack build` (it hashes every file)") }
        for (i, p) in plugins.enumerated() where p.identity == nil {
            return ("plugins[\(i)]", "\(p.path) has no plugin_id, plugin_version, kind and abi; `switchyard pack build` reads them from the binary")
        }
        for (i, p) in profiles.enumerated() where p.id == nil {
            return ("profiles[\(i)]", "\(p.path) has no id; `switchyard pack build` reads it from the profile")
        }
        let listed = Set(files.map(\.path))
        for (i, p) in profiles.enumerated() where !listed.contains(p.path) {
            return ("profiles[\(i)].path", "\(p.path) is not in files")
        }
        for (i, p) in plugins.enumerated() where !listed.contains(p.path) {
            return ("plugins[\(i)].path", "\(p.path) is not in files")
        }
        return nil
    }

    /// The plugins for `platform`.
    public func plugins(for platform: PackPlatform) -> [Plugin] { plugins.filter { $0.platform == platform } }
}
