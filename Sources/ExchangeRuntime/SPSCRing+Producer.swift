import Synchronization

extension SPSCRing {
    /// The writing end of a ring: one per ring, owned by one thread at a time.
    ///
    /// Single: `tryPush(_:)`. Batched: `claim(upTo:)` a run of contiguous free slots, write
    /// them, `publish(_:)` how many were written (one release store for the whole batch).
    /// A full ring is counted in `fullCount`, for the owning agent to report as its "ring
    /// full" metric, and the caller decides what happens to the element: never a silent drop,
    /// never a wait inside the ring.
    public struct Producer: ~Copyable, @unchecked Sendable {
        @usableFromInline let slots: UnsafeMutablePointer<Element>
        @usableFromInline let capacity: UInt64
        @usableFromInline let mask: UInt64
        /// The shared index this end publishes (`.releasing`).
        @usableFromInline let publishedIndex: UnsafePointer<Atomic<UInt64>>
        /// The consumer's shared index, read (`.acquiring`) only when the cached view says full.
        @usableFromInline let releasedIndex: UnsafePointer<Atomic<UInt64>>
        /// The next index to write: always equal to what was last published.
        @usableFromInline var tail: UInt64
        /// The consumer's index as last read: the consumer has released at least this much.
        @usableFromInline var cachedHead: UInt64
        /// Slots handed out by the last `claim(upTo:)` and not yet published.
        @usableFromInline var claimed: UInt64
        @usableFromInline var fullEvents: UInt64

        init(slots: UnsafeMutablePointer<Element>, capacity: UInt64,
             published: UnsafePointer<Atomic<UInt64>>, released: UnsafePointer<Atomic<UInt64>>, start: UInt64) {
            self.slots = slots
            self.capacity = capacity
            self.mask = capacity &- 1
            self.publishedIndex = published
            self.releasedIndex = released
            self.tail = start
            self.cachedHead = start
            self.claimed = 0
            self.fullEvents = 0
        }

        /// Appends `element` and publishes it, or returns `false` (and counts it in
        /// `fullCount`) when the ring is full.
        @inlinable
        public mutating func tryPush(_ element: Element) -> Bool {
            if tail &- cachedHead >= capacity {
                cachedHead = releasedIndex.pointee.load(ordering: .acquiring)
                if tail &- cachedHead >= capacity {
                    fullEvents &+= 1
                    return false
                }
            }
            (slots + Int(truncatingIfNeeded: tail & mask)).initialize(to: element)
            tail &+= 1
            publishedIndex.pointee.store(tail, ordering: .releasing)
            return true
        }

        /// Up to `maximum` contiguous free slots to write, starting at the next index; fewer
        /// where the ring wraps (claim again after publishing for the rest) or where it is
        /// nearly full, none when it is full (counted in `fullCount`). Nothing is visible to
        /// the consumer until `publish(_:)`; a new claim replaces an unpublished one.
        @inlinable
        public mutating func claim(upTo maximum: Int) -> UnsafeMutableBufferPointer<Element> {
            precondition(maximum >= 0, "claim of a negative number of slots")
            let index = tail & mask
            let wanted = min(UInt64(truncatingIfNeeded: maximum), capacity &- index)
            var free = capacity &- (tail &- cachedHead)
            if free < wanted {
                cachedHead = releasedIndex.pointee.load(ordering: .acquiring)
                free = capacity &- (tail &- cachedHead)
                if free == 0 { fullEvents &+= 1 }
            }
            let count = min(free, wanted)
            claimed = count
            return UnsafeMutableBufferPointer(start: slots + Int(truncatingIfNeeded: index), count: Int(truncatingIfNeeded: count))
        }

        /// Publishes the first `count` slots of the last claim, in order, with one release store.
        @inlinable
        public mutating func publish(_ count: Int) {
            precondition(count >= 0 && UInt64(truncatingIfNeeded: count) <= claimed, "publish of more slots than claimed")
            claimed = 0
            guard count > 0 else { return }
            tail &+= UInt64(truncatingIfNeeded: count)
            publishedIndex.pointee.store(tail, ordering: .releasing)
        }

        /// Times the producer found the ring full: `tryPush` returned `false` or `claim`
        /// returned no slots. The owning agent reports it as the ring's "full" metric.
        @inlinable
        public var fullCount: UInt64 { fullEvents }

        /// Elements ever published by this end (its index).
        @inlinable
        public var published: UInt64 { tail }

        /// Elements published and not yet released, from relaxed loads of both indices.
        @inlinable
        public var depth: Int {
            SPSCRing.depth(published: publishedIndex, released: releasedIndex, capacity: capacity)
        }

        /// Slots free as far as this end knows without reading the consumer's index: a lower bound.
        @inlinable
        public var knownFreeSlots: Int { Int(truncatingIfNeeded: capacity &- (tail &- cachedHead)) }
    }
}
