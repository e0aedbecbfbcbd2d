// The trading day of one instrument (docs/MATCHING.md §The trading day): its phase, the
// commands that move it, and the events a phase change and a cross produce. Phases move only
// when a command says so (`EngineCommand.tradingPhase`), so the journal and a replay
// reproduce them; the engine reads no clock.

/// Where an instrument is in its day. An instrument starts in `continuous`: an engine that
/// never receives a phase command behaves as before phases existed.
public enum TradingPhase: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    /// Orders match as they arrive.
    case continuous = 0
    /// Before the opening cross: orders are accepted and wait; nothing executes.
    case preOpen
    /// Halted (Nasdaq's halt, not the operator's `haltInstrument`): orders are accepted and
    /// wait; nothing executes; `resume` reopens through a halt cross.
    case halted
    /// After the closing cross: new orders and replaces are refused (`exchangeClosing`);
    /// cancels and modifies still work.
    case postClose

    /// Whether incoming orders match on arrival.
    @inlinable @inline(__always) public var matches: Bool { self == .continuous }

    public var description: String {
        switch self {
        case .continuous: "continuous"
        case .preOpen: "pre_open"
        case .halted: "halted"
        case .postClose: "post_close"
        }
    }
}

/// What a phase command asks of one instrument (or of every instrument).
public enum PhaseAction: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    /// Any phase but `preOpen` → `preOpen` (the start of a day).
    case preOpen = 0
    /// `preOpen` → opening cross → `continuous`.
    case openingCross
    /// `continuous` → closing cross → `postClose`.
    case closingCross
    /// `preOpen` or `continuous` → `halted`.
    case halt
    /// `halted` → halt cross → `continuous`.
    case resume
    /// Publishes the imbalance of the cross ahead (opening in `preOpen`, closing in
    /// `continuous`, halt in `halted`); changes nothing.
    case indicateImbalance
    /// Market-wide only: end of system hours (ITCH `E`); changes no phase. For one symbol it
    /// does nothing.
    case endOfSystemHours

    public var description: String {
        switch self {
        case .preOpen: "pre_open"
        case .openingCross: "opening_cross"
        case .closingCross: "closing_cross"
        case .halt: "halt"
        case .resume: "resume"
        case .indicateImbalance: "imbalance"
        case .endOfSystemHours: "end_of_system_hours"
        }
    }
}

/// A phase command for one instrument, or for every instrument (`symbol == .everySymbol`).
public struct PhaseCommand: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var symbol: Symbol
    public var action: PhaseAction

    public init(timestamp: Timestamp, symbol: Symbol, action: PhaseAction) {
        self.timestamp = timestamp
        self.symbol = symbol
        self.action = action
    }

    @inlinable public var isMarketWide: Bool { symbol == .everySymbol }
}

extension Symbol {
    /// The symbol of a market-wide phase command (all eight bytes zero, which no configured
    /// symbol can be).
    public static let everySymbol = Symbol(rawValue: 0)
}

extension CrossType {
    /// Opening, closing and halt/IPO orders wait for their cross and never trade continuously.
    @inlinable @inline(__always) public var isCrossOnly: Bool {
        switch self { case .opening, .closing, .haltOrIPO: true; default: false }
    }
}

/// The three crosses.
public enum CrossKind: UInt8, Sendable, BitwiseCopyable, CaseIterable, CustomStringConvertible {
    case opening = 0
    case closing
    case halt

    /// The cross-only cross type that waits for this cross.
    @inlinable public var crossType: CrossType {
        switch self {
        case .opening: .opening
        case .closing: .closing
        case .halt: .haltOrIPO
        }
    }

    public var description: String {
        switch self {
        case .opening: "opening"
        case .closing: "closing"
        case .halt: "halt"
        }
    }
}

// MARK: Events

/// An instrument changed phase.
public struct PhaseChanged: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var instrument: InstrumentIndex
    public var previous: TradingPhase
    public var phase: TradingPhase
    /// `luldPause` when an LULD pause began or ended (docs/MATCHING.md §Limit up, limit down).
    public var reason: PhaseReason

    public init(timestamp: Timestamp, instrument: InstrumentIndex, previous: TradingPhase, phase: TradingPhase,
                reason: PhaseReason = .command) {
        self.timestamp = timestamp
        self.instrument = instrument
        self.previous = previous
        self.phase = phase
        self.reason = reason
    }
}

/// The market as a whole moved (a phase command for every instrument): ITCH's System Event
/// codes S, Q, M and E (O and C are the day's start and end, `systemEvent`).
public enum MarketEventCode: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    /// Every instrument entered pre-open.
    case startOfSystemHours = 0
    /// Every instrument's opening cross ran.
    case startOfMarketHours
    /// Every instrument's closing cross ran.
    case endOfMarketHours
    /// The day's last phase command (`PhaseAction.endOfSystemHours`).
    case endOfSystemHours
}

public struct MarketEvent: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var code: MarketEventCode

    public init(timestamp: Timestamp, code: MarketEventCode) {
        self.timestamp = timestamp
        self.code = code
    }
}

/// Which side has more shares than the other at the indicated price.
public enum ImbalanceDirection: UInt8, Sendable, BitwiseCopyable, CaseIterable {
    case none = 0
    case buy
    case sell
}

/// The state of a cross ahead (ITCH's Net Order Imbalance Indicator): emitted by an
/// `indicateImbalance` command and once at the start of every cross.
public struct ImbalanceIndication: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var instrument: InstrumentIndex
    /// Shares that would execute at `price`.
    public var pairedShares: UInt64
    /// Buy shares minus sell shares at `price` (absolute), in `direction`.
    public var imbalanceShares: UInt64
    public var direction: ImbalanceDirection
    /// The price the cross would execute at now; 0 when nothing would execute.
    public var price: Price
    /// The reference price the tie-break uses.
    public var referencePrice: Price
    public var cross: CrossKind

    public init(timestamp: Timestamp, instrument: InstrumentIndex, pairedShares: UInt64, imbalanceShares: UInt64,
                direction: ImbalanceDirection, price: Price, referencePrice: Price, cross: CrossKind) {
        self.timestamp = timestamp
        self.instrument = instrument
        self.pairedShares = pairedShares
        self.imbalanceShares = imbalanceShares
        self.direction = direction
        self.price = price
        self.referencePrice = referencePrice
        self.cross = cross
    }
}

/// One side of a cross fill.
public struct CrossParty: Equatable, Sendable, BitwiseCopyable {
    public var client: ClientID
    public var token: OrderToken
    public var reference: OrderReference
    public var side: Side
    public var display: Display
    /// True when the order was on the displayed book (the feed knows its reference and
    /// prints an Order Executed With Price for it); false for a non-displayed order and for
    /// one that waited for the cross off the book.
    public var onBook: Bool

    public init(client: ClientID, token: OrderToken, reference: OrderReference, side: Side, display: Display, onBook: Bool) {
        self.client = client
        self.token = token
        self.reference = reference
        self.side = side
        self.display = display
        self.onBook = onBook
    }
}

/// One execution in a cross, between a buy and a sell, at the cross price.
public struct CrossFill: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var instrument: InstrumentIndex
    public var shares: Shares
    public var price: Price
    public var matchNumber: MatchNumber
    public var cross: CrossKind
    public var buy: CrossParty
    public var sell: CrossParty

    public init(timestamp: Timestamp, instrument: InstrumentIndex, shares: Shares, price: Price,
                matchNumber: MatchNumber, cross: CrossKind, buy: CrossParty, sell: CrossParty) {
        self.timestamp = timestamp
        self.instrument = instrument
        self.shares = shares
        self.price = price
        self.matchNumber = matchNumber
        self.cross = cross
        self.buy = buy
        self.sell = sell
    }
}

extension CrossFill {
    /// The fill as a continuous-market execution (the buy as taker, the sell as maker), for
    /// consumers that record every fill one way (FIX reports, the drop copy's trades).
    @inlinable public var asExecution: OrderExecuted {
        OrderExecuted(
            timestamp: timestamp, instrument: instrument, shares: shares, price: price, matchNumber: matchNumber,
            takerClient: buy.client, takerToken: buy.token, takerReference: buy.reference, takerSide: buy.side,
            makerClient: sell.client, makerToken: sell.token, makerReference: sell.reference, makerSide: sell.side,
            makerDisplay: sell.display)
    }
}

/// A cross is done (ITCH's Cross Trade): every share it executed, at its one price. `shares`
/// 0 (and `price` and `matchNumber` 0) when nothing crossed.
public struct CrossCompleted: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var instrument: InstrumentIndex
    public var shares: UInt64
    public var price: Price
    public var matchNumber: MatchNumber
    public var cross: CrossKind

    public init(timestamp: Timestamp, instrument: InstrumentIndex, shares: UInt64, price: Price,
                matchNumber: MatchNumber, cross: CrossKind) {
        self.timestamp = timestamp
        self.instrument = instrument
        self.shares = shares
        self.price = price
        self.matchNumber = matchNumber
        self.cross = cross
    }
}
