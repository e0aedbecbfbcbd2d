/// The `durability` section: whether and how the exchange journals its sequenced input,
/// where, and how long an acknowledgement may wait for the disk (docs/DURABILITY.md).
/// Absent, the mode is `none`, so configurations written before the journal existed keep
/// their meaning.
public struct DurabilitySettings: Sendable, Equatable {
    /// The smallest segment: 1 MiB.
    public static let minimumSegmentBytes = 1 << 20
    /// Segment sizes and group-commit sizes are whole blocks, for O_DIRECT writes.
    public static let blockBytes = 4_096

    /// `mode`: none (no journal), async (journaled, output not gated) or sync (nothing a
    /// command caused leaves the exchange before its record is durable).
    public var mode: DurabilityMode = .none
    /// `directory`: the journal root; each trading day's segments go to a subdirectory named
    /// by the day. A relative path is relative to the exchange's working directory.
    public var directory = "data/journal"
    /// `segment_bytes`: each segment file's preallocated size, header included; the journal
    /// rolls to a new segment when the next record does not fit.
    public var segmentBytes = 64 << 20
    /// `io`: O_DIRECT, buffered + fdatasync, or O_DIRECT when the filesystem takes it.
    public var io: JournalIOMode = .auto
    /// `preallocate`: segments only fallocated (the default) or zero-filled ahead of need.
    public var preallocate: JournalPreallocation = .fallocate
    /// `sync_method`: how a batch is made durable: a write linked to an fdatasync (the
    /// default), one RWF_DSYNC write, or the latter where the kernel takes it.
    public var syncMethod: JournalSyncMethod = .fdatasync
    /// `group_commit_max_bytes`: the most one write (and one fdatasync) carries.
    public var groupCommitMaxBytes = 1 << 20
    /// `ring_capacity`: commands the engine-to-journal ring holds: the most the journal can
    /// be behind the engine.
    public var ringCapacity = 65_536
    /// `retain`: segments kept once a snapshot covers them (the oldest go first); a segment a
    /// snapshot does not cover is never removed.
    public var retain = 1_000_000
    /// `snapshot_interval_seconds`: seconds between periodic snapshots; 0: none.
    public var snapshotIntervalSeconds = 0
    /// `stall_budget_ms`: in sync, how long acknowledgements may wait for the disk before new
    /// orders are refused.
    public var stallBudgetMilliseconds = 250
    /// `archive_max_requests`: requests the journal archive serves at once — sessions asking
    /// for messages older than their history, and (as many again) feed re-requests older than
    /// the feed's history; more are refused and counted.
    public var archiveMaxRequests = 4
    /// `archive_chunk_bytes`: the most one archive reply carries to a session (a session older
    /// than its history is served chunk by chunk, one outstanding at a time).
    public var archiveChunkBytes = 256 << 10
    /// `replication`: none, async (the journal is streamed to a standby) or sync (output also
    /// waits for the standby's acknowledgement); the `replication` section says where.
    public var replication: ReplicationMode = .none

    /// The documented defaults.
    public init() {}
}
