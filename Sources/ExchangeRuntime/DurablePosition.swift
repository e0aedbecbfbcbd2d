import Synchronization

/// The journal's durable sequence: the highest command sequence whose record (and every
/// record before it) is on stable storage. One writer — the journal agent, with a releasing
/// store after its fdatasync completed — and any number of readers (the gateway and the
/// market-data agent, an acquiring load per batch: no lock, no syscall).
///
/// The cell has its own cache line, so the readers' loads do not share a line with anything
/// the writer or the readers write. Memory is the caller's (a start-up region) or, with
/// `init(initial:)`, allocated here once and never freed before the owner's `deallocate()`.
/// A copy of the value refers to the same cell.
public struct DurablePosition: @unchecked Sendable {
    public let cell: UnsafeMutablePointer<Atomic<UInt64>>

    /// Bytes the cell takes in a region (a cache line).
    public static let requiredBytes = 64

    /// - Parameter memory: `requiredBytes` bytes, 64-byte aligned, for the cell.
    public init(memory: UnsafeMutableRawPointer, initial: UInt64) {
        cell = memory.bindMemory(to: Atomic<UInt64>.self, capacity: 1)
        cell.initialize(to: Atomic(initial))
    }

    /// A cell of its own (tests, tools); free it with `deallocate()`.
    public init(initial: UInt64) {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: Self.requiredBytes, alignment: 64)
        self.init(memory: memory, initial: initial)
    }

    /// For `durability.mode` none or async: every sequence counts as durable.
    public static func unbounded() -> DurablePosition { DurablePosition(initial: .max) }

    public func deallocate() { UnsafeMutableRawPointer(cell).deallocate() }

    /// The durable sequence (acquiring: what the writer did before publishing it is visible).
    @inline(__always)
    public func load() -> UInt64 { cell.pointee.load(ordering: .acquiring) }

    /// Publishes `sequence` as durable (the journal agent only; never moves backwards).
    @inline(__always)
    public func publish(_ sequence: UInt64) { cell.pointee.store(sequence, ordering: .releasing) }
}
