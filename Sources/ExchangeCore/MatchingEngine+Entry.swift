// Enter Order: structural checks (docs/MATCHING.md checks 4–13), then acceptance,
// minimum quantity, matching and the remainder.

extension EngineState {
    /// Checks 4–13 of docs/MATCHING.md, changing nothing. Admission (0–3) and limits
    /// (14–16) belong to the risk layer; check 17 happens in `enter`.
    @inline(__always)
    func validate(_ c: EnterOrder) -> Result<EntryPlan, RejectReason> {
        guard c.client < maxClients else { return .failure(.unknownClient) }
        guard let instrument = symbols.instrument(for: c.symbol) else { return .failure(.unknownSymbol) }
        let book = books[Int(instrument)]
        if book.halted { return .failure(.instrumentHalted) }
        if book.phase == .postClose { return .failure(.exchangeClosing) }
        if c.shares == 0 { return .failure(.invalidShares) }
        if !c.timeInForce.isValid { return .failure(.invalidTimeInForce) }
        if c.crossType.isCrossOnly {
            if c.timeInForce.isImmediateOrCancel { return .failure(.invalidTimeInForce) }
            if !EngineState.crossTypeAccepted(c.crossType, in: book.phase) { return .failure(.invalidCrossType) }
        }
        if c.orderType == .market && c.display.isPostOnly {
            return .failure(.invalidDisplay)
        }
        if c.minimumQuantity > c.shares { return .failure(.invalidMinimumQuantity) }
        if book.lot.divide(c.shares).remainder != 0 { return .failure(.oddLot) }
        var level: UInt32 = 0
        if c.orderType == .limit {
            switch ladderLevel(of: c.price, in: book) {
            case .failure(let reason): return .failure(reason)
            case .success(let l): level = l
            }
        }
        let token = tokens.probe(client: c.client, token: c.token, orders: orders)
        if token.order != nil { return .failure(.duplicateToken) }
        return .success(EntryPlan(instrument: instrument, level: level, tokenTag: token.tag, tokenSlot: token.slot))
    }

    /// Checks 11 and 12: tick conformance and ladder range.
    @inline(__always)
    func ladderLevel(of price: Price, in book: InstrumentBook) -> Result<UInt32, RejectReason> {
        let (tick, offTick) = book.tick.divide(price)
        if price == 0 || offTick != 0 { return .failure(.invalidPriceIncrement) }
        if tick < book.baseTick || tick - book.baseTick >= priceLevels { return .failure(.priceOutOfRange) }
        return .success(tick - book.baseTick)
    }

    /// Enters an order that passed `validate` (and the risk layer's checks).
    mutating func enter(_ c: EnterOrder, plan: EntryPlan) -> ProcessStatus {
        let book = books + Int(plan.instrument)
        let side = c.side.bookSide
        var level = plan.level
        var price = c.price
        // LULD applies to what matches on arrival: continuous trading, not cross-only orders.
        // (With LULD off this costs one branch, laid out as the unlikely one.)
        var banded = false
        if _slowPath(luldEnabled) { banded = book.pointee.phase.matches && !c.crossType.isCrossOnly }
        if _slowPath(banded) && c.orderType == .limit {
            switch bandLevel(level, side: side, in: book) {
            case .failure(let reason):
                reject(client: c.client, token: c.token, reason: reason, timestamp: c.timestamp)
                return .completed
            case .success(let banded):
                if banded != level {
                    level = banded
                    price = book.pointee.price(ofLevel: level)
                }
            }
        }
        if c.orderType == .market {
            price = 0
        } else if c.display.isPostOnly {
            switch postOnlyLevel(level, side: side, in: book) {
            case .failure(let reason):
                reject(client: c.client, token: c.token, reason: reason, timestamp: c.timestamp)
                return .completed
            case .success(let repriced):
                level = repriced
                price = book.pointee.price(ofLevel: level)
            }
        }
        guard hasPoolCapacity else {
            reject(client: c.client, token: c.token, reason: .orderPoolExhausted, timestamp: c.timestamp)
            return .completed
        }

        let index = allocateOrder()
        let reference = nextReference
        nextReference &+= 1
        orders[Int(index)] = OrderRecord(
            reference: reference, token: c.token, next: nullOrder, prev: nullOrder, leaves: c.shares,
            price: price, client: c.client, firm: c.firm, level: level, expirySlot: 0,
            instrument: plan.instrument, side: c.side, display: c.display, capacity: c.capacity,
            intermarketSweep: c.intermarketSweep, crossType: c.crossType, placement: .none)
        tokens.insert(tag: plan.tokenTag, order: index, probedSlot: plan.tokenSlot)

        let waits = !book.pointee.phase.matches || c.crossType.isCrossOnly
        let rests = (c.orderType == .limit || c.crossType.isCrossOnly) && !c.timeInForce.isImmediateOrCancel
        emit(.accepted(OrderAccepted(
            timestamp: c.timestamp, client: c.client, token: c.token, reference: reference,
            instrument: plan.instrument, side: c.side, orderType: c.orderType, shares: c.shares,
            price: price, timeInForce: c.timeInForce, firm: c.firm, display: c.display,
            capacity: c.capacity, intermarketSweep: c.intermarketSweep,
            minimumQuantity: c.minimumQuantity, crossType: c.crossType, state: rests ? .live : .dead)))
        counters.ordersAccepted &+= 1
        if waits {
            placeWithoutMatching(index, isMarket: c.orderType == .market, timeInForce: c.timeInForce, timestamp: c.timestamp)
            return .completed
        }

        taker = TakerState(
            order: index, instrument: plan.instrument, side: side,
            limitLevel: c.orderType == .market ? marketLimitLevel(side: side, in: book) : Int64(level),
            restsAfterMatching: rests, timeInForce: c.timeInForce, timestamp: c.timestamp)
        if _slowPath(banded) { applyBands(book) }
        return startMatching(minimumQuantity: c.minimumQuantity)
    }

    /// Post-only repricing (and check 17): one tick behind the opposite best when it would cross.
    @inline(__always)
    func postOnlyLevel(_ level: UInt32, side: BookSide, in book: UnsafeMutablePointer<InstrumentBook>) -> Result<UInt32, RejectReason> {
        let opposite = best(side.opposite, in: book)
        if side == .bid {
            guard opposite >= 0 && Int64(level) >= opposite else { return .success(level) }
            guard opposite >= 1 else { return .failure(.postOnlyCannotPost) }
            let repriced = UInt32(opposite - 1)
            return book.pointee.price(ofLevel: repriced) == 0 ? .failure(.postOnlyCannotPost) : .success(repriced)
        }
        guard opposite >= 0 && Int64(level) <= opposite else { return .success(level) }
        let repriced = UInt32(opposite + 1)
        let price = (UInt64(book.pointee.baseTick) + UInt64(repriced)) * UInt64(book.pointee.tickSize)
        guard repriced < priceLevels, price <= UInt64(Price.max) else { return .failure(.postOnlyCannotPost) }
        return .success(repriced)
    }

    /// The worst level a market order may reach: the collar bound when market orders are
    /// collared and the instrument has a collar, else the end of the ladder.
    @inline(__always)
    func marketLimitLevel(side: BookSide, in book: UnsafeMutablePointer<InstrumentBook>) -> Int64 {
        let bounds = collarMarketOrders ? collar(of: InstrumentIndex(book - books)) : nil
        let base = Int64(book.pointee.baseTick)
        let tick = Int64(book.pointee.tickSize)
        if side == .bid {
            guard let upper = bounds?.upper else { return Int64(priceLevels) - 1 }
            return min(Int64(upper) / tick - base, Int64(priceLevels) - 1)
        }
        guard let lower = bounds?.lower else { return 0 }
        return max((Int64(lower) + tick - 1) / tick - base, 0)
    }
}
