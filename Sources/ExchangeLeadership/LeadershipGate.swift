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
public final class LeadershipGate: Sendable {
    @usableFromInline let deadlineTicks = Atomic<UInt64>(0)
    @usableFromInline let token = Atomic<Int64>(0)

    public init() {}

    /// Whether a leader whose clock reads `nowTicks` (the same clock the candidate was given)
    /// may acknowledge: one acquiring load and a compare; no lock, no allocation, no syscall.
    @inlinable
    public func mayAcknowledge(atTicks nowTicks: UInt64) -> Bool {
        nowTicks < deadlineTicks.load(ordering: .acquiring)
    }

    /// The fencing token of the current (or last) leadership; read after `mayAcknowledge`
    /// returned true, it is the one that answer belongs to.
    @inlinable
    public var fencingToken: Int64 { token.load(ordering: .acquiring) }

    /// The deadline in ticks; 0 when not leading.
    @inlinable
    public var deadline: UInt64 { deadlineTicks.load(ordering: .acquiring) }

    func open(token newToken: Int64, untilTicks deadline: UInt64) {
        token.store(newToken, ordering: .releasing)
        deadlineTicks.store(deadline, ordering: .releasing)
    }

    func extend(untilTicks deadline: UInt64) {
        deadlineTicks.store(deadline, ordering: .releasing)
    }

    func close() {
        deadlineTicks.store(0, ordering: .releasing)
    }
}
