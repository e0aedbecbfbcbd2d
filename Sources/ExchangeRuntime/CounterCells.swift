import Synchronization

/// A copyable view of the counters region for the agents that write it (the region itself
/// is owned by the process and outlives every agent).
public struct CounterCells: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer

    public init(base: UnsafeMutableRawPointer) { self.base = base }

    @inlinable
    public func store(_ offset: Int, _ value: UInt64) {
        (base + offset).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.store(value, ordering: .relaxed)
    }

    @inlinable
    public func load(_ offset: Int) -> UInt64 {
        (base + offset).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.load(ordering: .relaxed)
    }

    /// A store that publishes everything this thread wrote before it (for a reader that
    /// loads with `loadAcquiring`).
    @inlinable
    public func storeReleasing(_ offset: Int, _ value: UInt64) {
        (base + offset).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.store(value, ordering: .releasing)
    }

    @inlinable
    public func loadAcquiring(_ offset: Int) -> UInt64 {
        (base + offset).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.load(ordering: .acquiring)
    }
}

extension CountersRegion {
    /// The cells, for agents to write.
    public var cells: CounterCells { CounterCells(base: base) }
}
