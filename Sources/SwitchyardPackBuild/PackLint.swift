import SwitchyardHost
import SwitchyardModbusProfile
import SwitchyardModel
import SwitchyardPack

/// Every check a pack passes before it is built (docs/packs.md, "What
/// lint checks"): the same checks as `switchyard profile lint` and
/// `profile test` for each profile, the loader's checks for each plugin,
/// compatibility and dependencies.
public enum PackLint {
    /// Checks the pack in `folder` against `manifest` (whose `files` are the
    /// folder's) and fills in what the checks read: profile ids and plugin
    /// identities. Problems go to `report`.
    public static func check(_ manifest: inout PackManifest, folder: String, profileDirectories: [String], report: inout PackLintReport) {
        let manifestPath = folder + "/" + PackPath.manifest
        let present = Set((manifest.files ?? []).map(\.path))
        checkProfiles(&manifest, folder: folder, present: present, profileDirectories: profileDirectories, report: &report)
        checkPlugins(&manifest, folder: folder, present: present, report: &report)

        // Dependencies' ranges and self-dependency are refused when pack.json is read;
        // what is left is the fit with this host.
        for d in manifest.dependencies { report.checked.append("dependency \(d.id) \(d.versions): well formed") }
        if manifest.minHostVersion > SwitchyardRelease.version {
            report.warnings.append("\(manifestPath): host.min_version: \(manifest.minHostVersion) is newer than this Switchyard (\(SwitchyardRelease.version)); it cannot check the pack as that host would")
        }
        if let platform = PackPlatform.current {
            let host = PackHost(platform: platform, abiMajor: Int(PluginABI.major), abiMinor: Int(PluginABI.minor))
            for problem in PackCompatibility.problems(manifest, host: host) where problem.field?.hasPrefix("plugins[") == true {
                report.errors.append(problem.inFile(manifestPath))
            }
        }
        if manifest.profiles.isEmpty && manifest.plugins.isEmpty {
            report.errors.append(PackError(.lintFailed, file: manifestPath, field: "profiles", "the pack holds no profile and no plugin"))
        }
    }

    static func checkProfiles(_ manifest: inout PackManifest, folder: String, present: Set<String>, profileDirectories: [String], report: inout PackLintReport) {
        let manifestPath = folder + "/" + PackPath.manifest
        var paths: [String] = []
        for (i, p) in manifest.profiles.enumerated() {
            if present.contains(p.path) {
                paths.append(folder + "/" + p.path)
            } else {
                report.errors.append(PackError(.missingFile, file: manifestPath, field: "profiles[\(i)].path", "\(p.path) is not in the pack folder"))
            }
        }
        let declared = Set(manifest.profiles.map(\.path))
        for rel in present.sorted() where rel.hasSuffix(".json") && !rel.hasSuffix(".schema.json") && !declared.contains(rel) {
            report.warnings.append("\(folder)/\(rel): a JSON file not listed in profiles; it ships, but hosts do not load it as one of the pack's profiles")
        }
        // Profiles may extend ones in `profileDirectories` (a dependency's); those are loaded, not checked.
        var catalog = ProfileCatalog.load(directories: profileDirectories)
        let before = catalog.errors.count
        catalog.add(paths: paths)
        let errors = catalog.errors.dropFirst(before)
        for (i, p) in manifest.profiles.enumerated() where present.contains(p.path) {
            let file = folder + "/" + p.path
            let mine = errors.filter { $0.issues.contains { $0.file == file } }
            guard mine.isEmpty, let profile = catalog.profiles.values.first(where: { $0.file == file }) else {
                for e in mine {
                    for issue in e.issues {
                        report.errors.append(PackError(.lintFailed, file: issue.file ?? file, field: issue.path.components.isEmpty ? nil : issue.path.description, issue.message))
                    }
                }
                if mine.isEmpty { report.errors.append(PackError(.lintFailed, file: file, "did not load as a profile")) }
                continue
            }
            if let declaredId = p.id, declaredId != profile.id {
                report.warnings.append("\(manifestPath): profiles[\(i)].id: was \(declaredId); the profile's id is \(profile.id)")
            }
            manifest.profiles[i].id = profile.id
            var line = "profile \(p.path): lint ok (\(profile.id), \(profile.channels.count) channels"
            if profile.driver == ModbusProfile.driverClass {
                do {
                    let m = try ModbusProfile(json: profile.document, file: file)
                    var values = 0
                    var failures: [TestVector.Failure] = []
                    for v in m.tests {
                        values += v.expect.count
                        failures += v.run(on: m)
                    }
                    for f in failures {
                        report.errors.append(PackError(.lintFailed, file: file, field: f.path.description, "golden vector \"\(f.vector)\": \(f.point): expected \(f.expected), got \(f.got)"))
                    }
                    if m.tests.isEmpty { report.warnings.append("\(file): no golden vectors (\"tests\"): add raw registers and the values they must give") }
                    for (point, reason) in m.neverRead() { report.warnings.append("\(file): \(point.path): \(reason)") }
                    line += "; \(m.tests.count) golden vectors, \(values) values, \(failures.count) failed"
                } catch {
                    report.errors.append(PackError(.lintFailed, file: file, "\(error)"))
                }
            }
            report.checked.append(line + ")")
        }
    }

    static func checkPlugins(_ manifest: inout PackManifest, folder: String, present: Set<String>, report: inout PackLintReport) {
        let manifestPath = folder + "/" + PackPath.manifest
        var byName: [String: PackManifest.Identity] = [:]
        var foreign: [Int] = []
        for (i, p) in manifest.plugins.enumerated() {
            let file = folder + "/" + p.path
            guard present.contains(p.path) else {
                report.errors.append(PackError(.missingFile, file: manifestPath, field: "plugins[\(i)].path", "\(p.path) is not in the pack folder"))
                continue
            }
            let binary: PluginBinary
            do { binary = try PluginBinary.read(file) } catch {
                report.errors.append(PackError(.lintFailed, file: file, "\(error)"))
                continue
            }
            guard binary.machine == p.platform.elfMachine else {
                report.errors.append(PackError(.lintFailed, file: file, field: "plugins[\(i)].platform",
                                               "the binary is for ELF machine \(binary.machine), not \(p.platform.rawValue) (\(p.platform.elfMachine))"))
                continue
            }
            guard binary.exportsEntry else {
                report.errors.append(PackError(.lintFailed, file: file, "does not export \(PluginBinary.entrySymbol); not a Switchyard plugin"))
                continue
            }
            let extra = binary.exports.filter { $0 != PluginBinary.entrySymbol }
            if !extra.isEmpty {
                report.warnings.append("\(file): exports \(extra.count) symbol\(extra.count == 1 ? "" : "s") besides the entry (\(extra.prefix(3).joined(separator: ", "))\(extra.count > 3 ? ", …" : "")); link with the SDK's exports.map so only the entry is global")
            }
            guard p.platform == PackPlatform.current else {
                foreign.append(i)
                continue
            }
            do {
                let loaded = try LoadedPlugin.load(file)
                let identity = PackManifest.Identity(pluginId: loaded.id, pluginVersion: loaded.version, kind: loaded.kind.rawValue,
                                                     abiMajor: Int(loaded.abiMajor), abiMinor: Int(loaded.abiMinor))
                manifest.plugins[i].identity = identity
                byName[basename(p.path)] = identity
                let classes = loaded.manifest.classes.map(\.name).joined(separator: ", ")
                report.checked.append("plugin \(p.path): \(p.platform.rawValue), entry exported, loaded: \(loaded.id) \(loaded.version) \(loaded.kind.rawValue), ABI \(loaded.abiMajor).\(loaded.abiMinor), classes \(classes)")
            } catch {
                report.errors.append(PackError(.lintFailed, file: file, "\(error)"))
            }
        }
        // A binary for another platform cannot be opened here; it is the same
        // source built again, so it takes the identity of the host platform's
        // binary of the same file name.
        for i in foreign {
            let p = manifest.plugins[i]
            guard let identity = byName[basename(p.path)] else {
                report.errors.append(PackError(.lintFailed, file: folder + "/" + p.path, field: "plugins[\(i)]",
                                               "a \(p.platform.rawValue) binary cannot be loaded on \(PackPlatform.current?.rawValue ?? "this machine") to read its descriptor; add the \(PackPlatform.current?.rawValue ?? "host") build of the same plugin under the same file name, or build the pack on \(p.platform.rawValue)"))
                continue
            }
            manifest.plugins[i].identity = identity
            report.checked.append("plugin \(p.path): \(p.platform.rawValue), ELF machine and entry checked; identity from the \(PackPlatform.current?.rawValue ?? "host") build: \(identity.pluginId) \(identity.pluginVersion), ABI \(identity.abiMajor).\(identity.abiMinor)")
        }
    }

    static func basename(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }
}
