/// Where a chunked walk of a replica's orders stands (`BookReplica.walkOrders`): which
/// (instrument, side), which stage of ordering that side's levels, the level being emitted
/// and its next order. A walk visits every order in snapshot order — instruments in index
/// order, bids then asks, best price first, oldest first — a bounded amount of work at a
/// time; the replica must not change between the first step and the last.
public struct ReplicaCursor: Sendable {
    @usableFromInline enum Stage: UInt8, Sendable {
        /// Listing the side's levels into the replica's scratch.
        case collect
        /// Making the scratch a heap, best level at the root.
        case heapify
        /// Taking levels off the heap, best first, and emitting their orders.
        case drain
        case done
    }

    @usableFromInline var instrument = 0
    @usableFromInline var side = 0
    @usableFromInline var stage = Stage.collect
    @usableFromInline var started = false
    /// Collect: the next level of the side's list.
    @usableFromInline var level: UInt32 = .max
    /// Levels in the heap.
    @usableFromInline var count = 0
    /// Heapify: sift-downs still to do (from `heapify - 1` down to 0).
    @usableFromInline var heapify = 0
    /// Drain: the next order of the level being emitted (`.max`: take the next level).
    @usableFromInline var order: UInt32 = .max

    public init() {}

    /// Whether every order has been visited.
    @inlinable public var isFinished: Bool { stage == .done }
}
