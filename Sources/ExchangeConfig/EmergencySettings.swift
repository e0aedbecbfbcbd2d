/// The `emergency` section: conditions the supervisor thread watches off every hot path
/// (docs/OPERATIONS.md, "Emergency triggers"), each off while its threshold is 0, each with
/// the action taken once it has held for `hold_seconds`.
public struct EmergencySettings: Sendable, Equatable {
    /// What a trigger does when it fires.
    public enum Action: String, Sendable, Equatable, CaseIterable {
        /// Log at critical and count it in /metrics; nothing else.
        case alert
        /// The exchange-wide kill switch (every resting order cancelled, new orders refused).
        case stopNewOrders = "stop_new_orders"
        /// The kill switch and a market-wide halt (ITCH and OUCH publish it).
        case cancelAllAndHalt = "cancel_all_and_halt"
        /// The kill switch and the halt, then the same clean drain as SIGTERM.
        case shutdown
    }

    /// `hold_seconds`: how long a condition must hold before it fires.
    public var holdSeconds = 5
    /// `memory_mb`: resident memory of the process (/proc/self/statm) in MiB at which it fires; 0: off.
    public var memoryMB: UInt64 = 0
    public var memoryAction = Action.alert
    /// `reject_ratio` in ten-thousandths (0.25 is 2,500): the share of order messages rejected
    /// over the last second at which it fires; 0: off.
    public var rejectRatioTenThousandths: UInt64 = 0
    public var rejectRatioAction = Action.alert
    /// `error_rate_per_second`: client protocol errors (disconnects for protocol violations)
    /// plus journal write errors per second at which it fires; 0: off.
    public var errorRatePerSecond: UInt64 = 0
    public var errorRateAction = Action.alert
    /// `journal_lag_records`: records taken by the journal and not yet durable; 0: off.
    public var journalLagRecords: UInt64 = 0
    public var journalLagAction = Action.alert
    /// `replication_lag_records`: records the standby has not yet acknowledged; 0: off.
    public var replicationLagRecords: UInt64 = 0
    public var replicationLagAction = Action.alert

    /// The documented defaults: every condition off.
    public init() {}

    /// Whether any condition is on.
    public var anyOn: Bool {
        memoryMB > 0 || rejectRatioTenThousandths > 0 || errorRatePerSecond > 0 || journalLagRecords > 0 || replicationLagRecords > 0
    }
}
