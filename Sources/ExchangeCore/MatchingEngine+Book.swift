// Book mechanics shared by every command: the order pool, linking orders into levels and
// client lists, reducing and removing them, and emitting events. All O(1).

extension EngineState {
    @inline(__always)
    mutating func emit(_ event: EngineEvent) {
        eventBuffer.emit(event)
        counters.events &+= 1
    }

    @inline(__always)
    var hasRoomForStep: Bool { eventBuffer.hasRoomForStep }

    // MARK: Pool

    /// Takes a free record. Precondition: the caller checked capacity.
    @inline(__always)
    mutating func allocateOrder() -> OrderIndex {
        let index = freeHead
        precondition(index != nullOrder, "order pool exhausted without a capacity check")
        freeHead = orders[Int(index)].next
        return index
    }

    @inline(__always)
    mutating func releaseOrder(_ index: OrderIndex) {
        orders[Int(index)] = OrderRecord()
        orders[Int(index)].next = freeHead
        freeHead = index
    }

    /// Whether another order can be accepted: `orderPoolSize` may rest, and the incoming
    /// one needs a record while it matches.
    @inline(__always)
    var hasPoolCapacity: Bool { counters.restingOrders < poolCapacity }

    // MARK: Resting orders

    /// Appends the order to the back of its level and of its client's list.
    @inline(__always)
    mutating func link(_ index: OrderIndex) {
        let i = Int(index)
        linkIntoLevel(index)
        linkIntoClient(index)
        orders[i].placement = .ladder
    }

    /// Appends the order to the back of its instrument's cross list (not the ladder: it
    /// waits for a cross) and of its client's list.
    mutating func linkIntoCrossList(_ index: OrderIndex) {
        let i = Int(index)
        let book = books + Int(orders[i].instrument)
        let tail = book.pointee.crossTail
        orders[i].prev = tail
        orders[i].next = nullOrder
        if tail == nullOrder { book.pointee.crossHead = index } else { orders[Int(tail)].next = index }
        book.pointee.crossTail = index
        linkIntoClient(index)
        orders[i].placement = .crossList
    }

    @inline(__always)
    mutating func linkIntoLevel(_ index: OrderIndex) {
        let i = Int(index)
        let level = orders[i].level
        let side = orders[i].side.bookSide
        let book = books + Int(orders[i].instrument)
        let l = book.pointee.levels + Int(level)
        let tail = l.pointee.tail
        orders[i].prev = tail
        orders[i].next = nullOrder
        if tail == nullOrder {
            l.pointee.head = index
            luldTouched(orders[i].instrument)
            if side == .bid {
                book.pointee.bids.insert(level)
            } else {
                book.pointee.asks.insert(level)
            }
        } else {
            orders[Int(tail)].next = index
        }
        l.pointee.tail = index
        l.pointee.shares &+= UInt64(orders[i].leaves)
    }

    @inline(__always)
    mutating func linkIntoClient(_ index: OrderIndex) {
        let i = Int(index)
        let client = Int(orders[i].client)
        let ctail = accounts[client].tail
        clientLinks[i] = ClientLink(next: nullOrder, prev: ctail)
        if ctail == nullOrder { accounts[client].head = index } else { clientLinks[Int(ctail)].next = index }
        accounts[client].tail = index
        accounts[client].openNotional &+= UInt128(UInt64(orders[i].leaves) &* UInt64(orders[i].price))

        counters.restingOrders &+= 1
        if counters.restingOrders > counters.peakRestingOrders { counters.peakRestingOrders = counters.restingOrders }
    }

    /// Takes the order out of its level and client list (it stays allocated).
    @inline(__always)
    mutating func unlink(_ index: OrderIndex) {
        let i = Int(index)
        let o = orders[i]
        if o.placement == .crossList {
            unlinkFromCrossList(index)
        } else {
            unlinkFromLevel(index)
        }
        orders[i].placement = .none

        let client = Int(o.client)
        let link = clientLinks[i]
        if link.prev == nullOrder { accounts[client].head = link.next } else { clientLinks[Int(link.prev)].next = link.next }
        if link.next == nullOrder { accounts[client].tail = link.prev } else { clientLinks[Int(link.next)].prev = link.prev }
        accounts[client].openNotional &-= UInt128(UInt64(o.leaves) &* UInt64(o.price))
        counters.restingOrders &-= 1
    }

    /// Takes the order out of its instrument's cross list only.
    mutating func unlinkFromCrossList(_ index: OrderIndex) {
        let o = orders[Int(index)]
        let book = books + Int(o.instrument)
        if o.prev == nullOrder { book.pointee.crossHead = o.next } else { orders[Int(o.prev)].next = o.next }
        if o.next == nullOrder { book.pointee.crossTail = o.prev } else { orders[Int(o.next)].prev = o.prev }
    }

    /// Takes the order out of its ladder level only.
    @inline(__always)
    mutating func unlinkFromLevel(_ index: OrderIndex) {
        let o = orders[Int(index)]
        let book = books + Int(o.instrument)
        let l = book.pointee.levels + Int(o.level)
        if o.prev == nullOrder { l.pointee.head = o.next } else { orders[Int(o.prev)].next = o.next }
        if o.next == nullOrder { l.pointee.tail = o.prev } else { orders[Int(o.next)].prev = o.prev }
        l.pointee.shares &-= UInt64(o.leaves)
        if l.pointee.head == nullOrder {
            luldTouched(o.instrument)
            if o.side.bookSide == .bid {
                book.pointee.bids.remove(o.level)
            } else {
                book.pointee.asks.remove(o.level)
            }
        }
    }

    /// Reduces a resting order's open size by `shares` (< leaves), keeping its place.
    @inline(__always)
    mutating func shrink(_ index: OrderIndex, by shares: Shares) {
        let i = Int(index)
        orders[i].leaves &-= shares
        if orders[i].placement == .ladder {
            let l = books[Int(orders[i].instrument)].levels + Int(orders[i].level)
            l.pointee.shares &-= UInt64(shares)
        }
        accounts[Int(orders[i].client)].openNotional &-= UInt128(UInt64(shares) &* UInt64(orders[i].price))
    }

    /// The order is dead: out of the book and the expiry heap, token retired, record freed.
    @inline(__always)
    mutating func retire(_ index: OrderIndex) {
        if orders[Int(index)].resting { unlink(index) }
        if orders[Int(index)].expirySlot != 0 { expiries.remove(order: index, orders: orders) }
        tokens.retire(order: index, orders: orders)
        releaseOrder(index)
    }

    /// Reduces a resting order by `shares`; at zero it dies.
    @inline(__always)
    mutating func reduce(_ index: OrderIndex, by shares: Shares) {
        if shares >= orders[Int(index)].leaves {
            retire(index)
        } else {
            shrink(index, by: shares)
        }
    }

    /// Best bid or ask level, or -1.
    @inline(__always)
    func best(_ side: BookSide, in book: UnsafeMutablePointer<InstrumentBook>) -> Int64 {
        if side == .bid {
            return book.pointee.bids.isEmpty ? -1 : Int64(book.pointee.bids.highest())
        }
        return book.pointee.asks.isEmpty ? -1 : Int64(book.pointee.asks.lowest())
    }

    // MARK: Events about one order

    /// `canceled` for the order, then its `bookReduce` if it rests displayed; then reduces it.
    @inline(__always)
    mutating func cancelResting(_ index: OrderIndex, shares: Shares, reason: CancelReason, timestamp: Timestamp) {
        let o = orders[Int(index)]
        emit(.canceled(OrderCanceled(
            timestamp: timestamp, client: o.client, token: o.token, reference: o.reference,
            instrument: o.instrument, decrement: shares, remaining: o.leaves - shares, reason: reason)))
        if o.onFeed {
            emit(.bookReduce(BookReduce(
                timestamp: timestamp, instrument: o.instrument, reference: o.reference,
                canceledShares: shares, remaining: o.leaves - shares)))
        }
        counters.ordersCanceled &+= 1
        reduce(index, by: shares)
    }

    /// `canceled` for an order that is not resting (the incoming one).
    @inline(__always)
    mutating func cancelIncoming(_ index: OrderIndex, shares: Shares, reason: CancelReason, timestamp: Timestamp) {
        let o = orders[Int(index)]
        orders[Int(index)].leaves = o.leaves - shares
        emit(.canceled(OrderCanceled(
            timestamp: timestamp, client: o.client, token: o.token, reference: o.reference,
            instrument: o.instrument, decrement: shares, remaining: o.leaves - shares, reason: reason)))
        counters.ordersCanceled &+= 1
    }

    /// Emits `rejected` and counts the reason (the risk layer rejects through this too).
    @inline(__always)
    mutating func reject(client: ClientID, token: OrderToken, reason: RejectReason, timestamp: Timestamp) {
        emit(.rejected(OrderRejected(timestamp: timestamp, client: client, token: token, reason: reason)))
        rejectCounts[Int(reason.rawValue)] &+= 1
        counters.rejects &+= 1
    }

    /// Answers a refusal from the gateway as Rejected or Cancel Reject, counted by reason.
    mutating func refuse(_ r: Refusal) {
        if r.asCancelReject {
            rejectCancel(client: r.client, token: r.token, reason: r.reason, timestamp: r.timestamp)
        } else {
            reject(client: r.client, token: r.token, reason: r.reason, timestamp: r.timestamp)
        }
    }

    @inline(__always)
    mutating func rejectCancel(client: ClientID, token: OrderToken, reason: RejectReason, timestamp: Timestamp) {
        emit(.cancelRejected(CancelRejected(timestamp: timestamp, client: client, token: token, reason: reason)))
        rejectCounts[Int(reason.rawValue)] &+= 1
        counters.cancelRejects &+= 1
    }
}
