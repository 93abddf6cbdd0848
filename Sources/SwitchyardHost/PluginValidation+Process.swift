import SwitchyardJSON

#if canImport(Glibc)
import Glibc
#endif

extension PluginValidateCall {
    /// Runs `calls` in order in forked children and returns each one's
    /// refusal (nil: accepted). The child reports "started i" before each
    /// call and the answer after it through a pipe; a child that dies (a
    /// trap, a segfault in the plugin) or makes no progress for `timeoutNs`
    /// (then it is killed) turns the call it had started into a refusal,
    /// and the calls after it go on in a new child.
    static func runInChildren(_ calls: [PluginValidateCall], timeoutNs: Int64) -> [String?] {
        var refusals = [String?](repeating: nil, count: calls.count)
        var next = 0
        while next < calls.count {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { return run(Array(calls[next...]), timeoutNs: timeoutNs).enumeratedPrefix(refusals, from: next) }
            let pid = fork()
            if pid == 0 {
                close(fds[0])
                for i in next..<calls.count {
                    send(fds[1], "S \(i)\n")
                    let refusal = calls[i].callPlugin()
                    send(fds[1], "R \(i) " + (refusal.map { hex(Array($0.utf8)) } ?? "-") + "\n")
                }
                _exit(0)
            }
            close(fds[1])
            guard pid > 0 else {
                close(fds[0])
                return run(Array(calls[next...]), timeoutNs: timeoutNs).enumeratedPrefix(refusals, from: next)
            }
            var started = next - 1
            var answered = next - 1
            var pending: [UInt8] = []
            var outcome: String?
            reading: while true {
                var p = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
                let ready = poll(&p, 1, Int32(clamping: timeoutNs / 1_000_000))
                if ready < 0 && errno == EINTR { continue }
                if ready == 0 {
                    kill(pid, SIGKILL)
                    outcome = "its validate did not return within \(JSONValue.format(Double(timeoutNs) / 1e9)) s (validate must not block); treated as a refusal"
                    break reading
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = read(fds[0], &chunk, chunk.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break reading }
                pending += chunk[..<n]
                while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[..<end], as: UTF8.self).split(separator: " ", maxSplits: 2).map(String.init)
                    pending.removeSubrange(...end)
                    guard line.count >= 2, let i = Int(line[1]), i >= next, i < calls.count else { continue }
                    if line[0] == "S" { started = i }
                    if line[0] == "R", line.count == 3 {
                        refusals[i] = line[2] == "-" ? nil : String(decoding: unhex(line[2]), as: UTF8.self)
                        answered = i
                    }
                }
            }
            close(fds[0])
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            if answered == calls.count - 1 { return refusals }
            // The call the child was in when it died or was killed.
            let stuck = Swift.max(started, answered + 1)
            if outcome == nil {
                let signal = status & 0x7F
                outcome = signal != 0
                    ? "its validate crashed (signal \(signal): \(String(cString: strsignal(signal)))); treated as a refusal"
                    : "its validate ended the process (exit status \((status >> 8) & 0xFF)); treated as a refusal"
            }
            refusals[stuck] = outcome
            next = stuck + 1
        }
        return refusals
    }

    private static func send(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            bytes = bytes.dropFirst(n)
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }, as: UTF8.self)
    }

    private static func unhex(_ text: String) -> [UInt8] {
        func value(_ c: UInt8) -> UInt8 { c >= UInt8(ascii: "a") ? c - UInt8(ascii: "a") + 10 : c - UInt8(ascii: "0") }
        let chars = Array(text.utf8)
        return stride(from: 0, to: chars.count - 1, by: 2).map { value(chars[$0]) << 4 | value(chars[$0 + 1]) }
    }
}

private extension Array where Element == String? {
    /// `self` (the refusals of calls from `start` on) written over `into`.
    func enumeratedPrefix(_ into: [String?], from start: Int) -> [String?] {
        var out = into
        for (i, r) in enumerated() { out[start + i] = r }
        return out
    }
}
