import SwitchyardJSON

/// How both stores keep documents and lists in text columns: canonical JSON
/// going in, checked parsing coming out.
enum StoredText {
    static func document(_ text: String, _ what: @autoclosure () -> String) throws(StoreError) -> JSONValue {
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw StoreError(.corrupt, "\(what()) holds text that is not JSON: \(error)")
        }
    }

    static func strings(_ text: String, _ what: @autoclosure () -> String) throws(StoreError) -> [String] {
        guard case .array(let items) = try document(text, what()) else {
            throw StoreError(.corrupt, "\(what()) should hold a JSON array of strings")
        }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw StoreError(.corrupt, "\(what()) should hold a JSON array of strings") }
            out.append(s)
        }
        return out
    }

    static func text(_ strings: [String]) -> String { JSONValue.array(strings.map(JSONValue.string)).canonicalText }

    static func stack(_ text: String, _ what: @autoclosure () -> String) throws(StoreError) -> LayerStack {
        guard let stack = LayerStack(text: text) else { throw StoreError(.corrupt, "\(what()) holds an unreadable layer stack \"\(text)\"") }
        return stack
    }

    static func layerKey(_ text: String, _ what: @autoclosure () -> String) throws(StoreError) -> LayerKey {
        guard let key = LayerKey(text) else { throw StoreError(.corrupt, "\(what()) holds an unreadable layer key \"\(text)\"") }
        return key
    }

    static func role(_ text: String?, _ what: @autoclosure () -> String) throws(StoreError) -> Role? {
        guard let text else { return nil }
        guard let role = Role(rawValue: text) else { throw StoreError(.corrupt, "\(what()) holds an unknown role \"\(text)\"") }
        return role
    }

    static func groupKind(_ text: String, _ what: @autoclosure () -> String) throws(StoreError) -> EdgeGroup.Kind {
        guard let kind = EdgeGroup.Kind(rawValue: text) else { throw StoreError(.corrupt, "\(what()) holds an unknown group kind \"\(text)\"") }
        return kind
    }

    static func credentialKind(_ text: String, _ what: @autoclosure () -> String) throws(StoreError) -> Credential.Kind {
        guard let kind = Credential.Kind(rawValue: text) else { throw StoreError(.corrupt, "\(what()) holds an unknown credential kind \"\(text)\"") }
        return kind
    }
}
