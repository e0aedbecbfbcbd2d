import ExchangeConfig
import ExchangeCore

/// Turns the events the replica's engine reports for one journal record into trade-store rows
/// (`DropCopyRows`): an accepted order (or a Replace's new order) is an `orders` row; every
/// order event a session receives is an `executions` row (a fill twice: taker and maker); every
/// fill is a `trades` row with its buyer and seller. Book and day events give no row.
///
/// A fill names each side's account, token and reference but not its firm, so the firm each
/// order was entered under is kept by reference for the day (one entry per accepted order):
/// the recorder sees every record from the start of its replay, so it knows every order a fill
/// can name; a replay that starts from a day snapshot is given the firms of the orders resting
/// in the snapshot's books first (`noteResting`). Cold path.
public struct DropCopyRecorder {
    let accounts: [String]
    let firmsByAccount: [Firm]
    let symbols: [String]
    var firms: [OrderReference: Firm] = [:]
    var sequence: Int64 = 0
    var ordinal: Int64 = 0
    public var rows = DropCopyRows()

    public init(keys: APIKeys, symbols: [InstrumentSpec]) {
        accounts = keys.accounts.map(\.username)
        firmsByAccount = keys.accounts.map(\.firm)
        self.symbols = symbols.map { $0.symbol.description }
    }

    /// Notes the firm of orders resting in a book restored from a day snapshot: the only
    /// orders entered before the snapshot that a later event can name.
    public mutating func noteResting(_ orders: [RestingOrder]) {
        for order in orders { firms[order.reference] = order.firm }
    }

    /// The record whose events follow.
    public mutating func begin(sequence: UInt64) {
        self.sequence = Int64(bitPattern: sequence)
        ordinal = 0
    }

    /// Takes the rows recorded so far, leaving none.
    public mutating func take() -> DropCopyRows {
        defer { rows = DropCopyRows() }
        return rows
    }

    func account(_ client: ClientID) -> String {
        Int(client) < accounts.count ? accounts[Int(client)] : "client-\(client)"
    }

    func symbol(_ instrument: InstrumentIndex) -> String {
        Int(instrument) < symbols.count ? symbols[Int(instrument)] : "instrument-\(instrument)"
    }

    /// The firm of order `reference`; the account's own firm for one this run never saw.
    func firm(_ reference: OrderReference, client: ClientID) -> String {
        firms[reference]?.description ?? accountFirm(client)
    }

    /// The account's own firm (an event that names no order: a reject, a cancel reject).
    func accountFirm(_ client: ClientID) -> String {
        Int(client) < firmsByAccount.count ? firmsByAccount[Int(client)].description : ""
    }

    public mutating func record(_ event: EngineEvent) {
        switch event {
        case .accepted(let e):
            firms[e.reference] = e.firm
            order(e.timestamp, e.client, e.token, e.reference, previous: nil, e.instrument, e.side, e.orderType, e.shares, e.price,
                  e.timeInForce, e.firm, e.display, e.minimumQuantity)
            execution(e.timestamp, "accepted", e.client, e.token, reference: e.reference, instrument: e.instrument, side: e.side,
                      shares: e.shares, price: e.price)
        case .replaced(let e):
            firms[e.reference] = e.firm
            order(e.timestamp, e.client, e.token, e.reference, previous: e.previousReference, e.instrument, e.side, .limit, e.shares,
                  e.price, e.timeInForce, e.firm, e.display, e.minimumQuantity)
            execution(e.timestamp, "replaced", e.client, e.token, reference: e.reference, instrument: e.instrument, side: e.side,
                      shares: e.shares, price: e.price, reason: "replaces \(e.previousToken)")
        case .rejected(let e):
            execution(e.timestamp, "rejected", e.client, e.token, reason: e.reason.description)
        case .canceled(let e):
            execution(e.timestamp, "canceled", e.client, e.token, reference: e.reference, instrument: e.instrument,
                      shares: e.decrement, remaining: e.remaining, reason: e.reason.description)
        case .modified(let e):
            execution(e.timestamp, "modified", e.client, e.token, side: e.side, remaining: e.shares)
        case .cancelRejected(let e):
            execution(e.timestamp, "cancel_rejected", e.client, e.token, reason: e.reason.description)
        case .executed(let e):
            execution(e.timestamp, "executed", e.takerClient, e.takerToken, reference: e.takerReference, instrument: e.instrument,
                      side: e.takerSide, shares: e.shares, price: e.price, match: e.matchNumber, liquidity: "removed")
            execution(e.timestamp, "executed", e.makerClient, e.makerToken, reference: e.makerReference, instrument: e.instrument,
                      side: e.makerSide, shares: e.shares, price: e.price, match: e.matchNumber,
                      liquidity: e.makerLiquidity == .added ? "added" : "added_non_displayed")
            trade(e)
        case .crossFill(let f):
            let liquidity = "\(f.cross)_cross"
            execution(f.timestamp, "executed", f.buy.client, f.buy.token, reference: f.buy.reference, instrument: f.instrument,
                      side: f.buy.side, shares: f.shares, price: f.price, match: f.matchNumber, liquidity: liquidity)
            execution(f.timestamp, "executed", f.sell.client, f.sell.token, reference: f.sell.reference, instrument: f.instrument,
                      side: f.sell.side, shares: f.shares, price: f.price, match: f.matchNumber, liquidity: liquidity)
            trade(f.asExecution)
        case .bookAdd, .bookReduce, .bookReplace, .tradingState, .systemEvent,
             .phaseChanged, .marketEvent, .imbalance, .crossCompleted, .limitState, .auctionCollar:
            break
        }
    }

    mutating func order(_ timestamp: Timestamp, _ client: ClientID, _ token: OrderToken, _ reference: OrderReference,
                        previous: OrderReference?, _ instrument: InstrumentIndex, _ side: Side, _ type: OrderType, _ shares: Shares,
                        _ price: Price, _ timeInForce: TimeInForce, _ firm: Firm, _ display: Display, _ minimum: Shares) {
        rows.orders.sequence.append(sequence)
        rows.orders.timestamp.append(Int64(bitPattern: timestamp))
        rows.orders.reference.append(Int64(bitPattern: reference))
        rows.orders.previousReference.append(previous.map { Int64(bitPattern: $0) } ?? -1)
        rows.orders.account.append(account(client))
        rows.orders.firm.append(firm.description)
        rows.orders.token.append(token.description)
        rows.orders.symbol.append(symbol(instrument))
        rows.orders.side.append(side.description)
        rows.orders.orderType.append(type == .market ? "market" : "limit")
        rows.orders.shares.append(Int64(shares))
        rows.orders.price.append(Int64(price))
        rows.orders.timeInForce.append(Int64(timeInForce.rawValue))
        rows.orders.display.append(display.description)
        rows.orders.minimumQuantity.append(Int64(minimum))
    }

    mutating func execution(_ timestamp: Timestamp, _ kind: String, _ client: ClientID, _ token: OrderToken,
                            reference: OrderReference? = nil, instrument: InstrumentIndex? = nil, side: Side? = nil,
                            shares: Shares? = nil, price: Price? = nil, remaining: Shares? = nil, match: MatchNumber? = nil,
                            liquidity: String = "", reason: String = "") {
        rows.executions.sequence.append(sequence)
        rows.executions.ordinal.append(ordinal)
        ordinal &+= 1
        rows.executions.timestamp.append(Int64(bitPattern: timestamp))
        rows.executions.kind.append(kind)
        rows.executions.account.append(account(client))
        rows.executions.firm.append(reference.map { firm($0, client: client) } ?? accountFirm(client))
        rows.executions.token.append(token.description)
        rows.executions.reference.append(reference.map { Int64(bitPattern: $0) } ?? -1)
        rows.executions.symbol.append(instrument.map { symbol($0) } ?? "")
        rows.executions.side.append(side?.description ?? "")
        rows.executions.shares.append(shares.map { Int64($0) } ?? -1)
        rows.executions.price.append(price.map { Int64($0) } ?? -1)
        rows.executions.remaining.append(remaining.map { Int64($0) } ?? -1)
        rows.executions.matchNumber.append(match.map { Int64(bitPattern: $0) } ?? -1)
        rows.executions.liquidity.append(liquidity)
        rows.executions.reason.append(reason)
    }

    mutating func trade(_ e: OrderExecuted) {
        let takerBuys = e.takerSide == .buy
        let (buyClient, buyToken, buyReference) = takerBuys ? (e.takerClient, e.takerToken, e.takerReference)
                                                            : (e.makerClient, e.makerToken, e.makerReference)
        let (sellClient, sellToken, sellReference) = takerBuys ? (e.makerClient, e.makerToken, e.makerReference)
                                                               : (e.takerClient, e.takerToken, e.takerReference)
        rows.trades.sequence.append(sequence)
        rows.trades.timestamp.append(Int64(bitPattern: e.timestamp))
        rows.trades.matchNumber.append(Int64(bitPattern: e.matchNumber))
        rows.trades.symbol.append(symbol(e.instrument))
        rows.trades.shares.append(Int64(e.shares))
        rows.trades.price.append(Int64(e.price))
        rows.trades.aggressor.append(takerBuys ? "buy" : "sell")
        rows.trades.buyAccount.append(account(buyClient))
        rows.trades.buyFirm.append(firm(buyReference, client: buyClient))
        rows.trades.buyToken.append(buyToken.description)
        rows.trades.buyReference.append(Int64(bitPattern: buyReference))
        rows.trades.sellAccount.append(account(sellClient))
        rows.trades.sellFirm.append(firm(sellReference, client: sellClient))
        rows.trades.sellToken.append(sellToken.description)
        rows.trades.sellReference.append(Int64(bitPattern: sellReference))
    }
}
