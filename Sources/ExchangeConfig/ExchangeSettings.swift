/// The `exchange` section: identity and network endpoints.
public struct ExchangeSettings: Sendable, Equatable {
    /// `name`: shown in logs and metrics.
    public var name = "RTES"
    /// `bind_address`: where the order-entry TCP and metrics listeners bind.
    public var bindAddress = IPv4Address(rawValue: 0x7F00_0001)  // 127.0.0.1
    /// `tcp_port`: OUCH order entry.
    public var tcpPort: UInt16 = 8888
    /// `udp_multicast_group`: where the ITCH market-data feed is published.
    public var udpMulticastGroup = IPv4Address(rawValue: 0xEF00_0001)  // 239.0.0.1
    /// `udp_port`: the market-data feed's port.
    public var udpPort: UInt16 = 9999
    /// `metrics_port`: HTTP metrics endpoint.
    public var metricsPort: UInt16 = 8080
    /// `counters_group`: the group that may read the counters file and the instance lock
    /// (mode 0640); empty keeps them to the exchange's user (mode 0600).
    public var countersGroup = ""
    /// `shard`: the shard of `shard_map` this exchange is (docs/SHARDS.md); empty: not sharded.
    public var shard = ""
    /// `shard_map`: the shard map file; required with `shard`.
    public var shardMap = ""

    /// The documented defaults.
    public init() {}
}
