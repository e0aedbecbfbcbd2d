import ExchangeRuntime

/// The replication link's counter block, `replication` (on /metrics as `rtes_replication_*`).
/// The primary fills the standby-facing cells, the standby its own; `role` says which.
public enum ReplicationCounters {
    public static let role = CounterCell(0)
    public static let mode = CounterCell(1)
    public static let connected = CounterCell(2)
    public static let sentSequence = CounterCell(3)
    public static let acknowledgedReceived = CounterCell(4)
    public static let acknowledgedDurable = CounterCell(5)
    public static let lagRecords = CounterCell(6)
    public static let lagMicroseconds = CounterCell(7)
    public static let bytesSent = CounterCell(8)
    public static let bytesReceived = CounterCell(9)
    public static let records = CounterCell(10)
    public static let refused = CounterCell(11)
    public static let releasedSequence = CounterCell(12)
    public static let holding = CounterCell(13)
    public static let stateHash = CounterCell(14)
    public static let stateHashSequence = CounterCell(15)
    public static let appliedSequence = CounterCell(16)
    public static let primarySequence = CounterCell(17)
    public static let connections = CounterCell(18)

    /// `role` values.
    public static let primaryRole: UInt64 = 1
    public static let standbyRole: UInt64 = 2

    public static let block = CounterBlockDescriptor(name: "replication", counters: [
        .init("role", .gauge, role, help: "1: primary (serves the replication port), 2: standby (follows a primary)."),
        .init("mode", .gauge, mode, help: "durability.replication: 1 async, 2 sync."),
        .init("connected", .gauge, connected, help: "Primary: standbys connected and streaming. Standby: 1 while connected to the primary."),
        .init("sent_sequence", .gauge, sentSequence, help: "Primary: the last journal sequence sent to the standby."),
        .init("acknowledged_received", .gauge, acknowledgedReceived, help: "The last sequence the standby has received (in memory)."),
        .init("acknowledged_durable", .gauge, acknowledgedDurable, help: "The last sequence durable on the standby's disk."),
        .init("lag_records", .gauge, lagRecords,
              help: "Records durable on the primary that the standby has not acknowledged (as replication.sync_ack says; durable in async)."),
        .init("lag_us", .gauge, lagMicroseconds,
              help: "Microseconds since the oldest record the standby has not acknowledged became durable on the primary (0: caught up)."),
        .init("bytes_sent", .counter, bytesSent, help: "Bytes sent on the replication link."),
        .init("bytes_received", .counter, bytesReceived, help: "Bytes received on the replication link."),
        .init("records", .counter, records, help: "Primary: records sent. Standby: records received and checked."),
        .init("refused", .counter, refused, help: "Connections refused or dropped for a protocol error, with the reason logged."),
        .init("released_sequence", .gauge, releasedSequence,
              help: "Primary, sync: the sequence output may be released up to: min(locally durable, standby acknowledged)."),
        .init("holding", .gauge, holding, help: "Primary, sync: 1 while output is held because no standby is connected."),
        .init("state_hash", .gauge, stateHash, help: "Standby: the state hash of its engine after state_hash_sequence."),
        .init("state_hash_sequence", .gauge, stateHashSequence, help: "Standby: the sequence state_hash was computed after."),
        .init("applied_sequence", .gauge, appliedSequence, help: "Standby: the last sequence applied to its engine."),
        .init("primary_sequence", .gauge, primarySequence, help: "Standby: the primary's durable sequence, as it last said."),
        .init("connections", .counter, connections, help: "Replication connections established (primary: accepted and welcomed; standby: welcomed)."),
    ], cellCount: 32)
}
