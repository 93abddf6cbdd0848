import ArgumentParser
import SwitchyardHost
import SwitchyardJSON
import SwitchyardServerClient

// Organizations, sites, groups, edges, credentials, audit and catalog on a
// switchyard-server.

struct OrgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Organizations on a switchyard-server (creating one takes a root token).",
        subcommands: [Create.self, List.self, Show.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an organization (root token).")

        @Argument(help: "Its id: letters, digits, '-', '_', '.'.") var id: String
        @Option(help: "A name for people. Default: the id.") var name: String?
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            var body: [String: JSONValue] = ["id": .string(id)]
            if let name { body["name"] = .string(name) }
            let answer = try remote.call("POST", "/api/v1/orgs", body: .object(body))
            if remote.json { return remote.printRaw(answer) }
            let value = answer.json ?? .null
            print("created organization \(Pretty.text(value["id"])) (\(Pretty.text(value["name"])))")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The organizations this token sees.")

        @OptionGroup var connection: ServerConnection

        func run() throws {
            try connection.remote().printList("/api/v1/orgs", member: "organizations", empty: "no organizations",
                                              columns: ["ID", "NAME", "REVISION"]) {
                [Pretty.text($0["id"]), Pretty.text($0["name"]), Pretty.int($0["revision"])]
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An organization: how many sites, groups, edges and layers, and its catalog revision.")

        @Argument(help: "The organization.") var org: String
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            let answer = try remote.call("GET", API.org(org))
            if remote.json { return remote.printRaw(answer) }
            let o = try remote.document(answer)
            typealias S = Pretty
            print("organization \(S.text(o["id"])) (\(S.text(o["name"])))")
            print("  revision  \(S.int(o["revision"]))")
            print("  sites     \(S.int(o["sites"]))")
            print("  groups    \(S.int(o["groups"]))")
            print("  edges     \(S.int(o["edges"]))")
            print("  layers    \(S.int(o["layers"]))")
            print("  catalog   " + (o["catalog_revision"]?.numberValue == nil ? "none (switchyard catalog push)" : "revision \(S.int(o["catalog_revision"]))"))
        }
    }
}

struct SiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site", abstract: "Sites of an organization on a switchyard-server.", subcommands: [Put.self, List.self])

    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a site, or rename it.")

        @Argument(help: "The organization.") var org: String
        @Argument(help: "The site's id.") var site: String
        @Option(help: "A name for people. Default: the id.") var name: String?
        @OptionGroup var reason: ChangeReason
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            var body: [String: JSONValue] = [:]
            if let name { body["name"] = .string(name) }
            let answer = try remote.call("PUT", API.path(org, "sites", site), body: .object(body), headers: reason.headers)
            remote.report(answer, "site \(site) saved")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The organization's sites.")

        @Argument(help: "The organization.") var org: String
        @OptionGroup var connection: ServerConnection

        func run() throws {
            try connection.remote().printList(API.path(org, "sites"), member: "sites", empty: "no sites in \(org)", columns: ["ID", "NAME"]) {
                [Pretty.text($0["id"]), Pretty.text($0["name"])]
            }
        }
    }
}

struct GroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Edge groups (region, function, hardware) of an organization.", subcommands: [Put.self, List.self])

    static let kinds = ["region", "function", "hardware"]

    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or change a group.",
            discussion: "Group layers apply between the organization's layer and the site's; among an edge's groups, higher --priority applies later (wins).")

        @Argument(help: "The organization.") var org: String
        @Argument(help: "The group's id.") var group: String
        @Option(help: "region, function or hardware.") var kind: String
        @Option(help: "Order among an edge's groups: higher applies later. Default 0.") var priority: Int?
        @Option(help: "A name for people. Default: the id.") var name: String?
        @OptionGroup var reason: ChangeReason
        @OptionGroup var connection: ServerConnection

        func run() throws {
            guard GroupCommand.kinds.contains(kind) else {
                throw CLI.usage("--kind is one of \(GroupCommand.kinds.joined(separator: ", ")); got \"\(kind)\"")
            }
            let remote = try connection.remote()
            var body: [String: JSONValue] = ["kind": .string(kind)]
            if let priority { body["priority"] = .number(Double(priority)) }
            if let name { body["name"] = .string(name) }
            let answer = try remote.call("PUT", API.path(org, "groups", group), body: .object(body), headers: reason.headers)
            remote.report(answer, "group \(group) saved")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The organization's groups.")

        @Argument(help: "The organization.") var org: String
        @OptionGroup var connection: ServerConnection

        func run() throws {
            try connection.remote().printList(API.path(org, "groups"), member: "groups", empty: "no groups in \(org)",
                                              columns: ["ID", "KIND", "PRIORITY", "NAME"]) {
                [Pretty.text($0["id"]), Pretty.text($0["kind"]), Pretty.int($0["priority"]), Pretty.text($0["name"])]
            }
        }
    }
}

struct EdgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge", abstract: "Edges of an organization: where they are, their config version, their last heartbeat.",
        subcommands: [Put.self, List.self, Show.self])

    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an edge, or move it: its site, groups and tags.",
            discussion: "The groups and tags given replace the edge's current ones. An edge whose layers change gets a new config version, validated like any change.")

        @Argument(help: "The organization.") var org: String
        @Argument(help: "The edge's id.") var edge: String
        @Option(help: "Its site.") var site: String
        @Option(name: .customLong("group"), help: "A group it belongs to (repeatable).") var groups: [String] = []
        @Option(name: .customLong("tag"), help: "A tag, for bulk changes (repeatable).") var tags: [String] = []
        @Option(help: "A name for people. Default: the id.") var name: String?
        @OptionGroup var reason: ChangeReason
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            var body: [String: JSONValue] = ["site": .string(site), "groups": .array(groups.map(JSONValue.string)),
                                             "tags": .array(tags.map(JSONValue.string))]
            if let name { body["name"] = .string(name) }
            let answer = try remote.call("PUT", API.path(org, "edges", edge), body: .object(body), headers: reason.headers)
            remote.report(answer, "edge \(edge) saved")
        }
    }

    static func heartbeat(_ edge: JSONValue) -> String {
        guard let beat = edge["heartbeat"] else { return "never" }
        return "\(Pretty.text(beat["state"])) v\(Pretty.int(beat["version"])) \(Pretty.age(since: beat["received_at"]))"
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The organization's edges: site, config version, last heartbeat (state, version it runs, age).")

        @Argument(help: "The organization.") var org: String
        @OptionGroup var connection: ServerConnection

        func run() throws {
            try connection.remote().printList(API.path(org, "edges"), member: "edges", empty: "no edges in \(org)",
                                              columns: ["ID", "SITE", "VERSION", "HEARTBEAT"]) { e in
                [Pretty.text(e["id"]), Pretty.text(e["site"]), Pretty.int(e["version"]) + (e["pinned"]?.boolValue == true ? " (pinned)" : ""),
                 EdgeCommand.heartbeat(e)]
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One edge: site, groups, tags, config version and layers, last heartbeat.")

        @Argument(help: "The organization.") var org: String
        @Argument(help: "The edge.") var edge: String
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            let answer = try remote.call("GET", API.path(org, "edges", edge))
            if remote.json { return remote.printRaw(answer) }
            let e = try remote.document(answer)
            typealias S = Pretty
            print("edge \(S.text(e["id"])) (\(S.text(e["name"])))")
            print("  site       \(S.text(e["site"]))")
            print("  groups     \(S.list(e["groups"]))")
            print("  tags       \(S.list(e["tags"]))")
            print("  version    \(S.int(e["version"]))" + (e["pinned"]?.boolValue == true ? " (pinned: layer changes skip it until `switchyard config unpin`)" : ""))
            print("  layers     \(S.text(e["layers"]))")
            guard let beat = e["heartbeat"] else { return print("  heartbeat  never") }
            print("  heartbeat  \(S.timestamp(beat["received_at"])) (\(S.age(since: beat["received_at"])))")
            print("    state    \(S.text(beat["state"]))")
            print("    runs     version \(S.int(beat["version"]))")
            if let errors = beat["errors"], errors != .null, errors.arrayValue?.isEmpty != true {
                print("    errors   \(S.excerpt(errors, limit: 300))")
            }
        }
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The organization's changes, newest first: who, when, what, why, and how many edges got a new version.")

    @Argument(help: "The organization.") var org: String
    @Option(help: "How many changes (at most 500). Default 50.") var limit: Int?
    @Option(help: "Only changes older than this change id (to page back).") var before: Int?
    @OptionGroup var connection: ServerConnection

    func run() throws {
        if let limit, limit < 1 { throw CLI.usage("--limit is a number from 1") }
        let remote = try connection.remote()
        let answer = try remote.call("GET", API.path(org, "changes") + API.query([("limit", limit.map(String.init)),
                                                                                  ("before", before.map(String.init))]))
        if remote.json { return remote.printRaw(answer) }
        let changes = try remote.document(answer)["changes"]?.arrayValue ?? []
        if changes.isEmpty { return print("no changes in \(org)") }
        Pretty.table(["ID", "TIME", "ACTOR", "KIND", "EDGES", "REASON"], changes.map { c in
            [Pretty.int(c["id"]), c["at_text"]?.stringValue ?? Pretty.timestamp(c["at"]), Pretty.text(c["actor"]), Pretty.text(c["kind"]),
             Pretty.int(c["edges_with_new_version"]), (c["reason"]?.stringValue).flatMap { $0.isEmpty ? nil : $0 } ?? "-"]
        })
    }
}

struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "The organization's catalog: the plugin classes and device profiles its configs are checked against.",
        subcommands: [Push.self, Show.self])

    struct Push: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload the plugins (*.so) and device profiles (*.json) found under DIR as the organization's catalog (admin).",
            discussion: """
                Plugins are loaded from DIR and every --plugins folder (not recursive); profiles are read from DIR and its \
                subfolders (not pack.json or *.schema.json). With no --plugins and no plugin in DIR, the plugins next to this \
                executable are used (the output says where they came from). Files that do not load are listed and left out. \
                The server refuses a catalog that an edge's current config would not validate against, naming each edge and path.
                """)

        @Argument(help: "The organization.") var org: String
        @Argument(help: "The folder of profiles (and plugins).") var dir: String
        @Option(name: .customLong("plugins"), help: "Another plugin folder (repeatable).") var plugins: [String] = []
        @Flag(help: "Build the catalog and list what it holds, but do not send it.") var dryRun = false
        @OptionGroup var reason: ChangeReason
        @OptionGroup var connection: ServerConnection

        func run() throws {
            guard FileSystem.isDirectory(dir) else { throw CLI.refused("\(dir): not a folder") }
            for folder in plugins where !FileSystem.isDirectory(folder) { throw CLI.refused("\(folder): not a folder") }
            var pluginFolders = [dir] + plugins
            if plugins.isEmpty && FileSystem.files(in: dir, suffix: ".so", recursive: false).isEmpty {
                pluginFolders = EdgeSetup.defaultPluginDirectories
            }
            let remote = try connection.remote()
            let (document, problems) = CatalogDocument.build(pluginDirectories: pluginFolders, profileDirectories: [dir])
            let pluginIds = document["plugins"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            let profileCount = document["profiles"]?.arrayValue?.count ?? 0
            let out: (String) -> Void = remote.json ? { CLI.printError($0) } : { print($0) }
            out("catalog: \(pluginIds.count) plugin\(pluginIds.count == 1 ? "" : "s") from \(pluginFolders.joined(separator: ", "))"
                + (pluginIds.isEmpty ? "" : " (\(pluginIds.joined(separator: ", ")))"))
            out("catalog: \(profileCount) profile\(profileCount == 1 ? "" : "s") from \(dir)")
            if !problems.isEmpty {
                out("left out, \(problems.count) file\(problems.count == 1 ? "" : "s") that did not load:")
                for problem in problems { out("  \(problem)") }
            }
            if dryRun { return }
            let answer = try remote.call("PUT", API.path(org, "catalog"), body: document, headers: reason.headers)
            if remote.json { return remote.printRaw(answer) }
            remote.report(answer, "catalog of \(org) accepted")
            if let now = try? remote.raw("GET", API.path(org, "catalog")), now.status == 200, let c = now.json {
                print("catalog of \(org) is now revision \(Pretty.int(c["revision"])): \(Pretty.int(c["plugins"])) plugins, "
                    + "\(Pretty.int(c["profiles"])) profiles, \(c["classes"]?.arrayValue?.count ?? 0) classes")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The catalog's revision, classes and profile ids.")

        @Argument(help: "The organization.") var org: String
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            let answer = try remote.call("GET", API.path(org, "catalog"))
            if remote.json { return remote.printRaw(answer) }
            let c = try remote.document(answer)
            typealias S = Pretty
            print("catalog of \(org): revision \(S.int(c["revision"])), \(S.int(c["plugins"])) plugins, \(S.int(c["profiles"])) profiles")
            print("classes:  " + (c["classes"]?.arrayValue ?? []).map { S.text($0) }.joined(separator: ", "))
            print("profiles: " + (c["profile_ids"]?.arrayValue ?? []).map { S.text($0) }.joined(separator: ", "))
        }
    }
}

struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Credentials: edge keys and operator tokens (admin); vendor keys for packs (generate).",
        subcommands: [Create.self, List.self, Revoke.self, Signing.self, Generate.self])

    static func printSecret(_ answer: ServerClient.Answer, remote: Remote, what: String) {
        if remote.json { return remote.printRaw(answer) }
        let c = answer.json ?? .null
        print("created \(what) \(Pretty.text(c["id"])) (\(Pretty.text(c["name"])))")
        print("secret: \(Pretty.text(c["secret"]))")
        print("note: the secret is shown this once; the server keeps only its hash. Store it now.")
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A new key for an edge; prints its secret once.")

        @Argument(help: "The organization.") var org: String
        @Option(help: "The edge the key is for.") var edge: String
        @Option(help: "A name for the audit log. Default: the edge id.") var name: String?
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            var body: [String: JSONValue] = ["kind": "edge", "edge": .string(edge)]
            if let name { body["name"] = .string(name) }
            let answer = try remote.call("POST", API.path(org, "credentials"), body: .object(body))
            KeyCommand.printSecret(answer, remote: remote, what: "edge key for \(edge):")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every edge key and operator token of the organization (never their secrets).")

        @Argument(help: "The organization.") var org: String
        @OptionGroup var connection: ServerConnection

        func run() throws {
            try connection.remote().printList(API.path(org, "credentials"), member: "credentials", empty: "no credentials in \(org)",
                                              columns: ["ID", "KIND", "FOR", "NAME", "CREATED", "REVOKED"]) { c in
                [Pretty.text(c["id"]), Pretty.text(c["kind"]),
                 c["kind"]?.stringValue == "edge" ? "edge \(Pretty.text(c["edge"]))" : "role \(Pretty.text(c["role"]))",
                 Pretty.text(c["name"]), Pretty.timestamp(c["created_at"]), c["revoked_at"]?.numberValue == nil ? "-" : Pretty.timestamp(c["revoked_at"])]
            }
        }
    }

    struct Signing: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The server's public signing keys, as JSON: save them as an edge's --trust file when you install it.")

        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            remote.printRaw(try remote.call("GET", "/api/v1/signing-keys"))
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key or token by its id (see `key list`); it stops working at once.")

        @Argument(help: "The organization.") var org: String
        @Argument(help: "The credential's id.") var id: String
        @OptionGroup var connection: ServerConnection

        func run() throws {
            let remote = try connection.remote()
            let answer = try remote.call("DELETE", API.path(org, "credentials", id))
            if remote.json { return remote.printRaw(answer) }
            print("revoked \(id)")
        }
    }
}

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Operator tokens (admin); `token list` and `token revoke` are `key list` and `key revoke`.",
        subcommands: [Create.self, KeyCommand.List.self, KeyCommand.Revoke.self])

    static let roles = ["admin", "operator", "viewer"]

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A new operator token; prints its secret once.",
            discussion: "admin: everything in the organization, credentials and catalog included; operator: layers, directory, bulk, rollback; viewer: read only.")

        @Argument(help: "The organization.") var org: String
        @Option(help: "admin, operator or viewer.") var role: String
        @Option(help: "Who or what holds it (for the audit log).") var name: String
        @OptionGroup var connection: ServerConnection

        func run() throws {
            guard TokenCommand.roles.contains(role) else {
                throw CLI.usage("--role is one of \(TokenCommand.roles.joined(separator: ", ")); got \"\(role)\"")
            }
            let remote = try connection.remote()
            let answer = try remote.call("POST", API.path(org, "credentials"),
                                         body: ["kind": "operator", "role": .string(role), "name": .string(name)])
            KeyCommand.printSecret(answer, remote: remote, what: "\(role) token")
        }
    }
}
