/// The market-data agent's counter cells, from `CountersLayout.marketDataOffset` (the first
/// five are `CountersLayout.MarketDataCell`'s own). All are totals since start unless said.
extension CountersLayout.MarketDataCell {
    public static let heartbeats = 40
    /// The sequence number of the next message (a gauge).
    public static let nextSequence = 48
    public static let retransmitAnswered = 56
    /// Messages resent in answers.
    public static let retransmitMessages = 64
    public static let retransmitMalformed = 72
    public static let retransmitWrongSession = 80
    public static let retransmitRateLimited = 88
    public static let retransmitBeforeHistory = 96
    public static let retransmitNotYetPublished = 104
    /// Answers dropped because every answer slot was in flight.
    public static let retransmitAnswerDropped = 112
    public static let snapshotConnections = 120
    public static let snapshotsServed = 128
    public static let snapshotLoginsRejected = 136
    public static let snapshotProtocolErrors = 144
    /// Connections closed for silence before login, idleness, or a snapshot not read in time.
    public static let snapshotTimeouts = 152
    /// Connections refused because the connection table was full.
    public static let snapshotRefused = 160
    public static let snapshotBytes = 168
    /// Sends the kernel failed (the packet is lost to receivers; the re-request server still has it).
    public static let sendErrors = 176
    /// Times the agent left events on its ring because every packet slot was in flight.
    public static let backpressure = 184
    public static let replicaMismatches = 192
    /// Orders on the replica's books (a gauge).
    public static let restingOrders = 200
    /// The longest snapshot build, in TSC ticks (the pause it cost the live feed).
    public static let worstSnapshotBuildTicks = 208
    public static let events = 216
    /// The oldest sequence number the re-request server can resend (a gauge).
    public static let historyOldest = 224
    /// Snapshot connections open now (a gauge).
    public static let snapshotConnectionsOpen = 232

    /// Every market-data cell (the first five too) with its name in `CountersSnapshot.marketData`
    /// and in metrics. The block holds 64 cells; these use 30.
    public static let all: [(name: String, offset: Int)] = [
        ("messages", messages), ("packets", packets), ("bytes", bytes), ("retransmit_requests", retransmitRequests),
        ("retransmit_rejected", retransmitRejected), ("heartbeats", heartbeats), ("next_sequence", nextSequence),
        ("retransmit_answered", retransmitAnswered), ("retransmit_messages", retransmitMessages),
        ("retransmit_malformed", retransmitMalformed), ("retransmit_wrong_session", retransmitWrongSession),
        ("retransmit_rate_limited", retransmitRateLimited), ("retransmit_before_history", retransmitBeforeHistory),
        ("retransmit_not_yet_published", retransmitNotYetPublished), ("retransmit_answer_dropped", retransmitAnswerDropped),
        ("snapshot_connections", snapshotConnections), ("snapshots_served", snapshotsServed),
        ("snapshot_logins_rejected", snapshotLoginsRejected), ("snapshot_protocol_errors", snapshotProtocolErrors),
        ("snapshot_timeouts", snapshotTimeouts), ("snapshot_refused", snapshotRefused), ("snapshot_bytes", snapshotBytes),
        ("send_errors", sendErrors), ("backpressure", backpressure), ("replica_mismatches", replicaMismatches),
        ("resting_orders", restingOrders), ("worst_snapshot_build_ticks", worstSnapshotBuildTicks), ("events", events),
        ("history_oldest", historyOldest), ("snapshot_connections_open", snapshotConnectionsOpen),
    ]
}
