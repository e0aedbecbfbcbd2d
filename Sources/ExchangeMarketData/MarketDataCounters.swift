import ExchangeRuntime

/// The market-data agent's counter block, `market_data`, registered in the counters region
/// by the agent. All are totals since start unless said.
public enum MarketDataCounters {
    public static let messages = CounterCell(0)
    public static let packets = CounterCell(1)
    public static let bytes = CounterCell(2)
    public static let retransmitRequests = CounterCell(3)
    public static let retransmitRejected = CounterCell(4)
    public static let heartbeats = CounterCell(5)
    /// The sequence number of the next message (a gauge).
    public static let nextSequence = CounterCell(6)
    public static let retransmitAnswered = CounterCell(7)
    /// Messages resent in answers.
    public static let retransmitMessages = CounterCell(8)
    public static let retransmitMalformed = CounterCell(9)
    public static let retransmitWrongSession = CounterCell(10)
    public static let retransmitRateLimited = CounterCell(11)
    public static let retransmitBeforeHistory = CounterCell(12)
    public static let retransmitNotYetPublished = CounterCell(13)
    /// Answers dropped because every answer slot was in flight.
    public static let retransmitAnswerDropped = CounterCell(14)
    public static let snapshotConnections = CounterCell(15)
    public static let snapshotsServed = CounterCell(16)
    public static let snapshotLoginsRejected = CounterCell(17)
    public static let snapshotProtocolErrors = CounterCell(18)
    /// Connections closed for silence before login, idleness, or a snapshot not read in time.
    public static let snapshotTimeouts = CounterCell(19)
    /// Connections refused because the connection table was full.
    public static let snapshotRefused = CounterCell(20)
    public static let snapshotBytes = CounterCell(21)
    /// Sends the kernel failed (the packet is lost to receivers; the re-request server still has it).
    public static let sendErrors = CounterCell(22)
    /// Times the agent left events on its ring because every packet slot was in flight.
    public static let backpressure = CounterCell(23)
    public static let replicaMismatches = CounterCell(24)
    /// Orders on the replica's books (a gauge).
    public static let restingOrders = CounterCell(25)
    /// The longest duty cycle of snapshot work (a chunk or a catch-up), in TSC ticks.
    public static let worstSnapshotBuildTicks = CounterCell(26)
    public static let events = CounterCell(27)
    /// The oldest sequence number the re-request server can resend (a gauge).
    public static let historyOldest = CounterCell(28)
    /// Snapshot connections open now (a gauge).
    public static let snapshotConnectionsOpen = CounterCell(29)
    /// Snapshot chunks encoded (each at most `snapshot_work_per_turn` units of work).
    public static let snapshotChunks = CounterCell(30)
    /// The most snapshot work one duty cycle did: units of a chunk, or messages a catch-up
    /// applied (a gauge; never above `snapshot_work_per_turn`).
    public static let snapshotMaxTurnWork = CounterCell(31)
    /// The largest chunk in bytes (a gauge).
    public static let snapshotMaxChunkBytes = CounterCell(32)
    /// Messages the snapshot copy of the books applied from the re-request history.
    public static let snapshotCatchUpMessages = CounterCell(33)
    /// Times the snapshot copy fell behind the history and was copied from the live replica.
    public static let snapshotReplicaRebuilds = CounterCell(34)
    /// Messages the snapshot copy disagreed with (0 unless there is a bug).
    public static let snapshotReplicaMismatches = CounterCell(35)
    /// Connections closed because they held a snapshot pass others waited for.
    public static let snapshotStalled = CounterCell(36)
    /// Re-requests older than the history handed to the journal archive.
    public static let archiveRequests = CounterCell(37)
    /// Of those, answered (one packet each).
    public static let archiveAnswered = CounterCell(38)
    /// Older-than-history re-requests dropped because the archive was busy: the requester's
    /// earlier one was still outstanding, or every archive chunk was in use.
    public static let archiveRefused = CounterCell(39)
    /// Archive requests it could not serve (the journal unreadable, or not reaching them).
    public static let archiveFailures = CounterCell(40)
    /// Messages answered from the archive.
    public static let archiveMessages = CounterCell(41)
    /// market_data.snapshot_tls on: snapshot connections whose TLS failed (a handshake refused,
    /// bytes that are not TLS, a record that did not decrypt); each was closed after OpenSSL's alert.
    /// (Cell 60: far from the cells other work adds after 41.)
    public static let snapshotTLSFailures = CounterCell(60)

    /// Every market-data counter with its name in `CountersSnapshot.marketData` and in metrics.
    /// The block spans 64 cells; these use 43 (0–41 and 60).
    public static let block = CounterBlockDescriptor(name: "market_data", counters: [
        .init("messages", .counter, messages),
        .init("packets", .counter, packets),
        .init("bytes", .counter, bytes),
        .init("retransmit_requests", .counter, retransmitRequests),
        .init("retransmit_rejected", .counter, retransmitRejected),
        .init("heartbeats", .counter, heartbeats),
        .init("next_sequence", .gauge, nextSequence),
        .init("retransmit_answered", .counter, retransmitAnswered),
        .init("retransmit_messages", .counter, retransmitMessages),
        .init("retransmit_malformed", .counter, retransmitMalformed),
        .init("retransmit_wrong_session", .counter, retransmitWrongSession),
        .init("retransmit_rate_limited", .counter, retransmitRateLimited),
        .init("retransmit_before_history", .counter, retransmitBeforeHistory),
        .init("retransmit_not_yet_published", .counter, retransmitNotYetPublished),
        .init("retransmit_answer_dropped", .counter, retransmitAnswerDropped),
        .init("snapshot_connections", .counter, snapshotConnections),
        .init("snapshots_served", .counter, snapshotsServed),
        .init("snapshot_logins_rejected", .counter, snapshotLoginsRejected),
        .init("snapshot_protocol_errors", .counter, snapshotProtocolErrors),
        .init("snapshot_timeouts", .counter, snapshotTimeouts),
        .init("snapshot_refused", .counter, snapshotRefused),
        .init("snapshot_bytes", .counter, snapshotBytes),
        .init("send_errors", .counter, sendErrors),
        .init("backpressure", .counter, backpressure),
        .init("replica_mismatches", .counter, replicaMismatches),
        .init("resting_orders", .gauge, restingOrders),
        .init("worst_snapshot_build_ticks", .gauge, worstSnapshotBuildTicks),
        .init("events", .counter, events),
        .init("history_oldest", .gauge, historyOldest),
        .init("snapshot_connections_open", .gauge, snapshotConnectionsOpen),
        .init("snapshot_chunks", .counter, snapshotChunks),
        .init("snapshot_max_turn_work", .gauge, snapshotMaxTurnWork),
        .init("snapshot_max_chunk_bytes", .gauge, snapshotMaxChunkBytes),
        .init("snapshot_catch_up_messages", .counter, snapshotCatchUpMessages),
        .init("snapshot_replica_rebuilds", .counter, snapshotReplicaRebuilds),
        .init("snapshot_replica_mismatches", .counter, snapshotReplicaMismatches),
        .init("snapshot_stalled", .counter, snapshotStalled),
        .init("retransmit_archive_requests", .counter, archiveRequests),
        .init("retransmit_archive_answered", .counter, archiveAnswered),
        .init("retransmit_archive_refused", .counter, archiveRefused),
        .init("retransmit_archive_failures", .counter, archiveFailures),
        .init("retransmit_archive_messages", .counter, archiveMessages),
        .init("snapshot_tls_failures", .counter, snapshotTLSFailures),
    ], cellCount: 64)
}
