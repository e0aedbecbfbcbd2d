// Plain data of the naive reference model. Nothing here is clever: orders are values in
// arrays, tokens are keys in dictionaries. See docs/MATCHING.md for every rule.

import ExchangeCore

/// An order as the model keeps it, both while it is being entered (the taker) and while
/// it rests in a book side array.
struct ModelOrder {
    var reference: OrderReference
    var client: ClientID
    var token: OrderToken
    var instrument: InstrumentIndex
    /// The OUCH side (buy/sell/sellShort/sellShortExempt); modify may change it within a book side.
    var side: Side
    /// Resting price (the repriced price for post-only orders, 0 for market orders).
    var price: Price
    /// Open size ("leaves"; for a taker, the shares not yet executed or cancelled).
    var leaves: Shares
    var timeInForce: TimeInForce
    var firm: Firm
    var display: Display
    var capacity: Capacity
    var intermarketSweep: IntermarketSweep
    var minimumQuantity: Shares
    var crossType: CrossType
    /// Expiry deadline of a timed order (TIF 1…86400); nil for day orders.
    var deadline: Timestamp?
    /// When the order came to rest, across the whole exchange. Orders mass cancels:
    /// MATCHING.md §Mass actions "in the order they came to rest (in-place replaces, cancels
    /// and modifies keep an order's place; a replace that is not in place moves it to the end)".
    var restSequence: UInt64
    /// In its instrument's cross list rather than the book (MATCHING.md §The trading day):
    /// never on the feed.
    var waitsForCross = false

    var bookSide: BookSide { side.bookSide }
    /// On the displayed book: the feed knows it (book events follow it).
    var onFeed: Bool { display.isDisplayed && !waitsForCross }

    var asRestingOrder: RestingOrder {
        RestingOrder(client: client, token: token, reference: reference, side: side,
                     shares: leaves, price: price, firm: firm, display: display)
    }
}

/// A token is per client: MATCHING.md §Tokens "its token (with its client)".
struct TokenKey: Hashable {
    var client: ClientID
    var token: OrderToken
}

/// One configured instrument and its two book sides.
struct InstrumentState {
    var spec: InstrumentSpec
    var halted = false
    /// MATCHING.md §Reference price: "last trade price of the instrument".
    var lastTradePrice: Price? = nil
    /// Best price first (highest bid), then oldest first.
    var bids: [ModelOrder] = []
    /// Best price first (lowest ask), then oldest first.
    var asks: [ModelOrder] = []
    /// MATCHING.md §The trading day: the phase, and the orders waiting for a cross, oldest first.
    var phase = TradingPhase.continuous
    var crossList: [ModelOrder] = []
    /// MATCHING.md §Limit up, limit down.
    var luld = ModelLULD()

    init(spec: InstrumentSpec) { self.spec = spec }

    /// Tick size used in divisions. A valid configuration never has 0 (see
    /// `EngineConfiguration.problems()`); the model treats 0 as 1 so that it cannot trap.
    var tick: UInt64 { spec.tickSize == 0 ? 1 : UInt64(spec.tickSize) }
    /// Lot size used in divisions; 0 (invalid configuration) is treated as 1.
    var lot: UInt64 { spec.lotSize == 0 ? 1 : UInt64(spec.lotSize) }

    func orders(_ side: BookSide) -> [ModelOrder] { side == .bid ? bids : asks }

    /// The best (first) price of one side, if any order rests there.
    func bestPrice(_ side: BookSide) -> Price? { orders(side).first?.price }
}

/// Per-client token bucket. MATCHING.md §Risk "Max orders per second".
struct TokenBucket {
    var units: UInt64
    var lastRefill: Timestamp
}

/// The retired-token history: the last `capacity` retirements across all clients, oldest
/// dropped first (MATCHING.md §Tokens). A plain queue plus a count per key for lookups.

/// Saturating helpers for wide arithmetic.
extension UInt128 {
    var saturatedUInt64: UInt64 { self > UInt128(UInt64.max) ? UInt64.max : UInt64(self) }
}
