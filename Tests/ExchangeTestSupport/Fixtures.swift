import ExchangeCore
import ExchangeRisk

/// Instruments and builders for readable tests: `cents(15025)` is $150.25.
public enum Fixtures {
    public static let aapl = Symbol("AAPL")!
    public static let msft = Symbol("MSFT")!
    public static let firmA = Firm("FRMA")!
    public static let firmB = Firm("FRMB")!

    /// AAPL: 1-cent tick, lot 1, 10 % collar around $150. MSFT: 1-cent tick, lot 100, 5 %
    /// collar around $400.
    public static let instruments = [
        InstrumentSpec(symbol: aapl, tickSize: 100, lotSize: 1, collarBasisPoints: 1_000, referencePrice: cents(15_000)),
        InstrumentSpec(symbol: msft, tickSize: 100, lotSize: 100, collarBasisPoints: 500, referencePrice: cents(40_000)),
    ]

    public static func configuration(
        poolSize: Int = 10_000, maxClients: Int = 16, priceLevels: Int = 4_096,
        eventBufferCapacity: Int = 256, selfTradePrevention: SelfTradePrevention = .cancelNewest,
        collarMarketOrders: Bool = true, instruments: [InstrumentSpec] = Fixtures.instruments, luld: LULDRules? = nil
    ) -> EngineConfiguration {
        EngineConfiguration(
            instruments: instruments, orderPoolSize: poolSize, maxClients: maxClients, priceLevels: priceLevels,
            eventBufferCapacity: eventBufferCapacity,
            selfTradePrevention: selfTradePrevention, collarMarketOrders: collarMarketOrders, luld: luld)
    }
}

/// A price in cents as an engine price (4 implied decimals).
public func cents(_ value: UInt32) -> Price { value * 100 }

public func token(_ text: String) -> OrderToken { OrderToken(text)! }

/// An Enter Order with test defaults: client 1, firm FRMA, AAPL, day order, displayed.
public func enter(
    _ side: Side, _ shares: Shares, _ symbol: Symbol = Fixtures.aapl, at price: Price, token text: String,
    client: ClientID = 1, firm: Firm = Fixtures.firmA, tif: TimeInForce = .marketHours,
    display: Display = .anonymous, minimum: Shares = 0, type: OrderType = .limit, time: Timestamp = 1,
    cross: CrossType = .continuous
) -> EngineCommand {
    .enter(EnterOrder(
        timestamp: time, client: client, token: token(text), side: side, orderType: type, shares: shares,
        symbol: symbol, price: price, timeInForce: tif, firm: firm, display: display, minimumQuantity: minimum,
        crossType: cross))
}

/// A phase command for one symbol, or every symbol (`nil`).
public func phase(_ action: PhaseAction, _ symbol: Symbol? = Fixtures.aapl, time: Timestamp = 1) -> EngineCommand {
    .tradingPhase(PhaseCommand(timestamp: time, symbol: symbol ?? .everySymbol, action: action))
}

public func marketOrder(_ side: Side, _ shares: Shares, _ symbol: Symbol = Fixtures.aapl, token text: String,
                        client: ClientID = 1, firm: Firm = Fixtures.firmA, time: Timestamp = 1) -> EngineCommand {
    enter(side, shares, symbol, at: 0, token: text, client: client, firm: firm, tif: .immediateOrCancel, type: .market, time: time)
}

public func replace(_ existing: String, with replacement: String, _ shares: Shares, at price: Price, client: ClientID = 1,
                    tif: TimeInForce = .marketHours, display: Display = .anonymous, minimum: Shares = 0,
                    time: Timestamp = 1) -> EngineCommand {
    .replace(ReplaceOrder(
        timestamp: time, client: client, existingToken: token(existing), replacementToken: token(replacement),
        shares: shares, price: price, timeInForce: tif, display: display, minimumQuantity: minimum))
}

public func cancel(_ text: String, to shares: Shares = 0, client: ClientID = 1, time: Timestamp = 1) -> EngineCommand {
    .cancel(CancelOrder(timestamp: time, client: client, token: token(text), shares: shares))
}

public func modify(_ text: String, _ side: Side, _ shares: Shares, client: ClientID = 1, time: Timestamp = 1) -> EngineCommand {
    .modify(ModifyOrder(timestamp: time, client: client, token: token(text), side: side, shares: shares))
}

extension EngineEvent {
    /// Short kind names for compact assertions: "accepted", "executed", "bookAdd", …
    public var kind: String {
        switch self {
        case .accepted: "accepted"
        case .rejected(let e): "rejected(\(e.reason))"
        case .replaced: "replaced"
        case .canceled(let e): "canceled(\(e.reason))"
        case .modified: "modified"
        case .cancelRejected(let e): "cancelRejected(\(e.reason))"
        case .executed: "executed"
        case .bookAdd: "bookAdd"
        case .bookReduce(let e): e.isDelete ? "bookDelete" : "bookCancel"
        case .bookReplace: "bookReplace"
        case .tradingState: "tradingState"
        case .systemEvent(let e): "systemEvent(\(e.event))"
        case .phaseChanged(let e): "phase(\(e.phase))"
        case .marketEvent(let e): "marketEvent(\(e.code))"
        case .imbalance: "imbalance"
        case .crossFill: "crossFill"
        case .crossCompleted: "crossCompleted"
        case .limitState(let e): "limitState(\(e.state))"
        case .auctionCollar: "auctionCollar"
        }
    }

    public var crossFill: CrossFill? { if case .crossFill(let e) = self { e } else { nil } }
    public var crossCompleted: CrossCompleted? { if case .crossCompleted(let e) = self { e } else { nil } }
    public var imbalance: ImbalanceIndication? { if case .imbalance(let e) = self { e } else { nil } }
    public var phaseChanged: PhaseChanged? { if case .phaseChanged(let e) = self { e } else { nil } }
    public var limitState: LimitStateChanged? { if case .limitState(let e) = self { e } else { nil } }
    public var auctionCollar: AuctionCollar? { if case .auctionCollar(let e) = self { e } else { nil } }

    public var executed: OrderExecuted? { if case .executed(let e) = self { e } else { nil } }
    public var accepted: OrderAccepted? { if case .accepted(let e) = self { e } else { nil } }
    public var canceled: OrderCanceled? { if case .canceled(let e) = self { e } else { nil } }
    public var rejected: OrderRejected? { if case .rejected(let e) = self { e } else { nil } }
    public var replaced: OrderReplaced? { if case .replaced(let e) = self { e } else { nil } }
    public var bookAdd: BookAdd? { if case .bookAdd(let e) = self { e } else { nil } }
    public var bookReduce: BookReduce? { if case .bookReduce(let e) = self { e } else { nil } }
    public var bookReplace: BookReplace? { if case .bookReplace(let e) = self { e } else { nil } }
}

extension Array where Element == EngineEvent {
    public var kinds: [String] { map(\.kind) }
}
