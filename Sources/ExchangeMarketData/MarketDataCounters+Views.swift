import ExchangeRuntime

/// The market-data agent's counters as a reader of the counters region sees them
/// (`rtes-stat`, `/metrics`): found by the block name `MarketDataCounters` registers. A block
/// the agent did not register reads as empty.
extension CountersSnapshot {
    /// The market-data agent's counters (`market_data` block), by counter name.
    public var marketData: [String: UInt64] { values(MarketDataCounters.block.name) }
}
