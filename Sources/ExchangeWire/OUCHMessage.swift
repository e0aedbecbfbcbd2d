import ExchangeCore

// OUCH 4.2 exchange → client messages as Swift values, for the client library, tools and
// tests. Open-ended code sets (reasons, liquidity flags, event codes, BBO weight) stay
// bytes; the order's own attributes are typed (a Side, Display, Capacity, Intermarket
// Sweep, Cross Type or OrderState byte outside the set this exchange uses makes the
// message undecodable).

public enum OUCHMessage: Equatable, Sendable, BitwiseCopyable {
    case systemEvent(timestamp: Timestamp, eventCode: UInt8)
    case accepted(OUCHAccepted)
    case replaced(OUCHReplaced)
    case canceled(timestamp: Timestamp, token: OrderToken, decrement: Shares, reason: UInt8)
    case executed(timestamp: Timestamp, token: OrderToken, shares: Shares, price: Price, liquidity: UInt8, matchNumber: MatchNumber)
    case brokenTrade(timestamp: Timestamp, token: OrderToken, matchNumber: MatchNumber, reason: UInt8)
    case rejected(timestamp: Timestamp, token: OrderToken, reason: UInt8)
    case cancelPending(timestamp: Timestamp, token: OrderToken)
    case cancelReject(timestamp: Timestamp, token: OrderToken)
    case orderModified(timestamp: Timestamp, token: OrderToken, side: Side, shares: Shares)

    @inlinable public var timestamp: Timestamp {
        switch self {
        case .systemEvent(let t, _): t
        case .accepted(let m): m.timestamp
        case .replaced(let m): m.timestamp
        case .canceled(let t, _, _, _), .executed(let t, _, _, _, _, _), .brokenTrade(let t, _, _, _),
             .rejected(let t, _, _), .cancelPending(let t, _), .cancelReject(let t, _), .orderModified(let t, _, _, _):
            t
        }
    }
}

/// The fields of an OUCH `A` Accepted.
public struct OUCHAccepted: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var token: OrderToken
    public var side: Side
    public var shares: Shares
    public var symbol: Symbol
    /// The wire price: `OUCH.marketPrice` for a market order.
    public var price: Price
    public var timeInForce: TimeInForce
    public var firm: Firm
    public var display: Display
    public var reference: OrderReference
    public var capacity: Capacity
    public var intermarketSweep: IntermarketSweep
    public var minimumQuantity: Shares
    public var crossType: CrossType
    public var state: OrderState
    public var bboWeight: UInt8

    @inlinable public var isMarketOrder: Bool { price == OUCH.marketPrice }

    @inlinable
    public init(
        timestamp: Timestamp, token: OrderToken, side: Side, shares: Shares, symbol: Symbol, price: Price,
        timeInForce: TimeInForce, firm: Firm, display: Display, reference: OrderReference, capacity: Capacity,
        intermarketSweep: IntermarketSweep, minimumQuantity: Shares, crossType: CrossType, state: OrderState,
        bboWeight: UInt8 = OUCH.bboWeightUnspecified
    ) {
        self.timestamp = timestamp
        self.token = token
        self.side = side
        self.shares = shares
        self.symbol = symbol
        self.price = price
        self.timeInForce = timeInForce
        self.firm = firm
        self.display = display
        self.reference = reference
        self.capacity = capacity
        self.intermarketSweep = intermarketSweep
        self.minimumQuantity = minimumQuantity
        self.crossType = crossType
        self.state = state
        self.bboWeight = bboWeight
    }
}

/// The fields of an OUCH `U` Replaced: the replacement order and the token it replaced.
public struct OUCHReplaced: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    /// The replacement order's token.
    public var token: OrderToken
    public var side: Side
    public var shares: Shares
    public var symbol: Symbol
    public var price: Price
    public var timeInForce: TimeInForce
    public var firm: Firm
    public var display: Display
    public var reference: OrderReference
    public var capacity: Capacity
    public var intermarketSweep: IntermarketSweep
    public var minimumQuantity: Shares
    public var crossType: CrossType
    public var state: OrderState
    public var previousToken: OrderToken
    public var bboWeight: UInt8

    @inlinable
    public init(
        timestamp: Timestamp, token: OrderToken, side: Side, shares: Shares, symbol: Symbol, price: Price,
        timeInForce: TimeInForce, firm: Firm, display: Display, reference: OrderReference, capacity: Capacity,
        intermarketSweep: IntermarketSweep, minimumQuantity: Shares, crossType: CrossType, state: OrderState,
        previousToken: OrderToken, bboWeight: UInt8 = OUCH.bboWeightUnspecified
    ) {
        self.timestamp = timestamp
        self.token = token
        self.side = side
        self.shares = shares
        self.symbol = symbol
        self.price = price
        self.timeInForce = timeInForce
        self.firm = firm
        self.display = display
        self.reference = reference
        self.capacity = capacity
        self.intermarketSweep = intermarketSweep
        self.minimumQuantity = minimumQuantity
        self.crossType = crossType
        self.state = state
        self.previousToken = previousToken
        self.bboWeight = bboWeight
    }
}
