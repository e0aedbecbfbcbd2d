import ExchangeEngine
import ExchangeRuntime

/// The gateway's counters as a reader of the counters region sees them (`rtes-stat`,
/// `/metrics`, `/health`): found by the block names `GatewayCounters` registers. A block the
/// gateway did not register reads as empty.
extension CountersSnapshot {
    /// The order gateway's counters (`gateway` block), by counter name.
    public var gateway: [String: UInt64] { values(GatewayCounters.block.name) }

    /// Connections the gateway closed, by reason (the `gateway_disconnects` block).
    public var disconnectsByReason: [(reason: String, count: UInt64)] {
        (block(GatewayCounters.disconnectsBlock.name)?.counters ?? []).map { ($0.name, $0.value) }
    }

    /// Orders rejected, by reason, as clients saw them: the engine's rejects, plus what the
    /// gateway answered at once because the ring to the engine was full (that never reached
    /// the engine; it counts as `system_busy`, docs/GATEWAY.md).
    public var rejectsByReason: [(reason: String, count: UInt64)] {
        let answeredAtOnce = gateway["backpressure_rejects"] ?? 0
        return engineRejectsByReason.map {
            ($0.reason, $0.reason == "system_busy" ? $0.count &+ answeredAtOnce : $0.count)
        }
    }
}
