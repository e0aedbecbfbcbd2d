/// A fixed ring of packet buffers between whoever fills packets and the socket that sends
/// them, allocated once. Slots move through four states, in ring order:
///
/// ```
///  completed ≤ submitted ≤ ready ≤ (filling)
///  [in flight: submitted, awaiting completion][ready: to submit][free …]
/// ```
///
/// `fillingSlot` is the slot after the last ready one, free to write while fewer than
/// `count` slots are taken; `commit(length:)` makes it ready; `takeReady()` hands ready
/// slots to the sender in order; `complete(_:)` returns a sent slot (completions may arrive
/// in any order: the ring frees slots from the oldest once each is complete).
/// Each slot is 64-byte aligned.
public struct PacketSlots: ~Copyable, @unchecked Sendable {
    public let count: Int
    public let slotBytes: Int
    @usableFromInline let memory: UnsafeMutableRawPointer
    @usableFromInline let lengths: UnsafeMutablePointer<Int32>
    @usableFromInline let done: UnsafeMutablePointer<Bool>
    @usableFromInline var completed: UInt64 = 0
    @usableFromInline var submitted: UInt64 = 0
    @usableFromInline var ready: UInt64 = 0

    /// `count` slots (a power of two) of `slotBytes` each.
    public init(count: Int, slotBytes: Int) {
        precondition(count > 0 && count & (count - 1) == 0, "slot count must be a power of two")
        self.count = count
        self.slotBytes = Self.alignedSlotBytes(slotBytes)
        memory = .allocate(byteCount: count * self.slotBytes, alignment: 64)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: count * self.slotBytes)
        lengths = .filled(count, with: 0)
        done = .filled(count, with: false)
    }

    static func alignedSlotBytes(_ slotBytes: Int) -> Int { (slotBytes + 63) & ~63 }

    /// The heap bytes `init(count:slotBytes:)` allocates.
    public static func requiredBytes(count: Int, slotBytes: Int) -> Int {
        count * (alignedSlotBytes(slotBytes) + MemoryLayout<Int32>.stride + MemoryLayout<Bool>.stride)
    }

    deinit {
        memory.deallocate()
        lengths.deallocate()
        done.deallocate()
    }

    @inlinable var mask: UInt64 { UInt64(count &- 1) }

    /// Slots taken (in flight or ready).
    @inlinable public var taken: Int { Int(truncatingIfNeeded: ready &- completed) }
    /// Slots free to fill.
    @inlinable public var free: Int { count &- taken }

    /// The index of the slot to fill next, or nil when every slot is taken.
    @inlinable public var fillingSlot: Int? { taken < count ? Int(truncatingIfNeeded: ready & mask) : nil }

    @inlinable public func bytes(_ slot: Int) -> UnsafeMutableRawPointer { memory + slot &* slotBytes }
    @inlinable public func length(_ slot: Int) -> Int { Int(lengths[slot]) }

    /// Makes the filling slot ready with `length` bytes. Traps when no slot was free.
    @inlinable
    public mutating func commit(length: Int) {
        precondition(taken < count, "commit without a free slot")
        let slot = Int(truncatingIfNeeded: ready & mask)
        lengths[slot] = Int32(truncatingIfNeeded: length)
        done[slot] = false
        ready &+= 1
    }

    /// The oldest ready slot, now in flight; nil when none is ready.
    @inlinable
    public mutating func takeReady() -> Int? {
        guard submitted != ready else { return nil }
        let slot = Int(truncatingIfNeeded: submitted & mask)
        submitted &+= 1
        return slot
    }

    /// Gives back the most recently taken ready slot, unsent (the sender had no room for it).
    @inlinable
    public mutating func untake() {
        precondition(submitted != completed, "untake without a taken slot")
        submitted &-= 1
    }

    /// Marks an in-flight slot sent; frees every slot from the oldest that is complete.
    @inlinable
    public mutating func complete(_ slot: Int) {
        done[slot] = true
        while completed != submitted && done[Int(truncatingIfNeeded: completed & mask)] {
            done[Int(truncatingIfNeeded: completed & mask)] = false
            completed &+= 1
        }
    }
}
