import ExchangeCore
import ExchangeWire

/// Where the trading day is, as the feed's System Events say (docs/OPERATIONS.md).
public enum MarketPhase: Equatable, Sendable, CustomStringConvertible {
    /// No System Event seen yet (joined in the middle of the day): taken as trading; a
    /// reject for a closed exchange corrects it.
    case unknown
    /// `S`: start of system hours, before the open (pre-open: orders wait for the cross).
    case preOpen
    /// `Q`: start of market hours (the opening cross, then continuous trading).
    case open
    /// `M`: end of market hours (post-close: new orders are rejected, reason C).
    case closed
    /// `E`: end of system hours.
    case ended

    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .preOpen: "pre-open"
        case .open: "open"
        case .closed: "post-close"
        case .ended: "ended"
        }
    }
}

/// What the agents know of the market, from the ITCH feed: the day's phase, each symbol's
/// trading state, its best bid and offer, and its recent trade prices. Symbols are indexed
/// as the exchange's configuration lists them (stock locate − 1).
public struct MarketState: Sendable {
    public struct SymbolState: Sendable, Equatable {
        /// The Trading Action state (`H` halted, `P` paused, `Q` quotation only, `T` trading);
        /// 0 before any is seen.
        public var tradingState: UInt8 = 0
        public var bestBid: Price?
        public var bestAsk: Price?
        /// The latest trade prices, oldest first (at most `MarketState.tradeHistory`).
        public var trades: [Price] = []
        public var tradeCount: UInt64 = 0
        public var tradedShares: UInt64 = 0

        public var isHalted: Bool { tradingState == ITCH.TradingState.halted.rawValue || tradingState == ITCH.TradingState.paused.rawValue }
        public var lastTrade: Price? { trades.last }
        public var mid: Price? {
            guard let b = bestBid, let a = bestAsk else { return nil }
            return (b / 2) &+ (a / 2) &+ ((b & 1) & (a & 1))
        }
    }

    public static let tradeHistory = 64
    /// Resting orders remembered for the prices of their executions.
    public static let restingCapacity = 1 << 20
    public private(set) var phase: MarketPhase = .unknown
    /// How many `S` System Events have been seen: a pause for a closed exchange lasts until it grows.
    public private(set) var preOpens: UInt64 = 0
    public var symbols: [SymbolState]
    /// Resting orders' symbol and price by order reference, for the price of `E` executions.
    var resting: [OrderReference: (index: Int, price: Price)] = [:]

    public init(symbolCount: Int) {
        symbols = Array(repeating: SymbolState(), count: symbolCount)
    }

    /// Applies one ITCH message in feed order.
    public mutating func apply(_ message: ITCHMessage) {
        switch message {
        case .systemEvent(let m):
            switch m.code {
            case ITCH.EventCode.startOfSystemHours.rawValue:
                phase = .preOpen
                preOpens += 1
            case ITCH.EventCode.startOfMarketHours.rawValue: phase = .open
            case ITCH.EventCode.endOfMarketHours.rawValue: phase = .closed
            case ITCH.EventCode.endOfSystemHours.rawValue: phase = .ended
            default: break
            }
        case .tradingAction(let m):
            if let i = index(m.locate) { symbols[i].tradingState = m.state }
        case .addOrder(let m):
            // Bounded: a feed that lost deletes (a restart) cannot grow it without end; the
            // price of an execution of a forgotten order is then unknown (not counted as a trade).
            if resting.count >= Self.restingCapacity { resting.removeAll(keepingCapacity: true) }
            if let i = index(m.locate) { resting[m.reference] = (i, m.price) }
        case .orderReplace(let m):
            if let old = resting.removeValue(forKey: m.originalReference) { resting[m.newReference] = (old.index, m.price) }
        case .orderDelete(let m):
            resting.removeValue(forKey: m.reference)
        case .orderExecuted(let m):
            if let order = resting[m.reference] { trade(order.index, order.price, m.shares) }
        case .orderExecutedWithPrice(let m):
            if let i = index(m.locate) { trade(i, m.price, m.shares) }
        case .trade(let m):
            if let i = index(m.locate) { trade(i, m.price, m.shares) }
        case .crossTrade(let m):
            if let i = index(m.locate), m.shares > 0 { trade(i, m.price, Shares(clamping: m.shares)) }
        case .orderCancel, .stockDirectory, .imbalance, .luldAuctionCollar:
            break
        }
    }

    /// Forgets resting orders whose shares are gone (the replica says which are left).
    public mutating func forget(reference: OrderReference) { resting.removeValue(forKey: reference) }

    public var restingCount: Int { resting.count }

    mutating func trade(_ i: Int, _ price: Price, _ shares: Shares) {
        symbols[i].trades.append(price)
        if symbols[i].trades.count > Self.tradeHistory { symbols[i].trades.removeFirst(symbols[i].trades.count - Self.tradeHistory) }
        symbols[i].tradeCount += 1
        symbols[i].tradedShares += UInt64(shares)
    }

    func index(_ locate: UInt16) -> Int? {
        let i = Int(locate) - 1
        return i >= 0 && i < symbols.count ? i : nil
    }

    /// Takes `phase` as seen (tests and a reject for a closed exchange).
    public mutating func setPhase(_ phase: MarketPhase) { self.phase = phase }
}
