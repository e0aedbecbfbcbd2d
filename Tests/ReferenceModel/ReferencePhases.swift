// MATCHING.md §The trading day: phases, orders while nothing matches, crosses. Written from
// the rules, the slow obvious way: arrays filtered and sorted, volumes summed per price.

import ExchangeCore

extension ReferenceExchange {
    /// "A cross-only order may be entered only while its cross is ahead": opening in
    /// pre-open; closing in any phase but post-close; halt/IPO while halted.
    static func crossAhead(_ crossType: CrossType, phase: TradingPhase) -> Bool {
        switch crossType {
        case .opening: phase == .preOpen
        case .closing: phase != .postClose
        case .haltOrIPO: phase == .halted
        default: true
        }
    }

    /// "While nothing matches": a continuous-market IOC or market order is cancelled; a
    /// cross-only order, a market order and an order that would cross the book's opposite
    /// best wait in the cross list; anything else rests at the back of its level (bookAdd
    /// when displayed).
    mutating func placeWithoutMatching(_ incoming: ModelOrder, isMarket: Bool) {
        var order = incoming
        let i = Int(order.instrument)
        if !order.crossType.isCrossOnly && (isMarket || order.timeInForce.isImmediateOrCancel) {
            emitCanceled(order, decrement: order.leaves, remaining: 0, reason: .immediateOrCancel)
            retire(client: order.client, token: order.token)
            return
        }
        var waits = order.crossType.isCrossOnly || isMarket
        if !waits, let best = instruments[i].bestPrice(order.bookSide.opposite) {
            waits = order.bookSide == .bid ? order.price >= best : order.price <= best
        }
        order.deadline = deadline(for: order.timeInForce)
        order.restSequence = nextRestSequence
        nextRestSequence &+= 1
        if waits {
            order.waitsForCross = true
            instruments[i].crossList.append(order)
        } else {
            insertAtBackOfLevel(order)
            if order.display.isDisplayed { emitBookAdd(order) }
        }
    }

    // MARK: Phase commands

    mutating func tradingPhase(_ c: PhaseCommand) {
        var targets: [Int]
        if c.isMarketWide {
            targets = Array(instruments.indices)
            // "A market-wide pre-open, opening cross or closing cross first emits the market's
            // event": S, Q, M.
            switch c.action {
            case .preOpen: emit(.marketEvent(MarketEvent(timestamp: commandTime, code: .startOfSystemHours)))
            case .openingCross: emit(.marketEvent(MarketEvent(timestamp: commandTime, code: .startOfMarketHours)))
            case .closingCross: emit(.marketEvent(MarketEvent(timestamp: commandTime, code: .endOfMarketHours)))
            case .endOfSystemHours: emit(.marketEvent(MarketEvent(timestamp: commandTime, code: .endOfSystemHours)))
            default: break
            }
        } else {
            guard let index = symbolIndex[c.symbol] else { return }  // unknown symbol: nothing
            targets = [Int(index)]
        }
        for i in targets {
            let phase = instruments[i].phase
            switch c.action {
            case .preOpen:
                // "preOpen ends an LULD pause (no event of its own)".
                instruments[i].luld.paused = false
                if phase != .preOpen { setPhase(i, .preOpen) }
            case .halt:
                // "halt turns an LULD pause into an ordinary halt (no event)".
                instruments[i].luld.paused = false
                if phase == .preOpen || phase == .continuous { setPhase(i, .halted) }
            case .openingCross:
                if phase == .preOpen { cross(i, .opening, then: .continuous) }
            case .closingCross:
                if phase == .continuous { cross(i, .closing, then: .postClose) }
            case .resume:
                // "resume does nothing to an instrument in an LULD pause".
                if phase == .halted && !instruments[i].luld.paused { cross(i, .halt, then: .continuous) }
            case .indicateImbalance:
                let kind: CrossKind? = switch phase {
                case .preOpen: .opening
                case .continuous: .closing
                case .halted: .halt
                case .postClose: nil
                }
                if let kind { emitImbalance(i, crossPrice(i, kind), kind) }
            case .endOfSystemHours:
                // "Market-wide, the day ends: every order of an instrument in post-close or
                // halted is cancelled (timeout): the cross list in arrival order, then the
                // bids, then the asks, best first and oldest first."
                guard c.isMarketWide && (phase == .postClose || phase == .halted) else { break }
                let leaving = instruments[i].crossList + instruments[i].bids + instruments[i].asks
                instruments[i].crossList = []
                instruments[i].bids = []
                instruments[i].asks = []
                for order in leaving {
                    emitCanceled(order, decrement: order.leaves, remaining: 0, reason: .timeout)
                    if order.onFeed { emitBookReduce(order, canceled: order.leaves, remaining: 0) }
                    retire(client: order.client, token: order.token)
                }
            }
        }
    }

    mutating func setPhase(_ i: Int, _ phase: TradingPhase) {
        let previous = instruments[i].phase
        instruments[i].phase = phase
        emit(.phaseChanged(PhaseChanged(timestamp: commandTime, instrument: InstrumentIndex(i), previous: previous, phase: phase,
                                        reason: phaseReason)))
    }

    // MARK: Crosses

    /// "Which orders take part": every order in the book, every continuous-market order in
    /// the cross list, and the cross list's orders of that cross (a halt cross also takes
    /// opening orders).
    static func takesPart(_ order: ModelOrder, in kind: CrossKind) -> Bool {
        guard order.waitsForCross else { return true }
        switch order.crossType {
        case .opening: return kind == .opening || kind == .halt
        case .closing: return kind == .closing
        case .haltOrIPO: return kind == .halt
        default: return true
        }
    }

    func participants(_ i: Int, _ kind: CrossKind) -> (buys: [ModelOrder], sells: [ModelOrder]) {
        let inst = instruments[i]
        let list = inst.crossList.filter { Self.takesPart($0, in: kind) }
        return (inst.bids + list.filter { $0.bookSide == .bid }, inst.asks + list.filter { $0.bookSide == .ask })
    }

    struct CrossOutcome {
        var price: Price?
        var paired: UInt64 = 0
        var imbalance: UInt64 = 0
        var direction = ImbalanceDirection.none
    }

    /// "The price: among the ladder's prices, the one that executes the most shares; then
    /// the least imbalance; then the closest to the reference price; then the lower."
    /// A buy takes part at p when it is a market order or its price ≥ p; a sell when market
    /// or price ≤ p.
    func crossPrice(_ i: Int, _ kind: CrossKind) -> CrossOutcome {
        let (buys, sells) = participants(i, kind)
        let inst = instruments[i]
        let tick = inst.tick
        let levels = configuration.priceLevels
        let base = max(0, Int(UInt64(inst.spec.referencePrice) / tick) - levels / 2)
        let reference = referencePrice(i)
        var buyAt: [UInt64: UInt64] = [:]
        var sellAt: [UInt64: UInt64] = [:]
        var marketBuys: UInt64 = 0
        var marketSells: UInt64 = 0
        for o in buys { if o.price == 0 { marketBuys += UInt64(o.leaves) } else { buyAt[UInt64(o.price), default: 0] += UInt64(o.leaves) } }
        for o in sells { if o.price == 0 { marketSells += UInt64(o.leaves) } else { sellAt[UInt64(o.price), default: 0] += UInt64(o.leaves) } }
        let prices = (0..<levels).map { UInt64(base + $0) * tick }
        // Buy volume at or above each price (from the top), sell volume at or below (from the bottom).
        var buysAbove = Array(repeating: UInt64(0), count: levels)
        var running = marketBuys
        for l in stride(from: levels - 1, through: 0, by: -1) {
            running += buyAt[prices[l]] ?? 0
            buysAbove[l] = running
        }
        let totalBuys = running
        var best = CrossOutcome()
        var bestDistance = UInt64.max
        running = marketSells
        for l in 0..<levels {
            running += sellAt[prices[l]] ?? 0
            let paired = min(buysAbove[l], running)
            guard paired > 0, prices[l] > 0 else { continue }
            let imbalance = buysAbove[l] > running ? buysAbove[l] - running : running - buysAbove[l]
            let distance = prices[l] > reference ? prices[l] - reference : reference - prices[l]
            let better = paired > best.paired
                || (paired == best.paired && imbalance < best.imbalance)
                || (paired == best.paired && imbalance == best.imbalance && distance < bestDistance)
            if better {
                best = CrossOutcome(price: Price(prices[l]), paired: paired, imbalance: imbalance,
                                    direction: buysAbove[l] > running ? .buy : buysAbove[l] < running ? .sell : .none)
                bestDistance = distance
            }
        }
        if best.price == nil {
            let totalSells = running
            best.imbalance = totalBuys > totalSells ? totalBuys - totalSells : totalSells - totalBuys
            best.direction = totalBuys > totalSells ? .buy : totalBuys < totalSells ? .sell : .none
        }
        return best
    }

    mutating func emitImbalance(_ i: Int, _ outcome: CrossOutcome, _ kind: CrossKind) {
        emit(.imbalance(ImbalanceIndication(
            timestamp: commandTime, instrument: InstrumentIndex(i), pairedShares: outcome.paired,
            imbalanceShares: outcome.imbalance, direction: outcome.direction, price: outcome.price ?? 0,
            referencePrice: Price(referencePrice(i)), cross: kind)))
    }

    /// "Priority in a cross: market orders first (oldest first); then price, best first; at
    /// one price the book's orders in their time priority, then the cross list's, oldest
    /// first." Only orders that cross at `price`.
    func priority(_ orders: [ModelOrder], buy: Bool, price: Price) -> [ModelOrder] {
        let crossing = orders.enumerated().filter { _, o in
            o.price == 0 || (buy ? o.price >= price : o.price <= price)
        }
        return crossing.sorted { a, b in
            let (x, y) = (a.element, b.element)
            if (x.price == 0) != (y.price == 0) { return x.price == 0 }
            if x.price != y.price { return buy ? x.price > y.price : x.price < y.price }
            if x.waitsForCross != y.waitsForCross { return !x.waitsForCross }
            return a.offset < b.offset  // book order, then list order (arrays keep both)
        }.map(\.element)
    }

    mutating func cross(_ i: Int, _ kind: CrossKind, then after: TradingPhase) {
        let outcome = crossPrice(i, kind)
        emitImbalance(i, outcome, kind)
        var executed: UInt64 = 0
        if let price = outcome.price {
            let (buyers, sellers) = participants(i, kind)
            var buys = priority(buyers, buy: true, price: price)
            var sells = priority(sellers, buy: false, price: price)
            // "Execute at the one price, best buy against best sell, until a side runs out."
            while let b = buys.first, let s = sells.first {
                let shares = min(b.leaves, s.leaves)
                let match = nextMatchNumber
                nextMatchNumber += 1
                emit(.crossFill(CrossFill(
                    timestamp: commandTime, instrument: InstrumentIndex(i), shares: shares, price: price,
                    matchNumber: match, cross: kind,
                    buy: CrossParty(client: b.client, token: b.token, reference: b.reference, side: b.side,
                                    display: b.display, onBook: b.onFeed),
                    sell: CrossParty(client: s.client, token: s.token, reference: s.reference, side: s.side,
                                     display: s.display, onBook: s.onFeed))))
                executed += UInt64(shares)
                buys[0].leaves -= shares
                sells[0].leaves -= shares
                takeFromBook(b, shares)
                takeFromBook(s, shares)
                if buys[0].leaves == 0 { buys.removeFirst() }
                if sells[0].leaves == 0 { sells.removeFirst() }
            }
        }
        // "Then the cross list's orders that took part, oldest first: a cross-only or market
        // order is cancelled (reason system); any other joins the book at the back of its level."
        for waiting in instruments[i].crossList where Self.takesPart(waiting, in: kind) {
            guard let location = findResting(reference: waiting.reference) else { continue }
            var order = removeResting(instrument: location.instrument, side: location.side, index: location.index)
            if order.crossType.isCrossOnly || order.price == 0 {
                emitCanceled(order, decrement: order.leaves, remaining: 0, reason: .system)
                retire(client: order.client, token: order.token)
            } else {
                order.waitsForCross = false
                insertAtBackOfLevel(order)
                if order.display.isDisplayed { emitBookAdd(order) }
            }
        }
        var match: MatchNumber = 0
        if executed > 0, let price = outcome.price {
            instruments[i].lastTradePrice = price
            match = nextMatchNumber
            nextMatchNumber += 1
        }
        emit(.crossCompleted(CrossCompleted(
            timestamp: commandTime, instrument: InstrumentIndex(i), shares: executed,
            price: executed > 0 ? outcome.price ?? 0 : 0, matchNumber: match, cross: kind)))
        setPhase(i, after)
    }

    /// Takes `shares` off an order wherever it is; at zero it leaves (its token retires).
    mutating func takeFromBook(_ order: ModelOrder, _ shares: Shares) {
        guard let location = findResting(reference: order.reference) else { return }
        let current = self.order(at: location)
        if current.leaves == shares {
            removeResting(instrument: location.instrument, side: location.side, index: location.index)
            retire(client: current.client, token: current.token)
        } else {
            updateResting(instrument: location.instrument, side: location.side, index: location.index) { $0.leaves -= shares }
        }
    }

    /// The instrument's phase (tests).
    public func phase(of instrument: InstrumentIndex) -> TradingPhase { instruments[Int(instrument)].phase }

    /// Orders waiting for a cross, oldest first (tests).
    public func crossListOrders(instrument: InstrumentIndex) -> [RestingOrder] {
        instruments[Int(instrument)].crossList.map(\.asRestingOrder)
    }
}
