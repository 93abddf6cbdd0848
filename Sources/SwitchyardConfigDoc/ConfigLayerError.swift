import SwitchyardJSON

/// Why layers could not be merged, or a path could not be explained.
///
/// Errors about a layer name it and the location inside that layer's own
/// document, so the operator knows which document to fix.
public struct ConfigLayerError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// Layers are not in organization → group → site → edge order.
        case layersOutOfOrder
        /// The same scope and id appear twice.
        case duplicateLayer
        /// A layer's document is not an object.
        case layerNotAnObject
        /// An element of a keyed array is not an object.
        case keyedElementNotAnObject
        /// An element of a keyed array has no key member.
        case missingKey
        /// A key member is not a string or number.
        case invalidKey
        /// Two elements of one keyed array in one layer have the same key.
        case duplicateKey
        /// A delete marker is not `true`, or sits beside other members.
        case invalidDelete
        /// `explain` was given a path that does not exist and cannot be
        /// followed through the layers.
        case pathNotFound
    }

    public let code: Code
    /// The layer at fault, if one is.
    public let layer: LayerIdentity?
    /// The location inside that layer's document (or, for `pathNotFound`,
    /// in the effective document).
    public let path: JSONPointer?
    public let message: String

    public init(code: Code, layer: LayerIdentity?, path: JSONPointer?, message: String) {
        self.code = code
        self.layer = layer
        self.path = path
        self.message = message
    }

    public var description: String {
        var prefix = ""
        if let layer { prefix += "layer \(layer)" }
        if let path { prefix += (prefix.isEmpty ? "" : " ") + "at \(path.isRoot ? "\"\" (the document)" : path.description)" }
        return prefix.isEmpty ? message : "\(prefix): \(message)"
    }
}

extension ConfigLayerError {
    static func notAnObject(_ layer: ConfigLayer) -> ConfigLayerError {
        ConfigLayerError(
            code: .layerNotAnObject, layer: layer.identity, path: .root,
            message: "a layer must be a JSON object, got \(article(layer.document.typeName)) \(layer.document.typeName)"
        )
    }
}
