// MATCHING.md §Replace order: checks, replace in place, and replace as a new order.

import ExchangeCore
import ExchangeRisk

extension ReferenceExchange {
    mutating func replace(_ c: ReplaceOrder) {
        let token = c.replacementToken
        // §Replace: "a failure produces rejected(replacementToken, reason) and leaves the
        // existing order untouched". Checks in the documented order:
        // unknownClient.
        guard isKnownClient(c.client) else { return rejectOrder(client: c.client, token: token, .unknownClient) }
        // exchangeKilled.
        guard !exchangeKilled else { return rejectOrder(client: c.client, token: token, .exchangeKilled) }
        // clientKilled.
        guard !killedClients.contains(c.client) else { return rejectOrder(client: c.client, token: token, .clientKilled) }
        // rateLimited (charged only when it passes; §Risk: "Enter and replace are charged").
        guard chargeRateLimit(client: c.client) else { return rejectOrder(client: c.client, token: token, .rateLimited) }
        // unknownOrder: existing token not live for this client.
        guard let location = findLive(client: c.client, token: c.existingToken) else {
            return rejectOrder(client: c.client, token: token, .unknownOrder)
        }
        let existing = order(at: location)
        let i = location.instrument
        let inst = instruments[i]
        // instrumentHalted (the existing order's instrument).
        guard !inst.halted else { return rejectOrder(client: c.client, token: token, .instrumentHalted) }
        guard inst.phase != .postClose else { return rejectOrder(client: c.client, token: token, .exchangeClosing) }
        // invalidShares.
        guard c.shares != 0 else { return rejectOrder(client: c.client, token: token, .invalidShares) }
        // invalidTimeInForce.
        guard c.timeInForce.isValid else { return rejectOrder(client: c.client, token: token, .invalidTimeInForce) }
        guard !(existing.crossType.isCrossOnly && c.timeInForce.isImmediateOrCancel) else {
            return rejectOrder(client: c.client, token: token, .invalidTimeInForce)
        }
        // invalidMinimumQuantity.
        guard c.minimumQuantity <= c.shares else {
            return rejectOrder(client: c.client, token: token, .invalidMinimumQuantity)
        }
        // oddLot.
        guard UInt64(c.shares) % inst.lot == 0 else { return rejectOrder(client: c.client, token: token, .oddLot) }
        // invalidPriceIncrement.
        guard c.price != 0, UInt64(c.price) % inst.tick == 0 else {
            return rejectOrder(client: c.client, token: token, .invalidPriceIncrement)
        }
        // priceOutOfRange.
        guard isInLadder(i, price: UInt64(c.price)) else {
            return rejectOrder(client: c.client, token: token, .priceOutOfRange)
        }
        // duplicateToken (the replacement token; reusing the existing token is a duplicate
        // because it is live).
        guard !isDuplicate(client: c.client, token: token) else {
            return rejectOrder(client: c.client, token: token, .duplicateToken)
        }
        // maxOrderSizeExceeded.
        guard c.shares <= limits.maxOrderShares else {
            return rejectOrder(client: c.client, token: token, .maxOrderSizeExceeded)
        }
        // priceCollarBreached, as a limit order on the existing side (submitted price).
        if limits.priceCollarsEnabled && inst.spec.collarBasisPoints > 0 {
            let (upper, lower) = collarBounds(i)
            let breached = existing.bookSide == .bid ? UInt64(c.price) > upper : UInt64(c.price) < lower
            guard !breached else { return rejectOrder(client: c.client, token: token, .priceCollarBreached) }
        }
        // maxNotionalExceeded with openNotional − existing.leaves × existing.price + shares × price.
        let open = openNotionalWide(client: c.client)
        let existingNotional = UInt128(existing.leaves) * UInt128(existing.price)
        let others = open >= existingNotional ? open - existingNotional : 0  // open always includes it
        guard others + UInt128(c.shares) * UInt128(c.price) <= UInt128(limits.maxOpenNotional) else {
            return rejectOrder(client: c.client, token: token, .maxNotionalExceeded)
        }
        // postOnlyCannotPost. An in-place replace keeps its price and is never repriced (on
        // the book it cannot cross; an order waiting for a cross keeps its place and price).
        let keepsPlace = c.price == existing.price && c.shares <= existing.leaves && !c.timeInForce.isImmediateOrCancel
            && c.display.isDisplayed == existing.display.isDisplayed
        var price = c.price
        // §Limit up, limit down: a replace that is not in place, in continuous trading, is
        // repriced to the band like an entry (before post-only repricing).
        let banded = inst.phase == .continuous && !existing.crossType.isCrossOnly
        if banded && !keepsPlace, let repricing = bandRepricing(i, side: existing.bookSide, price: price) {
            switch repricing {
            case .failure(let reason): return rejectOrder(client: c.client, token: token, reason)
            case .success(let p): price = p
            }
        }
        if c.display.isPostOnly, !keepsPlace,
           let repriced = postOnlyRepricedPrice(i, side: existing.bookSide, price: price) {
            guard repriced != 0, isInLadder(i, price: repriced) else {
                return rejectOrder(client: c.client, token: token, .postOnlyCannotPost)
            }
            price = Price(repriced)
        }

        // §Replace: side, symbol, firm, capacity and cross type carry over; shares (the new
        // open size), price, TIF, display, ISO and minimum quantity come from the replace.
        let isImmediate = c.timeInForce.isImmediateOrCancel

        // §Replace "In place": price == existing.price, shares ≤ existing.leaves, TIF is not
        // 0, and the order stays displayed or stays non-displayed.
        let inPlace = c.price == existing.price && c.shares <= existing.leaves && !isImmediate
            && c.display.isDisplayed == existing.display.isDisplayed
        if inPlace {
            // The order keeps its time priority (and its rest sequence). Its token retires,
            // the replacement token goes live, it gets a new reference, leaves become
            // `shares`, and its deadline is reset (now + TIF × 10⁹ if timed, else none).
            retire(client: existing.client, token: existing.token)
            let reference = takeReference()
            var updated = existing
            updated.reference = reference
            updated.token = token
            updated.leaves = c.shares
            updated.price = price  // == existing.price: a non-crossing book never reprices it
            updated.timeInForce = c.timeInForce
            updated.display = c.display
            updated.intermarketSweep = c.intermarketSweep
            updated.minimumQuantity = c.minimumQuantity
            updated.deadline = deadline(for: c.timeInForce)
            updateResting(instrument: i, side: location.side, index: location.index) { $0 = updated }
            registerLive(updated)
            // Events: replaced(state: .live), then bookReplace(previousReference, reference,
            // shares, price) if displayed.
            emitReplaced(updated, previous: existing, state: .live)
            if updated.display.isDisplayed && !existing.waitsForCross {
                emitBookReplace(previous: existing, updated)
            }
            return
        }

        // §Replace "Otherwise": the existing order leaves the book (its token retires, no
        // `canceled` event) and the replacement is entered like a new order at the back of its level.
        removeResting(instrument: i, side: location.side, index: location.index)
        retire(client: existing.client, token: existing.token)
        // Step 1: replaced(...) with a new reference, the (repriced) price, .dead for TIF 0.
        let reference = takeReference()
        var replacement = ModelOrder(
            reference: reference, client: existing.client, token: token, instrument: existing.instrument,
            side: existing.side, price: price, leaves: c.shares, timeInForce: c.timeInForce,
            firm: existing.firm, display: c.display, capacity: existing.capacity,
            intermarketSweep: c.intermarketSweep, minimumQuantity: c.minimumQuantity,
            crossType: existing.crossType, deadline: nil, restSequence: 0)
        emitReplaced(replacement, previous: existing, state: isImmediate ? .dead : .live)
        registerLive(replacement)

        // §The trading day: nothing matches; the existing order leaves the book, the
        // replacement is placed.
        if inst.phase != .continuous || existing.crossType.isCrossOnly {
            if existing.onFeed { emitBookReduce(existing, canceled: existing.leaves, remaining: 0) }
            return placeWithoutMatching(replacement, isMarket: false)
        }

        let (limit, blocked) = bandedLimit(i, side: replacement.bookSide, limit: UInt64(price))
        if isMarketable(instrument: i, takerSide: replacement.bookSide, limit: limit) || (blocked && wouldCross(replacement)) {
            // Step 2: bookReduce(existing, canceled: leaves, remaining: 0) if the existing
            // order was displayed; then minimum quantity, matching loop and remainder exactly
            // as for Enter.
            if existing.display.isDisplayed {
                emitBookReduce(existing, canceled: existing.leaves, remaining: 0)
            }
            executeIncoming(replacement, limit: limit, immediate: isImmediate, blocked: blocked)
        } else if isImmediate {
            // Step 3: not marketable and TIF 0: the existing order's bookReduce delete if it
            // was displayed, then canceled(replacement, decrement: shares, remaining: 0, IOC).
            if existing.display.isDisplayed {
                emitBookReduce(existing, canceled: existing.leaves, remaining: 0)
            }
            emitCanceled(replacement, decrement: replacement.leaves, remaining: 0, reason: .immediateOrCancel)
            retire(client: replacement.client, token: replacement.token)
        } else {
            // Step 4: not marketable and it rests (at the back of its level, with a new
            // deadline if timed, last in the client's rest order).
            replacement.deadline = deadline(for: replacement.timeInForce)
            replacement.restSequence = nextRestSequence
            nextRestSequence &+= 1
            insertAtBackOfLevel(replacement)
            switch (existing.display.isDisplayed, replacement.display.isDisplayed) {
            case (true, true):
                emitBookReplace(previous: existing, replacement)  // displayed → displayed
            case (true, false):
                emitBookReduce(existing, canceled: existing.leaves, remaining: 0)  // → non-displayed
            case (false, true):
                emitBookAdd(replacement)  // non-displayed → displayed
            case (false, false):
                break  // no book event
            }
        }
    }

    mutating func emitReplaced(_ order: ModelOrder, previous: ModelOrder, state: OrderState) {
        emit(.replaced(OrderReplaced(
            timestamp: commandTime, client: order.client, token: order.token, previousToken: previous.token,
            reference: order.reference, previousReference: previous.reference, instrument: order.instrument,
            side: order.side, shares: order.leaves, price: order.price, timeInForce: order.timeInForce,
            firm: order.firm, display: order.display, capacity: order.capacity,
            intermarketSweep: order.intermarketSweep, minimumQuantity: order.minimumQuantity,
            crossType: order.crossType, state: state)))
    }

    mutating func emitBookReplace(previous: ModelOrder, _ order: ModelOrder) {
        emit(.bookReplace(BookReplace(
            timestamp: commandTime, instrument: order.instrument, previousReference: previous.reference,
            reference: order.reference, shares: order.leaves, price: order.price)))
    }
}
