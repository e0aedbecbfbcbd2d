import ExchangeCore
import ExchangeWire

/// What an agent does (docs/AGENTS.md).
public enum AgentRole: String, Equatable, Sendable, CaseIterable {
    /// Quotes both sides of every symbol around the fair value, skewed by its position, the
    /// spread widening with recent volatility; quotes in pre-open too.
    case marketMaker = "market_maker"
    /// Random orders: marketable (immediate-or-cancel through the touch) or resting behind the fair value.
    case noise
    /// Buys after a rise, sells after a fall, over the last trades.
    case momentum
    /// Sells above the recent average trade price, buys below it.
    case meanReversion = "mean_reversion"

    public var isTaker: Bool { self != .marketMaker }
}

/// An order an agent decided to send.
public enum Intent: Equatable, Sendable, CustomStringConvertible {
    case enter(token: OrderToken, symbol: Int, side: Side, shares: Shares, price: Price, immediate: Bool)
    case replace(existing: OrderToken, replacement: OrderToken, shares: Shares, price: Price)
    case cancel(token: OrderToken)

    public var description: String {
        switch self {
        case .enter(let t, let s, let side, let n, let p, let ioc): "enter \(t) #\(s) \(side) \(n)@\(p)\(ioc ? " IOC" : "")"
        case .replace(let e, let r, let n, let p): "replace \(e)→\(r) \(n)@\(p)"
        case .cancel(let t): "cancel \(t)"
        }
    }
}

/// One agent's decisions and its view of its own orders and positions. Pure: no I/O and
/// no clock (time is a parameter) — `decide` turns the market, the fair value and the
/// agent's own state into intents; `apply` takes the exchange's OUCH answers. With one
/// seed, the same inputs give the same intents.
public struct Agent: Sendable {
    public struct OpenOrder: Equatable, Sendable {
        public var symbol: Int
        public var side: Side
        public var price: Price
        public var shares: Shares
        public var immediate: Bool
        /// Accepted by the exchange (else sent and not yet answered).
        public var live = false
        public var cancelSent = false
        /// A replace of this order is in flight (the replacement's token).
        public var replacement: OrderToken?
        /// This entry is the replacement of that order, until the exchange answers.
        public var replaces: OrderToken?
    }

    public struct Counters: Equatable, Sendable {
        public var messages: UInt64 = 0
        public var entered: UInt64 = 0
        public var replaced: UInt64 = 0
        public var canceled: UInt64 = 0
        public var accepted: UInt64 = 0
        public var rejected: UInt64 = 0
        /// Rejects because the exchange was closed (OUCH reason C).
        public var rejectedClosed: UInt64 = 0
        public var executions: UInt64 = 0
        public var executedShares: UInt64 = 0
        /// The most messages seen in any one second, and the most open orders at once.
        public var peakMessagesPerSecond = 0
        public var peakOpenOrders = 0
        /// The largest position held in any symbol (absolute shares).
        public var peakPosition = 0
    }

    public let index: Int
    public let role: AgentRole
    public let configuration: AgentsConfiguration
    /// The symbols this agent trades (indexes into the market's list).
    public let symbols: [Int]
    let ticks: [Price]
    let lots: [Shares]
    var generator: SeededGenerator
    let tokenPrefix: String
    var tokenNumber: UInt64 = 0

    public private(set) var orders: [OrderToken: OpenOrder] = [:]
    /// Tokens in the order they were sent (oldest first), to cancel the oldest.
    var sentOrder: [OrderToken] = []
    /// Position per symbol: bought minus sold.
    public private(set) var positions: [Int]
    public private(set) var counters = Counters()
    /// The latest quote decided per symbol (market makers): bid and ask.
    public private(set) var quotes: [Int: (bid: Price, ask: Price)] = [:]
    var sendTimes: [UInt64] = []
    var nextDecision: UInt64?
    var backoffUntil: UInt64 = 0
    var rejectsInARow = 0
    /// Paused by a reject for a closed exchange: until the count of `S` events passes this.
    public private(set) var closedUntilPreOpenAfter: UInt64?

    /// `tokenPrefix`: at most 4 characters that make this run's tokens differ from an earlier run's.
    public init(index: Int, role: AgentRole, configuration: AgentsConfiguration, instruments: [InstrumentSpec], symbols: [Int],
                tokenPrefix: String) {
        self.index = index
        self.role = role
        self.configuration = configuration
        self.symbols = symbols
        ticks = instruments.map { max($0.tickSize, 1) }
        lots = instruments.map { max($0.lotSize, 1) }
        positions = Array(repeating: 0, count: instruments.count)
        generator = SeededGenerator(seed: configuration.seed, stream: UInt64(index) &+ 1)
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        self.tokenPrefix = String(tokenPrefix.prefix(4)) + String(letters[index % 26])
    }

    public var openOrderCount: Int { orders.values.lazy.filter { $0.replaces == nil }.count }
    public var isPausedForClose: Bool { closedUntilPreOpenAfter != nil }

    // MARK: Deciding

    /// The intents for `now` (nanoseconds on the caller's clock): none before the next
    /// decision time, while backing off after a reject, while the market is closed or the
    /// agent is paused for it. Marks what it decides as sent.
    public mutating func decide(now: UInt64, market: MarketState, fair: FairValue) -> [Intent] {
        let interval = UInt64(configuration.decisionIntervalMilliseconds) * 1_000_000
        if let next = nextDecision, now < next { return [] }
        var next = (nextDecision ?? now) &+ interval
        if next <= now { next = now &+ interval }
        nextDecision = next
        if sentOrder.count > 4 * configuration.maxOpenOrders { sentOrder.removeAll { orders[$0] == nil } }
        if now < backoffUntil { return [] }
        if let after = closedUntilPreOpenAfter {
            guard market.preOpens > after else { return [] }
            closedUntilPreOpenAfter = nil
        }
        switch market.phase {
        case .closed, .ended: return []
        case .unknown, .preOpen, .open: break
        }
        pruneSendTimes(now)
        var intents: [Intent] = []
        switch role {
        case .marketMaker: quote(now: now, market: market, fair: fair, into: &intents)
        case .noise: noise(now: now, market: market, fair: fair, into: &intents)
        case .momentum, .meanReversion: take(now: now, market: market, fair: fair, into: &intents)
        }
        counters.peakOpenOrders = max(counters.peakOpenOrders, openOrderCount)
        return intents
    }

    mutating func quote(now: UInt64, market: MarketState, fair: FairValue, into intents: inout [Intent]) {
        let p = configuration.makers
        for i in symbols {
            let state = market.symbols[i]
            if state.isHalted { continue }
            let tick = ticks[i]
            let spread = spreadTicks(state.trades)
            let skew = positions[i] / p.skewSharesPerTick
            let half = spread / 2
            let center = Int(fair.price(i) / tick)
            let bidTicks = center - half - skew
            guard bidTicks >= 1 else { continue }
            let bid = Price(bidTicks) * tick
            let ask = bid + Price(spread) * tick
            quotes[i] = (bid, ask)
            for (side, price) in [(Side.buy, bid), (Side.sell, ask)] {
                let existing = orders.first { $0.value.symbol == i && $0.value.side == side && !$0.value.immediate && $0.value.replaces == nil }
                let room = capacity(i, side, excluding: existing?.key)
                let shares = roundToLot(min(p.quoteShares, room), i)
                if let existing {
                    let token = existing.key, order = existing.value
                    guard order.live, !order.cancelSent, order.replacement == nil else { continue }
                    if shares <= 0 {
                        send(.cancel(token: token), now, into: &intents)
                    } else if order.price != price || order.shares != Shares(shares) {
                        send(.replace(existing: token, replacement: nextToken(), shares: Shares(shares), price: price), now, into: &intents)
                    }
                } else if shares > 0 {
                    send(.enter(token: nextToken(), symbol: i, side: side, shares: Shares(shares), price: price, immediate: false), now,
                         into: &intents)
                }
            }
        }
    }

    /// The quoted spread in ticks: the minimum, plus `volatilitySpreadFactor` per basis point
    /// of the trades' recent volatility, at most the maximum.
    public func spreadTicks(_ trades: [Price]) -> Int {
        let p = configuration.makers
        let recent = trades.suffix(p.volatilityWindow + 1)
        guard recent.count >= 3 else { return p.minSpreadTicks }
        var returns: [Double] = []
        var previous: Double?
        for t in recent {
            if let previous, previous > 0 { returns.append((Double(t) - previous) / previous * 10_000) }
            previous = Double(t)
        }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count)
        let extra = (p.volatilitySpreadFactor * variance.squareRoot()).rounded()
        return min(p.maxSpreadTicks, p.minSpreadTicks + (extra.isFinite ? Int(min(extra, 1e6)) : p.maxSpreadTicks))
    }

    mutating func noise(now: UInt64, market: MarketState, fair: FairValue, into intents: inout [Intent]) {
        let p = configuration.noise
        let acts = generator.unit() < p.activity
        let i = symbols[generator.int(in: 0...(symbols.count - 1))]
        let side: Side = generator.unit() < 0.5 ? .buy : .sell
        let size = generator.int(in: 1...p.maxShares)
        let marketable = generator.unit() < p.marketableProbability
        let away = generator.int(in: 1...p.restingTicks)
        guard acts, market.phase != .preOpen, !market.symbols[i].isHalted else { return }
        if openOrderCount >= configuration.maxOpenOrders {
            cancelOldest(now, into: &intents)
            return
        }
        let tick = ticks[i]
        let value = fair.price(i)
        let price: Price
        if marketable {
            let touch = side == .buy ? (market.symbols[i].bestAsk ?? value) : (market.symbols[i].bestBid ?? value)
            price = side == .buy ? touch + 2 * tick : (touch > 2 * tick ? touch - 2 * tick : tick)
        } else {
            let offset = Price(away) * tick
            price = side == .buy ? (value > offset ? value - offset : tick) : value + offset
        }
        enter(i, side, size, price, immediate: marketable, now, into: &intents)
    }

    mutating func take(now: UInt64, market: MarketState, fair: FairValue, into intents: inout [Intent]) {
        let p = role == .momentum ? configuration.momentum : configuration.meanReversion
        let i = symbols[generator.int(in: 0...(symbols.count - 1))]
        let size = generator.int(in: 1...p.maxShares)
        guard market.phase != .preOpen, !market.symbols[i].isHalted else { return }
        let trades = market.symbols[i].trades.suffix(p.lookback)
        guard trades.count >= p.lookback, let first = trades.first, let last = trades.last, first > 0 else { return }
        let signal: Double
        if role == .momentum {
            signal = (Double(last) - Double(first)) / Double(first) * 10_000
        } else {
            let mean = trades.reduce(0.0) { $0 + Double($1) } / Double(trades.count)
            signal = (mean - Double(last)) / mean * 10_000
        }
        guard abs(signal) > p.thresholdBasisPoints else { return }
        if openOrderCount >= configuration.maxOpenOrders { return }
        let side: Side = signal > 0 ? .buy : .sell
        let tick = ticks[i]
        let touch = side == .buy ? (market.symbols[i].bestAsk ?? last) : (market.symbols[i].bestBid ?? last)
        let price = side == .buy ? touch + tick : (touch > tick ? touch - tick : tick)
        enter(i, side, size, price, immediate: true, now, into: &intents)
    }

    mutating func enter(_ i: Int, _ side: Side, _ size: Int, _ price: Price, immediate: Bool, _ now: UInt64, into intents: inout [Intent]) {
        let shares = roundToLot(min(size, capacity(i, side, excluding: nil)), i)
        guard shares > 0 else { return }
        send(.enter(token: nextToken(), symbol: i, side: side, shares: Shares(shares), price: price, immediate: immediate), now, into: &intents)
    }

    mutating func cancelOldest(_ now: UInt64, into intents: inout [Intent]) {
        sentOrder.removeAll { orders[$0] == nil }
        guard let token = sentOrder.first(where: { orders[$0].map { $0.live && !$0.cancelSent && $0.replacement == nil } ?? false })
        else { return }
        send(.cancel(token: token), now, into: &intents)
    }

    /// Shares that may still go on `side` of symbol `i` with the position limit kept even if
    /// every open order filled (the order `excluding` left out: it is being replaced).
    func capacity(_ i: Int, _ side: Side, excluding: OrderToken?) -> Int {
        var open = 0
        for (token, order) in orders where order.symbol == i && order.side == side && token != excluding {
            if let replaced = order.replaces, replaced == excluding { continue }
            open += Int(order.shares)
        }
        let limit = configuration.maxPosition
        return side == .buy ? limit - positions[i] - open : limit + positions[i] - open
    }

    func roundToLot(_ shares: Int, _ i: Int) -> Int {
        let lot = Int(lots[i])
        return shares <= 0 ? 0 : shares / lot * lot
    }

    /// Records `intent` as sent when the message budget of the last second allows.
    mutating func send(_ intent: Intent, _ now: UInt64, into intents: inout [Intent]) {
        guard sendTimes.count < configuration.maxMessagesPerSecond else { return }
        sendTimes.append(now)
        counters.messages += 1
        counters.peakMessagesPerSecond = max(counters.peakMessagesPerSecond, sendTimes.count)
        switch intent {
        case .enter(let token, let symbol, let side, let shares, let price, let immediate):
            orders[token] = OpenOrder(symbol: symbol, side: side, price: price, shares: shares, immediate: immediate)
            sentOrder.append(token)
            counters.entered += 1
        case .replace(let existing, let replacement, let shares, let price):
            guard let old = orders[existing] else { return }
            orders[existing]?.replacement = replacement
            orders[replacement] = OpenOrder(symbol: old.symbol, side: old.side, price: price, shares: shares, immediate: false,
                                            replaces: existing)
            counters.replaced += 1
        case .cancel(let token):
            orders[token]?.cancelSent = true
            counters.canceled += 1
        }
        intents.append(intent)
    }

    mutating func pruneSendTimes(_ now: UInt64) {
        let horizon = now >= 1_000_000_000 ? now - 1_000_000_000 : 0
        if let keep = sendTimes.firstIndex(where: { $0 > horizon }) {
            sendTimes.removeFirst(keep)
        } else {
            sendTimes.removeAll()
        }
    }

    mutating func nextToken() -> OrderToken {
        tokenNumber += 1
        return OrderToken(tokenPrefix + String(tokenNumber))!
    }

    // MARK: The exchange's answers

    /// Takes one OUCH message of this agent's session; `preOpens` is the market's count of
    /// `S` events (a reject for a closed exchange pauses the agent until it grows).
    public mutating func apply(_ message: OUCHMessage, now: UInt64, preOpens: UInt64) {
        switch message {
        case .accepted(let m):
            counters.accepted += 1
            rejectsInARow = 0
            guard orders[m.token] != nil else { return }
            if m.state == .dead {
                remove(m.token)
            } else {
                orders[m.token]?.live = true
                orders[m.token]?.shares = m.shares
            }
        case .replaced(let m):
            counters.accepted += 1
            rejectsInARow = 0
            remove(m.previousToken)
            guard orders[m.token] != nil else { return }
            if m.state == .dead {
                remove(m.token)
            } else {
                orders[m.token]?.live = true
                orders[m.token]?.replaces = nil
                orders[m.token]?.shares = m.shares
                sentOrder.append(m.token)
            }
        case .canceled(_, let token, let decrement, _):
            guard let order = orders[token] else { return }
            if decrement >= order.shares { remove(token) } else { orders[token]?.shares = order.shares - decrement }
        case .executed(_, let token, let shares, _, _, _):
            guard let order = orders[token] else { return }
            counters.executions += 1
            counters.executedShares += UInt64(shares)
            positions[order.symbol] += order.side == .buy ? Int(shares) : -Int(shares)
            counters.peakPosition = max(counters.peakPosition, abs(positions[order.symbol]))
            if shares >= order.shares { remove(token) } else { orders[token]?.shares = order.shares - shares }
        case .rejected(_, let token, let reason):
            counters.rejected += 1
            // A new order refused backs the agent off; a replace or cancel that lost a race
            // with an execution (the order is gone) does not (the message budget bounds those).
            let newOrder = orders[token].map { $0.replaces == nil } ?? false
            remove(token)
            if reason == UInt8(ascii: "C") {
                counters.rejectedClosed += 1
                closedUntilPreOpenAfter = preOpens
            } else if newOrder {
                rejectsInARow += 1
                let base = UInt64(configuration.rejectBackoffMilliseconds) * 1_000_000
                backoffUntil = now &+ min(base << UInt64(min(rejectsInARow - 1, 16)), 5_000_000_000)
            }
        case .cancelReject(_, let token):
            orders[token]?.cancelSent = false
        case .systemEvent, .brokenTrade, .cancelPending, .orderModified:
            break
        }
    }

    /// Forgets an order; a replacement in flight for it stays (its own answer settles it),
    /// and an unanswered replacement frees the order it was to replace.
    mutating func remove(_ token: OrderToken) {
        guard let order = orders.removeValue(forKey: token) else { return }
        if let original = order.replaces { orders[original]?.replacement = nil }
        if let replacement = order.replacement { orders[replacement]?.replaces = nil }
    }

    /// Forgets every order (the session ended: the agent no longer follows them).
    public mutating func forgetOrders() {
        orders.removeAll()
        sentOrder.removeAll()
    }
}
