import ArgumentParser
import SwitchyardConfigDoc
import SwitchyardHost
import SwitchyardJSON
import SwitchyardModel

/// Offline tools for config documents: the same diff and patch the sync
/// server and the edge use.
extension ConfigCommand {
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the RFC 6902 JSON Patch that turns document A into document B.",
            discussion: "The smallest of fine-grained operations, subtree replacements or the whole document; keyed arrays (id, device_id) are matched by key. `--fine-grained` never replaces a subtree that could be edited (for audit logs).")

        @Argument(help: "The document to start from.") var a: String
        @Argument(help: "The document to reach.") var b: String
        @Flag(help: "Edits all the way down, never a replaced subtree.") var fineGrained = false

        func run() throws {
            let from = try ConfigCommand.document(a), to = try ConfigCommand.document(b)
            let patch = JSONDiff(granularity: fineGrained ? .fineGrained : .smallest).patch(from: from, to: to)
            print(patch.jsonValue.prettyText)
        }
    }

    struct ApplyPatch: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply-patch",
            abstract: "Apply an RFC 6902 JSON Patch to a document and print the result, or say precisely why it does not apply.")

        @Argument(help: "The document.") var document: String
        @Argument(help: "The patch (a JSON array of operations).") var patch: String

        func run() throws {
            let doc = try ConfigCommand.document(document)
            let text = try FileSystem.readText(patch)
            do {
                let p = try JSONPatch(parsing: text)
                print(try p.apply(to: doc).prettyText)
            } catch {
                throw Refused(message: "\(patch): \(error.message)")
            }
        }
    }

    /// A JSON file, or a refusal naming the file, line and column.
    static func document(_ path: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(try FileSystem.readText(path), file: path)
        } catch let error as SwitchyardModel.ValidationError {
            throw Refused(message: error.description)
        }
    }
}
