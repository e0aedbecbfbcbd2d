// MATCHING.md §Enter order: the seventeen checks, acceptance, minimum quantity, the
// matching loop with self-trade prevention, and the remainder.

import ExchangeCore
import ExchangeRisk

extension ReferenceExchange {
    mutating func rejectOrder(client: ClientID, token: OrderToken, _ reason: RejectReason) {
        emit(.rejected(OrderRejected(timestamp: commandTime, client: client, token: token, reason: reason)))
    }

    mutating func enter(_ c: EnterOrder) {
        let isMarket = c.orderType == .market
        // "Checks, in this order; the first that fails produces rejected(token, reason) and nothing else".
        // Check 0: unknownClient.
        guard isKnownClient(c.client) else { return rejectOrder(client: c.client, token: c.token, .unknownClient) }
        // Check 1: exchangeKilled.
        guard !exchangeKilled else { return rejectOrder(client: c.client, token: c.token, .exchangeKilled) }
        // Check 2: clientKilled.
        guard !killedClients.contains(c.client) else { return rejectOrder(client: c.client, token: c.token, .clientKilled) }
        // Check 3: rateLimited — the bucket is charged only when this check passes.
        guard chargeRateLimit(client: c.client) else { return rejectOrder(client: c.client, token: c.token, .rateLimited) }
        // Check 4: unknownSymbol.
        guard let instrumentIndex = symbolIndex[c.symbol] else {
            return rejectOrder(client: c.client, token: c.token, .unknownSymbol)
        }
        let i = Int(instrumentIndex)
        let inst = instruments[i]
        // Check 5: instrumentHalted.
        guard !inst.halted else { return rejectOrder(client: c.client, token: c.token, .instrumentHalted) }
        // §The trading day: post-close refuses new orders (after check 5).
        guard inst.phase != .postClose else { return rejectOrder(client: c.client, token: c.token, .exchangeClosing) }
        // Check 6: invalidShares when shares == 0.
        guard c.shares != 0 else { return rejectOrder(client: c.client, token: c.token, .invalidShares) }
        // Check 7: invalidTimeInForce: not 0, 1…86400, 99998 or 99999 (market orders too).
        guard c.timeInForce.isValid else { return rejectOrder(client: c.client, token: c.token, .invalidTimeInForce) }
        // §The trading day: a cross-only order is not IOC, and its cross must be ahead.
        if c.crossType.isCrossOnly {
            guard !c.timeInForce.isImmediateOrCancel else {
                return rejectOrder(client: c.client, token: c.token, .invalidTimeInForce)
            }
            guard Self.crossAhead(c.crossType, phase: inst.phase) else {
                return rejectOrder(client: c.client, token: c.token, .invalidCrossType)
            }
        }
        // Check 8: invalidDisplay: a market order that is post-only. (An unknown display
        // letter never reaches the engine: the OUCH decoder refuses it.)
        guard !(isMarket && c.display.isPostOnly) else {
            return rejectOrder(client: c.client, token: c.token, .invalidDisplay)
        }
        // Check 9: invalidMinimumQuantity when minimumQuantity > shares.
        guard c.minimumQuantity <= c.shares else {
            return rejectOrder(client: c.client, token: c.token, .invalidMinimumQuantity)
        }
        // Check 10: oddLot when shares % lotSize != 0.
        guard UInt64(c.shares) % inst.lot == 0 else { return rejectOrder(client: c.client, token: c.token, .oddLot) }
        // Checks 11 and 12 (market orders skip them: their price field is ignored).
        if !isMarket {
            // Check 11: invalidPriceIncrement: price == 0 or price % tickSize != 0.
            guard c.price != 0, UInt64(c.price) % inst.tick == 0 else {
                return rejectOrder(client: c.client, token: c.token, .invalidPriceIncrement)
            }
            // Check 12: priceOutOfRange: tick index outside the ladder.
            guard isInLadder(i, price: UInt64(c.price)) else {
                return rejectOrder(client: c.client, token: c.token, .priceOutOfRange)
            }
        }
        // Check 13: duplicateToken: live, or still in the retired-token history.
        guard !isDuplicate(client: c.client, token: c.token) else {
            return rejectOrder(client: c.client, token: c.token, .duplicateToken)
        }
        // Check 14: maxOrderSizeExceeded when shares > maxOrderShares.
        guard c.shares <= limits.maxOrderShares else {
            return rejectOrder(client: c.client, token: c.token, .maxOrderSizeExceeded)
        }
        // Check 15: priceCollarBreached: collars on, instrument collar > 0, limit order:
        // buy with price > upper, sell with price < lower. (Market orders skip it.) Checked
        // against the submitted price; post-only orders are not checked again after repricing.
        let collarOn = limits.priceCollarsEnabled && inst.spec.collarBasisPoints > 0
        let (upper, lower) = collarBounds(i)
        if !isMarket && collarOn {
            let breached = c.side.bookSide == .bid ? UInt64(c.price) > upper : UInt64(c.price) < lower
            guard !breached else { return rejectOrder(client: c.client, token: c.token, .priceCollarBreached) }
        }
        // Check 16: maxNotionalExceeded when openNotional(client) + shares × p > maxOpenNotional.
        // §Notional price p: a limit order at its (submitted) price; a market order at `upper`
        // when collars are enabled and the collar is > 0, else at `reference`. Wide math: an
        // overflowing sum simply exceeds the limit.
        let p: UInt64 = isMarket ? (collarOn ? upper : referencePrice(i)) : UInt64(c.price)
        let wanted = openNotionalWide(client: c.client) + UInt128(c.shares) * UInt128(p)
        guard wanted <= UInt128(limits.maxOpenNotional) else {
            return rejectOrder(client: c.client, token: c.token, .maxNotionalExceeded)
        }
        // Check 17: postOnlyCannotPost: a post-only order that would cross and whose repriced
        // price is 0 or outside the ladder. §Post-only: buy with price ≥ best ask → best ask −
        // tick; sell with price ≤ best bid → best bid + tick.
        var price = isMarket ? 0 : c.price
        // §Limit up, limit down: in continuous trading a limit price through a band is
        // repriced to the band (before post-only repricing); a band off the ladder cannot be
        // reached (priceOutOfRange).
        let banded = inst.phase == .continuous && !c.crossType.isCrossOnly
        if banded && !isMarket, let repricing = bandRepricing(i, side: c.side.bookSide, price: price) {
            switch repricing {
            case .failure(let reason): return rejectOrder(client: c.client, token: c.token, reason)
            case .success(let p): price = p
            }
        }
        if !isMarket && c.display.isPostOnly,
           let repriced = postOnlyRepricedPrice(i, side: c.side.bookSide, price: price) {
            guard repriced != 0, isInLadder(i, price: repriced) else {
                return rejectOrder(client: c.client, token: c.token, .postOnlyCannotPost)
            }
            price = Price(repriced)  // isInLadder guarantees it fits in a UInt32
        }
        // Check 18: orderPoolExhausted when orderPoolSize orders already rest (between
        // commands every live token belongs to a resting order).
        guard liveTokens.count < configuration.orderPoolSize else {
            return rejectOrder(client: c.client, token: c.token, .orderPoolExhausted)
        }

        // §Enter step 1: accepted with a new reference, the (repriced) price — 0 for market
        // orders — and state .dead for IOC (TIF 0) and market orders, else .live.
        let immediate = isMarket || c.timeInForce.isImmediateOrCancel
        // §The trading day: a cross-only market order waits (live).
        let acceptedDead = c.crossType.isCrossOnly ? c.timeInForce.isImmediateOrCancel : immediate
        let reference = takeReference()
        emit(.accepted(OrderAccepted(
            timestamp: commandTime, client: c.client, token: c.token, reference: reference,
            instrument: instrumentIndex, side: c.side, orderType: c.orderType, shares: c.shares,
            price: price, timeInForce: c.timeInForce, firm: c.firm, display: c.display,
            capacity: c.capacity, intermarketSweep: c.intermarketSweep,
            minimumQuantity: c.minimumQuantity, crossType: c.crossType,
            state: acceptedDead ? .dead : .live)))
        let taker = ModelOrder(
            reference: reference, client: c.client, token: c.token, instrument: instrumentIndex,
            side: c.side, price: price, leaves: c.shares, timeInForce: c.timeInForce, firm: c.firm,
            display: c.display, capacity: c.capacity, intermarketSweep: c.intermarketSweep,
            minimumQuantity: c.minimumQuantity, crossType: c.crossType, deadline: nil, restSequence: 0)
        // §Tokens: live from its `accepted`.
        registerLive(taker)
        // §The trading day: nothing matches outside continuous trading, nor for a cross-only order.
        if inst.phase != .continuous || c.crossType.isCrossOnly {
            return placeWithoutMatching(taker, isMarket: isMarket)
        }

        // §Marketable: a limit order's limit is its price. A market order's limit is `upper`
        // (buy) or `lower` (sell) when collarMarketOrders is on and the collar is > 0,
        // computed once before matching; otherwise unlimited.
        let limit: UInt64
        if isMarket {
            let stopAtCollar = configuration.collarMarketOrders && inst.spec.collarBasisPoints > 0
            if c.side.bookSide == .bid {
                limit = stopAtCollar ? upper : UInt64.max
            } else {
                limit = stopAtCollar ? lower : 0
            }
        } else {
            limit = UInt64(price)
        }
        // §Limit up, limit down: the walk stays inside the bands.
        let (bandedLimit, blocked) = bandedLimit(i, side: c.side.bookSide, limit: limit)
        // §Enter steps 2–4.
        executeIncoming(taker, limit: bandedLimit, immediate: immediate, blocked: blocked)
    }

    /// §Post-only: the repriced price when the order would cross, nil when it would not.
    /// May be 0 (buy when best ask == tick) or above UInt32.max (sell near the top); the
    /// caller rejects both.
    func postOnlyRepricedPrice(_ i: Int, side: BookSide, price: Price) -> UInt64? {
        let tick = instruments[i].tick
        switch side {
        case .bid:
            if let bestAsk = instruments[i].bestPrice(.ask), price >= bestAsk {
                return UInt64(bestAsk) >= tick ? UInt64(bestAsk) - tick : 0
            }
        case .ask:
            if let bestBid = instruments[i].bestPrice(.bid), price <= bestBid {
                return UInt64(bestBid) + tick
            }
        }
        return nil
    }

    /// Whether the order, resting at its price, would lock or cross the opposite best.
    func wouldCross(_ order: ModelOrder) -> Bool {
        guard let best = instruments[Int(order.instrument)].bestPrice(order.bookSide.opposite) else { return false }
        return order.bookSide == .bid ? order.price >= best : order.price <= best
    }

    /// §Marketable: buy `bestAsk ≤ limit`, sell `bestBid ≥ limit`.
    static func crosses(makerPrice: Price, takerSide: BookSide, limit: UInt64) -> Bool {
        takerSide == .bid ? UInt64(makerPrice) <= limit : UInt64(makerPrice) >= limit
    }

    func isMarketable(instrument i: Int, takerSide: BookSide, limit: UInt64) -> Bool {
        guard let best = instruments[i].bestPrice(takerSide.opposite) else { return false }
        return Self.crosses(makerPrice: best, takerSide: takerSide, limit: limit)
    }

    /// §Enter steps 2 (minimum quantity), 3 (matching loop) and 4 (remainder) for an order
    /// that has been accepted (or replaced) and whose token is live. `immediate` is true for
    /// IOC (TIF 0) and market orders.
    mutating func executeIncoming(_ incoming: ModelOrder, limit: UInt64, immediate: Bool, blocked: Bool = false) {
        var taker = incoming
        let i = Int(taker.instrument)
        let takerSide = taker.bookSide
        let makerSide = takerSide.opposite

        // Step 2, minimum quantity: only when minimumQuantity > 0 and the order is marketable.
        if taker.minimumQuantity > 0 && isMarketable(instrument: i, takerSide: takerSide, limit: limit) {
            let wouldExecute = simulateExecution(taker, limit: limit)
            if wouldExecute < UInt64(taker.minimumQuantity) {
                // "cancelled whole: canceled(decrement: shares, remaining: 0, reason:
                // .immediateOrCancel), and nothing else happens."
                emitCanceled(taker, decrement: taker.leaves, remaining: 0, reason: .immediateOrCancel)
                retire(client: taker.client, token: taker.token)
                return
            }
        }

        // Step 3, §Matching loop: while shares remain and the opposite best price crosses
        // the limit, take the maker: the oldest order at the best opposite price (index 0).
        while taker.leaves > 0,
              let maker = instruments[i].orders(makerSide).first,
              Self.crosses(makerPrice: maker.price, takerSide: takerSide, limit: limit) {
            if maker.firm != taker.firm {
                // Different firm: fill q = min(remaining, maker.leaves) at the maker's price.
                let q = min(taker.leaves, maker.leaves)
                emit(.executed(OrderExecuted(
                    timestamp: commandTime, instrument: taker.instrument, shares: q, price: maker.price,
                    matchNumber: nextMatchNumber, takerClient: taker.client, takerToken: taker.token,
                    takerReference: taker.reference, takerSide: taker.side, makerClient: maker.client,
                    makerToken: maker.token, makerReference: maker.reference, makerSide: maker.side,
                    makerDisplay: maker.display)))
                nextMatchNumber &+= 1
                // "The instrument's last trade price becomes maker.price."
                instruments[i].lastTradePrice = maker.price
                taker.leaves -= q
                if maker.leaves == q {
                    // At zero the maker leaves the book; `executed` is its book event.
                    // §Tokens: makers retire as they fill out...
                    removeResting(instrument: i, side: makerSide, index: 0)
                    retire(client: maker.client, token: maker.token)
                } else {
                    updateResting(instrument: i, side: makerSide, index: 0) { $0.leaves -= q }
                }
                if taker.leaves == 0 {
                    // ...the taker when it is filled (after a maker that filled out on the same fill).
                    retire(client: taker.client, token: taker.token)
                }
                continue
            }
            // Same firm: self-trade prevention, mode from configuration.
            switch configuration.selfTradePrevention {
            case .cancelNewest:
                // canceled(taker, decrement: remaining, remaining: 0); the command ends — nothing rests.
                cancelTakerForSelfTrade(taker)
                return
            case .cancelOldest:
                // canceled(maker, decrement: maker.leaves, remaining: 0), then its bookReduce
                // delete if displayed; the loop continues.
                cancelMakerWholeForSelfTrade(instrument: i, side: makerSide)
            case .cancelBoth:
                // The maker as in cancelOldest, then the taker as in cancelNewest.
                cancelMakerWholeForSelfTrade(instrument: i, side: makerSide)
                cancelTakerForSelfTrade(taker)
                return
            case .decrement:
                // d = min(remaining, maker.leaves); canceled(maker, d, maker.leaves − d),
                // bookReduce if displayed (at zero the maker leaves the book); then
                // canceled(taker, d, remaining − d); the loop continues.
                let d = min(taker.leaves, maker.leaves)
                let makerLeft = maker.leaves - d
                emitCanceled(maker, decrement: d, remaining: makerLeft, reason: .selfMatchPrevention)
                if maker.display.isDisplayed {
                    emitBookReduce(maker, canceled: d, remaining: makerLeft)
                }
                if makerLeft == 0 {
                    removeResting(instrument: i, side: makerSide, index: 0)
                    retire(client: maker.client, token: maker.token)
                } else {
                    updateResting(instrument: i, side: makerSide, index: 0) { $0.leaves = makerLeft }
                }
                let takerLeft = taker.leaves - d
                emitCanceled(taker, decrement: d, remaining: takerLeft, reason: .selfMatchPrevention)
                taker.leaves = takerLeft
                if takerLeft == 0 {
                    retire(client: taker.client, token: taker.token)
                }
            }
        }

        // Step 4, remainder.
        guard taker.leaves > 0 else { return }
        if immediate {
            // IOC and market orders: canceled(decrement: remaining, remaining: 0, .immediateOrCancel).
            emitCanceled(taker, decrement: taker.leaves, remaining: 0, reason: .immediateOrCancel)
            retire(client: taker.client, token: taker.token)
            return
        }
        // §Limit up, limit down: a taker the band kept from trading that would lock or cross
        // the book is cancelled (.system).
        if blocked && wouldCross(taker) {
            emitCanceled(taker, decrement: taker.leaves, remaining: 0, reason: .system)
            retire(client: taker.client, token: taker.token)
            return
        }
        // Other orders rest at the back of their price level; a timed order gets the
        // deadline now + TIF × 10⁹; a displayed one emits bookAdd (attribution: firm for A/L).
        taker.deadline = deadline(for: taker.timeInForce)
        taker.restSequence = nextRestSequence
        nextRestSequence &+= 1
        insertAtBackOfLevel(taker)
        if taker.display.isDisplayed {
            emitBookAdd(taker)
        }
    }

    /// §Matching loop, last paragraph: the minimum-quantity simulation walks the same makers
    /// in the same order without changing anything. Returns the shares that would execute.
    func simulateExecution(_ taker: ModelOrder, limit: UInt64) -> UInt64 {
        let i = Int(taker.instrument)
        let takerSide = taker.bookSide
        var remaining = UInt64(taker.leaves)
        var filled: UInt64 = 0
        for maker in instruments[i].orders(takerSide.opposite) {
            guard remaining > 0,
                  Self.crosses(makerPrice: maker.price, takerSide: takerSide, limit: limit) else { break }
            let q = min(remaining, UInt64(maker.leaves))
            if maker.firm != taker.firm {
                // A different-firm maker adds min(remaining, leaves) to the filled count.
                filled += q
                remaining -= q
            } else {
                switch configuration.selfTradePrevention {
                case .cancelNewest, .cancelBoth:
                    return filled  // a same-firm maker stops the walk
                case .cancelOldest:
                    continue  // is skipped
                case .decrement:
                    remaining -= q  // reduces remaining by min(remaining, leaves)
                }
            }
        }
        return filled
    }

    // MARK: Self-trade prevention pieces

    /// cancelNewest / second half of cancelBoth: canceled(taker, decrement: remaining, remaining: 0).
    mutating func cancelTakerForSelfTrade(_ taker: ModelOrder) {
        emitCanceled(taker, decrement: taker.leaves, remaining: 0, reason: .selfMatchPrevention)
        retire(client: taker.client, token: taker.token)
    }

    /// cancelOldest / first half of cancelBoth: the maker at the head of `side` is cancelled whole.
    mutating func cancelMakerWholeForSelfTrade(instrument i: Int, side: BookSide) {
        let maker = removeResting(instrument: i, side: side, index: 0)
        emitCanceled(maker, decrement: maker.leaves, remaining: 0, reason: .selfMatchPrevention)
        if maker.display.isDisplayed {
            emitBookReduce(maker, canceled: maker.leaves, remaining: 0)
        }
        retire(client: maker.client, token: maker.token)
    }

    // MARK: Event builders

    mutating func emitCanceled(_ order: ModelOrder, decrement: Shares, remaining: Shares, reason: CancelReason) {
        emit(.canceled(OrderCanceled(
            timestamp: commandTime, client: order.client, token: order.token, reference: order.reference,
            instrument: order.instrument, decrement: decrement, remaining: remaining, reason: reason)))
    }

    mutating func emitBookReduce(_ order: ModelOrder, canceled: Shares, remaining: Shares) {
        emit(.bookReduce(BookReduce(
            timestamp: commandTime, instrument: order.instrument, reference: order.reference,
            canceledShares: canceled, remaining: remaining)))
    }

    /// bookAdd(reference, side, shares: leaves, price, attribution: firm for A/L, else nil).
    mutating func emitBookAdd(_ order: ModelOrder) {
        emit(.bookAdd(BookAdd(
            timestamp: commandTime, instrument: order.instrument, reference: order.reference,
            side: order.bookSide, shares: order.leaves, price: order.price,
            attribution: order.display.isAttributed ? order.firm : nil)))
    }
}
