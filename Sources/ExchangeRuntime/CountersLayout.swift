/// Where everything lives in the counters region: a file in shared memory that the agents
/// write with relaxed atomic stores (one writer per cell) and that other processes
/// (`rtes-stat`, the admin plane, monitoring) read without disturbing them.
///
/// The runtime fixes the header, the agent and ring slots and the directory; every module
/// registers its own counter block (`CounterBlockDescriptor`, `CounterCells.register(_:)`),
/// which the registry places in the cells area and describes in the directory, so that a
/// reader enumerates every module's counters by name without compiling in their layouts.
/// Versioned by `CountersLayout.version`. Every cell is a `UInt64` at an 8-byte-aligned
/// offset; each block starts on its own 128-byte boundary so that agents never share a
/// cache line.
///
/// | offset | block | cells |
/// |---|---|---|
/// | 0 | header | magic, version, total bytes, pid, start time, TSC ticks/s, state, pool capacity, name, directory counts |
/// | 4096 | agents (4 × 256 B) | see `AgentCell` |
/// | 5120 | rings (8 × 128 B) | see `RingCell` |
/// | 6144 | directory: blocks (32 × 64 B) | see `Directory.BlockRecord` |
/// | 8192 | directory: counters (512 × 64 B) | see `Directory.CounterRecord` |
/// | 40960 | cells (24 KiB) | the registered blocks, 128-byte aligned |
public enum CountersLayout {
    public static let magic: UInt64 = 0x3154_4E43_5345_5452  // "RTESCNT1" little-endian
    public static let version: UInt64 = 2

    public static let headerOffset = 0
    public static let agentsOffset = 4_096
    public static let agentStride = 256
    public static let agentSlots = 4
    public static let ringsOffset = 5_120
    public static let ringStride = 128
    public static let ringSlots = 8
    public static let directoryOffset = 6_144
    public static let cellsOffset = 40_960
    public static let cellsBytes = 24_576
    public static let totalBytes = cellsOffset + cellsBytes
    /// Every registered block starts on a multiple of this (from the region's start).
    public static let blockAlignment = 128

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
        /// Blocks in the directory (stored with release ordering after their records).
        public static let blockCount = 128
        /// Counter records in the directory.
        public static let counterCount = 136
        /// Bytes of the cells area handed out to blocks so far.
        public static let cellsUsed = 144
    }

    /// The directory of registered blocks: fixed-size records, written once at registration.
    public enum Directory {
        public static let maxBlocks = 32
        public static let maxCounters = 512
        public static let blockRecordsOffset = CountersLayout.directoryOffset
        public static let blockRecordBytes = 64
        public static let counterRecordsOffset = blockRecordsOffset + maxBlocks * blockRecordBytes
        public static let counterRecordBytes = 64
        public static let blockNameBytes = 32
        public static let cellNameBytes = 48

        /// One block: name (32 bytes of UTF-8, zero padded), then these cells.
        public enum BlockRecord {
            public static let name = 0
            /// Byte offset of the block's first cell from the region's start.
            public static let offset = 32
            /// Cells the block spans.
            public static let cellCount = 40
            /// Index of its first counter record.
            public static let firstCounter = 48
            /// Counter records it has.
            public static let counterCount = 56
        }

        /// One counter: name (48 bytes of UTF-8, zero padded), then these cells.
        public enum CounterRecord {
            public static let name = 0
            /// `CounterKind.rawValue`.
            public static let kind = 48
            /// Byte offset of the counter's first cell from its block's start.
            public static let offset = 56
        }
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
