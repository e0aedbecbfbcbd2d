/// `durability.replication`: whether the journal is streamed to a standby, and whether output
/// waits for the standby (docs/FAILOVER.md, "Replication").
public enum ReplicationMode: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// No replication port, no standby.
    case none
    /// The journal is streamed to a standby; output never waits for it.
    case async
    /// Nothing a command caused leaves the primary before the standby acknowledged its
    /// record (`replication.sync_ack`) — and before it is durable locally.
    case sync

    public var description: String { rawValue }
}

/// `replication.role`: what this `trading_exchange` is.
public enum ReplicationRole: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Serves clients and the replication port.
    case primary
    /// Serves no client: follows the primary's journal, journals it and applies it.
    case standby

    public var description: String { rawValue }
}

/// `replication.sync_ack`: what a standby's acknowledgement must say before sync output leaves.
public enum ReplicationAcknowledgement: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The standby has the record in memory (received and checked).
    case received
    /// The standby has the record on its own disk (its journal made it durable).
    case durable

    public var description: String { rawValue }
}

/// `replication.on_divergence`: what a standby does when its primary refuses it as diverged
/// (its journal holds records the primary does not: an old primary's unreplicated tail).
public enum ReplicationDivergence: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Stop with an error naming the divergence; the operator decides (the default).
    case refuse
    /// Move the day's journal and snapshots aside (`<day>.diverged-<unix time>`, kept, never
    /// deleted) and follow the primary from sequence 1.
    case moveAside = "move_aside"

    public var description: String { rawValue }
}

/// The `replication` section: the role of this host and where the replication link is. Used
/// only when `durability.replication` is async or sync.
public struct ReplicationSettings: Sendable, Equatable {
    public typealias Endpoint = LeadershipSettings.Endpoint

    /// `role`: primary or standby.
    public var role: ReplicationRole = .primary
    /// `listen_address`: the primary's replication port binds here.
    public var listenAddress = IPv4Address(rawValue: 0x7F00_0001)
    /// `listen_port`: the primary's replication port (0 in tests: the kernel chooses).
    public var listenPort: UInt16 = 9_100
    /// `primary`: where a standby finds the primary's replication port, `address:port`.
    public var primary = Endpoint(address: IPv4Address(rawValue: 0x7F00_0001), port: 9_100)
    /// `sync_ack`: in sync, the acknowledgement output waits for.
    public var syncAcknowledgement: ReplicationAcknowledgement = .durable
    /// `on_divergence`: standby, refused by its primary as diverged: refuse (stop) or move_aside.
    public var onDivergence: ReplicationDivergence = .refuse
    /// `yield_us`: in sync, how long a replication thread (primary's and standby's) yields the
    /// CPU after a turn that moved something before it blocks on its socket (0, the default: it
    /// blocks at once; a record made durable is then seen up to 50 µs later at each end). On a
    /// host with no spare core yielding slowed sync down (benchmarks/RESULTS.md, issue 13).
    public var yieldMicroseconds: UInt32 = 0

    /// The documented defaults.
    public init() {}
}
