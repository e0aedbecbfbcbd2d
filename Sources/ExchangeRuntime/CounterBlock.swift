import Synchronization

/// A registered counter block: the cells one agent writes (one writer per cell), mapped in
/// the counters region at the offset the registry gave it. Copyable and cheap: a pointer and
/// a cell count. Stores are relaxed unless named otherwise.
public struct CounterBlock: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let cellCount: Int

    public init(base: UnsafeMutableRawPointer, cellCount: Int) {
        self.base = base
        self.cellCount = cellCount
    }

    @inlinable
    public func store(_ cell: CounterCell, _ value: UInt64) {
        (base + cell.offset).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.store(value, ordering: .relaxed)
    }

    @inlinable
    public func load(_ cell: CounterCell) -> UInt64 {
        (base + cell.offset).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.load(ordering: .relaxed)
    }

    /// A store that publishes everything this thread wrote before it (for a reader that
    /// loads with `loadAcquiring`).
    @inlinable
    public func storeReleasing(_ cell: CounterCell, _ value: UInt64) {
        (base + cell.offset).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.store(value, ordering: .releasing)
    }

    @inlinable
    public func loadAcquiring(_ cell: CounterCell) -> UInt64 {
        (base + cell.offset).assumingMemoryBound(to: Atomic<UInt64>.self).pointee.load(ordering: .acquiring)
    }

    /// The writer of a `.histogram` counter that starts at `cell`.
    public func latencyRecorder(_ cell: CounterCell) -> LatencyRecorder { LatencyRecorder(base: base + cell.offset) }
}
