import ExchangeConfig
import ExchangeCore
import ExchangeMarketData
import ExchangeRuntime
import ExchangeWire

extension MarketDataConfiguration {
    /// The market-data agent's settings from the configuration: the feed goes to
    /// `exchange.udp_multicast_group:udp_port` out of `market_data.interface`; the re-request
    /// server and the snapshot service listen on `exchange.bind_address`; the replica holds
    /// `performance.order_pool_size` orders; the feed's MoldUDP64 session is `session` (the
    /// trading day's) and its first message is `firstSequence` (1 when the session starts;
    /// after a restart within the day, the next one the journal says the day has not yet
    /// published); snapshot logins are checked by the authenticator against the API keys file.
    public init(configuration c: ExchangeConfiguration, session: SoupSessionName, firstSequence: UInt64 = 1) {
        let m = c.marketData
        self.init(
            session: session, instruments: c.symbols, orderCapacity: c.performance.orderPoolSize,
            group: c.exchange.udpMulticastGroup.rawValue, port: c.exchange.udpPort, interface: m.interface.rawValue, ttl: m.ttl,
            loopback: m.loopback, sendBufferBytes: c.performance.udpBufferSize, maxPayloadBytes: m.maxPayloadBytes,
            heartbeatIntervalNanoseconds: UInt64(m.heartbeatIntervalMilliseconds) * 1_000_000,
            bindAddress: c.exchange.bindAddress.rawValue, retransmitPort: m.retransmitPort,
            retransmitHistoryMessages: m.retransmitHistoryMessages, retransmitMaxRequestsPerSecond: m.retransmitMaxRequestsPerSecond,
            snapshotPort: m.snapshotPort,
            snapshotLoginRequired: true)
        maxSnapshotConnections = m.snapshotMaxConnections
        maxSnapshotPreLoginConnections = min(m.snapshotMaxPreLoginConnections, m.snapshotMaxConnections)
        maxSnapshotPreLoginPerAddress = m.snapshotMaxPreLoginPerAddress
        snapshotLoginTimeoutNanoseconds = UInt64(m.snapshotLoginTimeoutMilliseconds) * 1_000_000
        snapshotWorkPerTurn = m.snapshotWorkPerTurn
        snapshotMaxBytesPerSecond = m.snapshotMaxMegabytesPerSecond * 1_000_000
        self.firstSequence = firstSequence
        scheduledDay = c.tradingDay.enabled
    }
}
