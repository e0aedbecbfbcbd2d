// The matching loop (docs/MATCHING.md §Matching loop): the incoming order takes the
// oldest order at the best opposite price until it is filled or no longer crosses, with
// self-trade prevention between orders of the same firm. Resumable between steps.

extension EngineState {
    /// Whether the incoming order crosses the opposite best.
    @inline(__always)
    func takerCrosses(_ book: UnsafeMutablePointer<InstrumentBook>) -> Bool {
        let opposite = best(taker.side.opposite, in: book)
        guard opposite >= 0 else { return false }
        return taker.side == .bid ? opposite <= taker.limitLevel : opposite >= taker.limitLevel
    }

    /// Minimum quantity, then the loop. The taker's record and `taker` are set up.
    @inline(__always)
    mutating func startMatching(minimumQuantity: Shares) -> ProcessStatus {
        let book = books + Int(taker.instrument)
        // Whatever the taker does to its book (fills move the last trade, hence the LULD
        // bands), the command's end looks at the instrument: marked once here, not per fill.
        luldTouched(taker.instrument)
        if minimumQuantity > 0 && takerCrosses(book) && !minimumQuantityAvailable(minimumQuantity, in: book) {
            let index = taker.order
            cancelIncoming(index, shares: orders[Int(index)].leaves, reason: .immediateOrCancel, timestamp: taker.timestamp)
            retire(index)
            return .completed
        }
        return continueMatching()
    }

    /// Walks the makers the loop would take, without changing anything, and says whether
    /// at least `minimum` shares would execute (self-trade prevention included).
    @inline(__always) func minimumQuantityAvailable(_ minimum: Shares, in book: UnsafeMutablePointer<InstrumentBook>) -> Bool {
        let takerFirm = orders[Int(taker.order)].firm
        var remaining = UInt64(orders[Int(taker.order)].leaves)
        var filled: UInt64 = 0
        let side = taker.side.opposite
        var level = best(side, in: book)
        while level >= 0 && (side == .ask ? level <= taker.limitLevel : level >= taker.limitLevel) {
            var maker = book.pointee.levels[Int(level)].head
            while maker != nullOrder {
                let m = orders[Int(maker)]
                if m.firm == takerFirm {
                    switch selfTradePrevention {
                    case .cancelNewest, .cancelBoth: return filled >= UInt64(minimum)
                    case .cancelOldest: break
                    case .decrement: remaining -= min(remaining, UInt64(m.leaves))
                    }
                } else {
                    let q = min(remaining, UInt64(m.leaves))
                    filled += q
                    remaining -= q
                }
                if filled >= UInt64(minimum) { return true }
                if remaining == 0 { return false }
                maker = m.next
            }
            level = side == .ask
                ? Int64(book.pointee.asks.lowest(above: UInt32(level)))
                : Int64(book.pointee.bids.highest(below: UInt32(level)))
        }
        return filled >= UInt64(minimum)
    }

    /// Runs the loop until the taker is done or the event buffer needs draining.
    mutating func continueMatching() -> ProcessStatus {
        let book = books + Int(taker.instrument)
        let index = taker.order
        while orders[Int(index)].leaves > 0 {
            guard hasRoomForStep else {
                job = .matching
                counters.suspensions &+= 1
                return .suspended
            }
            let opposite = best(taker.side.opposite, in: book)
            guard opposite >= 0,
                  taker.side == .bid ? opposite <= taker.limitLevel : opposite >= taker.limitLevel
            else { break }
            let maker = book.pointee.levels[Int(opposite)].head
            if orders[Int(maker)].firm == orders[Int(index)].firm {
                preventSelfTrade(maker: maker)
            } else {
                fill(maker: maker, book: book)
            }
        }
        finishTaker()
        job = .idle
        return .completed
    }

    @inline(__always)
    mutating func fill(maker: OrderIndex, book: UnsafeMutablePointer<InstrumentBook>) {
        let t = orders[Int(taker.order)]
        let m = orders[Int(maker)]
        let shares = min(t.leaves, m.leaves)
        let match = nextMatchNumber
        nextMatchNumber &+= 1
        emit(.executed(OrderExecuted(
            timestamp: taker.timestamp, instrument: taker.instrument, shares: shares, price: m.price,
            matchNumber: match, takerClient: t.client, takerToken: t.token, takerReference: t.reference,
            takerSide: t.side, makerClient: m.client, makerToken: m.token, makerReference: m.reference,
            makerSide: m.side, makerDisplay: m.display)))
        counters.executions &+= 1
        counters.sharesExecuted &+= UInt64(shares)
        book.pointee.setLastTrade(m.price)
        orders[Int(taker.order)].leaves = t.leaves &- shares
        reduce(maker, by: shares)
    }

    /// Same-firm maker at the front of the book: apply the configured prevention.
    @inline(__always)
    mutating func preventSelfTrade(maker: OrderIndex) {
        counters.selfTradesPrevented &+= 1
        let index = taker.order
        let timestamp = taker.timestamp
        switch selfTradePrevention {
        case .cancelNewest:
            cancelIncoming(index, shares: orders[Int(index)].leaves, reason: .selfMatchPrevention, timestamp: timestamp)
        case .cancelOldest:
            cancelResting(maker, shares: orders[Int(maker)].leaves, reason: .selfMatchPrevention, timestamp: timestamp)
        case .cancelBoth:
            cancelResting(maker, shares: orders[Int(maker)].leaves, reason: .selfMatchPrevention, timestamp: timestamp)
            cancelIncoming(index, shares: orders[Int(index)].leaves, reason: .selfMatchPrevention, timestamp: timestamp)
        case .decrement:
            let shares = min(orders[Int(index)].leaves, orders[Int(maker)].leaves)
            cancelResting(maker, shares: shares, reason: .selfMatchPrevention, timestamp: timestamp)
            cancelIncoming(index, shares: shares, reason: .selfMatchPrevention, timestamp: timestamp)
        }
    }

    /// The remainder: cancelled for IOC and market orders, else rests at the back of its level.
    @inline(__always)
    mutating func finishTaker() {
        let index = taker.order
        let remaining = orders[Int(index)].leaves
        if remaining == 0 {
            retire(index)
        } else if !taker.restsAfterMatching {
            cancelIncoming(index, shares: remaining, reason: .immediateOrCancel, timestamp: taker.timestamp)
            retire(index)
        } else if _slowPath(taker.luldBlocked) && wouldCross(index) {
            // The band kept it from trading and it would cross the book: it cannot rest.
            cancelIncoming(index, shares: remaining, reason: .system, timestamp: taker.timestamp)
            retire(index)
        } else {
            rest(index, timeInForce: taker.timeInForce)
            let o = orders[Int(index)]
            if o.display.isDisplayed {
                emit(.bookAdd(BookAdd(
                    timestamp: taker.timestamp, instrument: o.instrument, reference: o.reference,
                    side: o.side.bookSide, shares: o.leaves, price: o.price,
                    attribution: o.display.isAttributed ? o.firm : nil)))
            }
        }
    }

    /// Links the order into the book and schedules its expiry if timed.
    @inline(__always)
    mutating func rest(_ index: OrderIndex, timeInForce: TimeInForce) {
        link(index)
        if timeInForce.isTimed {
            expiries.push(
                ExpiryEntry(deadline: deadline(timeInForce), reference: orders[Int(index)].reference, order: index),
                orders: orders)
        }
    }

    /// `now + TIF seconds`, saturating (a timestamp near the end of UInt64 must not wrap).
    @inline(__always)
    func deadline(_ timeInForce: TimeInForce) -> Timestamp {
        let (sum, overflow) = now.addingReportingOverflow(UInt64(timeInForce.rawValue) &* PriceScale.nanosecondsPerSecond)
        return overflow ? .max : sum
    }
}
