import SwitchyardJSON

extension ModbusPoint {
    /// Units of measured quantities: a point in one of them carries a
    /// physical value that a plausibility range can bound. Percent units
    /// with a qualifier (SunSpec's `%WHRtg`) count as percent.
    public static let measuredUnits: Set<String> = [
        "W", "kW", "MW", "VA", "kVA", "MVA", "var", "VAr", "kvar", "Mvar",
        "A", "mA", "kA", "V", "mV", "kV", "Hz", "%", "Pct", "degC", "°C",
        "Wh", "kWh", "MWh", "VAh", "kVAh", "varh", "kvarh",
    ]

    /// True for a measurement a controller may act on: a read-only number
    /// (not internal, not a string, bit, enum or bitfield) that implements
    /// a standard channel or has a measured unit. Settings (`read_write`)
    /// are bounded by their write limits instead.
    public var isMeasured: Bool {
        guard access == .read, !isInternal, values.isEmpty, bits.isEmpty else { return false }
        switch type {
        case .string, .bit, .enum, .bitfield: return false
        default: break
        }
        if standard != nil { return true }
        // SunSpec spells some units with a leading space (" % WChaMax").
        guard let unit = unit.map({ String($0.drop(while: \.isWhitespace)) }) else { return false }
        return Self.measuredUnits.contains(unit) || unit.hasPrefix("%")
    }
}

extension ModbusProfile {
    /// A measured point that has no plausibility range.
    public struct UnrangedMeasurement: Sendable, Equatable, CustomStringConvertible {
        /// The point in the (merged) profile document.
        public var path: JSONPath
        /// The channel name (`inverter.W` for a SunSpec model point).
        public var name: String
        public var unit: String?

        /// The lint line after `FILE: `.
        public var description: String {
            "\(path): warning: \"\(name)\"\(unit.map { " (\($0))" } ?? "") is measured but has no \"range\": "
                + "add \"range\": [min, max] from the device's ratings, or garbage is published as good (docs/profiles.md section 7)"
        }
    }

    /// The measured points (`ModbusPoint.isMeasured`) without a `range`, flat
    /// points first, then SunSpec model points in model order. A warning for
    /// `profile lint`, not an error: the profile still loads and runs.
    public var unrangedMeasurements: [UnrangedMeasurement] {
        let flat = points.filter { $0.isMeasured && $0.plausible == nil }
            .map { UnrangedMeasurement(path: $0.path, name: $0.name, unit: $0.unit) }
        let models = sunspecModels.flatMap { model in
            model.points.filter { $0.isMeasured && $0.plausible == nil }
                .map { UnrangedMeasurement(path: $0.path, name: "\(model.group).\($0.name)", unit: $0.unit) }
        }
        return flat + models
    }
}
