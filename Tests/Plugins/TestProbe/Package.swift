// swift-tools-version: 6.1
import PackageDescription

/// The test-only probe plugin, a package of its own so that no shipped build
/// folder holds it: it misbehaves on request, and checks that Swift generics,
/// protocols and casts work inside a plugin image. It depends on the SDK
/// package alone, as an out-of-tree plugin does. The tests build it into
/// `.build/test-plugins` (TestPaths.testPluginDirectory); so does `make test`.
let sdk = Context.packageDirectory + "/../../../SDK"

let package = Package(
    name: "TestProbe",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TestProbe", type: .dynamic, targets: ["TestProbe"]),
    ],
    dependencies: [
        .package(path: sdk),
    ],
    targets: [
        .target(
            name: "TestProbe",
            dependencies: [.product(name: "SwitchyardPluginKit", package: "SDK")],
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(sdk)/exports.map"])]
        ),
    ]
)
