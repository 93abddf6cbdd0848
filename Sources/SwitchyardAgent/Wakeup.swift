import Synchronization

/// Wakes one waiting task, or the next one to wait: a signal that is not
/// lost when nobody waits yet. The heartbeat sender sleeps on it until a
/// report or its next deadline, instead of waking to look.
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiter else {
                s.pending = true
                return nil
            }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }

    /// Returns at the first signal (one given before the call counts), at
    /// `deadline`, or when the task is cancelled.
    func wait(until deadline: ContinuousClock.Instant) async {
        if state.withLock({ s -> Bool in defer { s.pending = false }; return s.pending }) { return }
        let timer = Task { [self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            if !Task.isCancelled { signal() }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.pending {
                        s.pending = false
                        return true
                    }
                    s.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
        timer.cancel()
    }
}
