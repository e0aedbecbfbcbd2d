/// The `gateway` section: the SoupBinTCP/OUCH order-entry gateway.
public struct GatewaySettings: Sendable, Equatable {
    /// `session_name`: the SoupBinTCP session, and the feed's MoldUDP64 session (up to 10
    /// characters). Empty: the trading day's (`TradingDay`: `GA` and `MA` + `YYYYMMDD` of the
    /// UTC day), so that every restart within the day keeps the sessions and the next day
    /// has new ones.
    public var sessionName = ""
    /// `max_connections`: TCP connections served at once (the connection table's size).
    public var maxConnections = 1_024
    /// `max_pre_login_connections`: slots that connections not yet logged in may hold (at
    /// most `max_connections`), so that sockets that never log in cannot lock traders out;
    /// beyond it a new connection is closed at once. The table keeps a slot for every
    /// account of the keys file besides (the share shrinks to fit in `max_connections`,
    /// which must exceed the number of accounts). 0: they may hold every slot (and nothing
    /// is kept).
    public var maxPreLoginConnections = 64
    /// `max_pre_login_per_address`: of those, how many may come from one source IPv4
    /// address, so that one host cannot take the whole pre-login share; beyond it a new
    /// connection from that address is closed at once. 0: no limit of its own.
    public var maxPreLoginPerAddress = 8
    /// `session_history_messages`: sequenced messages kept per account for replay when a
    /// client logs in again asking for an earlier sequence number (a power of two).
    public var sessionHistoryMessages = 65_536
    /// `send_queue_bytes`: unsent bytes a connection may fall behind before it is
    /// disconnected as a slow consumer.
    public var sendQueueBytes = 1_048_576
    /// `heartbeat_interval_ms`: a Server Heartbeat goes out after this much silence.
    public var heartbeatIntervalMilliseconds = 1_000
    /// `idle_timeout_ms`: a client silent this long is disconnected.
    public var idleTimeoutMilliseconds = 15_000
    /// `login_timeout_ms`: a connection that has not logged in by then is disconnected.
    public var loginTimeoutMilliseconds = 5_000
    /// `max_messages_per_second`: inbound packets per connection per second beyond which it
    /// is disconnected as a flood (a token bucket holding one second's worth).
    public var maxMessagesPerSecond = 100_000
    /// `token_history`: order tokens remembered for the day across all accounts, so that a
    /// token is never reused; when full, new orders are rejected.
    public var tokenHistory = 4_194_304
    /// `max_tokens_per_account`: tokens one account may use in a day; 0 gives each account an
    /// even share of `token_history`, so that one account cannot use up everyone's.
    public var maxTokensPerAccount = 0
    /// `recv_buffer_size` and `recv_buffer_count`: the provided-buffer ring that multishot
    /// receives land in (count a power of two).
    public var receiveBufferSize = 4_096
    public var receiveBufferCount = 1_024
    /// `sqpoll`: let a kernel thread poll the submission queue (one more spinning thread).
    public var submissionQueuePolling = false
    /// `shutdown_grace_ms`: at shutdown, how long connections get to receive what is owed
    /// to them and the End of Session before they are closed.
    public var shutdownGraceMilliseconds = 2_000
    /// `tls`: off (plain SoupBinTCP) or on (TLS 1.2/1.3 on every order-entry connection, the
    /// certificate and key from `RTES_TLS_CERT`/`RTES_TLS_KEY`, mutual TLS with `RTES_CA_CERT`).
    public var tls = TLSMode.off

    /// The documented defaults.
    public init() {}
}

/// The `market_data` section: the ITCH 5.0 feed in MoldUDP64, its recovery and snapshots.
public struct MarketDataSettings: Sendable, Equatable {
    /// The smallest packet that carries what one engine event publishes with the MoldUDP64
    /// header (20) and block headers (2 each): a cross fill's two Executed With Price (36
    /// bytes each), more than the longest single message (50, a Net Order Imbalance
    /// Indicator). (A test holds it to the publisher's `minimumPayload`.)
    public static let minimumPayloadBytes = 96
    /// `enabled`: publish the feed (off: book events are consumed and dropped).
    public var enabled = true
    /// `interface`: the IPv4 address of the interface multicast leaves from (127.0.0.1
    /// keeps the feed on the host; 0.0.0.0 lets the routing table choose).
    public var interface = IPv4Address(rawValue: 0x7F00_0001)
    /// `ttl`: multicast hops (0 keeps packets on the host, 1 on the local network).
    public var ttl = 1
    /// `loopback`: deliver the feed to receivers on this host too.
    public var loopback = true
    /// `max_payload_bytes`: MoldUDP64 packet size at most (header plus message blocks).
    public var maxPayloadBytes = 1_400
    /// `heartbeat_interval_ms`: a heartbeat packet (count 0) after this much silence.
    public var heartbeatIntervalMilliseconds = 1_000
    /// `retransmit_port`: UDP port of the MoldUDP64 re-request server (on `exchange.bind_address`).
    public var retransmitPort: UInt16 = 9_998
    /// `retransmit_history_messages`: past messages the re-request server can resend (a power of two).
    public var retransmitHistoryMessages = 1_048_576
    /// `retransmit_max_requests_per_second`: re-requests answered per second across all
    /// requesters; more are dropped and counted.
    public var retransmitMaxRequestsPerSecond = 1_000
    /// `snapshot_port`: TCP port of the snapshot service (SoupBinTCP, Glimpse-style).
    public var snapshotPort: UInt16 = 8_889
    /// `snapshot_max_connections`: snapshot connections served at once; more are closed at once.
    public var snapshotMaxConnections = 16
    /// `snapshot_max_pre_login_connections`: of those, how many may be not logged in yet.
    public var snapshotMaxPreLoginConnections = 8
    /// `snapshot_max_pre_login_per_address`: of those, how many one source IPv4 address may
    /// hold. 0: no limit of its own.
    public var snapshotMaxPreLoginPerAddress = 4
    /// `snapshot_login_timeout_ms`: a snapshot connection not logged in by then is closed.
    public var snapshotLoginTimeoutMilliseconds = 5_000
    /// `snapshot_work_per_turn`: snapshot work one duty cycle may do (units of a chunk, or
    /// messages the snapshot copy catches up); 0: no bound.
    public var snapshotWorkPerTurn = 1_024
    /// `snapshot_max_mb_per_second`: snapshot bytes sent per second, all connections
    /// together, in MB; 0: no cap.
    public var snapshotMaxMegabytesPerSecond = 64
    /// `snapshot_tls`: off (plain SoupBinTCP) or on (TLS 1.2/1.3 on every snapshot
    /// connection, with gateway.tls's certificate and key; mutual TLS when `RTES_CA_CERT` is
    /// set, a Login Request's username then being the client certificate's CN).
    public var snapshotTLS = TLSMode.off

    /// The documented defaults.
    public init() {}
}
