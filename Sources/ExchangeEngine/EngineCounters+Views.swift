import ExchangeRuntime

/// The engine's counters as a reader of the counters region sees them (`rtes-stat`,
/// `/metrics`, `/health`): found by the block names `EngineCounters` registers. A block the
/// engine did not register reads as empty.
extension CountersSnapshot {
    /// The engine's counters (`engine` block), by counter name.
    public var engine: [String: UInt64] { values(EngineCounters.block.name) }

    /// Turns in which the engine found the journal ring full and took no new command: the
    /// journal (its disk) is the bottleneck when this climbs.
    public var engineJournalFull: UInt64 { engine["journal_full"] ?? 0 }

    /// Orders the engine rejected, by reason (the `engine_rejects` block, in the engine's
    /// order).
    public var engineRejectsByReason: [(reason: String, count: UInt64)] {
        (block(EngineCounters.rejectsBlock.name)?.counters ?? []).map { ($0.name, $0.value) }
    }

    /// The engine's order latency histogram (`order_latency` in the `engine_latency` block),
    /// in TSC ticks; empty when not registered.
    public var latency: LatencyHistogram.Snapshot {
        block(EngineCounters.latencyBlock.name)?.counters.first { $0.name == "order_latency" }?.histogram
            ?? LatencyHistogram.Snapshot(buckets: Array(repeating: 0, count: LatencyHistogram.bucketCount), count: 0, sum: 0)
    }
}
