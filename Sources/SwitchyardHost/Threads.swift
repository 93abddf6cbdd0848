#if canImport(Glibc)
import Glibc
#endif

/// A plain OS thread. The cycle and each device worker get their own, so that
/// a blocked device never holds up the cycle and the cycle never waits on the
/// Swift concurrency pool.
public final class OSThread: @unchecked Sendable {
    // @unchecked: `thread` is written once in `init` before anyone can see
    // the object and only read (joined) afterwards.
    private var thread = pthread_t()

    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    public func join() {
        pthread_join(thread, nil)
    }

    /// Starts a thread nobody joins.
    public static func detach(name: String, _ body: @escaping @Sendable () -> Void) {
        pthread_detach(OSThread(name: name, body).thread)
    }

    private final class Box {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

}

/// A wake-up signal with a timed wait on the monotonic clock.
final class WakeSignal: @unchecked Sendable {
    // @unchecked: the pthread objects live at fixed heap addresses and are
    // only touched through pthread calls, which synchronise; `signalled` is
    // only accessed with the mutex held.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var signalled = false

    init() {
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    func signal() {
        pthread_mutex_lock(mutex)
        signalled = true
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
    }

    /// Waits until signalled or until the monotonic clock reaches `deadlineNs`.
    func wait(untilNs deadlineNs: Int64) {
        var ts = timespec(tv_sec: Int(deadlineNs / 1_000_000_000), tv_nsec: Int(deadlineNs % 1_000_000_000))
        pthread_mutex_lock(mutex)
        while !signalled {
            if pthread_cond_timedwait(cond, mutex, &ts) == ETIMEDOUT { break }
        }
        signalled = false
        pthread_mutex_unlock(mutex)
    }
}
