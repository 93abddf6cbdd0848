/// A strict reader of HTTP/1.1 request framing, in front of the HTTP
/// decoder: it passes on the bytes of requests whose framing is
/// unambiguous and within `HTTPFramingLimits`, and refuses the rest with the
/// status a client can act on. It never buffers more than one head.
///
/// Refused (400): a request line that is not `METHOD SP target SP HTTP/1.x`,
/// a line ending in a bare LF, a folded or malformed header field, control
/// characters, a Content-Length that is not plain digits (negative), longer
/// than 15 digits (huge) or given twice, Transfer-Encoding other than one
/// `chunked`, both Content-Length and Transfer-Encoding, a bad chunk size
/// or chunk end, an upgrade request with a body, a second Host. Too long:
/// the request line 414, the head or its field count 431, the body 413.
///
/// Pure: no I/O and no clock (the handler keeps the time), so it is fuzzed.
public struct HTTPRequestFraming: Sendable {
    /// Why a request is refused: the status and a message for the client.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var status: Int
        public var message: String

        public init(_ status: Int, _ message: String) {
            self.status = status
            self.message = message
        }

        public var description: String { "\(status) \(message)" }
    }

    public enum Phase: Sendable, Equatable {
        /// Between requests: no byte of the next head yet.
        case idle
        /// Part of a head has arrived.
        case head
        /// The head has gone on; its body is still due.
        case body
        /// An upgrade request has gone on; bytes wait for its answer.
        case upgradePending
        /// The connection was upgraded (WebSocket): no longer HTTP.
        case passthrough
    }

    enum Body: Sendable {
        case length(Int)
        case chunkSize([UInt8])
        case chunkData(Int)
        case chunkDataEnd(sawCR: Bool)
        case trailer(line: [UInt8], total: Int)
    }

    public let limits: HTTPFramingLimits
    public private(set) var phase: Phase = .idle
    /// Heads passed on so far on this connection.
    public private(set) var headsCompleted = 0
    private var head: [UInt8] = []
    private var body: Body = .length(0)
    private var bodyBytes = 0
    private var fieldLines = 0
    private var pending: [UInt8] = []

    public init(limits: HTTPFramingLimits) {
        self.limits = limits
    }

    static let cr: UInt8 = 13, lf: UInt8 = 10, sp: UInt8 = 32, tab: UInt8 = 9

    /// Reads `bytes`, the next ones from the client; returns those to pass
    /// on to the HTTP decoder, in order. After a refusal the connection
    /// must be answered and closed: the framer's state is then undefined.
    public mutating func consume(_ bytes: [UInt8]) throws(Refusal) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            switch phase {
            case .passthrough:
                out.append(contentsOf: bytes[index...])
                return out
            case .upgradePending:
                pending.append(contentsOf: bytes[index...])
                if pending.count > limits.maxHeadBytes {
                    throw Refusal(431, "more than \(limits.maxHeadBytes) bytes sent before the upgrade was answered")
                }
                return out
            case .idle, .head:
                let byte = bytes[index]
                index += 1
                if phase == .idle && (byte == Self.cr || byte == Self.lf) { continue }  // RFC 9112 2.2: empty lines before a request
                phase = .head
                try headByte(byte, into: &out)
            case .body:
                try bodyBytes(bytes, &index, into: &out)
            }
        }
        return out
    }

    /// The answer to an upgrade request was written: `switched` when it was
    /// 101. Returns the bytes that waited, to pass on.
    public mutating func upgradeAnswered(switched: Bool) throws(Refusal) -> [UInt8] {
        guard phase == .upgradePending else { return [] }
        let waiting = pending
        pending = []
        if switched {
            phase = .passthrough
            return waiting
        }
        phase = .idle
        return try consume(waiting)
    }

    // MARK: The head

    private mutating func headByte(_ byte: UInt8, into out: inout [UInt8]) throws(Refusal) {
        head.append(byte)
        if byte == Self.lf {
            guard head.count >= 2, head[head.count - 2] == Self.cr else { throw Refusal(400, "a line of the request head ends in LF without CR") }
            fieldLines += 1
            if head.count >= 4, head[head.count - 3] == Self.lf {
                try endOfHead(into: &out)
                return
            }
            if fieldLines > limits.maxHeaderFields + 1 {
                throw Refusal(431, "more than \(limits.maxHeaderFields) header fields")
            }
        } else if fieldLines == 0 && head.count > limits.maxRequestLineBytes {
            throw Self.looksLikeRequestLine(head)
                ? Refusal(414, "the request line is longer than \(limits.maxRequestLineBytes) bytes")
                : Refusal(400, "the request line is not METHOD SP target SP HTTP/1.1")
        }
        if head.count > limits.maxHeadBytes {
            throw Refusal(431, "the request head is larger than \(limits.maxHeadBytes) bytes")
        }
    }

    static func looksLikeRequestLine(_ bytes: [UInt8]) -> Bool {
        guard let space = bytes.firstIndex(of: sp), space > 0, bytes[..<space].allSatisfy(isTokenByte) else { return false }
        return bytes.count > space + 1 && (bytes[space + 1] == UInt8(ascii: "/") || bytes[space + 1] == UInt8(ascii: "h"))
    }

    private mutating func endOfHead(into out: inout [UInt8]) throws(Refusal) {
        let framing = try Self.parseHead(head.dropLast(4), limits: limits)
        out.append(contentsOf: head)
        head = []
        fieldLines = 0
        headsCompleted += 1
        bodyBytes = 0
        if framing.upgrade {
            phase = .upgradePending
        } else if let body = framing.body {
            self.body = body
            phase = .body
        } else {
            phase = .idle
        }
    }

    struct HeadFraming {
        var body: Body?
        var upgrade: Bool
    }

    /// Checks a head (without its final CRLFCRLF) and says how its body is framed.
    static func parseHead(_ head: ArraySlice<UInt8>, limits: HTTPFramingLimits) throws(Refusal) -> HeadFraming {
        var lines = split(head)
        let requestLine = lines.removeFirst()
        let http10 = try checkRequestLine(requestLine, limits: limits)
        var contentLength: Int?
        var chunked = false
        var sawTransferEncoding = false
        var sawHost = false
        var upgrade = false
        for line in lines {
            guard let first = line.first else { throw Refusal(400, "an empty header line") }
            if first == sp || first == tab { throw Refusal(400, "a folded header line (obsolete line folding is refused)") }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                  line[..<colon].allSatisfy(isTokenByte) else {
                throw Refusal(400, "a header line is not name: value (\(excerpt(line)))")
            }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            var value = line[(colon + 1)...]
            while let c = value.first, c == sp || c == tab { value = value.dropFirst() }
            while let c = value.last, c == sp || c == tab { value = value.dropLast() }
            guard value.allSatisfy({ $0 == tab || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw Refusal(400, "header \(name) holds a control character")
            }
            switch name {
            case "content-length":
                guard contentLength == nil else { throw Refusal(400, "Content-Length is given twice") }
                guard !value.isEmpty, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    throw Refusal(400, "Content-Length is not a whole number of bytes (\(excerpt(value)))")
                }
                guard value.count <= 15 else { throw Refusal(400, "Content-Length is too large to be a body (\(excerpt(value)))") }
                let length = Int(String(decoding: value, as: UTF8.self)) ?? Int.max
                guard length <= limits.maxBodyBytes else {
                    throw Refusal(413, "the body (\(length) bytes) is larger than this server accepts (\(limits.maxBodyBytes) bytes)")
                }
                contentLength = length
            case "transfer-encoding":
                guard !sawTransferEncoding else { throw Refusal(400, "Transfer-Encoding is given twice") }
                sawTransferEncoding = true
                guard String(decoding: value, as: UTF8.self).lowercased() == "chunked" else {
                    throw Refusal(400, "Transfer-Encoding other than chunked is refused (\(excerpt(value)))")
                }
                chunked = true
            case "host":
                guard !sawHost else { throw Refusal(400, "Host is given twice") }
                sawHost = true
            case "upgrade":
                upgrade = true
            default:
                break
            }
        }
        if chunked && contentLength != nil { throw Refusal(400, "Content-Length and Transfer-Encoding together are refused") }
        if chunked && http10 { throw Refusal(400, "Transfer-Encoding in an HTTP/1.0 request") }
        let body: Body? = chunked ? .chunkSize([]) : (contentLength ?? 0) > 0 ? .length(contentLength!) : nil
        if upgrade && body != nil { throw Refusal(400, "an upgrade request has no body") }
        return HeadFraming(body: body, upgrade: upgrade)
    }

    /// `METHOD SP target SP HTTP/1.1` (or 1.0); true for HTTP/1.0.
    static func checkRequestLine(_ line: ArraySlice<UInt8>, limits: HTTPFramingLimits) throws(Refusal) -> Bool {
        let parts = line.split(separator: sp, maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte), !parts[1].isEmpty,
              parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Refusal(400, "the request line is not METHOD SP target SP HTTP/1.1 (\(excerpt(line)))")
        }
        let target = parts[1]
        let origin = target.first == UInt8(ascii: "/")
        let absolute = target.starts(with: Array("http://".utf8)) || target.starts(with: Array("https://".utf8))
        let asterisk = target.elementsEqual([UInt8(ascii: "*")])
        guard origin || absolute || asterisk else { throw Refusal(400, "the request target is not a path (\(excerpt(target)))") }
        switch String(decoding: parts[2], as: UTF8.self) {
        case "HTTP/1.1": return false
        case "HTTP/1.0": return true
        default: throw Refusal(400, "the request line does not end in HTTP/1.1 (\(excerpt(parts[2])))")
        }
    }

    /// The lines of a head whose every LF is preceded by CR.
    static func split(_ head: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var i = head.startIndex
        while i < head.endIndex {
            if head[i] == lf {
                lines.append(head[start..<(i - 1)])
                start = i + 1
            }
            i += 1
        }
        lines.append(head[start..<head.endIndex])
        return lines
    }

    /// RFC 9110 tchar.
    static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(c)
        }
    }

    /// A short, printable rendering of client bytes for a message.
    static func excerpt(_ bytes: some Collection<UInt8>) -> String {
        let shown = bytes.prefix(40).map { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") ? Character(UnicodeScalar($0)) : "?" }
        return "\"" + String(shown) + (bytes.count > 40 ? "…" : "") + "\""
    }

    // MARK: The body

    private mutating func bodyBytes(_ bytes: [UInt8], _ index: inout Int, into out: inout [UInt8]) throws(Refusal) {
        switch body {
        case .length(let remaining):
            let take = min(remaining, bytes.count - index)
            out.append(contentsOf: bytes[index..<(index + take)])
            index += take
            body = .length(remaining - take)
            if remaining - take == 0 { phase = .idle }
        case .chunkData(let remaining):
            let take = min(remaining, bytes.count - index)
            out.append(contentsOf: bytes[index..<(index + take)])
            index += take
            body = remaining - take == 0 ? .chunkDataEnd(sawCR: false) : .chunkData(remaining - take)
        case .chunkDataEnd(let sawCR):
            let byte = bytes[index]
            index += 1
            out.append(byte)
            if !sawCR && byte == Self.cr {
                body = .chunkDataEnd(sawCR: true)
            } else if sawCR && byte == Self.lf {
                body = .chunkSize([])
            } else {
                throw Refusal(400, "a chunk's data is not followed by CRLF")
            }
        case .chunkSize(var line):
            let byte = bytes[index]
            index += 1
            out.append(byte)
            line.append(byte)
            if byte == Self.lf {
                guard line.count >= 2, line[line.count - 2] == Self.cr else { throw Refusal(400, "a chunk size line ends in LF without CR") }
                let size = try Self.chunkSize(line.dropLast(2))
                bodyBytes += size
                if bodyBytes > limits.maxBodyBytes {
                    throw Refusal(413, "the body is larger than this server accepts (\(limits.maxBodyBytes) bytes)")
                }
                body = size == 0 ? .trailer(line: [], total: 0) : .chunkData(size)
            } else if line.count > 1024 {
                throw Refusal(400, "a chunk size line is longer than 1024 bytes")
            } else {
                body = .chunkSize(line)
            }
        case .trailer(var line, let total):
            let byte = bytes[index]
            index += 1
            out.append(byte)
            line.append(byte)
            if total + 1 > limits.maxHeadBytes { throw Refusal(431, "the trailer is larger than \(limits.maxHeadBytes) bytes") }
            if byte == Self.lf {
                guard line.count >= 2, line[line.count - 2] == Self.cr else { throw Refusal(400, "a trailer line ends in LF without CR") }
                if line.count == 2 {
                    phase = .idle
                    return
                }
                let field = line.dropLast(2)
                guard let colon = field.firstIndex(of: UInt8(ascii: ":")), colon > field.startIndex,
                      field[..<colon].allSatisfy(Self.isTokenByte) else { throw Refusal(400, "a trailer line is not name: value") }
                line = []
            }
            body = .trailer(line: line, total: total + 1)
        }
    }

    /// `1*HEXDIG [ ";" extensions ]`, at most 8 digits.
    static func chunkSize(_ line: ArraySlice<UInt8>) throws(Refusal) -> Int {
        let end = line.firstIndex(of: UInt8(ascii: ";")) ?? line.endIndex
        let digits = line[..<end]
        guard !digits.isEmpty, digits.count <= 8, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16),
              digits.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") }) else {
            throw Refusal(400, "a bad chunk size (\(excerpt(line)))")
        }
        guard line[end...].allSatisfy({ $0 == tab || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw Refusal(400, "a chunk extension holds a control character")
        }
        return size
    }
}
