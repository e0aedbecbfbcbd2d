/// Every counter of the region read at one moment: what `rtes-stat`, `/metrics` and
/// `/health` work from. Reading takes relaxed loads only and never disturbs the agents.
/// The header, agents and rings are the runtime's; every other counter is read from the
/// directory, block by block, by name (no module's layout is compiled in here).
public struct CountersSnapshot: Sendable {
    public struct AgentState: Sendable {
        public var slot: CountersLayout.AgentSlot
        public var name: String
        public var heartbeat: UInt64
        public var workCount: UInt64
        public var maxDutyCycleSeconds: Double
        public var cpu: Int?
        public var running: Bool
        /// Errors the agent counted (`Agent.errorCount`, published by its runner thread).
        public var errors: UInt64
        /// The agent's `onStart()` failed: its thread left without doing any work.
        public var startFailed: Bool
    }

    public struct RingState: Sendable {
        public var slot: CountersLayout.RingSlot
        public var capacity: UInt64
        public var produced: UInt64
        public var consumed: UInt64
        public var full: UInt64
        /// Messages waiting (produced minus consumed, as last published by both sides).
        public var depth: UInt64 { produced >= consumed ? produced - consumed : 0 }
    }

    /// One registered block as read: its counters in registration order.
    public struct BlockState: Sendable {
        public struct Counter: Sendable {
            public var name: String
            public var kind: CounterKind
            /// The value (for a histogram, its count).
            public var value: UInt64
            /// The buckets, count and sum of a `.histogram` counter.
            public var histogram: LatencyHistogram.Snapshot?
        }

        public var name: String
        public var counters: [Counter]

        public subscript(_ counter: String) -> UInt64? { counters.first { $0.name == counter }?.value }

        /// Every counter's value by name.
        public var values: [String: UInt64] { Dictionary(counters.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }) }
    }

    public var name: String
    public var pid: UInt64
    public var startedAtUnixNanoseconds: UInt64
    public var state: CountersLayout.State
    public var ticksPerSecond: UInt64
    public var poolCapacity: UInt64
    public var agents: [AgentState]
    public var rings: [RingState]
    /// Every registered block, in registration order.
    public var blocks: [BlockState]

    /// The block named `name`, if a module registered it.
    public func block(_ name: String) -> BlockState? { blocks.first { $0.name == name } }

    /// The values of block `name` by counter name (empty when no module registered it).
    public func values(_ name: String) -> [String: UInt64] { block(name)?.values ?? [:] }

    /// Latency histogram values are TSC ticks; this converts them.
    public func seconds(ticks: UInt64) -> Double { ticksPerSecond == 0 ? 0 : Double(ticks) / Double(ticksPerSecond) }

    public init(_ cells: CounterCells) {
        func text(_ offset: Int, _ bytes: Int) -> String {
            let p = (cells.base + offset).assumingMemoryBound(to: UInt8.self)
            return String(decoding: UnsafeBufferPointer(start: p, count: bytes).prefix { $0 != 0 }, as: UTF8.self)
        }
        name = text(CountersLayout.Header.name, CountersLayout.Header.nameBytes)
        pid = cells.load(CountersLayout.Header.pid)
        startedAtUnixNanoseconds = cells.load(CountersLayout.Header.startedAtUnixNanoseconds)
        state = CountersLayout.State(rawValue: cells.load(CountersLayout.Header.state)) ?? .stopped
        ticksPerSecond = cells.load(CountersLayout.Header.ticksPerSecond)
        poolCapacity = cells.load(CountersLayout.Header.poolCapacity)
        let tps = Double(max(1, ticksPerSecond))
        agents = CountersLayout.AgentSlot.allCases.compactMap { slot in
            let name = text(slot.offset + CountersLayout.AgentCell.name, 32)
            guard !name.isEmpty else { return nil }
            let cpu = cells.load(slot.offset + CountersLayout.AgentCell.cpu)
            return AgentState(
                slot: slot, name: name, heartbeat: cells.load(slot.offset + CountersLayout.AgentCell.heartbeat),
                workCount: cells.load(slot.offset + CountersLayout.AgentCell.workCount),
                maxDutyCycleSeconds: Double(cells.load(slot.offset + CountersLayout.AgentCell.maxDutyCycleTicks)) / tps,
                cpu: cpu == .max ? nil : Int(cpu), running: cells.load(slot.offset + CountersLayout.AgentCell.running) != 0,
                errors: cells.load(slot.offset + CountersLayout.AgentCell.errors),
                startFailed: cells.load(slot.offset + CountersLayout.AgentCell.startFailed) != 0)
        }
        rings = CountersLayout.RingSlot.allCases.compactMap { slot in
            let capacity = cells.load(slot.offset + CountersLayout.RingCell.capacity)
            guard capacity > 0 else { return nil }
            return RingState(
                slot: slot, capacity: capacity, produced: cells.load(slot.offset + CountersLayout.RingCell.produced),
                consumed: cells.load(slot.offset + CountersLayout.RingCell.consumed),
                full: cells.load(slot.offset + CountersLayout.RingCell.full))
        }
        typealias D = CountersLayout.Directory
        let blockCount = min(Int(cells.loadAcquiring(CountersLayout.Header.blockCount)), D.maxBlocks)
        blocks = (0..<blockCount).map { i in
            let record = D.blockRecordsOffset + i * D.blockRecordBytes
            let offset = Int(cells.load(record + D.BlockRecord.offset))
            let first = Int(cells.load(record + D.BlockRecord.firstCounter))
            let count = Int(cells.load(record + D.BlockRecord.counterCount))
            let counters = (first..<min(first + count, D.maxCounters)).compactMap { c -> BlockState.Counter? in
                let r = D.counterRecordsOffset + c * D.counterRecordBytes
                guard let kind = CounterKind(rawValue: cells.load(r + D.CounterRecord.kind)) else { return nil }
                let at = offset + Int(cells.load(r + D.CounterRecord.offset))
                guard at >= CountersLayout.cellsOffset, at + 8 * kind.cellCount <= CountersLayout.totalBytes else { return nil }
                let name = text(r + D.CounterRecord.name, D.cellNameBytes)
                guard kind == .histogram else { return .init(name: name, kind: kind, value: cells.load(at), histogram: nil) }
                let n = LatencyHistogram.bucketCount
                let histogram = LatencyHistogram.Snapshot(
                    buckets: (0..<n).map { cells.load(at + 8 * $0) }, count: cells.load(at + 8 * n), sum: cells.load(at + 8 * (n + 1)))
                return .init(name: name, kind: kind, value: histogram.count, histogram: histogram)
            }
            return BlockState(name: text(record + D.BlockRecord.name, D.blockNameBytes), counters: counters)
        }
    }
}
