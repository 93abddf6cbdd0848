/// The Switchyard release this build is: the version a pack's
/// `host.min_version` is compared with. Raise it with every release that
/// a pack may need (a new ABI minor, a new profile feature).
public enum SwitchyardRelease {
    public static let version = SemanticVersion(0, 9, 0)
}
