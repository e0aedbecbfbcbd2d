// Everything the engine does is reported as an event, in one ordered stream. Order events
// go to the owning client's session (the order-entry gateway); book events go to the
// market-data publisher. `executed` is both: one event per fill, carrying the two sides.
// Every event carries the timestamp of the command that caused it.

/// An order was accepted. For post-only orders that would have crossed, `price` is the price
/// the order was repriced to.
public struct OrderAccepted: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var client: ClientID
    public var token: OrderToken
    public var reference: OrderReference
    public var instrument: InstrumentIndex
    public var side: Side
    public var orderType: OrderType
    public var shares: Shares
    public var price: Price
    public var timeInForce: TimeInForce
    public var firm: Firm
    public var display: Display
    public var capacity: Capacity
    public var intermarketSweep: IntermarketSweep
    public var minimumQuantity: Shares
    public var crossType: CrossType
    /// `dead` for immediate-or-cancel and market orders: they never rest.
    public var state: OrderState

    public init(
        timestamp: Timestamp, client: ClientID, token: OrderToken, reference: OrderReference,
        instrument: InstrumentIndex, side: Side, orderType: OrderType, shares: Shares, price: Price,
        timeInForce: TimeInForce, firm: Firm, display: Display, capacity: Capacity,
        intermarketSweep: IntermarketSweep, minimumQuantity: Shares, crossType: CrossType, state: OrderState
    ) {
        self.timestamp = timestamp
        self.client = client
        self.token = token
        self.reference = reference
        self.instrument = instrument
        self.side = side
        self.orderType = orderType
        self.shares = shares
        self.price = price
        self.timeInForce = timeInForce
        self.firm = firm
        self.display = display
        self.capacity = capacity
        self.intermarketSweep = intermarketSweep
        self.minimumQuantity = minimumQuantity
        self.crossType = crossType
        self.state = state
    }
}

/// An enter or replace was refused (for an enter, the order's token; for a replace, the replacement token).
public struct OrderRejected: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var client: ClientID
    public var token: OrderToken
    public var reason: RejectReason

    public init(timestamp: Timestamp, client: ClientID, token: OrderToken, reason: RejectReason) {
        self.timestamp = timestamp
        self.client = client
        self.token = token
        self.reason = reason
    }
}

/// An order was replaced: the replacement order, with the token and reference it replaced.
public struct OrderReplaced: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var client: ClientID
    public var token: OrderToken
    public var previousToken: OrderToken
    public var reference: OrderReference
    public var previousReference: OrderReference
    public var instrument: InstrumentIndex
    public var side: Side
    public var shares: Shares
    public var price: Price
    public var timeInForce: TimeInForce
    public var firm: Firm
    public var display: Display
    public var capacity: Capacity
    public var intermarketSweep: IntermarketSweep
    public var minimumQuantity: Shares
    public var crossType: CrossType
    public var state: OrderState

    public init(
        timestamp: Timestamp, client: ClientID, token: OrderToken, previousToken: OrderToken,
        reference: OrderReference, previousReference: OrderReference, instrument: InstrumentIndex,
        side: Side, shares: Shares, price: Price, timeInForce: TimeInForce, firm: Firm,
        display: Display, capacity: Capacity, intermarketSweep: IntermarketSweep, minimumQuantity: Shares,
        crossType: CrossType, state: OrderState
    ) {
        self.timestamp = timestamp
        self.client = client
        self.token = token
        self.previousToken = previousToken
        self.reference = reference
        self.previousReference = previousReference
        self.instrument = instrument
        self.side = side
        self.shares = shares
        self.price = price
        self.timeInForce = timeInForce
        self.firm = firm
        self.display = display
        self.capacity = capacity
        self.intermarketSweep = intermarketSweep
        self.minimumQuantity = minimumQuantity
        self.crossType = crossType
        self.state = state
    }
}

/// Shares came off an order: `decrement` shares came off the order; `remaining` are still open.
public struct OrderCanceled: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var client: ClientID
    public var token: OrderToken
    public var reference: OrderReference
    public var instrument: InstrumentIndex
    public var decrement: Shares
    public var remaining: Shares
    public var reason: CancelReason

    public init(
        timestamp: Timestamp, client: ClientID, token: OrderToken, reference: OrderReference,
        instrument: InstrumentIndex, decrement: Shares, remaining: Shares, reason: CancelReason
    ) {
        self.timestamp = timestamp
        self.client = client
        self.token = token
        self.reference = reference
        self.instrument = instrument
        self.decrement = decrement
        self.remaining = remaining
        self.reason = reason
    }
}

/// One fill, carrying both sides: the gateway tells each (the taker removed liquidity, the
/// maker added it, displayed or not); the publisher prints an execution against a displayed
/// maker and a trade for a non-displayed one. The price is always the maker's resting price.
public struct OrderExecuted: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var instrument: InstrumentIndex
    public var shares: Shares
    public var price: Price
    public var matchNumber: MatchNumber
    public var takerClient: ClientID
    public var takerToken: OrderToken
    public var takerReference: OrderReference
    public var takerSide: Side
    public var makerClient: ClientID
    public var makerToken: OrderToken
    public var makerReference: OrderReference
    public var makerSide: Side
    /// The maker's display; decides its liquidity flag and how the feed prints the fill.
    public var makerDisplay: Display

    public init(
        timestamp: Timestamp, instrument: InstrumentIndex, shares: Shares, price: Price,
        matchNumber: MatchNumber, takerClient: ClientID, takerToken: OrderToken,
        takerReference: OrderReference, takerSide: Side, makerClient: ClientID,
        makerToken: OrderToken, makerReference: OrderReference, makerSide: Side, makerDisplay: Display
    ) {
        self.timestamp = timestamp
        self.instrument = instrument
        self.shares = shares
        self.price = price
        self.matchNumber = matchNumber
        self.takerClient = takerClient
        self.takerToken = takerToken
        self.takerReference = takerReference
        self.takerSide = takerSide
        self.makerClient = makerClient
        self.makerToken = makerToken
        self.makerReference = makerReference
        self.makerSide = makerSide
        self.makerDisplay = makerDisplay
    }

    @inlinable public var makerLiquidity: LiquidityFlag {
        makerDisplay.isDisplayed ? .added : .addedNonDisplayed
    }
}

/// An order was modified: the order's side and open size after a Modify.
public struct OrderModified: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var client: ClientID
    public var token: OrderToken
    public var side: Side
    public var shares: Shares

    public init(timestamp: Timestamp, client: ClientID, token: OrderToken, side: Side, shares: Shares) {
        self.timestamp = timestamp
        self.client = client
        self.token = token
        self.side = side
        self.shares = shares
    }
}

/// A cancel or modify was refused: a cancel or modify that could not apply; the order is unchanged.
public struct CancelRejected: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var client: ClientID
    public var token: OrderToken
    public var reason: RejectReason

    public init(timestamp: Timestamp, client: ClientID, token: OrderToken, reason: RejectReason) {
        self.timestamp = timestamp
        self.client = client
        self.token = token
        self.reason = reason
    }
}

/// A displayed order came to rest (an Add Order on the feed).
public struct BookAdd: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var instrument: InstrumentIndex
    public var reference: OrderReference
    public var side: BookSide
    public var shares: Shares
    public var price: Price
    /// The firm when the order is attributable, otherwise nil (anonymous).
    public var attribution: Firm?

    public init(
        timestamp: Timestamp, instrument: InstrumentIndex, reference: OrderReference,
        side: BookSide, shares: Shares, price: Price, attribution: Firm?
    ) {
        self.timestamp = timestamp
        self.instrument = instrument
        self.reference = reference
        self.side = side
        self.shares = shares
        self.price = price
        self.attribution = attribution
    }
}

/// Shares came off a displayed resting order (`remaining` > 0), or it left the book
/// (`remaining` == 0).
public struct BookReduce: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var instrument: InstrumentIndex
    public var reference: OrderReference
    public var canceledShares: Shares
    public var remaining: Shares

    public init(
        timestamp: Timestamp, instrument: InstrumentIndex, reference: OrderReference,
        canceledShares: Shares, remaining: Shares
    ) {
        self.timestamp = timestamp
        self.instrument = instrument
        self.reference = reference
        self.canceledShares = canceledShares
        self.remaining = remaining
    }

    @inlinable public var isDelete: Bool { remaining == 0 }
}

/// A displayed order replaced by a displayed order that rests
/// without trading.
public struct BookReplace: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var instrument: InstrumentIndex
    public var previousReference: OrderReference
    public var reference: OrderReference
    public var shares: Shares
    public var price: Price

    public init(
        timestamp: Timestamp, instrument: InstrumentIndex, previousReference: OrderReference,
        reference: OrderReference, shares: Shares, price: Price
    ) {
        self.timestamp = timestamp
        self.instrument = instrument
        self.previousReference = previousReference
        self.reference = reference
        self.shares = shares
        self.price = price
    }
}

/// An instrument was halted or resumed.
public struct TradingStateChanged: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var instrument: InstrumentIndex
    public var halted: Bool

    public init(timestamp: Timestamp, instrument: InstrumentIndex, halted: Bool) {
        self.timestamp = timestamp
        self.instrument = instrument
        self.halted = halted
    }
}

/// The events of the day every session and the feed announce.
public enum DayEvent: UInt8, Equatable, Sendable, BitwiseCopyable, CaseIterable {
    case startOfDay = 0
    case endOfDay = 1
}

/// The trading day started or ended (`EngineCommand.startOfDay` / `.endOfDay`).
public struct SystemEventOccurred: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var event: DayEvent

    public init(timestamp: Timestamp, event: DayEvent) {
        self.timestamp = timestamp
        self.event = event
    }
}

public enum EngineEvent: Equatable, Sendable, BitwiseCopyable {
    // Order events (to the owning session)
    case accepted(OrderAccepted)
    case rejected(OrderRejected)
    case replaced(OrderReplaced)
    case canceled(OrderCanceled)
    case modified(OrderModified)
    case cancelRejected(CancelRejected)
    // Both: one per fill
    case executed(OrderExecuted)
    // Book events (to market data)
    case bookAdd(BookAdd)
    case bookReduce(BookReduce)
    case bookReplace(BookReplace)
    case tradingState(TradingStateChanged)
    // Both: to every session and to the feed
    case systemEvent(SystemEventOccurred)
    // The trading day (TradingPhase.swift). A cross fill goes to both clients and the feed;
    // the rest go to the feed.
    case phaseChanged(PhaseChanged)
    case marketEvent(MarketEvent)
    case imbalance(ImbalanceIndication)
    case crossFill(CrossFill)
    case crossCompleted(CrossCompleted)
    // Limit up, limit down (LULD.swift), to the feed.
    case limitState(LimitStateChanged)
    case auctionCollar(AuctionCollar)

    @inlinable public var timestamp: Timestamp {
        switch self {
        case .accepted(let e): e.timestamp
        case .rejected(let e): e.timestamp
        case .replaced(let e): e.timestamp
        case .canceled(let e): e.timestamp
        case .modified(let e): e.timestamp
        case .cancelRejected(let e): e.timestamp
        case .executed(let e): e.timestamp
        case .bookAdd(let e): e.timestamp
        case .bookReduce(let e): e.timestamp
        case .bookReplace(let e): e.timestamp
        case .tradingState(let e): e.timestamp
        case .systemEvent(let e): e.timestamp
        case .phaseChanged(let e): e.timestamp
        case .marketEvent(let e): e.timestamp
        case .imbalance(let e): e.timestamp
        case .crossFill(let e): e.timestamp
        case .crossCompleted(let e): e.timestamp
        case .limitState(let e): e.timestamp
        case .auctionCollar(let e): e.timestamp
        }
    }

    /// True for events a client session receives.
    @inlinable public var isOrderEvent: Bool {
        switch self {
        case .accepted, .rejected, .replaced, .canceled, .modified, .cancelRejected, .executed, .systemEvent, .crossFill: true
        case .bookAdd, .bookReduce, .bookReplace, .tradingState, .phaseChanged, .marketEvent, .imbalance, .crossCompleted,
             .limitState, .auctionCollar: false
        }
    }

    /// True for events the market-data publisher consumes.
    @inlinable public var isBookEvent: Bool {
        switch self {
        case .executed, .bookAdd, .bookReduce, .bookReplace, .tradingState, .systemEvent,
             .phaseChanged, .marketEvent, .imbalance, .crossFill, .crossCompleted, .limitState, .auctionCollar: true
        case .accepted, .rejected, .replaced, .canceled, .modified, .cancelRejected: false
        }
    }
}
