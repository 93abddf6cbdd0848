import SwitchyardJSON

public enum PluginKind: String, Sendable, Hashable, CaseIterable {
    case driver, controller
}

/// What a plugin says it provides, read from its descriptor's manifest JSON.
public struct PluginManifest: Sendable, Hashable {
    public struct ClassEntry: Sendable, Hashable {
        public var name: String
        public var description: String?
        public var parameters: ParameterSchema
        /// Drivers only: the schema of a device's `connection` object, if the
        /// driver takes one.
        public var connection: ParameterSchema?
    }

    public var classes: [ClassEntry]

    public init(classes: [ClassEntry]) {
        self.classes = classes
    }

    /// Parses and checks a manifest. Every issue is reported with its path
    /// inside the manifest (`classes[0].parameters.properties.x.minimum`).
    public init(parsing text: String) throws(ValidationError) {
        let json = try JSONValue.parse(text, file: nil)
        let issues = IssueList()
        var classes: [ClassEntry] = []
        if var r = ObjectReader(json, at: .root, issues: issues) {
            let entries = r.array("classes")
            if entries == nil { issues.add(JSONPath.root.appending("classes"), "is required") }
            var seen: Set<String> = []
            for (i, entry) in (entries ?? []).enumerated() {
                let path = JSONPath.root.appending("classes").appending(index: i)
                guard var c = ObjectReader(entry, at: path, issues: issues) else { continue }
                let name = c.requiredString("name")
                let description = c.string("description")
                let parameters = c.value("parameters").flatMap {
                    ParameterSchema(json: $0, at: path.appending("parameters"), issues: issues)
                } ?? .empty
                let connection = c.value("connection").flatMap {
                    ParameterSchema(json: $0, at: path.appending("connection"), issues: issues)
                }
                c.rejectUnknownKeys()
                guard let name else { continue }
                if !seen.insert(name).inserted {
                    issues.add(path.appending("name"), "class \"\(name.echoed())\" is declared twice")
                }
                classes.append(ClassEntry(name: name, description: description, parameters: parameters, connection: connection))
            }
            if entries?.isEmpty == true { issues.add(JSONPath.root.appending("classes"), "must declare at least one class") }
            r.rejectUnknownKeys()
        }
        try issues.check()
        self.classes = classes
    }
}
