import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A thread that runs a plugin's calls one at a time, for the conformance
/// suite: the caller waits for each call with a deadline, so a call that
/// never returns fails its check instead of hanging the tool. A call that
/// timed out keeps the thread (it cannot be cancelled); the suite stops
/// using it.
final class CallThread: Sendable {
    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let signal = WakeSignal()
    private let finished = Atomic<Bool>(false)

    init(name: String) {
        OSThread.detach(name: name) { [self] in loop() }
    }

    private func loop() {
        while true {
            if let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
                job()
                continue
            }
            if finished.load(ordering: .acquiring) { return }
            signal.wait(untilNs: SystemClock().monotonicNs() + 1_000_000_000)
        }
    }

    /// Queues `job`; it runs after every job queued before it.
    func submit(_ job: @escaping @Sendable () -> Void) {
        jobs.withLock { $0.append(job) }
        signal.signal()
    }

    /// Runs `body` on this thread and returns its result, or nil when it has
    /// not returned within `timeoutNs`.
    func call<T: Sendable>(timeoutNs: Int64, _ body: @escaping @Sendable () -> T) -> T? {
        let done = CallCompletion<T>()
        submit { done.finish(body()) }
        return done.wait(timeoutNs: timeoutNs)
    }

    /// Lets the thread end once its queue is empty.
    func finish() {
        finished.store(true, ordering: .releasing)
        signal.signal()
    }
}

/// The result of one call on a `CallThread`, waited for with a deadline.
final class CallCompletion<T: Sendable>: Sendable {
    private let result = Mutex<T?>(nil)
    private let signal = WakeSignal()

    func finish(_ value: T) {
        result.withLock { $0 = value }
        signal.signal()
    }

    var value: T? { result.withLock { $0 } }

    func wait(timeoutNs: Int64) -> T? {
        let deadline = SystemClock().monotonicNs() + timeoutNs
        while true {
            if let value { return value }
            if SystemClock().monotonicNs() >= deadline { return nil }
            signal.wait(untilNs: deadline)
        }
    }
}
