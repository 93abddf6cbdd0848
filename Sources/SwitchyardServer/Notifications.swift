import HummingbirdWebSocket
import SwitchyardJSON

/// `/ws/edges/{edge}/notify`: an edge subscribes with its key. It may send
/// `{"type": "hello", "version": N}` with the version it runs; when that is
/// behind, the server answers at once with the delta to the current
/// version, and from then on pushes every new version as it is committed.
/// Other messages are answered with `{"type": "error", "message": …}`; the
/// connection stays up.
enum Notifications {
    static func serve(core: ServerCore, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
                      context: WebSocketRouterContext<ServerContext>) async throws {
        let edge = try context.requestContext.parameters.text("edge")
        let head = try await core.sync.head(edge)
        let id = core.hub.connect(edgeId: edge, orgId: head.orgId) { text in
            try? await outbound.write(.text(text))
        }
        defer { core.hub.disconnect(edgeId: edge, id: id) }
        for try await message in inbound.messages(maxSize: 64 << 10) {
            guard case .text(let text) = message, let value = try? JSONValue(parsing: text), value["type"]?.stringValue == "hello",
                  let version = value["version"]?.numberValue, version.isWholeNumber, version >= 0 else {
                try await outbound.write(.text(JSONValue.object([
                    "type": "error", "message": "expected {\"type\": \"hello\", \"version\": <the version this edge runs>}",
                ]).canonicalText))
                continue
            }
            let known = Int(version)
            core.hub.setKnownVersion(edgeId: edge, id: id, version: known)
            let current = try await core.sync.head(edge)
            if known < current.version {
                let versions = [EdgeVersion(edgeId: edge, version: current.version, stack: current.stack, changeId: 0, createdAt: current.createdAt)]
                await core.hub.announce(versions, only: id)
            }
        }
    }
}
