// What the engine is asked to do. Every command carries its timestamp: the engine has no
// clock, so the same commands always produce the same events. Commands are plain values
// (BitwiseCopyable) so they can travel through rings as bytes.

/// A new order.
public struct EnterOrder: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var client: ClientID
    public var token: OrderToken
    public var side: Side
    public var orderType: OrderType
    public var shares: Shares
    public var symbol: Symbol
    /// Limit price; ignored for market orders.
    public var price: Price
    public var timeInForce: TimeInForce
    /// The order's firm; the gateway substitutes the account's default for a blank one.
    public var firm: Firm
    public var display: Display
    /// Capacity, intermarket sweep and cross type are stored and echoed in the order's
    /// events; customer type is carried only. Matching interprets none of them.
    public var capacity: Capacity
    public var intermarketSweep: IntermarketSweep
    public var minimumQuantity: Shares
    public var crossType: CrossType
    public var customerType: CustomerType

    public init(
        timestamp: Timestamp, client: ClientID, token: OrderToken, side: Side,
        orderType: OrderType = .limit, shares: Shares, symbol: Symbol, price: Price,
        timeInForce: TimeInForce = .marketHours, firm: Firm, display: Display = .anonymous,
        capacity: Capacity = .agency, intermarketSweep: IntermarketSweep = .notEligible, minimumQuantity: Shares = 0,
        crossType: CrossType = .continuous, customerType: CustomerType = .unspecified
    ) {
        self.timestamp = timestamp
        self.client = client
        self.token = token
        self.side = side
        self.orderType = orderType
        self.shares = shares
        self.symbol = symbol
        self.price = price
        self.timeInForce = timeInForce
        self.firm = firm
        self.display = display
        self.capacity = capacity
        self.intermarketSweep = intermarketSweep
        self.minimumQuantity = minimumQuantity
        self.crossType = crossType
        self.customerType = customerType
    }
}

/// Replace a live order: a new token, shares (the new open size), price, time in force,
/// display, ISO and minimum quantity for a live order. Side, symbol, firm, capacity and
/// cross type carry over from the existing order.
public struct ReplaceOrder: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var client: ClientID
    public var existingToken: OrderToken
    public var replacementToken: OrderToken
    public var shares: Shares
    public var price: Price
    public var timeInForce: TimeInForce
    public var display: Display
    public var intermarketSweep: IntermarketSweep
    public var minimumQuantity: Shares

    public init(
        timestamp: Timestamp, client: ClientID, existingToken: OrderToken,
        replacementToken: OrderToken, shares: Shares, price: Price,
        timeInForce: TimeInForce = .marketHours, display: Display = .anonymous,
        intermarketSweep: IntermarketSweep = .notEligible, minimumQuantity: Shares = 0
    ) {
        self.timestamp = timestamp
        self.client = client
        self.existingToken = existingToken
        self.replacementToken = replacementToken
        self.shares = shares
        self.price = price
        self.timeInForce = timeInForce
        self.display = display
        self.intermarketSweep = intermarketSweep
        self.minimumQuantity = minimumQuantity
    }
}

/// Cancel an order, or part of it: `shares` is the new open size; 0 cancels everything left.
public struct CancelOrder: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var client: ClientID
    public var token: OrderToken
    public var shares: Shares

    public init(timestamp: Timestamp, client: ClientID, token: OrderToken, shares: Shares = 0) {
        self.timestamp = timestamp
        self.client = client
        self.token = token
        self.shares = shares
    }
}

/// Modify an order: change between sell, sell short and sell short exempt, and/or
/// reduce the open size, keeping time priority.
public struct ModifyOrder: Equatable, Sendable, BitwiseCopyable {
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

/// An operator or session action on one client.
public struct ClientAction: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var client: ClientID
    public init(timestamp: Timestamp, client: ClientID) {
        self.timestamp = timestamp
        self.client = client
    }
}

/// An operator action on one instrument.
public struct InstrumentAction: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var symbol: Symbol
    public init(timestamp: Timestamp, symbol: Symbol) {
        self.timestamp = timestamp
        self.symbol = symbol
    }
}

/// A message the order gateway refuses itself (a reused token, a field the engine's
/// vocabulary cannot hold, an order during shutdown). It goes through the engine anyway so
/// that the answer — Rejected, or Cancel Reject for a cancel or modify — takes its place in
/// the client's stream after the answers to everything the client sent before it.
public struct Refusal: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var client: ClientID
    /// For an enter, its token; for a replace, the replacement token; else the order's.
    public var token: OrderToken
    public var reason: RejectReason
    /// Answer with Cancel Reject (a cancel or modify) rather than Rejected.
    public var asCancelReject: Bool

    public init(timestamp: Timestamp, client: ClientID, token: OrderToken, reason: RejectReason, asCancelReject: Bool) {
        self.timestamp = timestamp
        self.client = client
        self.token = token
        self.reason = reason
        self.asCancelReject = asCancelReject
    }
}

/// What happened to a client's session. Journaled so that the record of the day is whole;
/// changes no state of the engine and produces no event (cancel-on-disconnect is its own
/// command, `cancelAll`).
public enum SessionEventKind: UInt8, Equatable, Sendable, BitwiseCopyable, CaseIterable {
    case login = 0
    case logout = 1
    case disconnect = 2
}

public struct SessionEvent: Equatable, Sendable, BitwiseCopyable {
    public var timestamp: Timestamp
    public var client: ClientID
    public var kind: SessionEventKind

    public init(timestamp: Timestamp, client: ClientID, kind: SessionEventKind) {
        self.timestamp = timestamp
        self.client = client
        self.kind = kind
    }
}

public enum EngineCommand: Equatable, Sendable, BitwiseCopyable {
    case enter(EnterOrder)
    case replace(ReplaceOrder)
    case cancel(CancelOrder)
    case modify(ModifyOrder)
    /// Cancels every resting order of the client (reason `userRequested`), e.g. when its
    /// session asks for cancel-on-disconnect. New orders stay allowed.
    case cancelAll(ClientAction)
    /// Kill switch for one client: cancels its resting orders (reason `supervisory`) and
    /// rejects its new orders and replaces until reinstated.
    case killClient(ClientAction)
    case reinstateClient(ClientAction)
    /// Kill switch for the whole exchange: cancels every resting order and rejects all new
    /// orders and replaces until reinstated.
    case killExchange(Timestamp)
    case reinstateExchange(Timestamp)
    /// Halts an instrument: new orders and replaces are rejected, resting orders stay.
    case haltInstrument(InstrumentAction)
    case resumeInstrument(InstrumentAction)
    /// Moves time forward without other work, so that timed orders expire.
    case advanceTime(Timestamp)
    /// Answers a message the gateway refused, in order (see `Refusal`).
    case refuse(Refusal)
    /// A session logged in, logged out or disconnected (no event; see `SessionEvent`).
    case session(SessionEvent)
    /// A fact about a FIX session for the journal (no state, no event; see `FIXSessionFact`).
    case fixSession(FIXSessionFact)
    /// A leadership term began: its fencing token and leader (no state, no event; see
    /// `LeadershipTerm`).
    case leadership(LeadershipTerm)
    /// The start and the end of the trading day: each emits one `systemEvent`, which every
    /// session and the feed announce.
    case startOfDay(Timestamp)
    case endOfDay(Timestamp)
    /// Moves one instrument, or every one, through its day: pre-open, the crosses, halt and
    /// resume, imbalance indications (docs/MATCHING.md §The trading day).
    case tradingPhase(PhaseCommand)
    /// Who took an operator's action and why, next to the action's commands (no state, no
    /// event; see `OperatorNote`).
    case operatorNote(OperatorNote)

    @inlinable public var timestamp: Timestamp {
        switch self {
        case .enter(let c): c.timestamp
        case .replace(let c): c.timestamp
        case .cancel(let c): c.timestamp
        case .modify(let c): c.timestamp
        case .cancelAll(let c), .killClient(let c), .reinstateClient(let c): c.timestamp
        case .killExchange(let t), .reinstateExchange(let t), .advanceTime(let t), .startOfDay(let t), .endOfDay(let t): t
        case .haltInstrument(let c), .resumeInstrument(let c): c.timestamp
        case .refuse(let r): r.timestamp
        case .session(let e): e.timestamp
        case .fixSession(let f): f.timestamp
        case .leadership(let l): l.timestamp
        case .tradingPhase(let p): p.timestamp
        case .operatorNote(let n): n.timestamp
        }
    }
}

extension EngineCommand {
    /// The same command at `timestamp` (the gateway stamps the admin plane's commands with its
    /// own time when it sends them).
    @inlinable public func stamped(_ timestamp: Timestamp) -> EngineCommand {
        switch self {
        case .enter(var c): c.timestamp = timestamp; return .enter(c)
        case .replace(var c): c.timestamp = timestamp; return .replace(c)
        case .cancel(var c): c.timestamp = timestamp; return .cancel(c)
        case .modify(var c): c.timestamp = timestamp; return .modify(c)
        case .cancelAll(var c): c.timestamp = timestamp; return .cancelAll(c)
        case .killClient(var c): c.timestamp = timestamp; return .killClient(c)
        case .reinstateClient(var c): c.timestamp = timestamp; return .reinstateClient(c)
        case .killExchange: return .killExchange(timestamp)
        case .reinstateExchange: return .reinstateExchange(timestamp)
        case .haltInstrument(var c): c.timestamp = timestamp; return .haltInstrument(c)
        case .resumeInstrument(var c): c.timestamp = timestamp; return .resumeInstrument(c)
        case .advanceTime: return .advanceTime(timestamp)
        case .refuse(var r): r.timestamp = timestamp; return .refuse(r)
        case .session(var e): e.timestamp = timestamp; return .session(e)
        case .fixSession(var f): f.timestamp = timestamp; return .fixSession(f)
        case .leadership(var l): l.timestamp = timestamp; return .leadership(l)
        case .startOfDay: return .startOfDay(timestamp)
        case .endOfDay: return .endOfDay(timestamp)
        case .tradingPhase(var c): c.timestamp = timestamp; return .tradingPhase(c)
        case .operatorNote(var n): n.timestamp = timestamp; return .operatorNote(n)
        }
    }
}
