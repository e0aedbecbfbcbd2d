import Synchronization

extension SPSCRing {
    /// The reading end of a ring: one per ring, owned by one thread at a time.
    ///
    /// Single: `tryPop()`. Batched: `peek(upTo:)` a run of contiguous ready slots, read them,
    /// `release(_:)` how many were consumed (one release store for the whole batch), after
    /// which the producer may overwrite them.
    public struct Consumer: ~Copyable, @unchecked Sendable {
        @usableFromInline let slots: UnsafeMutablePointer<Element>
        @usableFromInline let capacity: UInt64
        @usableFromInline let mask: UInt64
        /// The producer's shared index, read (`.acquiring`) only when the cached view says empty.
        @usableFromInline let publishedIndex: UnsafePointer<Atomic<UInt64>>
        /// The shared index this end releases (`.releasing`).
        @usableFromInline let releasedIndex: UnsafePointer<Atomic<UInt64>>
        /// The next index to read: always equal to what was last released.
        @usableFromInline var head: UInt64
        /// The producer's index as last read: at least this much is published.
        @usableFromInline var cachedTail: UInt64
        /// Slots handed out by the last `peek(upTo:)` and not yet released.
        @usableFromInline var peeked: UInt64

        init(slots: UnsafeMutablePointer<Element>, capacity: UInt64,
             published: UnsafePointer<Atomic<UInt64>>, released: UnsafePointer<Atomic<UInt64>>, start: UInt64) {
            self.slots = slots
            self.capacity = capacity
            self.mask = capacity &- 1
            self.publishedIndex = published
            self.releasedIndex = released
            self.head = start
            self.cachedTail = start
            self.peeked = 0
        }

        /// The oldest element, released at once, or `nil` when the ring is empty.
        @inlinable
        public mutating func tryPop() -> Element? {
            if head == cachedTail {
                cachedTail = publishedIndex.pointee.load(ordering: .acquiring)
                if head == cachedTail { return nil }
            }
            let element = slots[Int(truncatingIfNeeded: head & mask)]
            head &+= 1
            releasedIndex.pointee.store(head, ordering: .releasing)
            return element
        }

        /// Up to `maximum` contiguous ready slots, oldest first; fewer where the ring wraps
        /// (peek again after releasing for the rest) or when fewer are published, none when
        /// it is empty. The slots stay the consumer's until `release(_:)`; a new peek
        /// replaces an unreleased one.
        @inlinable
        public mutating func peek(upTo maximum: Int) -> UnsafeBufferPointer<Element> {
            precondition(maximum >= 0, "peek at a negative number of slots")
            let index = head & mask
            let wanted = min(UInt64(truncatingIfNeeded: maximum), capacity &- index)
            var ready = cachedTail &- head
            if ready < wanted {
                cachedTail = publishedIndex.pointee.load(ordering: .acquiring)
                ready = cachedTail &- head
            }
            let count = min(ready, wanted)
            peeked = count
            return UnsafeBufferPointer(start: slots + Int(truncatingIfNeeded: index), count: Int(truncatingIfNeeded: count))
        }

        /// Releases the first `count` slots of the last peek to the producer, with one
        /// release store.
        @inlinable
        public mutating func release(_ count: Int) {
            precondition(count >= 0 && UInt64(truncatingIfNeeded: count) <= peeked, "release of more slots than peeked")
            peeked = 0
            guard count > 0 else { return }
            head &+= UInt64(truncatingIfNeeded: count)
            releasedIndex.pointee.store(head, ordering: .releasing)
        }

        /// Elements ever released by this end (its index).
        @inlinable
        public var released: UInt64 { head }

        /// Elements published and not yet released, from relaxed loads of both indices.
        @inlinable
        public var depth: Int {
            SPSCRing.depth(published: publishedIndex, released: releasedIndex, capacity: capacity)
        }
    }
}
