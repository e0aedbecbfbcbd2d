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

    /// The region's cells from this block's start: the one place that does the atomics.
    @inlinable var cells: CounterCells { CounterCells(base: base) }

    @inlinable public func store(_ cell: CounterCell, _ value: UInt64) { cells.store(cell.offset, value) }

    @inlinable public func load(_ cell: CounterCell) -> UInt64 { cells.load(cell.offset) }

    /// A store that publishes everything this thread wrote before it (for a reader that
    /// loads with `loadAcquiring`).
    @inlinable public func storeReleasing(_ cell: CounterCell, _ value: UInt64) { cells.storeReleasing(cell.offset, value) }

    @inlinable public func loadAcquiring(_ cell: CounterCell) -> UInt64 { cells.loadAcquiring(cell.offset) }

    /// The writer of a `.histogram` counter that starts at `cell`.
    public func latencyRecorder(_ cell: CounterCell) -> LatencyRecorder { LatencyRecorder(base: base + cell.offset) }
}
