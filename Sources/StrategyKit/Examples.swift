import ExchangeCore

/// Buys after the last `lookback` trades rose more than `thresholdBasisPoints`, sells after
/// they fell as much: an immediate-or-cancel order of `shares` at the touch, at most one per
/// `cooldownNanoseconds` per instrument (docs/STRATEGIES.md).
public struct MomentumStrategy: Strategy {
    public var instruments: [Int]
    public var lookback: Int
    public var thresholdBasisPoints: Int
    public var shares: Shares
    public var cooldownNanoseconds: UInt64
    var tokens: TokenSource
    /// Per instrument, the last `lookback` trade prices (a ring) and where it is.
    var history: [Price]
    var filled: [Int]
    var cursor: [Int]
    var lastOrder: [UInt64]
    /// Per instrument: traded by this strategy (a table, so the feed path runs no generic `contains`).
    let active: [Bool]

    public init(instrumentCount: Int, instruments: [Int], lookback: Int = 5, thresholdBasisPoints: Int = 5, shares: Shares = 100,
                cooldownNanoseconds: UInt64 = 500_000_000, tokenPrefix: String) {
        self.instruments = instruments
        self.lookback = max(lookback, 2)
        self.thresholdBasisPoints = thresholdBasisPoints
        self.shares = shares
        self.cooldownNanoseconds = cooldownNanoseconds
        tokens = TokenSource(prefix: tokenPrefix)
        history = Array(repeating: 0, count: instrumentCount * max(lookback, 2))
        filled = Array(repeating: 0, count: instrumentCount)
        cursor = Array(repeating: 0, count: instrumentCount)
        lastOrder = Array(repeating: 0, count: instrumentCount)
        var active = Array(repeating: false, count: instrumentCount)
        for i in instruments where i < instrumentCount { active[i] = true }
        self.active = active
    }

    public mutating func onMarket(_ event: FeedEvent, book: borrowing MarketBook, portfolio: borrowing Portfolio, now: UInt64,
                                  intents: inout IntentBuffer) {
        guard case .trade(let i, let price, _) = event, i < active.count, active[i] else { return }
        let base = i * lookback
        let oldest = history[base + cursor[i]]
        history[base + cursor[i]] = price
        cursor[i] = (cursor[i] + 1) % lookback
        filled[i] = min(filled[i] + 1, lookback)
        guard filled[i] == lookback, oldest > 0, now &- lastOrder[i] >= cooldownNanoseconds || lastOrder[i] == 0 else { return }
        let move = (Int(price) - Int(oldest)) * 10_000 / Int(oldest)
        guard abs(move) > thresholdBasisPoints else { return }
        let q = book.quote(i)
        let buy = move > 0
        guard buy ? q.hasAsk : q.hasBid else { return }
        lastOrder[i] = now
        intents.append(.enter(instrument: i, side: buy ? .buy : .sell, shares: shares, price: buy ? q.ask : q.bid, immediate: true),
                       token: tokens.take())
    }

    public mutating func onOrder(_ update: OrderUpdate, book: borrowing MarketBook, portfolio: borrowing Portfolio, now: UInt64,
                                 intents: inout IntentBuffer) {}
}

/// Quotes a bid and an offer of `shares` around the mid of the others' best bid and offer
/// (its own quotes left out; none while a side is empty), `halfSpreadTicks` away, both moved
/// one tick against its position per `skewSharesPerTick` shares held; requotes when that mid
/// moves `requoteTicks` or a quote is filled or gone, at most once per `minimumInterval`.
public struct MarketMakingStrategy: Strategy {
    public var instruments: [Int]
    public var shares: Shares
    public var halfSpreadTicks: Int
    public var requoteTicks: Int
    public var skewSharesPerTick: Int
    public var minimumIntervalNanoseconds: UInt64
    let ticks: [Price]
    var tokens: TokenSource
    /// Per instrument: the live quotes' tokens (nil: none) and the mid they were set at.
    var bid: [OrderToken?]
    var ask: [OrderToken?]
    var quotedMid: [Price]
    var lastQuote: [UInt64]
    /// Per instrument: the quote to put back after a fill or a cancel answered.
    var stale: [Bool]
    let active: [Bool]

    public init(instrumentSpecs: [InstrumentSpec], instruments: [Int], shares: Shares = 100, halfSpreadTicks: Int = 5, requoteTicks: Int = 3,
                skewSharesPerTick: Int = 100, minimumIntervalNanoseconds: UInt64 = 100_000_000, tokenPrefix: String) {
        self.instruments = instruments
        self.shares = shares
        self.halfSpreadTicks = halfSpreadTicks
        self.requoteTicks = requoteTicks
        self.skewSharesPerTick = max(skewSharesPerTick, 1)
        self.minimumIntervalNanoseconds = minimumIntervalNanoseconds
        ticks = instrumentSpecs.map { max($0.tickSize, 1) }
        tokens = TokenSource(prefix: tokenPrefix)
        bid = Array(repeating: nil, count: instrumentSpecs.count)
        ask = Array(repeating: nil, count: instrumentSpecs.count)
        quotedMid = Array(repeating: 0, count: instrumentSpecs.count)
        lastQuote = Array(repeating: 0, count: instrumentSpecs.count)
        stale = Array(repeating: true, count: instrumentSpecs.count)
        var active = Array(repeating: false, count: instrumentSpecs.count)
        for i in instruments where i < instrumentSpecs.count { active[i] = true }
        self.active = active
    }

    /// The mid of the others' best bid and offer (this strategy's own quotes left out); 0
    /// unless both sides are there.
    func reference(_ i: Int, _ book: borrowing MarketBook, _ portfolio: borrowing Portfolio) -> Price {
        var ownBid: (Price, UInt64) = (0, 0), ownAsk: (Price, UInt64) = (0, 0)
        if let t = bid[i], let o = portfolio.order(t) { ownBid = (o.price, UInt64(o.shares)) }
        if let t = ask[i], let o = portfolio.order(t) { ownAsk = (o.price, UInt64(o.shares)) }
        guard let b = book.best(i, bid: true, ownPrice: ownBid.0, own: ownBid.1),
              let a = book.best(i, bid: false, ownPrice: ownAsk.0, own: ownAsk.1), a > b else { return 0 }
        return b / 2 + a / 2 + (b % 2 + a % 2) / 2
    }

    public mutating func onMarket(_ event: FeedEvent, book: borrowing MarketBook, portfolio: borrowing Portfolio, now: UInt64,
                                  intents: inout IntentBuffer) {
        let i: Int
        switch event {
        case .book(let n): i = n
        case .trade(let n, _, _): i = n
        }
        requote(i, book: book, portfolio: portfolio, now: now, intents: &intents)
    }

    mutating func requote(_ i: Int, book: borrowing MarketBook, portfolio: borrowing Portfolio, now: UInt64, intents: inout IntentBuffer) {
        guard i < active.count, active[i], now &- lastQuote[i] >= minimumIntervalNanoseconds || lastQuote[i] == 0 else { return }
        let mid = reference(i, book, portfolio)
        guard mid > 0 else { return }
        let tick = Int(ticks[i])
        let moved = abs(Int(mid) - Int(quotedMid[i])) >= requoteTicks * tick
        guard stale[i] || moved else { return }
        // Cancel what is there first; the new quotes go once the cancels are answered.
        if bid[i] != nil || ask[i] != nil {
            if let t = bid[i] { intents.append(.cancel(token: t), token: t) }
            if let t = ask[i] { intents.append(.cancel(token: t), token: t) }
            bid[i] = nil
            ask[i] = nil
            stale[i] = true
            lastQuote[i] = now
            return
        }
        guard portfolio.openShares(i, buy: true) == 0 && portfolio.openShares(i, buy: false) == 0 else { return }
        let skew = portfolio.position(i) / skewSharesPerTick
        let center = Int(mid) / tick * tick - skew * tick
        let b = center - halfSpreadTicks * tick
        let a = center + halfSpreadTicks * tick
        guard b > 0 else { return }
        let bt = tokens.take(), at = tokens.take()
        intents.append(.enter(instrument: i, side: .buy, shares: shares, price: Price(b), immediate: false), token: bt)
        intents.append(.enter(instrument: i, side: .sell, shares: shares, price: Price(a), immediate: false), token: at)
        bid[i] = bt
        ask[i] = at
        quotedMid[i] = mid
        stale[i] = false
        lastQuote[i] = now
    }

    @inline(__always) static func same(_ a: OrderToken?, _ b: OrderToken) -> Bool {
        guard let a else { return false }
        return a.high == b.high && a.low == b.low
    }

    public mutating func onOrder(_ update: OrderUpdate, book: borrowing MarketBook, portfolio: borrowing Portfolio, now: UInt64,
                                 intents: inout IntentBuffer) {
        switch update {
        case .filled(let token, _, _), .done(let token), .refused(let token, _):
            var k = 0
            while k < instruments.count {
                let i = instruments[k]
                k += 1
                var mine = false
                if Self.same(bid[i], token) {
                    mine = true
                    if portfolio.order(token) == nil { bid[i] = nil }
                }
                if Self.same(ask[i], token) {
                    mine = true
                    if portfolio.order(token) == nil { ask[i] = nil }
                }
                if mine { stale[i] = true }
                // A fill or a quote gone: requote now (cancelling what is left first).
                if mine || (stale[i] && bid[i] == nil && ask[i] == nil) {
                    requote(i, book: book, portfolio: portfolio, now: now, intents: &intents)
                }
            }
        case .accepted:
            break
        }
    }
}
