import Synchronization

/// The hand-off from the cycle thread to the recorder: a fixed ring of
/// samples with one producer and one consumer. `push` never blocks, never
/// allocates and never waits for the recorder: when the ring is full the
/// sample is counted as dropped and the cycle goes on.
public final class SampleRing: @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        /// The channel's handle in the host's directory.
        public var channel: Int32
        public var sample: Sample

        public init(channel: Int32, sample: Sample) {
            self.channel = channel
            self.sample = sample
        }
    }

    public let capacity: Int
    private let mask: Int
    private let slots: UnsafeMutablePointer<Entry>
    /// Written only by the producer: the next slot to fill.
    private let head = Atomic<Int>(0)
    /// Written only by the consumer: the next slot to read.
    private let tail = Atomic<Int>(0)
    private let droppedCount = Atomic<Int>(0)

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int) {
        var size = 1
        while size < Swift.max(capacity, 2) { size <<= 1 }
        self.capacity = size
        mask = size - 1
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Entry(channel: -1, sample: Sample(timeMs: 0, value: 0)), count: size)
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    /// [producer] False (and counted) when the ring is full.
    @discardableResult
    public func push(_ entry: Entry) -> Bool {
        let h = head.load(ordering: .relaxed)
        guard h &- tail.load(ordering: .acquiring) < capacity else {
            droppedCount.add(1, ordering: .relaxed)
            return false
        }
        slots[h & mask] = entry
        head.store(h &+ 1, ordering: .releasing)
        return true
    }

    /// [consumer] Hands every queued entry to `body`, oldest first; returns how many.
    @discardableResult
    public func drain(_ body: (Entry) -> Void) -> Int {
        let t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        var i = t
        while i != h {
            body(slots[i & mask])
            i &+= 1
        }
        tail.store(h, ordering: .releasing)
        return h &- t
    }

    /// Samples refused because the ring was full, since the start.
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }

    /// Entries waiting for the consumer.
    public var queued: Int { head.load(ordering: .acquiring) &- tail.load(ordering: .acquiring) }
}
