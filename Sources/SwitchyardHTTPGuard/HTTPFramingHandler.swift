import NIOCore

/// The first handler of an HTTP server's connection: bytes reach the HTTP
/// decoder only through `HTTPRequestFraming`, and a request that is refused
/// or too slow is answered here (400, 408, 413, 414 or 431, a JSON error,
/// `Connection: close`) and the connection closed. Without it, a head over
/// NIO's limit got no answer at all and a slow client held its connection
/// for as long as it liked.
///
/// Runs on the channel's event loop, like every channel handler; its timers
/// are scheduled there too.
public final class HTTPFramingHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = IOData
    public typealias OutboundOut = IOData

    private var framing: HTTPRequestFraming
    private var headTimer: Scheduled<Void>?
    private var bodyTimer: Scheduled<Void>?
    private var bodyIdleTimer: Scheduled<Void>?
    private var heads = 0
    /// A response was written since the current request's head went on:
    /// a late refusal then only closes, so no answer follows another.
    private var answered = false
    private var closing = false

    public init(limits: HTTPFramingLimits) {
        framing = HTTPRequestFraming(limits: limits)
    }

    var limits: HTTPFramingLimits { framing.limits }

    public func channelActive(context: ChannelHandlerContext) {
        // A connection that sends nothing is a head that never arrives.
        armHeadTimer(context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var buffer = unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        do {
            let out = try framing.consume(bytes)
            updateTimers(context)
            if !out.isEmpty { context.fireChannelRead(wrapInboundOut(ByteBuffer(bytes: out))) }
        } catch {
            refuse(context, error)
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        answered = true
        context.write(data, promise: promise)
        guard framing.phase == .upgradePending, case .byteBuffer(let buffer) = part else { return }
        let status = buffer.getString(at: buffer.readerIndex, length: min(12, buffer.readableBytes)) ?? ""
        do {
            let waiting = try framing.upgradeAnswered(switched: status.hasSuffix(" 101"))
            updateTimers(context)
            if !waiting.isEmpty { context.fireChannelRead(wrapInboundOut(ByteBuffer(bytes: waiting))) }
        } catch {
            refuse(context, error)
        }
    }

    // MARK: Timers

    private func updateTimers(_ context: ChannelHandlerContext) {
        let newHead = framing.headsCompleted != heads
        if newHead { answered = false }
        heads = framing.headsCompleted
        switch framing.phase {
        case .idle:
            // Between requests the server's keep-alive timeout applies; before the first, the head timer does.
            if heads > 0 { cancel(&headTimer) }
            cancel(&bodyTimer)
            cancel(&bodyIdleTimer)
        case .head:
            if headTimer == nil || newHead { armHeadTimer(context) }
            cancel(&bodyTimer)
            cancel(&bodyIdleTimer)
        case .body:
            cancel(&headTimer)
            if bodyTimer == nil || newHead {
                cancel(&bodyTimer)
                bodyTimer = schedule(context, seconds: limits.bodyTimeoutSeconds,
                                     HTTPRequestFraming.Refusal(408, "the body did not arrive within \(limits.bodyTimeoutSeconds) s"))
            }
            cancel(&bodyIdleTimer)
            bodyIdleTimer = schedule(context, seconds: limits.bodyIdleTimeoutSeconds,
                                     HTTPRequestFraming.Refusal(408, "no byte of the body for \(limits.bodyIdleTimeoutSeconds) s"))
        case .upgradePending, .passthrough:
            cancelTimers()
        }
    }

    private func armHeadTimer(_ context: ChannelHandlerContext) {
        cancel(&headTimer)
        headTimer = schedule(context, seconds: limits.headTimeoutSeconds,
                             HTTPRequestFraming.Refusal(408, "the request head did not arrive within \(limits.headTimeoutSeconds) s"))
    }

    private func schedule(_ context: ChannelHandlerContext, seconds: Int64, _ refusal: HTTPRequestFraming.Refusal) -> Scheduled<Void> {
        context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(seconds)) { [self] in
            refuse(context, refusal)
        }
    }

    private func cancel(_ timer: inout Scheduled<Void>?) {
        timer?.cancel()
        timer = nil
    }

    private func cancelTimers() {
        cancel(&headTimer)
        cancel(&bodyTimer)
        cancel(&bodyIdleTimer)
    }

    // MARK: Refusing

    private func refuse(_ context: ChannelHandlerContext, _ refusal: HTTPRequestFraming.Refusal) {
        guard !closing else { return }
        closing = true
        cancelTimers()
        guard context.channel.isActive else { return }
        if answered && framing.phase == .body {
            // The server already answered this request (401 before reading a body): say nothing more.
            context.close(promise: nil)
            return
        }
        let bytes = Self.response(refusal)
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer(bytes: bytes)))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// The whole answer to a refused request, as bytes.
    static func response(_ refusal: HTTPRequestFraming.Refusal) -> [UInt8] {
        let (reason, code): (String, String) = switch refusal.status {
        case 408: ("Request Timeout", "request_timeout")
        case 413: ("Content Too Large", "payload_too_large")
        case 414: ("URI Too Long", "uri_too_long")
        case 431: ("Request Header Fields Too Large", "header_fields_too_large")
        default: ("Bad Request", "bad_request")
        }
        let message = refusal.message.replacingQuotes()
        let body = "{\"error\": {\"code\": \"\(code)\", \"message\": \"\(message)\"}}\n"
        let head = "HTTP/1.1 \(refusal.status) \(reason)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\r\n"
        return Array((head + body).utf8)
    }
}

extension String {
    /// Safe inside a JSON string: the messages are ASCII, client bytes already excerpted.
    fileprivate func replacingQuotes() -> String {
        String(unicodeScalars.map { $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value > 0x7E ? "'" : Character($0) })
    }
}
