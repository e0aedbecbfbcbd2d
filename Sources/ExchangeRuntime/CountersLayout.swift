/// Where everything lives in the counters region: a file in shared memory that the agents
/// write with relaxed atomic stores (one writer per cell) and that other processes
/// (`rtes-stat`, the admin plane, monitoring) read without disturbing them.
///
/// The layout is fixed by this descriptor and versioned by `CountersLayout.version`. Every
/// cell is a `UInt64` at an 8-byte-aligned offset; each writer's cells start on their own
/// 128-byte block so that agents never share a cache line.
///
/// | offset | block | cells |
/// |---|---|---|
/// | 0 | header | magic, version, total bytes, pid, start time, TSC ticks/s, state, name |
/// | 4096 | agents (4 × 256 B) | see `AgentCell` |
/// | 5120 | rings (8 × 128 B) | see `RingCell` |
/// | 6144 | engine (1024 B) | see `EngineCell`, then reject counts by reason |
/// | 7168 | gateway (512 B) | see `GatewayCell` |
/// | 7680 | market data (512 B) | see `MarketDataCell` |
/// | 8192 | order latency histogram | `LatencyHistogram.bucketCount` buckets, then count and sum |
public enum CountersLayout {
    public static let magic: UInt64 = 0x3154_4E43_5345_5452  // "RTESCNT1" little-endian
    public static let version: UInt64 = 1

    public static let headerOffset = 0
    public static let agentsOffset = 4_096
    public static let agentStride = 256
    public static let agentSlots = 4
    public static let ringsOffset = 5_120
    public static let ringStride = 128
    public static let ringSlots = 8
    public static let engineOffset = 6_144
    public static let gatewayOffset = 7_168
    public static let marketDataOffset = 7_680
    public static let latencyOffset = 8_192
    public static let totalBytes = latencyOffset + 8 * (LatencyHistogram.bucketCount + 2)

    /// Header cells (byte offsets from the start of the region).
    public enum Header {
        public static let magic = 0
        public static let version = 8
        public static let totalBytes = 16
        public static let pid = 24
        public static let startedAtUnixNanoseconds = 32
        public static let ticksPerSecond = 40
        public static let state = 48
        public static let poolCapacity = 56
        /// Name of the exchange, 64 bytes of UTF-8, zero padded.
        public static let name = 64
        public static let nameBytes = 64
    }

    /// Per-agent cells, from the agent's block start.
    public enum AgentCell {
        /// 32 bytes of name, zero padded.
        public static let name = 0
        public static let heartbeat = 32
        public static let workCount = 40
        public static let maxDutyCycleTicks = 48
        public static let cpu = 56
        public static let running = 64
        /// Errors the agent counted (`Agent.errorCount`).
        public static let errors = 72
        /// 1 when the agent's `onStart()` failed (the thread left without working).
        public static let startFailed = 80
    }

    /// Per-ring cells, from the ring's block start.
    public enum RingCell {
        /// 32 bytes of name, zero padded.
        public static let name = 0
        public static let capacity = 32
        public static let produced = 40
        public static let consumed = 48
        public static let full = 56
    }

    /// The engine agent's cells, from the engine block start.
    public enum EngineCell {
        public static let commands = 0
        public static let ordersReceived = 8
        public static let ordersAccepted = 16
        public static let ordersReplaced = 24
        public static let ordersCanceled = 32
        public static let ordersExpired = 40
        public static let ordersModified = 48
        public static let rejects = 56
        public static let cancelRejects = 64
        public static let executions = 72
        public static let sharesExecuted = 80
        public static let selfTradesPrevented = 88
        public static let events = 96
        public static let suspensions = 104
        public static let restingOrders = 112
        public static let peakRestingOrders = 120
        /// Commands from the gateway's ring whose events are all handed on (stored with
        /// release ordering: a reader that sees N also sees those events in the rings).
        public static let commandsHandled = 128
        /// `RejectReason.counterSlots` cells from here, indexed by the reason's raw value.
        public static let rejectsByReason = 256
        public static let rejectSlots = 64
    }

    /// The order gateway's cells (filled by the gateway).
    public enum GatewayCell {
        public static let activeConnections = 0
        public static let acceptedConnections = 8
        public static let closedConnections = 16
        /// SoupBinTCP packets received from clients.
        public static let messagesIn = 24
        /// Sequenced messages put in session logs.
        public static let messagesOut = 32
        /// Disconnects for a protocol violation (framing, packet or OUCH message).
        public static let protocolErrors = 40
        /// Orders rejected because the command ring to the engine was full.
        public static let backpressureRejects = 48
        public static let bytesIn = 56
        public static let bytesOut = 64
        public static let loginsAccepted = 72
        /// Login Rejected `A`: unknown username or wrong password.
        public static let loginsRejectedNotAuthorized = 80
        /// Login Rejected `S`: unknown session, session in use, or a sequence number older
        /// than the history.
        public static let loginsRejectedSession = 88
        /// Connections closed at once because the connection table was full.
        public static let refusedConnections = 96
        /// Sequenced messages sent again to clients that logged in asking for them.
        public static let replayedMessages = 104
        public static let heartbeatsSent = 112
        public static let duplicateTokenRejects = 120
        public static let tokenHistoryFullRejects = 128
        /// Messages answered with a reject because a field could not be represented.
        public static let fieldRejects = 136
        /// Enter, Replace, Cancel and Modify messages handed to the engine.
        public static let ordersIn = 144
        /// Multishot receives stopped because every receive buffer was in use.
        public static let receiveBuffersExhausted = 152
        /// The largest number of unsent bytes any connection had.
        public static let sendQueuePeakBytes = 160
        /// Accounts logged in.
        public static let activeSessions = 168
        /// Order events for clients that are not gateway accounts (e.g. the demo flow).
        public static let unroutedEvents = 176
        /// Orders refused because the exchange was shutting down.
        public static let shutdownRejects = 184
        /// Failed io_uring submissions.
        public static let submitFailures = 192
        /// 1 while the gateway accepts connections.
        public static let listening = 200
        /// Accepts that failed (the client gave up first, or the process is out of descriptors).
        public static let acceptErrors = 208
        /// Disconnects by `reason` (raw value 1…): 8 bytes each from here.
        public static let disconnectsByReason = 256
        public static let disconnectReasonSlots = 32
    }

    /// The market-data publisher's cells (filled by the publisher).
    public enum MarketDataCell {
        public static let messages = 0
        public static let packets = 8
        public static let bytes = 16
        public static let retransmitRequests = 24
        public static let retransmitRejected = 32
    }

    /// Life cycle published in `Header.state`.
    public enum State: UInt64, Sendable {
        case starting = 1
        case running = 2
        case draining = 3
        case stopped = 4
    }

    /// Fixed agent slots, so readers find each agent without a directory.
    public enum AgentSlot: Int, CaseIterable, Sendable {
        case gateway = 0
        case engine = 1
        case marketData = 2
        case auxiliary = 3

        public var metricName: String {
            switch self {
            case .gateway: "gateway"
            case .engine: "engine"
            case .marketData: "market_data"
            case .auxiliary: "auxiliary"
            }
        }

        public var offset: Int { CountersLayout.agentsOffset + rawValue * CountersLayout.agentStride }
    }

    /// Fixed ring slots.
    public enum RingSlot: Int, CaseIterable, Sendable {
        case commands = 0
        case orderEvents = 1
        case bookEvents = 2
        case control = 3

        public var metricName: String {
            switch self {
            case .commands: "commands"
            case .orderEvents: "order_events"
            case .bookEvents: "book_events"
            case .control: "control"
            }
        }

        public var offset: Int { CountersLayout.ringsOffset + rawValue * CountersLayout.ringStride }
    }
}
