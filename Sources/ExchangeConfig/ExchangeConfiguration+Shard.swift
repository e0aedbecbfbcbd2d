/// A sharded exchange (docs/SHARDS.md): `exchange.shard` names its shard in the shard map
/// `exchange.shard_map`. It keeps only the symbols that shard owns (the `symbols` section
/// gives every symbol's rules; the map says which are this shard's), its feed and ports
/// must be the map's for that shard, and its leader key and journal are the shard's own.
extension ExchangeConfiguration {
    /// Makes this configuration shard `name` of `map`; the problems when it cannot be (nothing
    /// is changed then). `mapSource` names the map in messages.
    public mutating func restrict(toShard name: String, of map: ShardMap, mapSource: String) -> [ConfigurationIssue] {
        var issues: [ConfigurationIssue] = []
        func issue(_ path: String, _ message: String) { issues.append(ConfigurationIssue(path: path, location: nil, message: message)) }
        guard let shard = map.shard(named: name) else {
            issue("exchange.shard", "names shard \"\(name)\", which the shard map \(mapSource) does not list; it lists "
                + map.shards.map(\.name).joined(separator: ", "))
            return issues
        }
        let defined = Set(symbols.map(\.symbol))
        let undefined = shard.symbols.filter { !defined.contains($0) }
        if !undefined.isEmpty {
            issue("symbols", "shard \(name) owns \(undefined.map(\.description).joined(separator: ", ")) (shard map \(mapSource)), "
                + "which symbols does not define: add \(undefined.count == 1 ? "it" : "them") with a reference_price")
        }
        let feed = ShardMap.Endpoint(address: exchange.udpMulticastGroup, port: exchange.udpPort)
        if feed != shard.itch {
            issue("exchange.udp_multicast_group", "is \(feed) (with exchange.udp_port), but shard \(name)'s itch in the shard map "
                + "\(mapSource) is \(shard.itch): set both to the map's")
        }
        func serves(_ port: UInt16, _ list: [ShardMap.Endpoint]) -> Bool {
            list.contains { $0.port == port && (exchange.bindAddress.rawValue == 0 || $0.address == exchange.bindAddress) }
        }
        func listed(_ list: [ShardMap.Endpoint]) -> String { list.map(\.description).joined(separator: ", ") }
        if !serves(exchange.tcpPort, shard.orderEntry) {
            issue("exchange.tcp_port", "\(exchange.bindAddress):\(exchange.tcpPort) is not one of shard \(name)'s order_entry addresses "
                + "in the shard map \(mapSource) (\(listed(shard.orderEntry))): clients would not find this exchange")
        }
        if !shard.reRequest.isEmpty, !serves(marketData.retransmitPort, shard.reRequest) {
            issue("market_data.retransmit_port", "\(exchange.bindAddress):\(marketData.retransmitPort) is not one of shard \(name)'s "
                + "re_request addresses in the shard map \(mapSource) (\(listed(shard.reRequest)))")
        }
        if !shard.snapshot.isEmpty, !serves(marketData.snapshotPort, shard.snapshot) {
            issue("market_data.snapshot_port", "\(exchange.bindAddress):\(marketData.snapshotPort) is not one of shard \(name)'s "
                + "snapshot addresses in the shard map \(mapSource) (\(listed(shard.snapshot)))")
        }
        guard issues.isEmpty else { return issues }
        let owned = Set(shard.symbols)
        symbols = symbols.filter { owned.contains($0.symbol) }
        leadership.keyPrefix += "/" + name
        durability.directory += (durability.directory.hasSuffix("/") ? "" : "/") + name
        return issues
    }
}
