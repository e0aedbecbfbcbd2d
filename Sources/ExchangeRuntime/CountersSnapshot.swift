import ExchangeCore

/// Every counter of the region read at one moment: what `rtes-stat`, `/metrics` and
/// `/health` work from. Reading takes relaxed loads only and never disturbs the agents.
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

    public var name: String
    public var pid: UInt64
    public var startedAtUnixNanoseconds: UInt64
    public var state: CountersLayout.State
    public var ticksPerSecond: UInt64
    public var poolCapacity: UInt64
    public var agents: [AgentState]
    public var rings: [RingState]
    public var engine: [String: UInt64]
    public var rejectsByReason: [(reason: RejectReason, count: UInt64)]
    public var gateway: [String: UInt64]
    public var disconnectsByReason: [(reason: DisconnectReason, count: UInt64)]
    public var marketData: [String: UInt64]
    public var latency: LatencyHistogram.Snapshot

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
        let e = CountersLayout.engineOffset
        typealias C = CountersLayout.EngineCell
        engine = [
            "commands": cells.load(e + C.commands), "orders_received": cells.load(e + C.ordersReceived),
            "orders_accepted": cells.load(e + C.ordersAccepted), "orders_replaced": cells.load(e + C.ordersReplaced),
            "orders_canceled": cells.load(e + C.ordersCanceled), "orders_expired": cells.load(e + C.ordersExpired),
            "orders_modified": cells.load(e + C.ordersModified), "rejects": cells.load(e + C.rejects),
            "cancel_rejects": cells.load(e + C.cancelRejects), "trades": cells.load(e + C.executions),
            "shares_traded": cells.load(e + C.sharesExecuted), "self_trades_prevented": cells.load(e + C.selfTradesPrevented),
            "events": cells.load(e + C.events), "suspensions": cells.load(e + C.suspensions),
            "resting_orders": cells.load(e + C.restingOrders), "peak_resting_orders": cells.load(e + C.peakRestingOrders),
        ]
        let g = CountersLayout.gatewayOffset
        typealias G = CountersLayout.GatewayCell
        // What the gateway answered at once because the ring to the engine was full never
        // reached the engine; it counts as system_busy (docs/GATEWAY.md).
        let answeredAtOnce = cells.load(g + G.backpressureRejects)
        rejectsByReason = RejectReason.allCases.map { reason in
            let counted = cells.load(e + C.rejectsByReason + 8 * Int(reason.rawValue))
            return (reason, reason == .systemBusy ? counted &+ answeredAtOnce : counted)
        }
        gateway = [
            "active_connections": cells.load(g + G.activeConnections), "accepted_connections": cells.load(g + G.acceptedConnections),
            "closed_connections": cells.load(g + G.closedConnections), "messages_in": cells.load(g + G.messagesIn),
            "messages_out": cells.load(g + G.messagesOut), "protocol_errors": cells.load(g + G.protocolErrors),
            "backpressure_rejects": cells.load(g + G.backpressureRejects), "bytes_in": cells.load(g + G.bytesIn),
            "bytes_out": cells.load(g + G.bytesOut), "logins_accepted": cells.load(g + G.loginsAccepted),
            "logins_rejected_not_authorized": cells.load(g + G.loginsRejectedNotAuthorized),
            "logins_rejected_session": cells.load(g + G.loginsRejectedSession),
            "refused_connections": cells.load(g + G.refusedConnections), "replayed_messages": cells.load(g + G.replayedMessages),
            "heartbeats_sent": cells.load(g + G.heartbeatsSent), "duplicate_token_rejects": cells.load(g + G.duplicateTokenRejects),
            "token_history_full_rejects": cells.load(g + G.tokenHistoryFullRejects), "field_rejects": cells.load(g + G.fieldRejects),
            "orders_in": cells.load(g + G.ordersIn), "receive_buffers_exhausted": cells.load(g + G.receiveBuffersExhausted),
            "send_queue_peak_bytes": cells.load(g + G.sendQueuePeakBytes), "active_sessions": cells.load(g + G.activeSessions),
            "unrouted_events": cells.load(g + G.unroutedEvents), "shutdown_rejects": cells.load(g + G.shutdownRejects),
            "submit_failures": cells.load(g + G.submitFailures), "listening": cells.load(g + G.listening),
            "accept_errors": cells.load(g + G.acceptErrors),
        ]
        disconnectsByReason = DisconnectReason.allCases.map { ($0, cells.load(g + G.disconnectsByReason + 8 * Int($0.rawValue))) }
        let m = CountersLayout.marketDataOffset
        marketData = Dictionary(uniqueKeysWithValues: CountersLayout.MarketDataCell.all.map { ($0.name, cells.load(m + $0.offset)) })
        let n = LatencyHistogram.bucketCount
        latency = LatencyHistogram.Snapshot(
            buckets: (0..<n).map { cells.load(CountersLayout.latencyOffset + 8 * $0) },
            count: cells.load(CountersLayout.latencyOffset + 8 * n), sum: cells.load(CountersLayout.latencyOffset + 8 * (n + 1)))
    }
}
