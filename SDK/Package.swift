// swift-tools-version: 6.1
import PackageDescription

/// The Switchyard plugin SDK: everything a plugin author builds against, and
/// nothing else. It has no dependencies, so an out-of-tree plugin fetches this
/// package alone. Its version follows the ABI it carries (VERSION: the header's
/// SY_ABI_MAJOR.SY_ABI_MINOR, then a patch number for kit-only fixes).
///
/// The Switchyard repository builds its host and in-tree plugins against this
/// same folder (`.package(path: "SDK")`), so there is one copy of the header
/// and the kit. Published as its own repository by `make sdk-split`
/// (docs/plugins.md, "Depending on the SDK").
let package = Package(
    name: "SwitchyardPluginSDK",
    platforms: [.macOS(.v15)],
    products: [
        /// The Swift kit, linked statically into each Swift plugin.
        .library(name: "SwitchyardPluginKit", targets: ["SwitchyardPluginKit"]),
        /// The C ABI header alone, for C plugins built with SwiftPM and for the host.
        .library(name: "CSwitchyardPlugin", targets: ["CSwitchyardPlugin"]),
        /// JSON values, parser and canonical encoding (no Foundation): what the
        /// kit's `Parameters` hold. The host shares it.
        .library(name: "SwitchyardJSON", targets: ["SwitchyardJSON"]),
    ],
    targets: [
        // The ABI: one C header, shared by host and plugins.
        .target(name: "CSwitchyardPlugin"),
        // Pure values, no I/O.
        .target(name: "SwitchyardJSON"),
        // The SDK plugin authors use; linked statically into each plugin.
        .target(name: "SwitchyardPluginKit", dependencies: ["CSwitchyardPlugin", "SwitchyardJSON"], exclude: ["README.md"]),
    ]
)
