// MATCHING.md §Every command 2 (expiry), §Cancel order, §Modify order, §Mass actions.

import ExchangeCore

extension ReferenceExchange {
    // MARK: Expiry

    /// §Every command 2: every resting order whose deadline is ≤ now is cancelled, in
    /// ascending (deadline, reference): canceled(decrement: leaves, remaining: 0, .timeout),
    /// then bookReduce(canceled: leaves, remaining: 0) if the order is displayed.
    mutating func expireOrders() {
        var due: [(deadline: Timestamp, reference: OrderReference)] = []
        for inst in instruments {
            for order in inst.bids + inst.asks + inst.crossList {
                if let deadline = order.deadline, deadline <= engineTime {
                    due.append((deadline, order.reference))
                }
            }
        }
        due.sort { ($0.deadline, $0.reference) < ($1.deadline, $1.reference) }
        for entry in due {
            guard let location = findResting(reference: entry.reference) else { continue }
            let order = removeResting(instrument: location.instrument, side: location.side, index: location.index)
            emitCanceled(order, decrement: order.leaves, remaining: 0, reason: .timeout)
            if order.onFeed {
                emitBookReduce(order, canceled: order.leaves, remaining: 0)
            }
            retire(client: order.client, token: order.token)
        }
    }

    // MARK: Cancel

    mutating func rejectCancel(client: ClientID, token: OrderToken, _ reason: RejectReason) {
        emit(.cancelRejected(CancelRejected(timestamp: commandTime, client: client, token: token, reason: reason)))
    }

    /// MATCHING.md §Refusals: the gateway's answer, echoed as it is.
    mutating func refuse(_ r: Refusal) {
        if r.asCancelReject { rejectCancel(client: r.client, token: r.token, r.reason) } else { rejectOrder(client: r.client, token: r.token, r.reason) }
    }

    /// §Cancel order (new open size). Never rate limited; works for killed clients and
    /// halted instruments.
    mutating func cancel(_ c: CancelOrder) {
        // cancelRejected for unknownClient, unknownOrder, or cancelSizeNotSmaller (requested size ≥ leaves).
        guard isKnownClient(c.client) else { return rejectCancel(client: c.client, token: c.token, .unknownClient) }
        guard let location = findLive(client: c.client, token: c.token) else {
            return rejectCancel(client: c.client, token: c.token, .unknownOrder)
        }
        let order = order(at: location)
        guard c.shares < order.leaves else {
            return rejectCancel(client: c.client, token: c.token, .cancelSizeNotSmaller)
        }
        // d = leaves − shares: canceled(decrement: d, remaining: shares, .userRequested), then
        // bookReduce(d, remaining: shares) if displayed; at zero the order leaves the book.
        // Priority is kept.
        let d = order.leaves - c.shares
        emitCanceled(order, decrement: d, remaining: c.shares, reason: .userRequested)
        if order.onFeed {
            emitBookReduce(order, canceled: d, remaining: c.shares)
        }
        if c.shares == 0 {
            removeResting(instrument: location.instrument, side: location.side, index: location.index)
            retire(client: order.client, token: order.token)
        } else {
            updateResting(instrument: location.instrument, side: location.side, index: location.index) {
                $0.leaves = c.shares
            }
        }
    }

    // MARK: Modify

    /// §Modify order. Priority is kept. Not rate limited.
    mutating func modify(_ c: ModifyOrder) {
        // cancelRejected for unknownClient, unknownOrder, or invalidModify.
        guard isKnownClient(c.client) else { return rejectCancel(client: c.client, token: c.token, .unknownClient) }
        guard let location = findLive(client: c.client, token: c.token) else {
            return rejectCancel(client: c.client, token: c.token, .unknownOrder)
        }
        let order = order(at: location)
        let lot = instruments[location.instrument].lot
        // invalidModify: the new side is on the other book side, or shares is 0, above
        // leaves, or not a lot multiple.
        guard c.side.bookSide == order.bookSide, c.shares != 0, c.shares <= order.leaves,
              UInt64(c.shares) % lot == 0 else {
            return rejectCancel(client: c.client, token: c.token, .invalidModify)
        }
        // modified(token, side, shares), then bookReduce(leaves − shares, remaining: shares)
        // if displayed and shares dropped.
        emit(.modified(OrderModified(timestamp: commandTime, client: c.client, token: c.token,
                                     side: c.side, shares: c.shares)))
        if order.onFeed && c.shares < order.leaves {
            emitBookReduce(order, canceled: order.leaves - c.shares, remaining: c.shares)
        }
        updateResting(instrument: location.instrument, side: location.side, index: location.index) {
            $0.side = c.side
            $0.leaves = c.shares
        }
    }

    // MARK: Mass actions

    /// Cancels every resting order of `client`, in the order they came to rest:
    /// canceled(leaves, 0, reason) then its bookReduce delete if displayed.
    mutating func cancelRestingOrders(of client: ClientID, reason: CancelReason) {
        var mine: [ModelOrder] = []
        for inst in instruments {
            mine += (inst.bids + inst.asks + inst.crossList).filter { $0.client == client }
        }
        mine.sort { $0.restSequence < $1.restSequence }
        for order in mine {
            guard let location = findResting(reference: order.reference) else { continue }
            removeResting(instrument: location.instrument, side: location.side, index: location.index)
            emitCanceled(order, decrement: order.leaves, remaining: 0, reason: reason)
            if order.onFeed {
                emitBookReduce(order, canceled: order.leaves, remaining: 0)
            }
            retire(client: order.client, token: order.token)
        }
    }

    /// §Mass actions cancelAll: reason .userRequested. "An unknown client does nothing."
    mutating func cancelAll(client: ClientID) {
        guard isKnownClient(client) else { return }
        cancelRestingOrders(of: client, reason: .userRequested)
    }

    /// §Mass actions killClient: the kill switch goes on, then its orders are cancelled as
    /// in cancelAll with reason .supervisory. (An unknown client does nothing: it has no
    /// switch and no orders.)
    mutating func killClient(_ client: ClientID) {
        guard isKnownClient(client) else { return }
        killedClients.insert(client)
        cancelRestingOrders(of: client, reason: .supervisory)
    }

    /// §Mass actions killExchange: the exchange kill switch goes on, then every client's
    /// orders are cancelled, clients in ascending ID, each as in killClient (reason
    /// .supervisory). Client kill switches are not changed.
    mutating func killExchange() {
        exchangeKilled = true
        var clients = Set<ClientID>()
        for inst in instruments {
            for order in inst.bids + inst.asks + inst.crossList { clients.insert(order.client) }
        }
        for client in clients.sorted() {
            cancelRestingOrders(of: client, reason: .supervisory)
        }
    }

    /// §Mass actions haltInstrument / resumeInstrument: only a change of state emits
    /// tradingState; an unknown symbol does nothing.
    mutating func setHalted(symbol: Symbol, halted: Bool) {
        guard let index = symbolIndex[symbol] else { return }
        let i = Int(index)
        guard instruments[i].halted != halted else { return }
        instruments[i].halted = halted
        emit(.tradingState(TradingStateChanged(timestamp: commandTime, instrument: index, halted: halted)))
    }
}
