// Replace, cancel and modify of live orders (docs/MATCHING.md §Replace, §Cancel, §Modify).

extension EngineState {
    /// Structural checks of a replace (unknown order, halted, 6–13), changing nothing.
    @inline(__always)
    func validate(_ c: ReplaceOrder) -> Result<ReplacePlan, RejectReason> {
        guard c.client < maxClients else { return .failure(.unknownClient) }
        let found = tokens.probe(client: c.client, token: c.existingToken, orders: orders)
        guard let index = found.order else { return .failure(.unknownOrder) }
        let existing = orders[Int(index)]
        let book = books[Int(existing.instrument)]
        if book.halted { return .failure(.instrumentHalted) }
        if book.phase == .postClose { return .failure(.exchangeClosing) }
        if c.shares == 0 { return .failure(.invalidShares) }
        if !c.timeInForce.isValid { return .failure(.invalidTimeInForce) }
        if existing.crossType.isCrossOnly && c.timeInForce.isImmediateOrCancel { return .failure(.invalidTimeInForce) }
        if c.minimumQuantity > c.shares { return .failure(.invalidMinimumQuantity) }
        if book.lot.divide(c.shares).remainder != 0 { return .failure(.oddLot) }
        let level: UInt32
        switch ladderLevel(of: c.price, in: book) {
        case .failure(let reason): return .failure(reason)
        case .success(let l): level = l
        }
        let replacement = tokens.probe(client: c.client, token: c.replacementToken, orders: orders)
        if replacement.order != nil { return .failure(.duplicateToken) }
        return .success(ReplacePlan(
            instrument: existing.instrument, side: existing.side, existingShares: existing.leaves,
            existingPrice: existing.price, order: index, level: level, existingSlot: found.slot,
            replacementTag: replacement.tag))
    }

    /// Replaces an order that passed `validate` (and the risk layer's checks).
    mutating func replace(_ c: ReplaceOrder, plan: ReplacePlan) -> ProcessStatus {
        let index = plan.order
        let existing = orders[Int(index)]
        let book = books + Int(existing.instrument)
        let side = existing.side.bookSide

        if c.price == existing.price && c.shares <= existing.leaves && !c.timeInForce.isImmediateOrCancel
            && c.display.isDisplayed == existing.display.isDisplayed
        {
            replaceInPlace(c, plan: plan)
            return .completed
        }

        var level = plan.level
        let banded = luldEnabled && book.pointee.phase.matches && !existing.crossType.isCrossOnly
        if banded {
            switch bandLevel(level, side: side, in: book) {
            case .failure(let reason):
                reject(client: c.client, token: c.replacementToken, reason: reason, timestamp: c.timestamp)
                return .completed
            case .success(let banded): level = banded
            }
        }
        if c.display.isPostOnly {
            switch postOnlyLevel(level, side: side, in: book) {
            case .failure(let reason):
                reject(client: c.client, token: c.replacementToken, reason: reason, timestamp: c.timestamp)
                return .completed
            case .success(let repriced): level = repriced
            }
        }

        // The existing order leaves the book; its record becomes the replacement.
        if orders[Int(index)].resting { unlink(index) }
        if orders[Int(index)].expirySlot != 0 { expiries.remove(order: index, orders: orders) }
        tokens.live.delete(plan.existingSlot)
        let reference = nextReference
        nextReference &+= 1
        orders[Int(index)].token = c.replacementToken
        orders[Int(index)].reference = reference
        orders[Int(index)].leaves = c.shares
        orders[Int(index)].level = level
        orders[Int(index)].price = book.pointee.price(ofLevel: level)
        orders[Int(index)].display = c.display
        orders[Int(index)].intermarketSweep = c.intermarketSweep
        tokens.insertAfterDelete(tag: plan.replacementTag, order: index)
        let replacement = orders[Int(index)]

        emitReplaced(c, existing: existing, reference: reference, price: replacement.price,
                     state: c.timeInForce.isImmediateOrCancel ? .dead : .live)
        counters.ordersReplaced &+= 1

        taker = TakerState(
            order: index, instrument: existing.instrument, side: side, limitLevel: Int64(level),
            restsAfterMatching: !c.timeInForce.isImmediateOrCancel, timeInForce: c.timeInForce,
            timestamp: c.timestamp)
        if banded { applyBands(book) }

        let deleteExisting = BookReduce(
            timestamp: c.timestamp, instrument: existing.instrument, reference: existing.reference,
            canceledShares: existing.leaves, remaining: 0)
        if !book.pointee.phase.matches || existing.crossType.isCrossOnly {
            // Nothing matches: the existing order leaves the book, the replacement is placed.
            if existing.onFeed { emit(.bookReduce(deleteExisting)) }
            placeWithoutMatching(index, isMarket: false, timeInForce: c.timeInForce, timestamp: c.timestamp)
            return .completed
        }
        if takerCrosses(book) || c.timeInForce.isImmediateOrCancel || (taker.luldBlocked && wouldCross(index)) {
            if existing.display.isDisplayed { emit(.bookReduce(deleteExisting)) }
            return startMatching(minimumQuantity: c.minimumQuantity)
        }
        // Rests without trading: one book event says what happened to the displayed book.
        rest(index, timeInForce: c.timeInForce)
        switch (existing.display.isDisplayed, c.display.isDisplayed) {
        case (true, true):
            emit(.bookReplace(BookReplace(
                timestamp: c.timestamp, instrument: existing.instrument, previousReference: existing.reference,
                reference: reference, shares: c.shares, price: replacement.price)))
        case (true, false):
            emit(.bookReduce(deleteExisting))
        case (false, true):
            emit(.bookAdd(BookAdd(
                timestamp: c.timestamp, instrument: existing.instrument, reference: reference,
                side: side, shares: c.shares, price: replacement.price,
                attribution: c.display.isAttributed ? existing.firm : nil)))
        case (false, false):
            break
        }
        return .completed
    }

    /// Same price, no more shares, same visibility: keeps time priority.
    private mutating func replaceInPlace(_ c: ReplaceOrder, plan: ReplacePlan) {
        let index = plan.order
        let existing = orders[Int(index)]
        tokens.live.delete(plan.existingSlot)
        if existing.expirySlot != 0 { expiries.remove(order: index, orders: orders) }
        if c.shares < existing.leaves { shrink(index, by: existing.leaves - c.shares) }
        let reference = nextReference
        nextReference &+= 1
        orders[Int(index)].token = c.replacementToken
        orders[Int(index)].reference = reference
        orders[Int(index)].display = c.display
        orders[Int(index)].intermarketSweep = c.intermarketSweep
        tokens.insertAfterDelete(tag: plan.replacementTag, order: index)
        if c.timeInForce.isTimed {
            expiries.push(ExpiryEntry(deadline: deadline(c.timeInForce), reference: reference, order: index), orders: orders)
        }
        emitReplaced(c, existing: existing, reference: reference, price: existing.price, state: .live)
        if c.display.isDisplayed && existing.placement == .ladder {
            emit(.bookReplace(BookReplace(
                timestamp: c.timestamp, instrument: existing.instrument, previousReference: existing.reference,
                reference: reference, shares: c.shares, price: existing.price)))
        }
        counters.ordersReplaced &+= 1
    }

    /// The replacement order: side, firm, capacity and cross type from the existing order, the
    /// rest from the replace.
    @inline(__always)
    private mutating func emitReplaced(_ c: ReplaceOrder, existing: OrderRecord, reference: OrderReference,
                                       price: Price, state: OrderState) {
        emit(.replaced(OrderReplaced(
            timestamp: c.timestamp, client: c.client, token: c.replacementToken, previousToken: existing.token,
            reference: reference, previousReference: existing.reference, instrument: existing.instrument,
            side: existing.side, shares: c.shares, price: price, timeInForce: c.timeInForce,
            firm: existing.firm, display: c.display, capacity: existing.capacity,
            intermarketSweep: c.intermarketSweep, minimumQuantity: c.minimumQuantity,
            crossType: existing.crossType, state: state)))
    }

    /// Cancel: reduce to a new open size (0 cancels). Never suspends.
    mutating func cancel(_ c: CancelOrder) {
        guard c.client < maxClients else {
            return rejectCancel(client: c.client, token: c.token, reason: .unknownClient, timestamp: c.timestamp)
        }
        guard let index = tokens.liveOrder(client: c.client, token: c.token, orders: orders) else {
            return rejectCancel(client: c.client, token: c.token, reason: .unknownOrder, timestamp: c.timestamp)
        }
        let leaves = orders[Int(index)].leaves
        guard c.shares < leaves else {
            return rejectCancel(client: c.client, token: c.token, reason: .cancelSizeNotSmaller, timestamp: c.timestamp)
        }
        cancelResting(index, shares: leaves - c.shares, reason: .userRequested, timestamp: c.timestamp)
    }

    /// Modify: change between sell variants and/or reduce, keeping priority. Never suspends.
    mutating func modify(_ c: ModifyOrder) {
        guard c.client < maxClients else {
            return rejectCancel(client: c.client, token: c.token, reason: .unknownClient, timestamp: c.timestamp)
        }
        guard let index = tokens.liveOrder(client: c.client, token: c.token, orders: orders) else {
            return rejectCancel(client: c.client, token: c.token, reason: .unknownOrder, timestamp: c.timestamp)
        }
        let o = orders[Int(index)]
        let lot = books[Int(o.instrument)].lot
        guard c.side.bookSide == o.side.bookSide, c.shares > 0, c.shares <= o.leaves, lot.divide(c.shares).remainder == 0 else {
            return rejectCancel(client: c.client, token: c.token, reason: .invalidModify, timestamp: c.timestamp)
        }
        emit(.modified(OrderModified(timestamp: c.timestamp, client: c.client, token: c.token, side: c.side, shares: c.shares)))
        if c.shares < o.leaves {
            if o.onFeed {
                emit(.bookReduce(BookReduce(
                    timestamp: c.timestamp, instrument: o.instrument, reference: o.reference,
                    canceledShares: o.leaves - c.shares, remaining: c.shares)))
            }
            shrink(index, by: o.leaves - c.shares)
        }
        orders[Int(index)].side = c.side
        counters.ordersModified &+= 1
    }
}
