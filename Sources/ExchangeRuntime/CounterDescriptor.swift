/// One cell of a counter block, addressed by its index in the block (cell `i` is the
/// `UInt64` at byte `8 * i` from the block's start). The one way agents address their cells:
/// `CounterBlock.store(cell, value)`, or `tally[cell.index]` for a private tally that is
/// copied to the block later.
public struct CounterCell: Hashable, Sendable, BitwiseCopyable {
    public let index: Int

    @inlinable public init(_ index: Int) { self.index = index }

    /// Byte offset from the block's start.
    @inlinable public var offset: Int { index &* 8 }
}

/// What a counter cell holds, as a reader should present it.
public enum CounterKind: UInt64, Sendable, CustomStringConvertible {
    /// A total that only grows (until the process restarts).
    case counter = 1
    /// A value that goes up and down (connections open, orders resting, a peak).
    case gauge = 2
    /// A `LatencyHistogram` laid over `LatencyHistogram.cellCount` cells from this one.
    case histogram = 3

    /// Cells the counter occupies.
    public var cellCount: Int { self == .histogram ? LatencyHistogram.cellCount : 1 }

    public var description: String {
        switch self {
        case .counter: "counter"
        case .gauge: "gauge"
        case .histogram: "histogram"
        }
    }
}

/// One counter a module declares: its name (unique in the block, at most
/// `CountersLayout.Directory.cellNameBytes - 1` bytes of UTF-8), kind, help text and cell.
/// The name, kind and cell go into the region's directory; the help text stays in the
/// process (documentation for whoever renders the counter).
public struct CounterDescriptor: Sendable {
    public let name: String
    public let kind: CounterKind
    public let help: String
    public let cell: CounterCell

    public init(_ name: String, _ kind: CounterKind, _ cell: CounterCell, help: String = "") {
        self.name = name
        self.kind = kind
        self.help = help
        self.cell = cell
    }
}

/// The counters one module writes, as it registers them with `CounterCells.register(_:)`
/// (Aeron's counter descriptors): a block name such as `engine`, its counters, and how many
/// cells the block spans (at least every counter's last cell; more leaves room unnamed).
public struct CounterBlockDescriptor: Sendable {
    public let name: String
    public let counters: [CounterDescriptor]
    public let cellCount: Int

    public init(name: String, counters: [CounterDescriptor], cellCount: Int? = nil) {
        let needed = counters.map { $0.cell.index + $0.kind.cellCount }.max() ?? 0
        precondition(cellCount.map { $0 >= needed } ?? true, "counter block \(name) spans fewer cells than its counters use")
        self.name = name
        self.counters = counters
        self.cellCount = cellCount ?? needed
    }

    /// Bytes the block takes in the region: its cells, rounded up to whole 128-byte blocks so
    /// that no two writers share a cache line (or an adjacent-line prefetch pair).
    public var bytes: Int { (cellCount * 8 + CountersLayout.blockAlignment - 1) / CountersLayout.blockAlignment * CountersLayout.blockAlignment }
}
