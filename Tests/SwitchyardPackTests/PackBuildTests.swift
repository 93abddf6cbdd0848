import Foundation
import SwitchyardHost
import SwitchyardJSON
import SwitchyardPack
import SwitchyardPackBuild
import SwitchyardTestSupport
import Testing

/// Building from folders with real profiles and a real plugin binary
/// (ExampleCDriver, from the build folder).
@Suite struct PackBuildTests {
    /// A vendor folder: the Eastron profile (with its golden vectors), the
    /// C example's profile and the C plugin for this platform.
    func vendorFolder() throws -> String {
        let dir = TestPaths.temporaryDirectory() + "/pack"
        let platform = PackPlatform.current!.rawValue
        try FileManager.default.createDirectory(atPath: dir + "/profiles", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/plugins/\(platform)", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TestPaths.profileDirectory + "/eastron/eastron_sdm630.json", toPath: dir + "/profiles/eastron_sdm630.json")
        try FileManager.default.copyItem(atPath: TestPaths.profileDirectory + "/simulated/example_c_sensor.json", toPath: dir + "/profiles/example_c_sensor.json")
        try FileManager.default.copyItem(atPath: TestPaths.plugin("ExampleCDriver"), toPath: dir + "/plugins/\(platform)/libExampleCDriver.so")
        var m = PackBuilder.skeleton(id: "com.example.meters", vendor: "Example Energy")
        m.profiles = [.init(path: "profiles/eastron_sdm630.json"), .init(path: "profiles/example_c_sensor.json")]
        m.plugins = [.init(path: "plugins/\(platform)/libExampleCDriver.so", platform: PackPlatform.current!)]
        m.dependencies = [.init(id: "org.switchyard.sunspec", versions: try VersionRange.parse("^2.0.0").get())]
        try PackFixtures.write(m.fileText, to: dir + "/pack.json")
        return dir
    }

    func buildFailure(_ folder: String) -> PackError? {
        PackFixtures.refusal { () throws(PackError) in try PackBuilder.build(folder: folder, key: PackFixtures.fixedKey) }
    }

    @Test func buildVerifyReadRoundTrip() throws {
        let folder = try vendorFolder()
        let build = try PackBuilder.build(folder: folder, key: PackFixtures.fixedKey)
        #expect(build.report.passed)
        let archive = try build.archive()
        let path = folder + "/../meters.pack.tar"
        try PackFiles.write(archive, to: path)
        let pack = try PackReader.open(archive: path, trust: PackFixtures.trust)
        #expect(pack.manifest == build.manifest)
        #expect(pack.files.count == 3)
        #expect(pack.files["profiles/eastron_sdm630.json"] == Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/profiles/eastron_sdm630.json"))))
        // Ids and the plugin's ABI come from the files, not from typing.
        #expect(pack.manifest.profiles.compactMap(\.id) == ["eastron_sdm630", "example_c_sensor"])
        let identity = try #require(pack.manifest.plugins.first?.identity)
        let loaded = try LoadedPlugin.load(TestPaths.plugin("ExampleCDriver"))
        #expect(identity.abiMajor == Int(loaded.abiMajor) && identity.abiMinor == Int(loaded.abiMinor))
        #expect(identity.pluginId == loaded.id && identity.kind == "driver")
        #expect(build.report.checked.contains { $0.contains("golden vectors") && $0.contains("0 failed") })
        // The same folder builds the same archive.
        #expect(try PackBuilder.build(folder: folder, key: PackFixtures.fixedKey).archive() == archive)
    }

    @Test func signingAFolderMakesItVerifiable() throws {
        let folder = try vendorFolder()
        let unsigned = try PackBuilder.build(folder: folder)
        try PackFiles.write(Array(unsigned.manifest.fileText.utf8), to: folder + "/pack.json")
        #expect(PackFixtures.refusal { () throws(PackError) in try PackReader.open(folder: folder, trust: PackFixtures.trust) }?.code == .unsigned)
        let signed = try PackBuilder.build(folder: folder, key: PackFixtures.fixedKey)
        try PackFiles.write(Array(signed.manifest.fileText.utf8), to: folder + "/pack.json")
        #expect(try PackReader.open(folder: folder, trust: PackFixtures.trust).files.count == 3)
        // A file changed after signing, or added.
        try PackFixtures.write("{}", to: folder + "/profiles/example_c_sensor.json")
        #expect(PackFixtures.refusal { () throws(PackError) in try PackReader.open(folder: folder, trust: PackFixtures.trust) }?.code == .hashMismatch)
    }

    @Test func sunspecPackBuildsAndVerifies() throws {
        let folder = TestPaths.profileDirectory + "/sunspec"
        let build = try PackBuilder.build(folder: folder, key: PackFixtures.fixedKey)
        #expect(build.manifest.id == "org.switchyard.sunspec")
        #expect(build.manifest.profiles.compactMap(\.id) == ["sunspec_battery", "sunspec_inverter", "sunspec_meter"])
        // The folder's pack.json (written by scripts/sunspec-pack.py) lists what build computes.
        let folderManifest = try PackManifest(parsing: try PackFiles.read(folder + "/pack.json", limitBytes: 1 << 20), file: "pack.json")
        #expect(folderManifest.files == build.manifest.files)
        let pack = try PackReader.open(archiveBytes: try build.archive(), file: "sunspec.pack.tar", trust: PackFixtures.trust)
        #expect(pack.files.count == 4)
        #expect(build.report.checked.filter { $0.contains("golden vectors") && $0.contains(", 0 failed") }.count == 3)
    }

    @Test func badFoldersAreRefusedWithFileAndReason() throws {
        // A listed profile that is missing.
        var folder = try vendorFolder()
        try FileManager.default.removeItem(atPath: folder + "/profiles/eastron_sdm630.json")
        var error = buildFailure(folder)
        #expect(error?.code == .lintFailed && error?.field == "profiles[0].path" && error?.file == folder + "/pack.json", "\(String(describing: error))")

        // A profile that does not lint.
        folder = try vendorFolder()
        try PackFixtures.write("{\"id\": \"broken\", \"driver\": \"modbus\", \"channels\": 7}", to: folder + "/profiles/example_c_sensor.json")
        error = buildFailure(folder)
        #expect(error?.code == .lintFailed && error?.file == folder + "/profiles/example_c_sensor.json", "\(String(describing: error))")

        // A golden vector that fails.
        folder = try vendorFolder()
        let path = folder + "/profiles/eastron_sdm630.json"
        var doc = try JSONValue(parsing: String(contentsOfFile: path, encoding: .utf8)).objectValue!
        var tests = doc["tests"]!.arrayValue!
        var first = tests[0].objectValue!
        var expect = first["expect"]!.objectValue!
        expect["VoltageL1"] = 999
        first["expect"] = .object(expect)
        tests[0] = .object(first)
        doc["tests"] = .array(tests)
        try PackFixtures.write(JSONValue.object(doc).prettyText, to: path)
        error = buildFailure(folder)
        #expect(error?.code == .lintFailed && error?.file == path && error?.message.contains("VoltageL1") == true, "\(String(describing: error))")

        // A binary declared for the other platform.
        folder = try vendorFolder()
        var m = try PackManifest(parsing: try PackFiles.read(folder + "/pack.json", limitBytes: 1 << 20), file: "pack.json")
        let other: PackPlatform = PackPlatform.current == .linuxX86_64 ? .linuxAarch64 : .linuxX86_64
        m.plugins[0].platform = other
        try PackFixtures.write(m.fileText, to: folder + "/pack.json")
        error = buildFailure(folder)
        #expect(error?.code == .lintFailed && error?.field == "plugins[0].platform", "\(String(describing: error))")

        // A file that is no plugin.
        folder = try vendorFolder()
        try PackFixtures.write("not ELF", to: folder + "/plugins/\(PackPlatform.current!.rawValue)/libExampleCDriver.so")
        error = buildFailure(folder)
        #expect(error?.code == .lintFailed && error?.file?.hasSuffix("libExampleCDriver.so") == true, "\(String(describing: error))")

        // A symbolic link in the folder (it could point anywhere).
        folder = try vendorFolder()
        try FileManager.default.createSymbolicLink(atPath: folder + "/profiles/passwd.json", withDestinationPath: "/etc/passwd")
        error = buildFailure(folder)
        #expect(error?.code == .unsafePath && error?.file == folder + "/profiles/passwd.json", "\(String(describing: error))")

        // No pack.json.
        folder = try vendorFolder()
        try FileManager.default.removeItem(atPath: folder + "/pack.json")
        #expect(buildFailure(folder)?.code == .missingFile)
    }

    @Test func archiveSigningChecksFilesFirst() throws {
        let folder = try vendorFolder()
        let unsigned = try PackBuilder.build(folder: folder).archive()
        let (manifest, signed) = try PackBuilder.sign(archiveBytes: unsigned, file: "u.pack.tar", key: PackFixtures.fixedKey)
        #expect(manifest.signature?.keyId == PackFixtures.fixedKey.keyId)
        #expect(try PackReader.open(archiveBytes: signed, file: "s", trust: PackFixtures.trust).files.count == 3)
        // An archive whose file no longer matches its manifest is not signed.
        var entries = try PackArchive.read(unsigned, file: "u")
        entries[2].bytes[0] ^= 1
        let error = PackFixtures.refusal { () throws(PackError) in
            try PackBuilder.sign(archiveBytes: try PackArchive.write(entries), file: "u.pack.tar", key: PackFixtures.fixedKey)
        }
        #expect(error?.code == .hashMismatch)
    }
}

/// Plugins the loader refuses or warns about, and binaries for another platform.
@Suite struct PackPluginLintTests {
    /// A folder holding one plugin binary at `plugins/<platform>/<name>`.
    func folder(with binary: String, platform: PackPlatform = PackPlatform.current!, name: String = "libfixture.so") throws -> String {
        let dir = TestPaths.temporaryDirectory() + "/pack"
        try FileManager.default.createDirectory(atPath: dir + "/plugins/\(platform.rawValue)", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: binary, toPath: dir + "/plugins/\(platform.rawValue)/\(name)")
        var m = PackBuilder.skeleton(id: "com.example.fixture", vendor: "Example")
        m.plugins = [.init(path: "plugins/\(platform.rawValue)/\(name)", platform: platform)]
        try PackFixtures.write(m.fileText, to: dir + "/pack.json")
        return dir
    }

    @Test func aPluginNeedingANewerABIIsRefused() throws {
        let dir = TestPaths.temporaryDirectory()
        let so = try CFixture.build(CFixture.plugin(minor: "(SY_ABI_MINOR + 1)"), name: "newer", in: dir)
        let folder = try folder(with: so)
        let error = PackFixtures.refusal { () throws(PackError) in try PackBuilder.build(folder: folder) }
        #expect(error?.code == .lintFailed && error?.message.contains("abi_minor") == true && error?.file?.hasSuffix("libfixture.so") == true,
                "\(String(describing: error))")
    }

    @Test func exportsBeyondTheEntryAreWarnedAbout() throws {
        let dir = TestPaths.temporaryDirectory()
        let so = try CFixture.build(CFixture.plugin() + "\nint fixture_extra_symbol(void) { return 1; }\n", name: "chatty", in: dir, exportsOnlyEntry: false)
        let build = try PackBuilder.prepare(folder: try folder(with: so))
        #expect(build.report.passed)
        #expect(build.report.warnings.contains { $0.contains("fixture_extra_symbol") }, "\(build.report.warnings)")
    }

    @Test func aBinaryForAnotherPlatformTakesTheIdentityOfItsTwin() throws {
        let here = PackPlatform.current!
        let other: PackPlatform = here == .linuxX86_64 ? .linuxAarch64 : .linuxX86_64
        // The C example with its ELF machine changed stands in for a build on the other platform.
        var bytes = try PackFiles.read(TestPaths.plugin("ExampleCDriver"), limitBytes: 64 << 20)
        bytes[18] = UInt8(other.elfMachine & 0xFF)
        bytes[19] = UInt8(other.elfMachine >> 8)
        let dir = TestPaths.temporaryDirectory()
        try PackFiles.write(bytes, to: dir + "/libExampleCDriver.so")

        // Alone, it cannot be described: refused with the reason.
        let alone = try folder(with: dir + "/libExampleCDriver.so", platform: other, name: "libExampleCDriver.so")
        let error = PackFixtures.refusal { () throws(PackError) in try PackBuilder.build(folder: alone) }
        #expect(error?.code == .lintFailed && error?.message.contains("cannot be loaded") == true, "\(String(describing: error))")

        // Beside this platform's build of the same file name, it takes its identity.
        let pair = try folder(with: TestPaths.plugin("ExampleCDriver"), name: "libExampleCDriver.so")
        try FileManager.default.createDirectory(atPath: pair + "/plugins/\(other.rawValue)", withIntermediateDirectories: true)
        try PackFiles.write(bytes, to: pair + "/plugins/\(other.rawValue)/libExampleCDriver.so")
        var m = try PackManifest(parsing: try PackFiles.read(pair + "/pack.json", limitBytes: 1 << 20), file: "pack.json")
        m.plugins.append(.init(path: "plugins/\(other.rawValue)/libExampleCDriver.so", platform: other))
        try PackFixtures.write(m.fileText, to: pair + "/pack.json")
        let build = try PackBuilder.build(folder: pair)
        #expect(build.manifest.plugins.count == 2)
        #expect(build.manifest.plugins[1].identity == build.manifest.plugins[0].identity)
        #expect(build.manifest.plugins[1].identity?.pluginId == "switchyard.example-c")
    }
}
