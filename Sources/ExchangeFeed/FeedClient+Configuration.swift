import ExchangeConfig

extension FeedClient {
    /// Follows the feed an exchange's configuration publishes: its multicast group and port
    /// on `market_data.interface`, re-requests to its bind address (and `backups`, standbys'
    /// addresses on the same port), a book for each of its symbols. What the tools
    /// (rtes-feed, rtes-agents, rtes-strategy, rtes-itch-replay) join.
    public convenience init(following c: ExchangeConfiguration, backups: [IPv4Address] = []) throws(FeedSocketError) {
        try self.init(
            group: c.exchange.udpMulticastGroup.rawValue, port: c.exchange.udpPort, interface: c.marketData.interface.rawValue,
            retransmitHost: c.exchange.bindAddress.rawValue, retransmitPort: c.marketData.retransmitPort,
            retransmitBackups: backups.map { FeedServiceAddress(host: $0.rawValue, port: c.marketData.retransmitPort) },
            instrumentCount: c.symbols.count, orderCapacity: c.performance.orderPoolSize)
    }
}
