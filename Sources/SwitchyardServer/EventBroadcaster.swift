import Synchronization

/// Hands every subscriber its own stream of the events yielded after it
/// subscribed. A slow subscriber buffers at most `bufferLimit` events (the
/// oldest are dropped; receivers treat an event as "look at the store
/// again", so a gap loses nothing that a later event does not recover).
final class EventBroadcaster<Event: Sendable>: Sendable {
    private let continuations = Mutex<[Int: AsyncStream<Event>.Continuation]>([:])
    private let nextId = Atomic<Int>(0)
    private let bufferLimit: Int

    init(bufferLimit: Int = 10_000) {
        self.bufferLimit = bufferLimit
    }

    func subscribe() -> AsyncStream<Event> {
        let id = nextId.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(bufferLimit))
        continuation.onTermination = { [weak self] _ in
            _ = self?.continuations.withLock { $0.removeValue(forKey: id) }
        }
        continuations.withLock { $0[id] = continuation }
        return stream
    }

    func yield(_ event: Event) {
        let targets = continuations.withLock { Array($0.values) }
        for continuation in targets { continuation.yield(event) }
    }

    func finish() {
        let targets = continuations.withLock { all in
            defer { all.removeAll() }
            return Array(all.values)
        }
        for continuation in targets { continuation.finish() }
    }
}
