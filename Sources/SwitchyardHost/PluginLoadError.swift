/// Why a plugin was refused. Names the file, what was expected and what was
/// found, so that an integrator can fix it without a debugger. A refused
/// plugin is left out; the host goes on with the others.
public struct PluginLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case missingFile = "missing_file"
        case notSharedObject = "not_a_shared_object"
        case missingEntry = "missing_entry"
        case abiMajorMismatch = "abi_major_mismatch"
        case abiMinorTooNew = "abi_minor_too_new"
        case badDescriptor = "bad_descriptor"
        case badManifest = "bad_manifest"
        case duplicatePluginId = "duplicate_plugin_id"
        case duplicateClass = "duplicate_class"
    }

    public var file: String
    public var reason: Reason
    public var field: String?
    public var expected: String?
    public var found: String?
    public var detail: String?

    public init(file: String, reason: Reason, field: String? = nil, expected: String? = nil, found: String? = nil, detail: String? = nil) {
        self.file = file
        self.reason = reason
        self.field = field
        self.expected = expected
        self.found = found
        self.detail = detail
    }

    /// The same error told against the file a user placed (`path`) where
    /// it was found in the copy the host mapped (`copy`): the user never
    /// sees the edge's internal versioned copies.
    func told(as path: String, insteadOf copy: String) -> PluginLoadError {
        guard copy != path else { return self }
        func swap(_ text: String?) -> String? { text?.replacing(copy, with: path) }
        return PluginLoadError(file: file == copy ? path : file, reason: reason, field: field, expected: swap(expected), found: swap(found),
                               detail: swap(detail))
    }

    public var description: String {
        var text = "\(file): \(headline)"
        if let field { text += " (\(field))" }
        if let expected { text += ": expected \(expected)" }
        if let found { text += expected == nil ? ": found \(found)" : ", found \(found)" }
        if let detail { text += (expected == nil && found == nil ? ": " : "; ") + detail }
        return text
    }

    private var headline: String {
        switch reason {
        case .missingFile: "no such file"
        case .notSharedObject: "not a loadable shared object"
        case .missingEntry: "not a Switchyard plugin: no entry symbol"
        case .abiMajorMismatch: "plugin ABI major version does not match the host"
        case .abiMinorTooNew: "plugin needs a newer host (ABI minor version too new)"
        case .badDescriptor: "invalid plugin descriptor"
        case .badManifest: "invalid plugin manifest"
        case .duplicatePluginId: "duplicate plugin id"
        case .duplicateClass: "duplicate class"
        }
    }
}
