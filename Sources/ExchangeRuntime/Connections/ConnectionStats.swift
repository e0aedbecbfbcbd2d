/// What a `ConnectionTable` counted since start (plain counters, read by its owner when it
/// publishes metrics).
public struct ConnectionStats: Sendable, Equatable {
    public var accepted: UInt64 = 0
    public var acceptErrors: UInt64 = 0
    public var refusedTableFull: UInt64 = 0
    public var refusedPreLoginFull: UInt64 = 0
    public var refusedAddressLimit: UInt64 = 0
    public var refusedNotAccepting: UInt64 = 0
    public var refusedSubmissionQueueFull: UInt64 = 0
    public var closed: UInt64 = 0
    /// Multishot receives stopped by ENOBUFS (every provided buffer in use), each re-armed.
    public var receiveBuffersExhausted: UInt64 = 0
    /// Completions for an earlier occupant of a slot (generation moved on), ignored.
    public var staleCompletions: UInt64 = 0
    /// Backlogs found beyond a connection's send bound (`admitBacklog`).
    public var slowConsumers: UInt64 = 0
    /// Receives paused (`pauseReceiving`) and resumed: back-pressure applied to a peer.
    public var receivePauses: UInt64 = 0
    public var receiveResumes: UInt64 = 0
    /// Buffers that arrived for a paused connection and waited in the table (`nextParked`).
    public var parkedBuffers: UInt64 = 0
    public var bytesIn: UInt64 = 0
    public var bytesOut: UInt64 = 0
    /// The largest backlog reported to `admitBacklog`.
    public var sendQueuePeakBytes: UInt64 = 0

    public init() {}

    /// Every refusal, whatever the reason.
    public var refused: UInt64 { refusedTableFull &+ refusedPreLoginFull &+ refusedAddressLimit &+ refusedNotAccepting &+ refusedSubmissionQueueFull }
}
