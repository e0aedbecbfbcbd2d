/// Every setting the configuration file accepts, with its type, documented default and
/// meaning. Unknown-key detection, the environment-override table and `--help` text are
/// all derived from this one table.
enum ConfigurationSchema {
    struct Field: Sendable {
        enum ValueType: Sendable, Equatable {
            case string
            case wholeNumber
            case decimal
            case boolean
            case choice([String])
            case array
        }

        /// Dotted path; `symbols[]` stands for every element of `symbols`.
        let path: String
        let type: ValueType
        /// The default as JSON text; nil when the field is required.
        let defaultValue: String?
        let meaning: String

        /// Fields outside `symbols[]` can be overridden one by one from the environment.
        var environmentVariable: String? {
            path.contains("[]") ? nil : ConfigurationSchema.environmentName(forPath: path)
        }
    }

    /// The keys every `symbols` entry must have: the schema's symbol fields without a default.
    static let requiredSymbolKeys: [String] = fields.compactMap { field in
        field.defaultValue == nil && field.path.hasPrefix("symbols[].") ? String(field.path.dropFirst("symbols[].".count)) : nil
    }

    static let fields: [Field] = [
        Field(path: "exchange.name", type: .string, defaultValue: #""RTES""#,
              meaning: "name shown in logs and metrics, 1–64 printable characters"),
        Field(path: "exchange.bind_address", type: .string, defaultValue: #""127.0.0.1""#,
              meaning: "IPv4 address the order-entry and metrics listeners bind to (0.0.0.0 = every interface)"),
        Field(path: "exchange.tcp_port", type: .wholeNumber, defaultValue: "8888",
              meaning: "OUCH order-entry TCP port, 1–65535"),
        Field(path: "exchange.udp_multicast_group", type: .string, defaultValue: #""239.0.0.1""#,
              meaning: "IPv4 multicast group of the ITCH feed, 224.0.0.0–239.255.255.255"),
        Field(path: "exchange.udp_port", type: .wholeNumber, defaultValue: "9999",
              meaning: "ITCH feed UDP port, 1–65535"),
        Field(path: "exchange.metrics_port", type: .wholeNumber, defaultValue: "8080",
              meaning: "HTTP metrics port, 1–65535; every port the exchange listens on must differ"),
        Field(path: "exchange.counters_group", type: .string, defaultValue: #""""#,
              meaning: "group that may read the counters file and its lock (mode 0640, e.g. rtes under systemd); empty: the exchange's user only (0600)"),

        Field(path: "exchange.shard", type: .string, defaultValue: #""""#,
              meaning: "the shard of exchange.shard_map this exchange is (docs/SHARDS.md): it keeps only that shard's symbols, checks its ports against the map, campaigns for <leadership.key_prefix>/<shard>/leader and journals into <durability.directory>/<shard>; empty: not sharded"),
        Field(path: "exchange.shard_map", type: .string, defaultValue: #""""#,
              meaning: "the shard map file (JSON: every shard's name, symbols, order-entry, ITCH, re-request and snapshot addresses); required with exchange.shard"),

        Field(path: "symbols", type: .array, defaultValue: nil,
              meaning: "the instruments: a non-empty JSON array of objects with the symbols[] fields"),
        Field(path: "symbols[].symbol", type: .string, defaultValue: nil,
              meaning: "ticker, 1–8 characters of A–Z, 0–9 and '.', unique"),
        Field(path: "symbols[].tick_size", type: .decimal, defaultValue: "0.01",
              meaning: "minimum price increment in dollars, > 0, at most 4 decimals"),
        Field(path: "symbols[].lot_size", type: .wholeNumber, defaultValue: "1",
              meaning: "orders must be a multiple of this many shares, ≥ 1"),
        Field(path: "symbols[].price_collar_pct", type: .decimal, defaultValue: "10",
              meaning: "collar half-width in percent of the reference price, > 0 and < 100, at most 2 decimals"),
        Field(path: "symbols[].reference_price", type: .decimal, defaultValue: nil,
              meaning: "price in dollars the collar and ladder are centred on until the first trade: > 0, below 429496.7295, at most 4 decimals, a multiple of tick_size"),

        Field(path: "risk.max_order_size", type: .wholeNumber, defaultValue: "100000",
              meaning: "maximum shares per order, 1–4294967295"),
        Field(path: "risk.max_notional_per_client", type: .decimal, defaultValue: "10000000",
              meaning: "maximum open buy + sell notional per client in dollars, > 0, at most 4 decimals"),
        Field(path: "risk.max_orders_per_second", type: .wholeNumber, defaultValue: "10000",
              meaning: "enter and replace messages per client per second, 1–4294967295"),
        Field(path: "risk.price_collar_enabled", type: .boolean, defaultValue: "true",
              meaning: "reject limit orders beyond the collar and stop market orders at it"),
        Field(path: "risk.self_trade_prevention", type: .choice(RiskSettings.selfTradePreventionNames.map(\.0)),
              defaultValue: #""cancel_newest""#,
              meaning: "what happens when two orders of one firm would trade: cancel_newest, cancel_oldest, cancel_both or decrement"),

        Field(path: "performance.order_pool_size", type: .wholeNumber, defaultValue: "1000000",
              meaning: "orders that can rest at once across all instruments, 1–2147483646"),
        Field(path: "performance.queue_capacity", type: .wholeNumber, defaultValue: "65536",
              meaning: "entries per inter-thread queue, a power of two from 2 to 1073741824"),
        Field(path: "performance.enable_cpu_pinning", type: .boolean, defaultValue: "false",
              meaning: "pin each agent's thread to its CPU in performance.cores"),
        Field(path: "performance.tcp_nodelay", type: .boolean, defaultValue: "true",
              meaning: "disable Nagle's algorithm on client connections"),
        Field(path: "performance.udp_buffer_size", type: .wholeNumber, defaultValue: "4194304",
              meaning: "market-data socket buffer in bytes, 65536–2147483647"),
        Field(path: "performance.max_clients", type: .wholeNumber, defaultValue: "1024",
              meaning: "trading accounts, 1–16777216"),
        Field(path: "performance.price_levels", type: .wholeNumber, defaultValue: "65536",
              meaning: "ticks per instrument price ladder, centred on the reference price, a power of two from 64 to 262144; with the collar enabled it must hold every price each symbol's collar admits around its reference"),
        Field(path: "performance.threading_mode", type: .choice(ThreadingMode.allCases.map(\.rawValue)),
              defaultValue: #""shared""#,
              meaning: "dedicated (a thread per agent) or shared (one thread runs every agent)"),
        Field(path: "performance.idle_strategy", type: .choice(IdleStrategyKind.allCases.map(\.rawValue)),
              defaultValue: #""backoff""#,
              meaning: "what an idle thread does: busy_spin, spin_yield or backoff (spin, yield, then park 1 µs doubling to 1 ms, with a timer slack of 1 µs)"),
        Field(path: "performance.cores.gateway", type: .wholeNumber, defaultValue: "0",
              meaning: "CPU of the order-entry gateway when pinning is enabled; must exist on the host"),
        Field(path: "performance.cores.engine", type: .wholeNumber, defaultValue: "1",
              meaning: "CPU of the matching engine when pinning is enabled; must exist on the host"),
        Field(path: "performance.cores.market_data", type: .wholeNumber, defaultValue: "1",
              meaning: "CPU of the market-data publisher when pinning is enabled; must exist on the host"),
        Field(path: "performance.hugepages", type: .choice(HugePagePolicy.allCases.map(\.rawValue)),
              defaultValue: #""auto""#,
              meaning: "auto (use huge pages when available, else fall back and log), require (fail to start without them) or off"),
        Field(path: "performance.lock_memory", type: .boolean, defaultValue: "false",
              meaning: "lock all memory with mlockall at start (needs CAP_IPC_LOCK or a large RLIMIT_MEMLOCK)"),
        Field(path: "performance.realtime_priority", type: .wholeNumber, defaultValue: "0",
              meaning: "SCHED_FIFO priority 1–99 for pinned agent threads (needs CAP_SYS_NICE), 0 to stay SCHED_OTHER"),

        Field(path: "gateway.session_name", type: .string, defaultValue: #""""#,
              meaning: "SoupBinTCP (and MoldUDP64) session name, up to 10 letters and digits; empty: the trading day's, GA/MA + YYYYMMDD of the UTC day"),
        Field(path: "gateway.max_connections", type: .wholeNumber, defaultValue: "1024",
              meaning: "TCP connections served at once, 1–65536"),
        Field(path: "gateway.max_pre_login_connections", type: .wholeNumber, defaultValue: "64",
              meaning: "connection slots that connections not yet logged in may hold, so that sockets that never log in cannot lock traders out; never the slots the keys file's accounts need (max_connections must exceed the number of accounts); 0 lets them hold every slot"),
        Field(path: "gateway.max_pre_login_per_address", type: .wholeNumber, defaultValue: "8",
              meaning: "of those, how many one source IPv4 address may hold, 0–65536; 0: no limit of its own"),
        Field(path: "gateway.session_history_messages", type: .wholeNumber, defaultValue: "65536",
              meaning: "sequenced messages kept per account for replay on re-login, a power of two from 64 to 16777216"),
        Field(path: "gateway.send_queue_bytes", type: .wholeNumber, defaultValue: "1048576",
              meaning: "unsent bytes a connection may fall behind before it is disconnected as a slow consumer, 4096–1073741824"),
        Field(path: "gateway.heartbeat_interval_ms", type: .wholeNumber, defaultValue: "1000",
              meaning: "a Server Heartbeat after this many milliseconds of silence, 10–60000"),
        Field(path: "gateway.idle_timeout_ms", type: .wholeNumber, defaultValue: "15000",
              meaning: "disconnect a client silent this many milliseconds, 100–3600000; more than heartbeat_interval_ms"),
        Field(path: "gateway.login_timeout_ms", type: .wholeNumber, defaultValue: "5000",
              meaning: "disconnect a connection not logged in after this many milliseconds, 100–600000"),
        Field(path: "gateway.max_messages_per_second", type: .wholeNumber, defaultValue: "100000",
              meaning: "inbound packets per connection per second beyond which it is disconnected as a flood, 1–100000000"),
        Field(path: "gateway.token_history", type: .wholeNumber, defaultValue: "4194304",
              meaning: "order tokens remembered for the day so that none is reused, 1024–268435456"),
        Field(path: "gateway.max_tokens_per_account", type: .wholeNumber, defaultValue: "0",
              meaning: "tokens one account may use in a day, at most token_history; 0 gives each account an even share of token_history"),
        Field(path: "gateway.recv_buffer_size", type: .wholeNumber, defaultValue: "4096",
              meaning: "bytes per receive buffer, 512–65536"),
        Field(path: "gateway.recv_buffer_count", type: .wholeNumber, defaultValue: "1024",
              meaning: "receive buffers shared by all connections, a power of two from 16 to 32768"),
        Field(path: "gateway.sqpoll", type: .boolean, defaultValue: "false",
              meaning: "let a kernel thread poll the io_uring submission queue (costs a CPU; falls back when refused)"),
        Field(path: "gateway.shutdown_grace_ms", type: .wholeNumber, defaultValue: "2000",
              meaning: "at shutdown, milliseconds connections get to receive what is owed and End of Session, 0–60000"),
        Field(path: "gateway.tls", type: .choice(TLSMode.allCases.map(\.rawValue)), defaultValue: #""off""#,
              meaning: "off, or on: TLS 1.2/1.3 on every order-entry connection, certificate and key from RTES_TLS_CERT and RTES_TLS_KEY (start-up fails when unset), mutual TLS when RTES_CA_CERT is set (a login's username must be the client certificate's CN)"),

        Field(path: "market_data.enabled", type: .boolean, defaultValue: "true",
              meaning: "publish the ITCH feed; false consumes book events without publishing"),
        Field(path: "market_data.interface", type: .string, defaultValue: #""127.0.0.1""#,
              meaning: "IPv4 address of the interface the multicast feed leaves from (127.0.0.1 keeps it on the host, 0.0.0.0 lets the routing table choose)"),
        Field(path: "market_data.ttl", type: .wholeNumber, defaultValue: "1",
              meaning: "multicast time to live, 0–255 (0: this host only)"),
        Field(path: "market_data.loopback", type: .boolean, defaultValue: "true",
              meaning: "deliver the feed to receivers on this host too (IP_MULTICAST_LOOP)"),
        Field(path: "market_data.max_payload_bytes", type: .wholeNumber, defaultValue: "1400",
              meaning: "MoldUDP64 packet size at most (header and message blocks), 96 (what one engine event publishes, with its headers) to 65507"),
        Field(path: "market_data.heartbeat_interval_ms", type: .wholeNumber, defaultValue: "1000",
              meaning: "a heartbeat packet after this many milliseconds of silence, 10–60000"),
        Field(path: "market_data.retransmit_port", type: .wholeNumber, defaultValue: "9998",
              meaning: "UDP port of the MoldUDP64 re-request server, 1–65535"),
        Field(path: "market_data.retransmit_history_messages", type: .wholeNumber, defaultValue: "1048576",
              meaning: "past messages the re-request server can resend, a power of two from 1024 to 268435456"),
        Field(path: "market_data.retransmit_max_requests_per_second", type: .wholeNumber, defaultValue: "1000",
              meaning: "re-requests answered per second in all; more are dropped and counted, 1–1000000"),
        Field(path: "market_data.snapshot_port", type: .wholeNumber, defaultValue: "8889",
              meaning: "TCP port of the snapshot service for late joiners, 1–65535"),
        Field(path: "market_data.snapshot_max_connections", type: .wholeNumber, defaultValue: "16",
              meaning: "snapshot connections served at once, 1–4096"),
        Field(path: "market_data.snapshot_max_pre_login_connections", type: .wholeNumber, defaultValue: "8",
              meaning: "of those, how many may be not logged in yet, 1–4096 and at most snapshot_max_connections"),
        Field(path: "market_data.snapshot_max_pre_login_per_address", type: .wholeNumber, defaultValue: "4",
              meaning: "of those, how many one source IPv4 address may hold, 0–4096; 0: no limit of its own"),
        Field(path: "market_data.snapshot_login_timeout_ms", type: .wholeNumber, defaultValue: "5000",
              meaning: "close a snapshot connection not logged in after this many milliseconds, 100–600000"),
        Field(path: "market_data.snapshot_work_per_turn", type: .wholeNumber, defaultValue: "1024",
              meaning: "snapshot work one duty cycle may do (orders or messages encoded, levels sorted, messages the snapshot copy of the books catches up), 512–1048576; 0: no bound, a whole snapshot in one duty cycle"),
        Field(path: "market_data.snapshot_max_mb_per_second", type: .wholeNumber, defaultValue: "64",
              meaning: "snapshot bytes the service sends per second at most, all connections together, in MB (10^6 bytes), 1–100000; 0: no cap"),
        Field(path: "market_data.snapshot_tls", type: .choice(TLSMode.allCases.map(\.rawValue)), defaultValue: #""off""#,
              meaning: "off, or on: TLS 1.2/1.3 on every snapshot connection, with gateway.tls's certificate and key (RTES_TLS_CERT, RTES_TLS_KEY; start-up fails when unset), mutual TLS when RTES_CA_CERT is set (a Login Request's username must be the client certificate's CN)"),

        Field(path: "admin.max_connections", type: .wholeNumber, defaultValue: "64",
              meaning: "admin HTTP connections open at once; one more is closed as it is accepted, 1–4096"),
        Field(path: "admin.idle_timeout_ms", type: .wholeNumber, defaultValue: "10000",
              meaning: "close an admin connection that has not completed a request this many milliseconds after it opened or after its last request, 100–600000"),
        Field(path: "admin.max_header_bytes", type: .wholeNumber, defaultValue: "8192",
              meaning: "bytes of an admin request's head (request line and headers) at most; more is answered 400 and closed, 1024–65536"),
        Field(path: "admin.max_uri_bytes", type: .wholeNumber, defaultValue: "2048",
              meaning: "bytes of an admin request's URI at most; more is answered 414 and closed, 64–65536, below max_header_bytes"),
        Field(path: "admin.max_pipelined_requests", type: .wholeNumber, defaultValue: "16",
              meaning: "admin requests a connection may have unanswered (answers not yet taken by the kernel); one more closes it, 1–1024"),
        Field(path: "admin.tls", type: .choice(TLSMode.allCases.map(\.rawValue)), defaultValue: #""off""#,
              meaning: "off (HTTP), or on: the admin plane speaks HTTPS (TLS 1.2/1.3) with gateway.tls's certificate and key (RTES_TLS_CERT, RTES_TLS_KEY; start-up fails when unset); no client certificate is asked for"),
        Field(path: "admin.web_view", type: .boolean, defaultValue: "false",
              meaning: "serve the read-only web view (book ladder, trades tape, price chart, phase, latency histogram) at /view on the admin port, live over server-sent events at /view/events (docs/WEBVIEW.md)"),
        Field(path: "admin.web_view_max_viewers", type: .wholeNumber, defaultValue: "8",
              meaning: "live web views open at once, 1–256 and at most max_connections (each is an admin connection); one more is answered 503"),
        Field(path: "admin.web_view_interval_ms", type: .wholeNumber, defaultValue: "100",
              meaning: "the web views are updated at most this often, changes in between coalesced, 50–10000 milliseconds"),
        Field(path: "admin.web_view_levels", type: .wholeNumber, defaultValue: "10",
              meaning: "price levels per side in the web view's ladder, 1–50"),
        Field(path: "admin.web_view_max_buffer_bytes", type: .wholeNumber, defaultValue: "262144",
              meaning: "bytes one web view may have waiting for the kernel; a view still that far behind when its next update is due is closed (reason slow_viewer), 16384–16777216"),

        Field(path: "auth.allow_unhashed_accounts", type: .boolean, defaultValue: "false",
              meaning: "read plain-text \"password\" entries of the API keys file, with a warning (development only); otherwise each must be a scrypt \"secret\" from rtes-keys hash"),
        Field(path: "auth.max_failed_logins", type: .wholeNumber, defaultValue: "10",
              meaning: "failed logins in a row of one account or from one source address before it is locked out for lockout_ms, 1–1000"),
        Field(path: "auth.backoff_ms", type: .wholeNumber, defaultValue: "200",
              meaning: "after a failed login, further attempts of that account and address are rejected unchecked for this many milliseconds, doubling per failure, 0–60000"),
        Field(path: "auth.max_backoff_ms", type: .wholeNumber, defaultValue: "5000",
              meaning: "the longest backoff in milliseconds, at least backoff_ms, at most 600000"),
        Field(path: "auth.lockout_ms", type: .wholeNumber, defaultValue: "300000",
              meaning: "how long a lockout lasts, and after how long failures are forgotten, 1000–86400000"),
        Field(path: "auth.tracked_addresses", type: .wholeNumber, defaultValue: "4096",
              meaning: "source addresses whose failed logins are remembered (the oldest makes room), 16–1048576"),
        Field(path: "auth.max_pending_logins", type: .wholeNumber, defaultValue: "1024",
              meaning: "logins of one service waiting for a password check; more are rejected at once, a power of two from 16 to 65536"),

        Field(path: "durability.mode", type: .choice(DurabilityMode.allCases.map(\.rawValue)), defaultValue: #""none""#,
              meaning: "none (no journal: a restart starts an empty day; the default, so configurations without this section keep their meaning), async (every input journaled, answers not held for the disk) or sync (no answer or feed message a command caused leaves before its journal record is durable)"),
        Field(path: "durability.directory", type: .string, defaultValue: #""data/journal""#,
              meaning: "the journal root; each trading day's segments go to a subdirectory named by the day; relative paths are relative to the working directory; 1–4096 bytes"),
        Field(path: "durability.segment_bytes", type: .wholeNumber, defaultValue: "67108864",
              meaning: "size each journal segment file is preallocated to (4096-byte header included), a multiple of 4096 from 1048576 (1 MiB) to 68719476736 (64 GiB)"),
        Field(path: "durability.io", type: .choice(JournalIOMode.allCases.map(\.rawValue)), defaultValue: #""auto""#,
              meaning: "how segments are written: direct (O_DIRECT; refuse to start where the filesystem does not take it), buffered (page cache + fdatasync) or auto (direct when the filesystem takes it, else buffered, logged)"),
        Field(path: "durability.preallocate", type: .choice(JournalPreallocation.allCases.map(\.rawValue)), defaultValue: #""fallocate""#,
              meaning: "how a segment's space is reserved: fallocate (reserved but unwritten: each first write into a block also converts its extent, which that fdatasync makes durable too) or zeros (fallocate, then zeros written over it by a thread of the journal's own, ahead of need, so that records overwrite written blocks; each segment is written twice; docs/DURABILITY.md has what it did and did not change here)"),
        Field(path: "durability.sync_method", type: .choice(JournalSyncMethod.allCases.map(\.rawValue)), defaultValue: #""fdatasync""#,
              meaning: "how a journal batch is made durable: fdatasync (a write linked to an fdatasync: two operations), dsync (one io_uring write with RWF_DSYNC; on this VM's ext4 about 4 ms where fdatasync took about 0.1 ms: docs/DURABILITY.md) or auto (dsync when the segments are written with O_DIRECT and the kernel takes RWF_DSYNC, probed at start and logged; else fdatasync)"),
        Field(path: "durability.group_commit_max_bytes", type: .wholeNumber, defaultValue: "1048576",
              meaning: "the most one journal write (and its fdatasync) carries, a multiple of 4096 from 4096 to 67108864, at most segment_bytes − 4096"),
        Field(path: "durability.ring_capacity", type: .wholeNumber, defaultValue: "65536",
              meaning: "commands the engine-to-journal ring holds: the most the journal can be behind the engine; a power of two from 1024 to 16777216"),
        Field(path: "durability.retain", type: .wholeNumber, defaultValue: "1000000",
              meaning: "after each day snapshot, journal segments wholly covered by the older of the two snapshots kept are removed, oldest first, except the newest `retain` segments, 0–1000000; a segment no snapshot covers is never removed"),
        Field(path: "durability.snapshot_interval_seconds", type: .wholeNumber, defaultValue: "0",
              meaning: "seconds between periodic day snapshots of the whole state (taken by a replica that follows the journal, without stopping the engine), 0–86400; 0: none on a timer (SIGUSR1 still takes one)"),
        Field(path: "durability.stall_budget_ms", type: .wholeNumber, defaultValue: "250",
              meaning: "sync only: how long answers may wait on a journal whose durable position does not move before the gateway refuses new orders (Enter Order, Replace: reject reason journal_stalled, OUCH O; cancels are still taken), 1–600000 milliseconds"),
        Field(path: "durability.archive_max_requests", type: .wholeNumber, defaultValue: "4",
              meaning: "journal archive: sessions served messages older than their history at once, and feed re-requests older than the feed's history at once (each its own share); more are refused and counted, 1–64"),
        Field(path: "durability.archive_chunk_bytes", type: .wholeNumber, defaultValue: "262144",
              meaning: "journal archive: the most one reply carries to a session served from the journal (it asks for the next when sent), 4096–16777216 bytes"),
        Field(path: "durability.replication", type: .choice(ReplicationMode.allCases.map(\.rawValue)), defaultValue: #""none""#,
              meaning: "none (no standby), async (the journal is streamed to a standby; output never waits for it; needs mode async or sync) or sync (no answer or feed message a command caused leaves before the standby acknowledged its record, as replication.sync_ack says, and it is durable locally; needs mode sync; with no standby connected output is held)"),

        Field(path: "leadership.endpoints", type: .string, defaultValue: #""127.0.0.1:2379""#,
              meaning: "etcd client endpoints as IPv4 address:port, comma-separated, 1–16, tried in order; read by rtes-leader and by trading_exchange, which campaigns (primary) or watches and takes over (standby) when the leadership section is present"),
        Field(path: "leadership.key_prefix", type: .string, defaultValue: #""/rtes""#,
              meaning: "etcd key prefix; the leader key is <key_prefix>/leader; starts with '/', does not end with one, 2–256 printable ASCII characters without spaces"),
        Field(path: "leadership.candidate_name", type: .string, defaultValue: #""""#,
              meaning: "the name or address this host campaigns under, which followers learn as the leader's; at most 128 printable ASCII characters without spaces; empty: the host name"),
        Field(path: "leadership.lease_ttl_seconds", type: .wholeNumber, defaultValue: "5",
              meaning: "the leader key's lease in seconds, 2–60: kept alive every third of it; a leader that cannot renew it within this long stops leading"),

        Field(path: "fix.port", type: .wholeNumber, defaultValue: "0",
              meaning: "FIX 4.4 order-entry TCP port, served by the order gateway beside OUCH into the same engine with the same accounts (docs/FIX.md), 1–65535; 0: no FIX port"),
        Field(path: "fix.sender_comp_id", type: .string, defaultValue: #""RTES""#,
              meaning: "the exchange's SenderCompID (49), which clients send as TargetCompID (56); 1–32 printable ASCII characters without spaces"),
        Field(path: "fix.max_sessions", type: .wholeNumber, defaultValue: "8",
              meaning: "accounts that may trade over FIX in one day, 1–4096; each keeps its FIX state (sequence numbers, resend store, ClOrdIDs) for the day from its first Logon; allocated at start: about resend_store_messages × 536 + max_cl_ord_ids × 130 bytes each"),
        Field(path: "fix.max_connections", type: .wholeNumber, defaultValue: "64",
              meaning: "FIX connections open at once, logged on or not, 1–4096; more are closed at once"),
        Field(path: "fix.resend_store_messages", type: .wholeNumber, defaultValue: "8192",
              meaning: "application messages each FIX session keeps to answer ResendRequest, 16–1048576 (older ones are gap-filled)"),
        Field(path: "fix.max_cl_ord_ids", type: .wholeNumber, defaultValue: "65536",
              meaning: "ClOrdIDs (orders, cancels, replaces) one FIX session may use in a day, 16–9999999; beyond it new orders are rejected"),
        Field(path: "fix.tls", type: .choice(TLSMode.allCases.map(\.rawValue)), defaultValue: #""off""#,
              meaning: "off, or on: TLS 1.2/1.3 on every FIX connection, with gateway.tls's certificate and key (RTES_TLS_CERT, RTES_TLS_KEY; start-up fails when unset), mutual TLS when RTES_CA_CERT is set (a Logon's Username must be the client certificate's CN)"),
        Field(path: "fix.drop_copy_port", type: .wholeNumber, defaultValue: "0",
              meaning: "FIX 4.4 drop-copy TCP port (needs fix.port), 1–65535; 0: none. An account with \"drop_copy\": true in the keys file logs on there to a read-only session that receives an ExecutionReport for every order event of its firm, from OUCH and FIX (docs/FIX.md, \"Drop copy\"); fix.tls, fix.max_connections and fix.resend_store_messages apply to it"),
        Field(path: "fix.drop_copy_orders", type: .wholeNumber, defaultValue: "65536",
              meaning: "live orders of firms with a drop copy whose state (ClOrdID, CumQty, LeavesQty, AvgPx) the drop copy keeps, 16–4194304; about 128 bytes each, allocated at start when fix.drop_copy_port is set"),
        Field(path: "trading_day.enabled", type: .boolean, defaultValue: "false",
              meaning: "run the trading day's schedule: pre-open, opening cross, continuous trading, closing cross, post-close, end of system hours, with imbalance indicators before each cross (docs/OPERATIONS.md); false: every instrument trades continuously all day"),
        Field(path: "trading_day.time_zone", type: .string, defaultValue: #""America/New_York""#,
              meaning: "the exchange's time zone, an IANA name the host's time zone data knows (checked at start); the day's times are its local times when clock_rate is 1"),
        Field(path: "trading_day.pre_open", type: .string, defaultValue: #""04:00""#,
              meaning: "start of system hours (HH:MM or HH:MM:SS): every instrument enters pre-open; orders are accepted and wait for the opening cross"),
        Field(path: "trading_day.open", type: .string, defaultValue: #""09:30""#,
              meaning: "the opening cross, then continuous trading"),
        Field(path: "trading_day.close", type: .string, defaultValue: #""16:00""#,
              meaning: "the closing cross, then post-close (new orders refused)"),
        Field(path: "trading_day.end", type: .string, defaultValue: #""20:00""#,
              meaning: "end of system hours; pre_open < open < close < end"),
        Field(path: "trading_day.opening_imbalance_seconds", type: .wholeNumber, defaultValue: "300",
              meaning: "Net Order Imbalance Indicators are published for every instrument during this many exchange seconds before the opening cross (0: none), at most the length of pre-open"),
        Field(path: "trading_day.closing_imbalance_seconds", type: .wholeNumber, defaultValue: "600",
              meaning: "the same before the closing cross, at most the length of continuous trading"),
        Field(path: "trading_day.imbalance_interval_seconds", type: .wholeNumber, defaultValue: "1",
              meaning: "one imbalance indicator per instrument every this many exchange seconds inside those windows, 1–3600"),
        Field(path: "trading_day.clock_rate", type: .wholeNumber, defaultValue: "1",
              meaning: "1: the day follows the wall clock in time_zone; N (2–100000): an accelerated day, N exchange seconds per real second, from start_time, looping from end straight to the next pre_open"),
        Field(path: "trading_day.start_time", type: .string, defaultValue: #""""#,
              meaning: "with clock_rate > 1: the exchange time at start (from pre_open to before end); empty: pre_open"),
        Field(path: "trading_day.weekdays", type: .string, defaultValue: #""mon,tue,wed,thu,fri""#,
              meaning: "with clock_rate 1: the days of the week the market opens (comma-separated mon, tue, wed, thu, fri, sat, sun); on other days the schedule sends nothing and the market stays closed; an accelerated day ignores it"),
        Field(path: "trading_day.holidays", type: .string, defaultValue: #""""#,
              meaning: "with clock_rate 1: local dates the market stays closed, comma-separated YYYY-MM-DD (e.g. \"2026-12-25,2027-01-01\"); empty: none"),

        Field(path: "replication.role", type: .choice(ReplicationRole.allCases.map(\.rawValue)), defaultValue: #""primary""#,
              meaning: "primary (serves clients and the replication port) or standby (serves no client and does not listen on the client ports: follows replication.primary's journal, journals it into its own durability.directory and applies it to its own engine); used when durability.replication is not none"),
        Field(path: "replication.listen_address", type: .string, defaultValue: #""127.0.0.1""#,
              meaning: "primary: the IPv4 address the replication port binds to"),
        Field(path: "replication.listen_port", type: .wholeNumber, defaultValue: "9100",
              meaning: "primary: the replication port, 1–65535, differing from every other port"),
        Field(path: "replication.primary", type: .string, defaultValue: #""127.0.0.1:9100""#,
              meaning: "standby: the primary's replication port as IPv4 address:port"),
        Field(path: "replication.sync_ack", type: .choice(ReplicationAcknowledgement.allCases.map(\.rawValue)), defaultValue: #""durable""#,
              meaning: "durability.replication sync: received (the standby has the record in memory) or durable (on its disk) before output leaves"),
        Field(path: "replication.on_divergence", type: .choice(ReplicationDivergence.allCases.map(\.rawValue)), defaultValue: #""refuse""#,
              meaning: "standby refused by its primary as diverged (its journal holds records the primary lacks, e.g. an old primary rejoining): refuse (stop with an error) or move_aside (move the day's journal and snapshots to <day>.diverged-<unix time>, kept, and follow the primary from sequence 1)"),
        Field(path: "replication.yield_us", type: .wholeNumber, defaultValue: "0",
              meaning: "durability.replication sync: how long a replication thread (primary's and standby's) yields the CPU after a turn that moved something before it blocks on its socket, 0–100000 µs; 0: block at once (a record made durable is then seen up to 50 µs later at each end); worth it only with a spare core"),

        // Limit up, limit down: on when the file has a `luld` object (docs/MATCHING.md).
        Field(path: "luld.tier1_min_price", type: .decimal, defaultValue: "3.00",
              meaning: "LULD (on when the luld section is present): reference prices in dollars at or above this use tier1_band_pct; above tier2_min_price, at most 4 decimals"),
        Field(path: "luld.tier1_band_pct", type: .decimal, defaultValue: "5",
              meaning: "band half-width in percent of the reference price for tier 1, > 0 and < 100, at most 2 decimals"),
        Field(path: "luld.tier2_min_price", type: .decimal, defaultValue: "0.75",
              meaning: "reference prices in dollars at or above this (and below tier1_min_price) use tier2_band_pct; > 0, at most 4 decimals"),
        Field(path: "luld.tier2_band_pct", type: .decimal, defaultValue: "20",
              meaning: "band half-width in percent of the reference price for tier 2, > 0 and < 100, at most 2 decimals"),
        Field(path: "luld.tier3_band_pct", type: .decimal, defaultValue: "75",
              meaning: "band half-width in percent of the reference price below tier2_min_price, > 0 and < 100, at most 2 decimals"),
        Field(path: "luld.tier3_max_band", type: .decimal, defaultValue: "0.15",
              meaning: "the widest tier-3 band half-width in dollars (the lesser of this and tier3_band_pct applies), at most 4 decimals; 0: no cap"),
        Field(path: "luld.limit_state_ms", type: .wholeNumber, defaultValue: "15000",
              meaning: "milliseconds a limit state (best bid at the upper band or best ask at the lower band) lasts before the instrument pauses, 1–3600000"),
        Field(path: "luld.pause_ms", type: .wholeNumber, defaultValue: "300000",
              meaning: "milliseconds an LULD pause lasts before the halt cross reopens the instrument, 1–86400000"),

        Field(path: "emergency.hold_seconds", type: .wholeNumber, defaultValue: "5",
              meaning: "how long an emergency condition must hold, looked at once a second by the supervisor thread, before its trigger fires (once; it re-arms when the condition clears), 0–3600 seconds"),
        Field(path: "emergency.memory_mb", type: .wholeNumber, defaultValue: "0",
              meaning: "the process's resident memory (/proc/self/statm) in MiB at or above which the memory trigger fires, 0–16777216; 0: off"),
        Field(path: "emergency.memory_action", type: .choice(EmergencySettings.Action.allCases.map(\.rawValue)), defaultValue: #""alert""#,
              meaning: "what the memory trigger's firing does: alert (a critical log line and the metrics), stop_new_orders (the exchange kill switch: resting orders cancelled, new ones refused; journaled with who emergency:<condition> and why), cancel_all_and_halt (the kill switch and a market-wide halt, published on ITCH and OUCH) or shutdown (the kill switch, the halt, then the clean drain SIGTERM makes)"),
        Field(path: "emergency.reject_ratio", type: .decimal, defaultValue: "0",
              meaning: "the share of Enter Order and Replace messages rejected over the last second (every reason, the gateway's refusals included) at or above which the reject-ratio trigger fires, 0–1 with at most 4 decimals; 0: off"),
        Field(path: "emergency.reject_ratio_action", type: .choice(EmergencySettings.Action.allCases.map(\.rawValue)), defaultValue: #""alert""#,
              meaning: "what the reject-ratio trigger's firing does: alert (a critical log line and the metrics), stop_new_orders (the exchange kill switch: resting orders cancelled, new ones refused; journaled with who emergency:<condition> and why), cancel_all_and_halt (the kill switch and a market-wide halt, published on ITCH and OUCH) or shutdown (the kill switch, the halt, then the clean drain SIGTERM makes)"),
        Field(path: "emergency.error_rate_per_second", type: .wholeNumber, defaultValue: "0",
              meaning: "client protocol errors (disconnects for protocol violations, rtes_protocol_errors_total) plus journal write errors (ENOSPC, EIO, short writes, others) per second at or above which the error-rate trigger fires, 0–1000000000; 0: off"),
        Field(path: "emergency.error_rate_action", type: .choice(EmergencySettings.Action.allCases.map(\.rawValue)), defaultValue: #""alert""#,
              meaning: "what the error-rate trigger's firing does: alert (a critical log line and the metrics), stop_new_orders (the exchange kill switch: resting orders cancelled, new ones refused; journaled with who emergency:<condition> and why), cancel_all_and_halt (the kill switch and a market-wide halt, published on ITCH and OUCH) or shutdown (the kill switch, the halt, then the clean drain SIGTERM makes)"),
        Field(path: "emergency.journal_lag_records", type: .wholeNumber, defaultValue: "0",
              meaning: "journal records taken and not yet durable at or above which the journal-lag trigger fires, 0–4294967295; 0: off (and never fires without a journal)"),
        Field(path: "emergency.journal_lag_action", type: .choice(EmergencySettings.Action.allCases.map(\.rawValue)), defaultValue: #""alert""#,
              meaning: "what the journal-lag trigger's firing does: alert (a critical log line and the metrics), stop_new_orders (the exchange kill switch: resting orders cancelled, new ones refused; journaled with who emergency:<condition> and why), cancel_all_and_halt (the kill switch and a market-wide halt, published on ITCH and OUCH) or shutdown (the kill switch, the halt, then the clean drain SIGTERM makes)"),
        Field(path: "emergency.replication_lag_records", type: .wholeNumber, defaultValue: "0",
              meaning: "records the standby has not acknowledged at or above which the replication-lag trigger fires, 0–4294967295; 0: off (and never fires without replication)"),
        Field(path: "emergency.replication_lag_action", type: .choice(EmergencySettings.Action.allCases.map(\.rawValue)), defaultValue: #""alert""#,
              meaning: "what the replication-lag trigger's firing does: alert (a critical log line and the metrics), stop_new_orders (the exchange kill switch: resting orders cancelled, new ones refused; journaled with who emergency:<condition> and why), cancel_all_and_halt (the kill switch and a market-wide halt, published on ITCH and OUCH) or shutdown (the kill switch, the halt, then the clean drain SIGTERM makes)"),
    ]

    /// The allowed keys of each object, by schema path ("" is the top level).
    static let childKeys: [String: [String]] = {
        var children: [String: [String]] = [:]
        for field in fields {
            var parent = ""
            for component in field.path.split(separator: ".").map(String.init) {
                let key = component.hasSuffix("[]") ? String(component.dropLast(2)) : component
                if !(children[parent] ?? []).contains(key) { children[parent, default: []].append(key) }
                parent = parent.isEmpty ? component : parent + "." + component
            }
        }
        return children
    }()

    /// `RTES_` + the path upper-cased with dots replaced by underscores.
    static func environmentName(forPath path: String) -> String {
        "RTES_" + String(path.uppercased().map { $0 == "." ? "_" : $0 })
    }

    /// Override variable name → field.
    static let fieldsByEnvironmentName: [String: Field] = {
        var table: [String: Field] = [:]
        for field in fields {
            if let name = field.environmentVariable { table[name] = field }
        }
        return table
    }()

    /// `RTES_` variables that are not configuration overrides but are expected: each is read
    /// by some executable (a test holds this list to the code).
    static let otherVariables: [(name: String, meaning: String)] =
        Secrets.variables.map { ($0.name, "secret: " + $0.meaning) } + [
            ("RTES_LOG_LEVEL", "trading_exchange: log verbosity (trace, debug, info, notice, warning, error, critical; default info)"),
            ("RTES_LOG_FORMAT", "trading_exchange: log line format (text, json, journald; default text)"),
            // The tools' passwords (never on their command lines); a tool that reads the
            // configuration (rtes-feed) runs with its own set, so they are expected here too.
            ("RTES_CLIENT_PASSWORD", "rtes-client: the account's password (the exchange ignores it)"),
            ("RTES_FEED_PASSWORD", "rtes-feed: the snapshot account's password (the exchange ignores it)"),
            ("RTES_LOADGEN_PASSWORD", "rtes-loadgen: the --account password (the exchange ignores it)"),
            ("RTES_DROPCOPY_PASSWORD", "rtes-dropcopy: the PostgreSQL user's password (the exchange ignores it)"),
            ("RTES_AGENTS_PASSWORD", "rtes-agents: one password for every agent account (the exchange ignores it)"),
            ("RTES_REPLAY_PASSWORD", "rtes-itch-replay: the replay participant's password (the exchange ignores it)"),
            ("RTES_STRATEGY_PASSWORD", "rtes-strategy: the trading account's password (the exchange ignores it)"),
            ("RTES_ADMIN_PASSWORD", "rtes-admin: the operator's password for the admin API (the exchange ignores it)"),
            // TLS (docs/TLS.md): files, named by path only; the key's contents are never read into a message.
            ("RTES_TLS_CERT", "gateway.tls, fix.tls, market_data.snapshot_tls or admin.tls on: the PEM file of the server certificate (and chain)"),
            ("RTES_TLS_KEY", "gateway.tls, fix.tls, market_data.snapshot_tls or admin.tls on: the PEM file of the server's private key"),
            ("RTES_CA_CERT", "gateway.tls, fix.tls or market_data.snapshot_tls on: clients must present a certificate from this CA, whose CN is the account (mutual TLS); rtes-client/rtes-loadgen/rtes-feed --tls: the CA of the exchange's certificate"),
            ("RTES_TLS_CLIENT_CERT", "rtes-client/rtes-loadgen/rtes-feed --tls: the client certificate for mutual TLS (%u: the username; the exchange ignores it)"),
            ("RTES_TLS_CLIENT_KEY", "rtes-client/rtes-loadgen/rtes-feed --tls: that certificate's private key (%u: the username; the exchange ignores it)"),
        ]

    /// Whether a file key looks like a secret (a known secret's key, or one that speaks of a
    /// secret, a password, an HMAC or a private key); if so, the variable that should carry it
    /// (nil when the exchange reads no such secret).
    static func secretKey(_ key: String) -> (isSecret: Bool, variable: String?) {
        let lowered = key.lowercased()
        if let known = Secrets.variables.first(where: { $0.fileKey == lowered }) { return (true, known.name) }
        let words = ["secret", "password", "hmac", "private_key", "tls_key"]
        if words.contains(where: { lowered.contains($0) }) { return (true, nil) }
        return (false, nil)
    }
}
