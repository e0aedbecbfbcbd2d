/// The views `rtes-stat`, `/metrics` and `/health` read: blocks and counters by the names
/// their modules register (ExchangeEngine's `EngineCounters`, ExchangeGateway's
/// `GatewayCounters`, ExchangeMarketData's `MarketDataCounters`). A block no module
/// registered reads as empty.
extension CountersSnapshot {
    /// The engine's counters (`engine` block).
    public var engine: [String: UInt64] { values("engine") }
    /// The order gateway's counters (`gateway` block).
    public var gateway: [String: UInt64] { values("gateway") }
    /// The market-data agent's counters (`market_data` block).
    public var marketData: [String: UInt64] { values("market_data") }

    /// Orders rejected, by reason (the `engine_rejects` block, in the engine's order). What
    /// the gateway answered at once because the ring to the engine was full never reached the
    /// engine; it counts as `system_busy` (docs/GATEWAY.md).
    public var rejectsByReason: [(reason: String, count: UInt64)] {
        let answeredAtOnce = gateway["backpressure_rejects"] ?? 0
        return (block("engine_rejects")?.counters ?? []).map {
            ($0.name, $0.name == "system_busy" ? $0.value &+ answeredAtOnce : $0.value)
        }
    }

    /// Connections the gateway closed, by reason (the `gateway_disconnects` block).
    public var disconnectsByReason: [(reason: String, count: UInt64)] {
        (block("gateway_disconnects")?.counters ?? []).map { ($0.name, $0.value) }
    }

    /// The engine's order latency histogram (`order_latency` in the `engine_latency` block),
    /// in TSC ticks; empty when not registered.
    public var latency: LatencyHistogram.Snapshot {
        block("engine_latency")?.counters.first { $0.name == "order_latency" }?.histogram
            ?? LatencyHistogram.Snapshot(buckets: Array(repeating: 0, count: LatencyHistogram.bucketCount), count: 0, sum: 0)
    }
}
