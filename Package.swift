// swift-tools-version: 6.1
import PackageDescription

/// Every plugin exports exactly one symbol, `switchyard_plugin_entry_v1`; the
/// linker version script hides everything else, so no Swift type of a plugin's
/// statically linked SwitchyardPluginKit copy is visible to another image.
let pluginLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/SDK/exports.map"]),
]

/// The SDK package's products (SDK/): the host and the in-tree plugins build
/// against the same header and kit a plugin author gets.
let cSwitchyardPlugin: Target.Dependency = .product(name: "CSwitchyardPlugin", package: "SDK")
let switchyardJSON: Target.Dependency = .product(name: "SwitchyardJSON", package: "SDK")
let switchyardPluginKit: Target.Dependency = .product(name: "SwitchyardPluginKit", package: "SDK")

func swiftPlugin(_ name: String, path: String) -> Target {
    .target(
        name: name,
        dependencies: [switchyardPluginKit],
        path: path,
        linkerSettings: pluginLinkerSettings
    )
}

let package = Package(
    name: "Switchyard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchyard-edge", targets: ["switchyard-edge"]),
        .executable(name: "switchyard", targets: ["switchyard"]),
        .executable(name: "switchyard-bench", targets: ["switchyard-bench"]),
        .executable(name: "switchyard-server", targets: ["switchyard-server"]),
        // Plugins: each one a shared library the host loads at run time.
        .library(name: "SimulatedDevices", type: .dynamic, targets: ["SimulatedDevices"]),
        .library(name: "BalancingController", type: .dynamic, targets: ["BalancingController"]),
        .library(name: "PeakShavingController", type: .dynamic, targets: ["PeakShavingController"]),
        .library(name: "ExampleCDriver", type: .dynamic, targets: ["ExampleCDriver"]),
        .library(name: "ModbusDriver", type: .dynamic, targets: ["ModbusDriver"]),
    ],
    dependencies: [
        // The plugin SDK (the C header, SwitchyardPluginKit, SwitchyardJSON): a
        // package of its own so plugin authors fetch only it (SDK/Package.swift).
        .package(path: "SDK"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.21.0"),
    ],
    targets: [
        // Pure values, no I/O.
        .target(name: "SwitchyardModel", dependencies: [switchyardJSON], exclude: ["README.md"]),
        // Register decoding and read planning for the Modbus driver (profiles, plans, decoding: no I/O).
        .target(name: "SwitchyardModbusProfile", dependencies: ["SwitchyardModel"], exclude: ["README.md"]),
        // libmodbus through pkg-config, and a connection on it (framing, deadlines, RTU).
        .systemLibrary(name: "CModbus", pkgConfig: "libmodbus", providers: [.apt(["libmodbus-dev"])]),
        .target(name: "SwitchyardModbusIO", dependencies: ["CModbus", "SwitchyardModbusProfile"]),
        // Config documents for sync (issue 5): deep merge with provenance,
        // RFC 6902 JSON Patch (apply and diff), canonical hashing, signed envelopes.
        .target(
            name: "SwitchyardConfigDoc",
            dependencies: [switchyardJSON, .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["README.md"]
        ),
        // Packs (issue 15, docs/packs.md): manifest, keys, signatures, archive, compatibility;
        // shared by the CLI, the server and the edge. The build and lint side loads profiles
        // and plugins through the host's own code, so it is apart.
        .target(
            name: "SwitchyardPack",
            dependencies: ["SwitchyardConfigDoc", switchyardJSON, .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["README.md"]
        ),
        .target(name: "SwitchyardPackBuild", dependencies: ["SwitchyardPack", "SwitchyardHost", "SwitchyardModbusProfile", "SwitchyardModel"],
                exclude: ["README.md"]),
        // The config sync server (issue 5): stores, sync API, operator API, auth.
        .target(
            name: "SwitchyardServer",
            dependencies: [
                "SwitchyardConfigDoc", "SwitchyardModel", "SwitchyardModbusProfile", "SwitchyardHTTPGuard",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["README.md"]
        ),
        // Strict HTTP/1 framing and read timeouts, in front of both servers' Hummingbird (issue 26).
        .target(name: "SwitchyardHTTPFraming"),
        // The edge's telemetry (issue 16): the chunk codec, incremental
        // aggregates and the cycle's hand-off ring. Pure values, no I/O.
        .target(name: "SwitchyardTelemetry"),
        // Its store (GRDB, which the edge links already) and the recorder thread's rounds.
        .target(name: "SwitchyardRecorder", dependencies: ["SwitchyardTelemetry", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "SwitchyardHTTPGuard", dependencies: ["SwitchyardHTTPFraming", .product(name: "HummingbirdCore", package: "hummingbird")]),
        // Fuzzing (docs/fuzzing.md): the targets' entry functions, shared by the
        // libFuzzer binary (`make fuzz`, built apart in .build-fuzz) and the corpus replay test.
        .target(
            name: "SwitchyardFuzzTargets",
            dependencies: ["SwitchyardConfigDoc", "SwitchyardModel", "SwitchyardModbusProfile", "SwitchyardHTTPFraming", switchyardPluginKit,
                           "SwitchyardPack", "SwitchyardTelemetry",
                           .product(name: "Crypto", package: "swift-crypto")],
            path: "Fuzz/Targets"
        ),
        .target(name: "CFuzzDriver", path: "Fuzz/Driver"),
        .executableTarget(
            name: "switchyard-fuzz",
            dependencies: ["SwitchyardFuzzTargets", "CFuzzDriver"],
            path: "Fuzz/Main",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        // The operator's client of the server's API (used by the `switchyard` CLI and tests).
        .target(
            name: "SwitchyardServerClient",
            dependencies: [
                switchyardJSON,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // Loader, process image, core cycle, supervisor, device workers.
        .target(
            name: "SwitchyardHost",
            dependencies: [
                cSwitchyardPlugin, "SwitchyardModel", "SwitchyardModbusProfile",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        // The edge as a service: status port, metrics, reload, file watching.
        .target(
            name: "SwitchyardEdgeService",
            dependencies: [
                "SwitchyardHost", "SwitchyardHTTPGuard",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The edge's sync agent (issue 6): cache, fetch, verify, validate, apply, probation, rollback, heartbeats.
        .target(
            name: "SwitchyardAgent",
            dependencies: [
                "SwitchyardEdgeService", "SwitchyardConfigDoc", "SwitchyardServerClient",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        // Thin executables: argument parsing only.
        .executableTarget(
            name: "switchyard-edge",
            dependencies: ["SwitchyardEdgeService", "SwitchyardAgent", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"])]
        ),
        .executableTarget(
            name: "switchyard-server",
            dependencies: ["SwitchyardServer", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "switchyard",
            dependencies: ["SwitchyardHost", "SwitchyardModbusProfile", "SwitchyardModbusIO", "SwitchyardConfigDoc",
                           "SwitchyardServerClient", "SwitchyardPack", "SwitchyardPackBuild",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "switchyard-bench",
            dependencies: [
                "SwitchyardHost", "SwitchyardModbusProfile", "SwitchyardModbusIO", "SwitchyardConfigDoc",
                "SwitchyardServer", "SwitchyardServerClient", "SwitchyardAgent", "SwitchyardTelemetry", "SwitchyardRecorder",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/switchyard-bench"
        ),

        // Plugins.
        swiftPlugin("SimulatedDevices", path: "Plugins/SimulatedDevices"),
        swiftPlugin("BalancingController", path: "Plugins/BalancingController"),
        swiftPlugin("PeakShavingController", path: "Plugins/PeakShavingController"),
        .target(
            name: "ModbusDriver",
            dependencies: [switchyardPluginKit, "SwitchyardModbusProfile", "SwitchyardModbusIO"],
            path: "Plugins/ModbusDriver",
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "ExampleCDriver",
            dependencies: [cSwitchyardPlugin],
            path: "Plugins/ExampleCDriver",
            publicHeadersPath: ".",
            linkerSettings: pluginLinkerSettings + [.linkedLibrary("m")]
        ),
        // The test-only probe plugin (Tests/Plugins/TestProbe) is a package of
        // its own, built against SDK/ by the tests into .build/test-plugins,
        // so no shipped folder holds it.

        .target(name: "SwitchyardTestSupport", dependencies: ["SwitchyardHost", .product(name: "Logging", package: "swift-log")], path: "Tests/Support"),
        .testTarget(name: "SwitchyardModelTests", dependencies: ["SwitchyardModel", switchyardPluginKit]),
        .testTarget(name: "SwitchyardConfigDocTests", dependencies: ["SwitchyardConfigDoc", switchyardJSON, "SwitchyardTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "SwitchyardModbusProfileTests", dependencies: ["SwitchyardModbusProfile", "SwitchyardModel"]),
        .testTarget(name: "SwitchyardModbusIOTests", dependencies: ["SwitchyardModbusIO", "SwitchyardModbusProfile", "SwitchyardTestSupport"]),
        .testTarget(name: "ModbusDriverTests", dependencies: ["SwitchyardHost", "SwitchyardTestSupport"]),
        .testTarget(name: "SwitchyardHostTests", dependencies: ["SwitchyardHost", "SwitchyardTestSupport"]),
        .testTarget(name: "PluginTests", dependencies: ["SwitchyardHost", "SwitchyardTestSupport"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["SwitchyardHost", "SwitchyardEdgeService", "SwitchyardTestSupport", "SwitchyardAgent", "SwitchyardServerClient",
                           "SwitchyardFuzzTargets"]
        ),
        .testTarget(
            name: "SwitchyardServerTests",
            dependencies: [
                "SwitchyardServer", "SwitchyardServerClient", "SwitchyardTestSupport", "SwitchyardConfigDoc", "SwitchyardAgent",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(name: "SwitchyardAgentTests", dependencies: [
            "SwitchyardAgent", "SwitchyardTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "SwitchyardPackTests", dependencies: ["SwitchyardPack", "SwitchyardPackBuild", "SwitchyardTestSupport",
                                                            .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "SwitchyardEdgeServiceTests", dependencies: ["SwitchyardEdgeService", "SwitchyardTestSupport"]),
        .testTarget(name: "SwitchyardTelemetryTests", dependencies: ["SwitchyardTelemetry", "SwitchyardRecorder", "SwitchyardTestSupport",
                                                            .product(name: "GRDB", package: "GRDB.swift")]),
    ]
)
