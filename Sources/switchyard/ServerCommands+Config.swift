import ArgumentParser
import SwitchyardConfigDoc
import SwitchyardHost
import SwitchyardJSON
import SwitchyardServerClient

// Layers, edges' effective configs and bulk changes on a switchyard-server.

/// `organization` (or `org`), `group`, `site`, `edge`.
enum LayerScope {
    static let names = ["organization", "group", "site", "edge"]

    static func parse(_ text: String) throws -> String {
        let scope = text == "org" ? "organization" : text
        guard names.contains(scope) else {
            throw CLI.usage("SCOPE is one of organization (or org), group, site, edge; got \"\(text)\"")
        }
        return scope
    }
}

/// ORG SCOPE TARGET, naming one layer.
struct LayerAddress: ParsableArguments {
    @Argument(help: "The organization.") var org: String
    @Argument(help: "organization (or org), group, site or edge.") var scope: String
    @Argument(help: "The layer's target: the organization, group, site or edge id.") var target: String

    func path(_ more: String...) throws -> String {
        ([API.path(org, "layers", try LayerScope.parse(scope), target)] + more).joined(separator: "/")
    }

    var key: String { "\(scope == "org" ? "organization" : scope):\(target)" }
}

struct LayerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layer",
        abstract: "Config layers: partial configs for an organization, group, site or edge, merged in that order into each edge's config.",
        subcommands: [Get.self, Put.self, Patch.self, History.self, Rollback.self, Check.self, Repair.self])

    /// After a write: the layer's new revision and ETag (for a later --if-match).
    static func printRevision(_ remote: Remote, _ address: LayerAddress) {
        guard !remote.json, let path = try? address.path(), let now = try? remote.raw("GET", path), now.status == 200 else { return }
        print("layer \(address.key) is now at revision \(now.header("Switchyard-Layer-Revision") ?? "?"), ETag \(now.header("ETag") ?? "?")")
    }

    /// A 412 said plainly.
    static func preconditionHint(_ address: LayerAddress) -> String {
        "layer \(address.key) has changed since the ETag you sent was read (another change landed first); nothing was stored.\n"
            + "Read it again (switchyard layer get \(address.org) \(address.scope) \(address.target) --etag), reapply your change, "
            + "or use --force to write over it."
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a layer's document.")

        @OptionGroup var address: LayerAddress
        @Flag(help: "Also print the layer's ETag and revision on stderr (for --if-match).") var etag = false
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            let answer = try remote.call("GET", try address.path())
            if etag {
                CLI.printError("ETag: \(answer.header("ETag") ?? "-")")
                CLI.printError("revision: \(answer.header("Switchyard-Layer-Revision") ?? "-")")
            }
            if remote.json { return remote.printRaw(answer) }
            print(try remote.document(answer).prettyText)
        }
    }

    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a layer with the document in FILE (a partial config; `-`: standard input).",
            discussion: "The server validates the config of every edge the layer reaches and refuses the change, storing nothing, with each edge, path and reason if one would be invalid. With --if-match, it is refused (412) if the layer changed since that ETag was read.")

        @OptionGroup var address: LayerAddress
        @Argument(help: "The layer document (JSON).") var file: String
        @Option(help: ArgumentHelp("Write only if the layer is still at this ETag (from `layer get --etag`); * : only if it exists.", valueName: "etag"))
        var ifMatch: String?
        @OptionGroup var reason: ChangeReason
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            let path = try address.path()
            let document = try InputFile.json(file)
            var headers = reason.headers
            if let ifMatch { headers.append(("If-Match", ifMatch)) }
            let answer = try remote.raw("PUT", path, body: document, headers: headers)
            guard answer.status == 200 else {
                throw remote.refusal(answer, hint: answer.status == 412 ? LayerCommand.preconditionHint(address) : nil)
            }
            remote.report(answer, "layer \(address.key) saved")
            LayerCommand.printRevision(remote, address)
        }
    }

    struct Patch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply an RFC 6902 JSON Patch (a JSON array of operations in FILE) to a layer.",
            discussion: "Reads the layer first and sends its ETag as If-Match, so a change made by someone else in between is refused (412) instead of being overwritten. --if-match sends the ETag you give instead; --force sends none.")

        @OptionGroup var address: LayerAddress
        @Argument(help: "The patch (JSON array of operations; `-`: standard input).") var file: String
        @Option(help: ArgumentHelp("The ETag the patch was written against (default: the current one, read first).", valueName: "etag"))
        var ifMatch: String?
        @Flag(help: "Apply to whatever the layer holds now, without If-Match.") var force = false
        @OptionGroup var reason: ChangeReason
        @OptionGroup var connection: ServerConnection

        func run() throws {
            if force && ifMatch != nil { throw CLI.usage("--force and --if-match contradict each other; give one") }
            let remote = try connection.remote()
            let path = try address.path()
            let text = try InputFile.text(file)
            let patch: JSONPatch
            do {
                patch = try JSONPatch(parsing: text)
            } catch {
                throw CLI.refused("\(file): \(error)")
            }
            var headers = reason.headers
            if let ifMatch {
                headers.append(("If-Match", ifMatch))
            } else if !force {
                let current = try remote.raw("GET", path)
                switch current.status {
                case 200:
                    if let tag = current.header("ETag") { headers.append(("If-Match", tag)) }
                case 404 where current.json?["error"]?["message"]?.stringValue?.hasPrefix("layer ") == true:
                    break  // No layer yet: the patch applies to {}.
                default:
                    throw remote.refusal(current)
                }
            }
            let answer = try remote.raw("PATCH", path, body: patch.jsonValue, headers: headers)
            guard answer.status == 200 else {
                throw remote.refusal(answer, hint: answer.status == 412 ? LayerCommand.preconditionHint(address) : nil)
            }
            remote.report(answer, "layer \(address.key) patched")
            LayerCommand.printRevision(remote, address)
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A layer's revisions, newest first, each with what it changed (the last 100).")

        @OptionGroup var address: LayerAddress
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            let answer = try remote.call("GET", try address.path("revisions"))
            if remote.json { return remote.printRaw(answer) }
            let revisions = (try remote.document(answer)["revisions"]?.arrayValue ?? [])
                .sorted { ($0["revision"]?.numberValue ?? 0) > ($1["revision"]?.numberValue ?? 0) }
            if revisions.isEmpty { return print("layer \(address.key) has no revisions") }
            print("layer \(address.key)")
            for (i, r) in revisions.enumerated() {
                print("revision \(Pretty.int(r["revision"]))  change \(Pretty.int(r["change_id"]))\(i == 0 ? "  (current)" : "")")
                let before = i + 1 < revisions.count ? revisions[i + 1]["document"] ?? .object([:]) : .object([:])
                let ops = JSONDiff(granularity: .fineGrained).patch(from: before, to: r["document"] ?? .object([:])).jsonValue.arrayValue ?? []
                for op in ops.prefix(12) { print("    " + Pretty.operation(op)) }
                if ops.count > 12 { print("    … \(ops.count - 12) more (--json for the documents)") }
            }
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an earlier revision's document as the layer's new revision.",
            discussion: "Validated like any change. The edges this layer reaches follow it (edges pinned by `config rollback` excepted).")

        @OptionGroup var address: LayerAddress
        @Option(help: "The revision to go back to (see `layer history`).") var revision: Int
        @Option(help: ArgumentHelp("Only if the layer is still at this ETag.", valueName: "etag")) var ifMatch: String?
        @OptionGroup var reason: ChangeReason
        @OptionGroup var connection: ServerConnection

        func run() throws {
            guard revision >= 1 else { throw CLI.usage("--revision is a number from 1") }
            let remote = try connection.remote()
            var headers = reason.headers
            if let ifMatch { headers.append(("If-Match", ifMatch)) }
            let answer = try remote.raw("POST", try address.path("rollback"), body: ["revision": .number(Double(revision))], headers: headers)
            guard answer.status == 200 else {
                throw remote.refusal(answer, hint: answer.status == 412 ? LayerCommand.preconditionHint(address) : nil)
            }
            remote.report(answer, "layer \(address.key) rolled back to revision \(revision)")
            LayerCommand.printRevision(remote, address)
        }
    }
}

extension LayerCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the organization's layers that hold members invalid on their own.",
            discussion: "The server refuses such members on every write; layers stored before it did may still hold some, hidden by another layer. Exit status 1 when there is any (repair each with `switchyard layer repair`).")

        @Argument(help: "The organization.") var org: String
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            let answer = try remote.call("GET", API.path(org, "layers", "invalid"))
            let layers = try remote.document(answer)["layers"]?.arrayValue ?? []
            if remote.json {
                remote.printRaw(answer)
            } else if layers.isEmpty {
                print("every layer of \(org) is valid on its own")
            } else {
                for layer in layers {
                    print("layer \(Pretty.text(layer["layer"])) (revision \(Pretty.int(layer["revision"])))")
                    for problem in layer["problems"]?.arrayValue ?? [] {
                        print("    \(Pretty.text(problem["path"])): \(Pretty.text(problem["message"]))")
                    }
                }
                print("\(layers.count) layer\(layers.count == 1 ? "" : "s") to repair: switchyard layer repair \(org) SCOPE TARGET --reason ...")
            }
            if !layers.isEmpty { throw ExitCode(CLI.refusedCode) }
        }
    }

    struct Repair: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a layer's members that are invalid on their own, as a new revision.",
            discussion: "An audited change (kind layer.repair) that lists each removed member; validated for every edge the layer reaches, like any change. See `switchyard layer check` first.")

        @OptionGroup var address: LayerAddress
        @Option(help: ArgumentHelp("Only if the layer is still at this ETag.", valueName: "etag")) var ifMatch: String?
        @OptionGroup var reason: ChangeReason
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            var headers = reason.headers
            if let ifMatch { headers.append(("If-Match", ifMatch)) }
            let answer = try remote.raw("POST", try address.path("repair"), headers: headers)
            guard answer.status == 200 else {
                throw remote.refusal(answer, hint: answer.status == 412 ? LayerCommand.preconditionHint(address) : nil)
            }
            remote.report(answer, "layer \(address.key) repaired")
            if !remote.json {
                for removed in answer.json?["removed"]?.arrayValue ?? [] { print("    removed \(Pretty.text(removed))") }
                LayerCommand.printRevision(remote, address)
            }
        }
    }
}

// MARK: Edges' effective configs

/// ORG EDGE.
struct EdgeAddress: ParsableArguments {
    @Argument(help: "The organization.") var org: String
    @Argument(help: "The edge.") var edge: String

    func path(_ more: String...) -> String { ([API.path(org, "edges", edge)] + more).joined(separator: "/") }

    /// The edge's current config version (exit 1 when it has none yet).
    func currentVersion(_ remote: Remote) throws -> Int {
        let e = try remote.document(try remote.call("GET", path()))
        guard let number = e["version"]?.numberValue, number >= 1, let version = Int(exactly: number) else {
            throw CLI.refused("edge \(edge) has no config version yet (no layer reaches it, or none was accepted)")
        }
        return version
    }
}

extension ConfigCommand {
    struct ServerGet: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "get", abstract: "Print an edge's effective config as the server serves it (current version, or --version).")

        @OptionGroup var address: EdgeAddress
        @Option(help: "An earlier version (see `config history`).") var version: Int?
        @OptionGroup var connection: ServerConnection

        func run() throws {
            if let version, version < 1 { throw CLI.usage("--version is a number from 1") }
            let remote = try connection.remote()
            let number = try version ?? address.currentVersion(remote)
            let answer = try remote.call("GET", address.path("versions", String(number)))
            if remote.json { return remote.printRaw(answer) }
            print(try remote.document(answer).prettyText)
        }
    }

    struct ServerHistory: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history", abstract: "An edge's config versions, newest first: when, by which change, from which layer revisions.")

        @OptionGroup var address: EdgeAddress
        @Option(help: "How many (at most 500). Default 50.") var limit: Int?
        @Option(help: "Only versions before this one (to page back).") var before: Int?
        @OptionGroup var connection: ServerConnection

        func run() throws {
            if let limit, limit < 1 { throw CLI.usage("--limit is a number from 1") }
            let remote = try connection.remote()
            let answer = try remote.call("GET", address.path("versions") + API.query([("limit", limit.map(String.init)),
                                                                                     ("before", before.map(String.init))]))
            if remote.json { return remote.printRaw(answer) }
            let h = try remote.document(answer)
            print("edge \(address.edge): current version \(Pretty.int(h["current_version"]))"
                + (h["pinned"]?.boolValue == true ? " (pinned: layer changes skip it until `switchyard config unpin`)" : ""))
            let versions = h["versions"]?.arrayValue ?? []
            if versions.isEmpty { return print("no versions yet") }
            Pretty.table(["VERSION", "TIME", "CHANGE", "LAYERS"], versions.map { v in
                [Pretty.int(v["version"]), Pretty.timestamp(v["created_at"]), Pretty.int(v["change_id"]), Pretty.text(v["layers"])]
            })
        }
    }

    /// `config diff A.json B.json` (offline, as before) or `config diff ORG EDGE --from N [--to M]` (the server).
    struct AnyDiff: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "The RFC 6902 JSON Patch between two config documents: two files, or two versions of an edge on the server.",
            discussion: """
                switchyard config diff A.json B.json [--fine-grained]: two files, offline. The smallest of fine-grained \
                operations, subtree replacements or the whole document; keyed arrays (id, device_id) are matched by key. \
                --fine-grained never replaces a subtree that could be edited.

                switchyard config diff ORG EDGE --from N [--to M]: two versions of an edge's config on the server (--to \
                defaults to the current version; `config history` lists them), as fine-grained operations. --from is what \
                tells the two forms apart.
                """)

        @Argument(help: "The document to start from, or the organization.") var a: String
        @Argument(help: "The document to reach, or the edge.") var b: String
        @Flag(help: "Offline: edits all the way down, never a replaced subtree.") var fineGrained = false
        @Option(help: "Server: the version to start from.") var from: Int?
        @Option(help: "Server: the version to reach (default: the current one).") var to: Int?
        @OptionGroup var connection: ServerConnection

        func run() throws {
            guard from != nil || to != nil else {
                for path in [a, b] where !FileSystem.exists(path) {
                    throw CLI.refused("\(path): no such file\n(`config diff A.json B.json` compares two files; "
                        + "to compare versions of an edge on the server: config diff ORG EDGE --from N [--to M])")
                }
                var offline = ConfigCommand.Diff()
                offline.a = a
                offline.b = b
                offline.fineGrained = fineGrained
                return try offline.run()
            }
            guard let from else { throw CLI.usage("--to needs --from: config diff ORG EDGE --from N [--to M]") }
            if from < 1 || (to ?? 1) < 1 { throw CLI.usage("versions are numbers from 1") }
            let remote = try connection.remote()
            let edge = EdgeAddress(org: a, edge: b)
            let answer = try remote.call("GET", edge.path("diff") + API.query([("from", String(from)), ("to", to.map(String.init))]))
            if remote.json { return remote.printRaw(answer) }
            let d = try remote.document(answer)
            let ops = d["patch"]?.arrayValue ?? []
            print("edge \(b): version \(Pretty.int(d["from"])) → \(Pretty.int(d["to"])), \(ops.count) operation\(ops.count == 1 ? "" : "s")")
            for op in ops { print("  " + Pretty.operation(op)) }
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Which layer set a value of an edge's config, and what it overrode.",
            discussion: "PATH is an RFC 6901 pointer into the effective config. Elements of keyed arrays may be named by key: /scheduler/controllers/ctrlPeakShaving0/parameters/threshold_watts (controllers and alarms by id, devices by device_id).")

        @OptionGroup var address: EdgeAddress
        @Argument(help: "The value's path, e.g. /core_cycle/period_ms.") var path: String
        @Option(help: "An earlier version (default: the current one).") var version: Int?
        @OptionGroup var connection: ServerConnection

        func run() throws {
            if let version, version < 1 { throw CLI.usage("--version is a number from 1") }
            let pointer: JSONPointer
            do {
                pointer = try JSONPointer(parsing: path.hasPrefix("/") || path.isEmpty ? path : "/" + path)
            } catch {
                throw CLI.usage("PATH is a JSON pointer like /core_cycle/period_ms: \(error)")
            }
            let remote = try connection.remote()
            let answer = try remote.call("GET", address.path("explain") + API.query([("path", pointer.description),
                                                                                    ("version", version.map(String.init))]))
            if remote.json { return remote.printRaw(answer) }
            let x = try remote.document(answer)
            print("edge \(address.edge) version \(Pretty.int(x["version"]))")
            print(Pretty.text(x["text"]))
            let entries = x["entries"]?.arrayValue ?? []
            if !entries.isEmpty {
                print("layers, first to last:")
                for entry in entries { print("  \(Pretty.text(entry["layer"])): \(Pretty.text(entry["action"]))") }
            }
        }
    }

    struct ServerRollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollback",
            abstract: "Give an edge the config of an earlier version, as a new version, and pin it there.",
            discussion: "While pinned, layer changes skip the edge (the answers of those changes name it); `config unpin` lets it follow its layers again.")

        @OptionGroup var address: EdgeAddress
        @Option(help: "The version to go back to (see `config history`).") var version: Int
        @OptionGroup var reason: ChangeReason
        @OptionGroup var connection: ServerConnection

        func run() throws {
            guard version >= 1 else { throw CLI.usage("--version is a number from 1") }
            let remote = try connection.remote()
            let answer = try remote.call("POST", address.path("rollback"), body: ["version": .number(Double(version))], headers: reason.headers)
            remote.report(answer, "edge \(address.edge) rolled back to the config of version \(version) and pinned")
        }
    }

    struct Unpin: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a pinned edge follow its layers again (a new version if that changes its config).")

        @OptionGroup var address: EdgeAddress
        @OptionGroup var reason: ChangeReason
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            let answer = try remote.call("POST", address.path("unpin"), headers: reason.headers)
            remote.report(answer, "edge \(address.edge) unpinned")
        }
    }
}

extension EdgeAddress {
    init(org: String, edge: String) {
        self.init()
        self.org = org
        self.edge = edge
    }
}

// MARK: Bulk

struct BulkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulk",
        abstract: "Merge a partial config into the edge layer of every selected edge, as one audited change.",
        discussion: """
            Select the edges with exactly one of --site, --group, --tag, --edges or --all. The fragment is --merge FILE, \
            --set /pointer=VALUE (repeatable), or both (the --set values win). Objects merge; controllers and alarms merge \
            by id and devices by device_id; null deletes. In --set, name an element of those arrays by its key:
              --set /scheduler/controllers/ctrlPeakShaving0/parameters/threshold_watts=48000
            gives {"scheduler":{"controllers":[{"id":"ctrlPeakShaving0","parameters":{"threshold_watts":48000}}]}}. \
            VALUE is JSON (48000, true, "text", {...}), or else taken as a string. The server validates every selected \
            edge's new config and refuses the whole change, storing nothing, if any would be invalid.
            """)

    @Argument(help: "The organization.") var org: String
    @Option(help: "Every edge of this site.") var site: String?
    @Option(help: "Every edge in this group.") var group: String?
    @Option(help: "Every edge with this tag.") var tag: String?
    @Option(help: ArgumentHelp("These edges, comma-separated.", valueName: "e1,e2")) var edges: String?
    @Flag(help: "Every edge of the organization.") var all = false
    @Option(help: ArgumentHelp("The partial config to merge (JSON; `-`: standard input).", valueName: "file")) var merge: String?
    @Option(name: .customLong("set"), help: ArgumentHelp("One value to set (repeatable).", valueName: "/pointer=VALUE")) var settings: [String] = []
    @Flag(help: "Print the fragment that would be sent, and send nothing.") var dryRun = false
    @OptionGroup var reason: ChangeReason
    @OptionGroup var connection: ServerConnection

    func selector() throws -> JSONValue {
        var chosen: [JSONValue] = []
        if let site { chosen.append(["site": .string(site)]) }
        if let group { chosen.append(["group": .string(group)]) }
        if let tag { chosen.append(["tag": .string(tag)]) }
        if let edges {
            let ids = edges.split(separator: ",").map { String($0).trimmedWhitespace }.filter { !$0.isEmpty }
            guard !ids.isEmpty else { throw CLI.usage("--edges takes edge ids separated by commas") }
            chosen.append(["edges": .array(ids.map(JSONValue.string))])
        }
        if all { chosen.append(["all": true]) }
        guard chosen.count == 1 else {
            throw CLI.usage(chosen.isEmpty ? "select the edges: --site S, --group G, --tag T, --edges e1,e2 or --all"
                                           : "give only one of --site, --group, --tag, --edges, --all")
        }
        return chosen[0]
    }

    func run() throws {
        let selector = try selector()
        guard merge != nil || !settings.isEmpty else { throw CLI.usage("say what to change: --merge FILE and/or --set /pointer=VALUE") }
        var fragment: JSONValue = .object([:])
        if let merge {
            fragment = try InputFile.json(merge)
            guard case .object = fragment else { throw CLI.refused("\(merge): a fragment is a JSON object (a partial config); found \(fragment.typeName)") }
        }
        for setting in settings { fragment = LayerCompose.compose(fragment, try Fragment.setting(setting)) }
        if dryRun {
            print(JSONValue.object(["selector": selector, "merge": fragment]).prettyText)
            return
        }
        let remote = try connection.remote()
        let answer = try remote.call("POST", API.path(org, "bulk"), body: ["selector": selector, "merge": fragment], headers: reason.headers)
        remote.report(answer, "bulk change to \(selector.canonicalText) accepted")
    }
}
