import SwitchyardJSON

/// A layer put a value of one kind where the layers before it had another
/// (an object where there was a number, a string where there was an
/// array). The later layer wins, as for any value; the conflict is kept so
/// that it can be shown, since it is usually a mistake.
public struct ShapeConflict: Sendable, Hashable, CustomStringConvertible {
    /// The later layer, whose value won.
    public let layer: LayerIdentity
    /// Where, inside that layer's document.
    public let path: JSONPointer
    /// The kind the earlier layers produced (`object`, `array`, `string`,
    /// `number`, `boolean`).
    public let replacedKind: String
    /// The kind the later layer set.
    public let kind: String

    public init(layer: LayerIdentity, path: JSONPointer, replacedKind: String, kind: String) {
        self.layer = layer
        self.path = path
        self.replacedKind = replacedKind
        self.kind = kind
    }

    public var description: String {
        "layer \(layer) at \(path): \(article(kind)) \(kind) replaces \(article(replacedKind)) \(replacedKind) from earlier layers"
    }
}

extension JSONValue {
    /// The kind shape conflicts compare: integers and other numbers are one
    /// kind.
    var shapeKind: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
