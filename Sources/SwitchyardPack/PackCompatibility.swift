/// What a host offers a pack: its release, platform and plugin ABI.
public struct PackHost: Sendable, Hashable {
    public var version: SemanticVersion
    public var platform: PackPlatform
    public var abiMajor: Int
    public var abiMinor: Int

    public init(version: SemanticVersion = SwitchyardRelease.version, platform: PackPlatform, abiMajor: Int, abiMinor: Int) {
        self.version = version
        self.platform = platform
        self.abiMajor = abiMajor
        self.abiMinor = abiMinor
    }
}

/// Whether a pack fits a host and the packs beside it. Pure: the caller
/// says what the host is and which packs are installed.
public enum PackCompatibility {
    /// Every reason `manifest` cannot run on `host` (empty: it can): the
    /// host is older than `host.min_version`; the pack has plugins but none
    /// for the host's platform; a plugin for the platform needs another ABI
    /// major or a newer minor than the host's.
    public static func problems(_ manifest: PackManifest, host: PackHost) -> [PackError] {
        var out: [PackError] = []
        if host.version < manifest.minHostVersion {
            out.append(PackError(.incompatible, field: "host.min_version",
                                 "the pack needs Switchyard \(manifest.minHostVersion) or later; this host is \(host.version)"))
        }
        let platforms = Set(manifest.plugins.map(\.platform))
        if !platforms.isEmpty && !platforms.contains(host.platform) {
            out.append(PackError(.incompatible, field: "plugins",
                                 "the pack has plugins for \(platforms.map(\.rawValue).sorted().joined(separator: ", ")) but none for \(host.platform.rawValue)"))
        }
        for (i, plugin) in manifest.plugins.enumerated() where plugin.platform == host.platform {
            guard let identity = plugin.identity else {
                out.append(PackError(.incompatible, field: "plugins[\(i)]", "\(plugin.path) has no ABI in the manifest"))
                continue
            }
            if identity.abiMajor != host.abiMajor {
                out.append(PackError(.incompatible, field: "plugins[\(i)].abi.major",
                                     "\(plugin.path) is built for plugin ABI \(identity.abiMajor).\(identity.abiMinor); this host speaks ABI \(host.abiMajor)"))
            } else if identity.abiMinor > host.abiMinor {
                out.append(PackError(.incompatible, field: "plugins[\(i)].abi.minor",
                                     "\(plugin.path) needs plugin ABI \(identity.abiMajor).\(identity.abiMinor); this host has \(host.abiMajor).\(host.abiMinor)"))
            }
        }
        return out
    }

    /// Every dependency of `manifest` that `available` (pack id → installed
    /// or chosen version) does not satisfy.
    public static func dependencyProblems(_ manifest: PackManifest, available: [String: SemanticVersion]) -> [PackError] {
        manifest.dependencies.enumerated().compactMap { i, dependency in
            guard let version = available[dependency.id] else {
                return PackError(.incompatible, field: "dependencies[\(i)]", "needs pack \(dependency.id) \(dependency.versions), which is not present")
            }
            guard dependency.versions.contains(version) else {
                return PackError(.incompatible, field: "dependencies[\(i)]", "needs pack \(dependency.id) \(dependency.versions); version \(version) is present")
            }
            return nil
        }
    }
}
