#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Checks that state meant for the cycle thread is only touched there. The
/// first thread to run a cycle claims it; in debug builds any other thread
/// touching cycle state traps with a message instead of racing silently.
/// Release builds skip the check: it is on the hot path.
final class CycleBound: Sendable {
    private let owner = Atomic<UInt>(0)

    /// Claims the calling thread as the cycle thread (again, after a restart).
    func claim() {
        owner.store(UInt(pthread_self()), ordering: .relaxed)
    }

    @inline(__always)
    func check() {
        #if DEBUG
        let current = UInt(pthread_self())
        let claimed = owner.load(ordering: .relaxed)
        precondition(claimed == 0 || claimed == current, "cycle state touched outside the cycle thread")
        #endif
    }
}
