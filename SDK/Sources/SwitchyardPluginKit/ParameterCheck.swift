import SwitchyardJSON

extension Parameters {
    /// Checks the values against the parameters a class declares: each
    /// required one present, each present one of its declared type, inside
    /// its `min`/`max` and among its choices. The host validates a config
    /// before it creates an instance; the kit checks again at the boundary,
    /// so that a plugin never runs with values its own declaration forbids
    /// (a host that skipped validation, a hand-made instance config, the
    /// conformance suite's bad parameters). `prefix` names the object in
    /// messages ("parameter", "connection").
    func check(against declared: [Parameter], prefix: String = "parameter") throws(PluginError) {
        for parameter in declared {
            guard let value = values[parameter.name] else {
                if parameter.required { throw .invalid("\(prefix) \"\(parameter.name)\" is required") }
                continue
            }
            if let problem = parameter.problem(with: value) {
                throw .invalid("\(prefix) \"\(parameter.name)\" \(problem)")
            }
        }
    }
}

extension Parameter {
    /// Why `value` does not fit this declaration, or nil when it does.
    func problem(with value: JSONValue) -> String? {
        let type = schema["type"]?.stringValue
        switch (type, value) {
        case ("number"?, .number), ("string"?, .string), ("boolean"?, .bool), (nil, _):
            break
        case ("integer"?, .number(let n)) where n.isWholeNumber:
            break
        default:
            return "must be \(type == "integer" ? "an integer" : "a \(type ?? "value")"), got \(value.canonicalText.prefix(64))"
        }
        if let choices = schema["enum"]?.arrayValue, !choices.contains(value) {
            return "must be one of \(choices.map(\.canonicalText).joined(separator: ", ")); got \(value.canonicalText.prefix(64))"
        }
        if case .number(let n) = value {
            if let min = schema["minimum"]?.numberValue, n < min { return "must be >= \(JSONValue.format(min)), got \(JSONValue.format(n))" }
            if let max = schema["maximum"]?.numberValue, n > max { return "must be <= \(JSONValue.format(max)), got \(JSONValue.format(n))" }
        }
        return nil
    }
}
