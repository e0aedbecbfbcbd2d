import ExchangeCore

/// The configuration's `risk` block, in engine units.
public struct RiskLimits: Equatable, Sendable {
    /// `max_order_size`: shares per order.
    public var maxOrderShares: Shares
    /// `max_notional_per_client`: open buy + sell notional per client (4 implied decimals).
    public var maxOpenNotional: Notional
    /// `max_orders_per_second`: enter and replace messages per client.
    public var maxOrdersPerSecond: UInt32
    /// `price_collar_enabled`: reject limit orders beyond the collar and stop market orders at it.
    public var priceCollarsEnabled: Bool

    public init(maxOrderShares: Shares, maxOpenNotional: Notional, maxOrdersPerSecond: UInt32, priceCollarsEnabled: Bool) {
        self.maxOrderShares = maxOrderShares
        self.maxOpenNotional = maxOpenNotional
        self.maxOrdersPerSecond = maxOrdersPerSecond
        self.priceCollarsEnabled = priceCollarsEnabled
    }

    /// No limits at all: every check passes.
    public static let unlimited = RiskLimits(
        maxOrderShares: .max, maxOpenNotional: .max, maxOrdersPerSecond: .max, priceCollarsEnabled: false)
}
