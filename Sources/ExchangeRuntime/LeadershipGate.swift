import Synchronization

/// What the hot path reads to decide whether it may acknowledge: the lease deadline, in
/// the candidate's clock ticks, in one atomic word (0 when not leading), and the fencing
/// token of the leadership it belongs to.
///
/// One writer, the candidate's task: it opens the gate when it wins (token first, then the
/// deadline, releasing), extends the deadline on each confirmed keepalive, and closes it the
/// moment leadership is lost or resigned. Readers need no help from the writer to stop in
/// time: `mayAcknowledge` compares the deadline with their own clock reading, so a stalled
/// candidate task cannot keep a stale "yes" alive past the lease's local deadline.
///
/// In ExchangeRuntime so that the gateway reads it without linking the etcd client
/// (`ExchangeLeadership` re-exports it). The deadline has a cache line of its own, allocated
/// once; a hot loop holds a `Reader` (a pointer to it: no reference counting) for as long as
/// its owner keeps the gate.
public final class LeadershipGate: @unchecked Sendable {
    @usableFromInline let deadlineTicks: UnsafeMutablePointer<Atomic<UInt64>>
    @usableFromInline let token = Atomic<Int64>(0)

    public init() {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        deadlineTicks = memory.bindMemory(to: Atomic<UInt64>.self, capacity: 1)
        deadlineTicks.initialize(to: Atomic(0))
    }

    deinit { UnsafeMutableRawPointer(deadlineTicks).deallocate() }

    /// The deadline as a hot loop reads it: valid while the gate lives.
    @frozen
    public struct Reader: @unchecked Sendable {
        @usableFromInline let deadlineTicks: UnsafeMutablePointer<Atomic<UInt64>>

        @usableFromInline init(_ deadlineTicks: UnsafeMutablePointer<Atomic<UInt64>>) { self.deadlineTicks = deadlineTicks }

        /// `LeadershipGate.mayAcknowledge(atTicks:)`: one acquiring load and a compare.
        @inlinable @inline(__always)
        public func mayAcknowledge(atTicks nowTicks: UInt64) -> Bool {
            nowTicks < deadlineTicks.pointee.load(ordering: .acquiring)
        }
    }

    /// A reader for a hot loop; the caller keeps the gate alive while it uses it.
    public var reader: Reader { Reader(deadlineTicks) }

    /// Whether a leader whose clock reads `nowTicks` (the same clock the candidate was given)
    /// may acknowledge: one acquiring load and a compare; no lock, no allocation, no syscall.
    @inlinable
    public func mayAcknowledge(atTicks nowTicks: UInt64) -> Bool {
        nowTicks < deadlineTicks.pointee.load(ordering: .acquiring)
    }

    /// The fencing token of the current (or last) leadership; read after `mayAcknowledge`
    /// returned true, it is the one that answer belongs to.
    @inlinable
    public var fencingToken: Int64 { token.load(ordering: .acquiring) }

    /// The deadline in ticks; 0 when not leading.
    @inlinable
    public var deadline: UInt64 { deadlineTicks.pointee.load(ordering: .acquiring) }

    package func open(token newToken: Int64, untilTicks deadline: UInt64) {
        token.store(newToken, ordering: .releasing)
        deadlineTicks.pointee.store(deadline, ordering: .releasing)
    }

    package func extend(untilTicks deadline: UInt64) {
        deadlineTicks.pointee.store(deadline, ordering: .releasing)
    }

    package func close() {
        deadlineTicks.pointee.store(0, ordering: .releasing)
    }
}
