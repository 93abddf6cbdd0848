import SwitchyardPack

/// What `pack lint` found: refusals (the pack is not built), warnings (it
/// is), and one line per check that ran, for the vendor to read.
public struct PackLintReport: Sendable {
    public var errors: [PackError] = []
    public var warnings: [String] = []
    public var checked: [String] = []

    public init() {}

    public var passed: Bool { errors.isEmpty }
}
