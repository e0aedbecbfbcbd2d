import ExchangeAccess
import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeJournal
import ExchangeMarketData
import ExchangeRuntime
import ExchangeWire

/// The memory a configuration takes, part by part, computed by the functions that size each
/// part. `Appliance` maps its regions with exactly these sizes (it asks the plan), and
/// `trading_exchange --check` prints the total, so the figure is what start-up allocates.
///
/// Besides the regions: the market-data agent's heap (its replicas of the books, packet
/// slots, snapshot table and buffers, and the retransmit history), what each agent's io_uring
/// and provided-buffer ring map with the kernel (`*_io_uring`, `*_buffer_ring`, in whole
/// pages), the rings to the authenticator, the journal's two write buffers, the journal
/// archive's scratch engine and chunks, the snapshot agent's replica of the day, and the
/// counters file. Not counted yet: the gateway's heap beside its region — per connection a
/// frame reader (1 KiB) and a held-input buffer (`gateway.receive_buffer_size`), plus its slot
/// tables, about 5 MiB at the defaults — the authenticator's tables, the snapshot replica's
/// token set (it grows with the day's orders), and the process's own code and stacks.
public struct MemoryPlan: Sendable, Equatable {
    public struct Part: Sendable, Equatable {
        /// The region's name (`engine`, `ring_commands`, …), as `MemoryRegion` reports it.
        public var name: String
        public var bytes: Int
        /// The agent whose NUMA node the region is placed on (nil: none in particular).
        public var owner: CoreAssignment.Agent?
        /// False for what is not one of the appliance's mapped regions: heap allocations and the
        /// memory the kernel maps for io_uring.
        public var isRegion: Bool
    }

    public private(set) var parts: [Part] = []

    /// Order-book levels per side in the admin plane's snapshot slots.
    public static let snapshotLevels = 1_000
    /// The control ring (demo flow, admin commands) holds at most this many entries.
    public static func controlCapacity(queueCapacity: Int) -> Int { min(queueCapacity, 4_096) }

    /// The plan for `configuration` with `accounts` accounts in the API keys file, of which
    /// `dropCopyAccounts` are entitled to a FIX drop copy.
    public init(_ configuration: ExchangeConfiguration, accounts: Int, dropCopyAccounts: Int = 0) {
        let capacity = configuration.performance.queueCapacity
        func add(_ name: String, _ bytes: Int, _ owner: CoreAssignment.Agent?, region: Bool = true) {
            parts.append(Part(name: name, bytes: bytes, owner: owner, isRegion: region))
        }
        add("engine", MatchingEngine.requiredBytes(for: configuration.engineConfiguration()), .engine)
        add("ring_commands", SPSCRing<CommandEnvelope>.requiredBytes(capacity: capacity), .engine)
        add("ring_control", SPSCRing<CommandEnvelope>.requiredBytes(capacity: Self.controlCapacity(queueCapacity: capacity)), .engine)
        add("ring_order_events", SPSCRing<SequencedEvent>.requiredBytes(capacity: capacity), .gateway)
        add("ring_book_events", SPSCRing<SequencedEvent>.requiredBytes(capacity: capacity), .marketData)
        add("orderbook_snapshots", OrderBookSnapshots.requiredBytes(maxLevels: Self.snapshotLevels), nil)
        add("gateway", GatewayLayout.requiredBytes(settings: configuration.gateway, accounts: accounts), .gateway)
        add("gateway_heap", GatewayAgent<TSCClock>.heapBytes(settings: configuration.gateway, accounts: accounts,
                                                             symbols: configuration.symbols.count, tls: configuration.gateway.tls == .on),
            .gateway, region: false)
        if configuration.fix.enabled {
            add("fix", FIXMemory.heapBytes(settings: configuration.fix, dropCopyAccounts: dropCopyAccounts,
                                           sendQueueBytes: configuration.gateway.sendQueueBytes), .gateway, region: false)
        }
        let gatewayRings = GatewayLayout.ringBytes(settings: configuration.gateway)
        add("gateway_io_uring", gatewayRings.ioUring, .gateway, region: false)
        add("gateway_buffer_ring", gatewayRings.bufferRing, .gateway, region: false)
        if configuration.marketData.enabled {
            add("retransmit_history", RetransmitHistory.requiredBytes(capacity: configuration.marketData.retransmitHistoryMessages),
                .marketData, region: false)
            let marketData = Self.marketDataConfiguration(configuration)
            add("market_data_heap", MarketDataAgent<TSCClock>.heapBytes(configuration: marketData), .marketData, region: false)
            let marketDataRings = MarketDataAgent<TSCClock>.ringBytes(configuration: marketData)
            add("market_data_io_uring", marketDataRings.ioUring, .marketData, region: false)
            add("market_data_buffer_ring", marketDataRings.bufferRing, .marketData, region: false)
        }
        let durability = configuration.durability
        if durability.mode.journals {
            add("ring_journal", SPSCRing<SequencedCommand>.requiredBytes(capacity: durability.ringCapacity), .engine)
            add("journal_buffers", JournalAgent<TSCClock>.heapBytes(groupCommitMaxBytes: durability.groupCommitMaxBytes), .engine,
                region: false)
        }
        if durability.mode.journals {
            add("journal_archive", Self.archiveBytes(configuration), .gateway, region: false)
            add("snapshot_replica", Self.snapshotReplicaBytes(configuration), nil, region: false)
        }
        let logins = configuration.auth.maxPendingLogins
        add("login_rings", LoginChannel.requiredBytes(capacity: logins, rejectCapacity: LoginChannel.defaultRejectCapacity)
            + (configuration.marketData.enabled ? LoginChannel.requiredBytes(capacity: logins, rejectCapacity: 1) : 0), nil, region: false)
        add("counters", CountersLayout.totalBytes, nil, region: false)
    }

    /// The journal archive's heap (JournalArchive.swift), with a journal: its scratch engine
    /// (allocated at the first request, then kept), the follower's read buffer of a replay, the
    /// gateway's chunk buffers and — with market data — the feed's chunk buffers and the
    /// regenerated feed (a publisher and its history).
    static func archiveBytes(_ configuration: ExchangeConfiguration) -> Int {
        let durability = configuration.durability
        var bytes = MatchingEngine.requiredBytes(for: configuration.engineConfiguration()) + JournalFollower.defaultReadBytes
            + durability.archiveMaxRequests * durability.archiveChunkBytes
        if configuration.marketData.enabled {
            let feed = marketDataConfiguration(configuration)
            bytes += durability.archiveMaxRequests * max(1_024, feed.maxPayloadBytes)
                + feedCopyBytes(feed, historyMessages: FeedRegenerator.historyMessages(for: feed))
        }
        return bytes
    }

    /// The snapshot agent's replica of the day (DayReplica.swift), with a journal: a second
    /// engine, the replica's feed publisher (with a 64-message history), and the follower's
    /// read buffer. Its token set and the snapshot being written grow with the day's orders
    /// and are not counted.
    static func snapshotReplicaBytes(_ configuration: ExchangeConfiguration) -> Int {
        MatchingEngine.requiredBytes(for: configuration.engineConfiguration()) + JournalFollower.defaultReadBytes
            + feedCopyBytes(marketDataConfiguration(configuration), historyMessages: 64)
    }

    /// A feed publisher off the hot path (the archive's regenerated feed, the replica's): four
    /// packet slots, its books and a history of `historyMessages`.
    static func feedCopyBytes(_ feed: MarketDataConfiguration, historyMessages: Int) -> Int {
        FeedPublisher.requiredBytes(maxPayload: feed.maxPayloadBytes, instrumentCount: feed.instruments.count, packetSlots: 4,
                                    orderCapacity: feed.orderCapacity)
            + RetransmitHistory.requiredBytes(capacity: historyMessages)
    }

    /// The market-data agent's settings as the appliance makes them (the session name does not
    /// change any size).
    static func marketDataConfiguration(_ configuration: ExchangeConfiguration) -> MarketDataConfiguration {
        MarketDataConfiguration(configuration: configuration, session: SoupSessionName("PLAN")!)
    }

    /// The bytes of the part named `name` (0 when there is none).
    public func bytes(of name: String) -> Int { parts.first { $0.name == name }?.bytes ?? 0 }

    /// The regions `Appliance` maps (before rounding up to pages).
    public var regionBytes: Int { parts.filter(\.isRegion).reduce(0) { $0 + $1.bytes } }
    /// Everything the plan counts.
    public var totalBytes: Int { parts.reduce(0) { $0 + $1.bytes } }

    /// One line: the total and each part, largest first.
    public var summary: String {
        let largest = parts.sorted { $0.bytes > $1.bytes }.map { "\($0.name) \(ByteCount.format($0.bytes))" }
        return "memory: \(ByteCount.format(totalBytes)) (\(totalBytes) bytes, before rounding to pages): " + largest.joined(separator: ", ")
    }
}
