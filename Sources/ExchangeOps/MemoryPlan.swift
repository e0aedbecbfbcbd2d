import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeMarketData
import ExchangeRuntime

/// The memory a configuration takes, part by part, computed by the functions that size each
/// part. `Appliance` maps its regions with exactly these sizes (it asks the plan), and
/// `trading_exchange --check` prints the total, so the figure is what start-up allocates.
public struct MemoryPlan: Sendable, Equatable {
    public struct Part: Sendable, Equatable {
        /// The region's name (`engine`, `ring_commands`, …), as `MemoryRegion` reports it.
        public var name: String
        public var bytes: Int
        /// The agent whose NUMA node the region is placed on (nil: none in particular).
        public var owner: CoreAssignment.Agent?
        /// False for the heap allocations of the market-data agent (not a mapped region).
        public var isRegion: Bool
    }

    public private(set) var parts: [Part] = []

    /// Order-book levels per side in the admin plane's snapshot slots.
    public static let snapshotLevels = 1_000
    /// The control ring (demo flow, admin commands) holds at most this many entries.
    public static func controlCapacity(queueCapacity: Int) -> Int { min(queueCapacity, 4_096) }

    /// The plan for `configuration` with `accounts` accounts in the API keys file.
    public init(_ configuration: ExchangeConfiguration, accounts: Int) {
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
        if configuration.marketData.enabled {
            add("retransmit_history", RetransmitHistory.requiredBytes(capacity: configuration.marketData.retransmitHistoryMessages),
                .marketData, region: false)
        }
        add("counters", CountersLayout.totalBytes, nil, region: false)
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
