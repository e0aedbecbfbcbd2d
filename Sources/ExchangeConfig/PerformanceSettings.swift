/// The `performance` section: sizes, threads and memory.
public struct PerformanceSettings: Sendable, Equatable {
    /// `order_pool_size`: orders that can rest at once across all instruments.
    public var orderPoolSize = 1_000_000
    /// `queue_capacity`: entries in each inter-thread queue (a power of two).
    public var queueCapacity = 65_536
    /// `enable_cpu_pinning`: pin agents to `cores`.
    public var enableCPUPinning = false
    /// `tcp_nodelay`: disable Nagle's algorithm on client connections.
    public var tcpNoDelay = true
    /// `udp_buffer_size`: socket send buffer of the market-data feed, in bytes.
    public var udpBufferSize = 4_194_304
    /// `max_clients`: trading accounts (client IDs are 0..<maxClients).
    public var maxClients = 1_024
    /// `price_levels`: ticks per instrument ladder (a power of two, 64…262 144).
    public var priceLevels = 65_536
    /// `threading_mode`.
    public var threadingMode: ThreadingMode = .shared
    /// `idle_strategy`.
    public var idleStrategy: IdleStrategyKind = .backoff
    /// `cores`: the CPU of each agent, used when `enableCPUPinning` is on.
    public var cores = CoreAssignment()
    /// `hugepages`.
    public var hugePages: HugePagePolicy = .auto
    /// `lock_memory`: `mlockall` at start (needs CAP_IPC_LOCK or a large RLIMIT_MEMLOCK).
    public var lockMemory = false
    /// `realtime_priority`: SCHED_FIFO priority for pinned agent threads; 0 keeps SCHED_OTHER.
    /// A SCHED_FIFO spinner is throttled by `kernel.sched_rt_runtime_us` (50 ms per second by
    /// default): see tuning/README.md.
    public var realtimePriority = 0

    /// The documented defaults.
    public init() {}
}
