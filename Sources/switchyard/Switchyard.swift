import ArgumentParser
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel

@main
struct Switchyard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyard",
        abstract: "Switchyard for operators and integrators: plugins, profiles, configs.",
        subcommands: [PluginCommand.self, ProfileCommand.self, PackCommand.self, ConfigCommand.self, SimCommand.self,
                      // The operator side, on a switchyard-server (ServerCommands*.swift).
                      OrgCommand.self, SiteCommand.self, GroupCommand.self, EdgeCommand.self, LayerCommand.self,
                      BulkCommand.self, AuditCommand.self, CatalogCommand.self, KeyCommand.self, TokenCommand.self])
}

/// A refused input: the message on stderr, exit status 1.
struct Refused: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

struct PluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin", abstract: "List, inspect and test plugins.", subcommands: [List.self, Inspect.self, Test.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load every plugin in the plugin folders and list them, with the refused ones and why.")

        @Option(name: .customLong("plugins"), help: "Plugin folder (repeatable). Default: the folder of this executable.")
        var plugins: [String] = []

        func run() throws {
            let catalog = PluginCatalog.load(directories: plugins.isEmpty ? EdgeSetup.defaultPluginDirectories : plugins)
            for p in catalog.plugins.sorted(by: { $0.id < $1.id }) {
                let classes = p.manifest.classes.map(\.name).joined(separator: ", ")
                print("\(p.id) \(p.version)  \(p.kind.rawValue)  ABI \(p.abiMajor).\(p.abiMinor)  \(classes)  (\(FileSystem.basename(p.path)))")
            }
            for e in catalog.errors { print("REFUSED \(e)") }
            for e in catalog.skipped { print("skipped \(e.file): not a plugin (no \(e.expected ?? "entry symbol"))") }
            if catalog.plugins.isEmpty && catalog.errors.isEmpty { print("no plugins found") }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load one plugin library and show what it provides, or why it is refused.")

        @Argument(help: "The plugin library (.so).")
        var file: String

        @Flag(help: "Print the manifest as JSON.")
        var json = false

        func run() throws {
            let p: LoadedPlugin
            do { p = try LoadedPlugin.load(file) } catch { throw Refused(message: "refused: \(error)") }
            if json {
                let classes: [JSONValue] = p.manifest.classes.map { c in
                    var o: [String: JSONValue] = ["name": .string(c.name), "parameters": c.parameters.json]
                    if let d = c.description { o["description"] = .string(d) }
                    if let conn = c.connection { o["connection"] = conn.json }
                    return .object(o)
                }
                let doc: JSONValue = ["id": .string(p.id), "version": .string(p.version), "kind": .string(p.kind.rawValue),
                                      "abi": .string("\(p.abiMajor).\(p.abiMinor)"), "file": .string(p.path), "validates": .bool(p.validates),
                                      "classes": .array(classes)]
                print(doc.prettyText)
                return
            }
            print("plugin   \(p.id) \(p.version)")
            print("kind     \(p.kind.rawValue)")
            print("ABI      \(p.abiMajor).\(p.abiMinor)")
            print("file     \(p.path)")
            print("validate " + (p.validates ? "yes: the plugin checks instance configs itself (ABI 1.2)" : "no: the schema only"))
            for c in p.manifest.classes {
                print("\nclass \(c.name)" + (c.description.map { " — \($0)" } ?? ""))
                describe(c.parameters, title: "parameters")
                if let connection = c.connection { describe(connection, title: "connection") }
            }
        }

        /// Every keyword the host validates (`ParameterSchema`) is shown:
        /// bounds, `enum`, `device`, defaults and `required`, `hot`, nested
        /// object members and array `items` (indented under their member),
        /// and `additionalProperties: true`. Only `title` is left out: the
        /// host ignores it.
        func describe(_ schema: ParameterSchema, title: String) {
            guard !schema.properties.isEmpty || schema.additionalProperties else {
                print("  \(title): none")
                return
            }
            print("  \(title):" + (schema.additionalProperties ? " (other members accepted)" : ""))
            members(of: schema, indent: "    ")
        }

        func members(of schema: ParameterSchema, indent: String) {
            for (name, s) in schema.properties.sorted(by: { $0.key < $1.key }) {
                describe(name, s, required: schema.required.contains(name), indent: indent)
            }
        }

        func describe(_ name: String, _ s: ParameterSchema, required: Bool, indent: String) {
            var parts = [s.type?.rawValue ?? "any"]
            if let u = s.unit, !u.isEmpty { parts.append("[\(u)]") }
            if let min = s.minimum { parts.append(">= \(JSONValue.format(min))") }
            if let max = s.maximum { parts.append("<= \(JSONValue.format(max))") }
            if let min = s.exclusiveMinimum { parts.append("> \(JSONValue.format(min))") }
            if let max = s.exclusiveMaximum { parts.append("< \(JSONValue.format(max))") }
            if let e = s.enumValues { parts.append("one of " + e.map(\.canonicalText).joined(separator: "|")) }
            if let d = s.device { parts.append("device with \(d).*") }
            if let d = s.defaultValue { parts.append("default \(d.canonicalText)") } else if required { parts.append("required") }
            if s.hot { parts.append("hot") }
            if s.additionalProperties { parts.append("other members accepted") }
            print("\(indent)\(name): " + parts.joined(separator: ", ") + (s.description.map { "\n\(indent)    \($0)" } ?? ""))
            members(of: s, indent: indent + "  ")
            if let items = s.items { describe("items[]", items, required: false, indent: indent + "  ") }
        }
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Config documents.",
        subcommands: [Validate.self, AnyDiff.self, ApplyPatch.self,
                      // Edges' configs on a switchyard-server (ServerCommands+Config.swift).
                      ServerGet.self, ServerHistory.self, Explain.self, ServerRollback.self, Unpin.self])

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a config against plugins and profiles; print every problem with its path.")

        @Argument(help: "The config document.")
        var file: String

        @Option(name: .customLong("plugins"), help: "Plugin folder (repeatable). Default: the folder of this executable.")
        var plugins: [String] = []

        @Option(name: .customLong("profiles"), help: "Profile folder (repeatable). Default: ./DeviceProfiles.")
        var profiles: [String] = []

        func run() throws {
            let setup = EdgeSetup(pluginDirectories: plugins, profileDirectories: profiles)
            let (pluginCatalog, profileCatalog) = try setup.load()
            do {
                let config = try EdgeSetup.readConfig(file)
                // Plugins' validate calls run in child processes: one that traps or
                // hangs is a refusal, not the end of the command.
                let resolved = try pluginCatalog.validate(config, profiles: profileCatalog, isolation: .process)
                print("\(file): valid — \(resolved.devices.count) devices, \(resolved.controllers.count) controllers, \(config.alarms.count) alarms")
            } catch let error as SwitchyardModel.ValidationError {
                throw Refused(message: error.inFile(file).description)
            }
        }
    }
}
