import HummingbirdCore
import Logging
import NIOCore

/// A Hummingbird child channel (HTTP/1, with or without WebSocket upgrade)
/// with an `HTTPFramingHandler` first in each connection's pipeline.
public struct FramedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value

    let base: Base
    let limits: HTTPFramingLimits

    public init(_ base: Base, limits: HTTPFramingLimits) {
        self.base = base
        self.limits = limits
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let limits = limits
        let added = channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(HTTPFramingHandler(limits: limits), position: .first)
        }
        return added.flatMap { base.setup(channel: channel, logger: logger) }
    }

    public func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 behind `HTTPFramingHandler`, with the keep-alive timeout of `limits`.
    public static func framedHTTP1(limits: HTTPFramingLimits) -> HTTPServerBuilder {
        .init { responder in
            FramedChildChannel(HTTP1Channel(responder: responder, configuration: .init(idleTimeout: .seconds(limits.keepAliveIdleSeconds))),
                               limits: limits)
        }
    }
}
