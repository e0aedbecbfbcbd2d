import ExchangeCore

/// The `risk` section, in engine units.
public struct RiskSettings: Sendable, Equatable {
    /// `max_order_size`: shares per order.
    public var maxOrderSize: Shares = 100_000
    /// `max_notional_per_client`, converted from dollars to notional units (×10 000).
    public var maxNotionalPerClient: Notional = 10_000_000 * 10_000
    /// `max_orders_per_second`: enter and replace messages per client.
    public var maxOrdersPerSecond: UInt32 = 10_000
    /// `price_collar_enabled`.
    public var priceCollarEnabled = true
    /// `self_trade_prevention`.
    public var selfTradePrevention: SelfTradePrevention = .cancelNewest

    /// The documented defaults.
    public init() {}

    /// Configuration spellings of the self-trade prevention modes.
    static let selfTradePreventionNames: [(String, SelfTradePrevention)] = [
        ("cancel_newest", .cancelNewest),
        ("cancel_oldest", .cancelOldest),
        ("cancel_both", .cancelBoth),
        ("decrement", .decrement),
    ]
}
