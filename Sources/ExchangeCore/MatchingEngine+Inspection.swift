// Read-only views of the books for snapshots, the admin plane and tests, and the
// invariant check the tests run after every step. None of this is on the hot path: it
// allocates arrays and strings.

extension EngineState {
    /// Resting orders of one side in priority order (best price first, then oldest first).
    func restingOrders(instrument: InstrumentIndex, side: BookSide) -> [RestingOrder] {
        var result: [RestingOrder] = []
        forEachLevel(instrument: instrument, side: side) { _, head in
            var i = head
            while i != nullOrder {
                let o = orders[Int(i)]
                result.append(RestingOrder(
                    client: o.client, token: o.token, reference: o.reference, side: o.side,
                    shares: o.leaves, price: o.price, firm: o.firm, display: o.display))
                i = o.next
            }
            return true
        }
        return result
    }

    /// Aggregated levels of one side, best first, at most `maxLevels`.
    func depth(instrument: InstrumentIndex, side: BookSide, maxLevels: Int = .max) -> [DepthLevel] {
        Array(unsafeUninitializedCapacity: min(maxLevels, Int(priceLevels))) { buffer, count in
            count = writeDepth(instrument: instrument, side: side, into: buffer)
        }
    }

    /// Writes up to `into.count` aggregated levels of one side, best first, and returns how
    /// many. Allocates nothing: the engine agent answers snapshot requests with it.
    func writeDepth(instrument: InstrumentIndex, side: BookSide, into levels: UnsafeMutableBufferPointer<DepthLevel>) -> Int {
        let book = books + Int(instrument)
        var written = 0
        var level = best(side, in: book)
        while level >= 0 && written < levels.count {
            var count = 0
            var i = book.pointee.levels[Int(level)].head
            while i != nullOrder { count &+= 1; i = orders[Int(i)].next }
            levels[written] = DepthLevel(price: book.pointee.price(ofLevel: UInt32(level)),
                                         shares: book.pointee.levels[Int(level)].shares, orders: count)
            written &+= 1
            level = side == .bid
                ? Int64(book.pointee.bids.highest(below: UInt32(level)))
                : Int64(book.pointee.asks.lowest(above: UInt32(level)))
        }
        return written
    }

    /// Best bid and ask prices, if any.
    func bestPrices(instrument: InstrumentIndex) -> (bid: Price?, ask: Price?) {
        let book = books + Int(instrument)
        let bid = best(.bid, in: book)
        let ask = best(.ask, in: book)
        return (bid < 0 ? nil : book.pointee.price(ofLevel: UInt32(bid)),
                ask < 0 ? nil : book.pointee.price(ofLevel: UInt32(ask)))
    }

    private func forEachLevel(instrument: InstrumentIndex, side: BookSide, _ body: (UInt32, OrderIndex) -> Bool) {
        let book = books + Int(instrument)
        var level = best(side, in: book)
        while level >= 0 {
            guard body(UInt32(level), book.pointee.levels[Int(level)].head) else { return }
            level = side == .bid
                ? Int64(book.pointee.bids.highest(below: UInt32(level)))
                : Int64(book.pointee.asks.lowest(above: UInt32(level)))
        }
    }

    /// Checks every structural invariant and returns the violations (empty when sound).
    /// Cost is O(orders + levels): tests call it after every step in debug builds.
    func invariantViolations() -> [String] {
        var problems: [String] = []
        var restingSeen = 0
        var notional = [ClientID: UInt128]()
        for instrument in 0..<instrumentCount {
            let book = books + instrument
            let bestBid = best(.bid, in: book)
            let bestAsk = best(.ask, in: book)
            if bestBid >= 0 && bestAsk >= 0 && bestBid >= bestAsk {
                problems.append("\(book.pointee.symbol): crossed or locked book, bid level \(bestBid) ask level \(bestAsk)")
            }
            for side in [BookSide.bid, .ask] {
                let bits = side == .bid ? book.pointee.bids : book.pointee.asks
                var levelsSeen = 0
                var previous: Int64 = -1
                forEachLevel(instrument: InstrumentIndex(instrument), side: side) { level, head in
                    levelsSeen += 1
                    if previous >= 0 && (side == .bid ? Int64(level) >= previous : Int64(level) <= previous) {
                        problems.append("\(book.pointee.symbol) \(side): levels out of order")
                    }
                    previous = Int64(level)
                    let l = book.pointee.levels[Int(level)]
                    if head == nullOrder { problems.append("\(book.pointee.symbol): occupied level \(level) is empty") }
                    var shares: UInt64 = 0
                    var i = head
                    var prev = nullOrder
                    while i != nullOrder {
                        let o = orders[Int(i)]
                        restingSeen += 1
                        shares += UInt64(o.leaves)
                        notional[o.client, default: 0] += UInt128(UInt64(o.leaves) * UInt64(o.price))
                        if !o.resting { problems.append("order \(o.reference) in a level but not marked resting") }
                        if o.prev != prev { problems.append("order \(o.reference): broken prev link") }
                        if o.level != level || o.side.bookSide != side || o.instrument != InstrumentIndex(instrument) {
                            problems.append("order \(o.reference): filed under the wrong level, side or instrument")
                        }
                        if o.price != book.pointee.price(ofLevel: level) { problems.append("order \(o.reference): price does not match level") }
                        if o.leaves == 0 { problems.append("order \(o.reference): rests with zero shares") }
                        if tokens.liveOrder(client: o.client, token: o.token, orders: orders) != i {
                            problems.append("order \(o.reference): token \(o.token) does not map back to it")
                        }
                        prev = i
                        i = o.next
                    }
                    if l.tail != prev { problems.append("\(book.pointee.symbol) level \(level): tail is not the last order") }
                    if l.shares != shares { problems.append("\(book.pointee.symbol) level \(level): shares \(l.shares) != sum \(shares)") }
                    return true
                }
                var bitCount = 0
                for w in 0..<layout.bitmapWords.words { bitCount += bits.words[w].nonzeroBitCount }
                if bitCount != levelsSeen { problems.append("\(book.pointee.symbol) \(side): bitmap has \(bitCount) levels, walk found \(levelsSeen)") }
            }
            // The cross list.
            var i = book.pointee.crossHead
            var prev = nullOrder
            while i != nullOrder {
                let o = orders[Int(i)]
                restingSeen += 1
                notional[o.client, default: 0] += UInt128(UInt64(o.leaves) * UInt64(o.price))
                if o.placement != .crossList { problems.append("order \(o.reference) in the cross list but not marked so") }
                if o.prev != prev { problems.append("order \(o.reference): broken prev link in the cross list") }
                if o.instrument != InstrumentIndex(instrument) { problems.append("order \(o.reference): in another instrument's cross list") }
                if o.leaves == 0 { problems.append("order \(o.reference): waits with zero shares") }
                if tokens.liveOrder(client: o.client, token: o.token, orders: orders) != i {
                    problems.append("order \(o.reference): token \(o.token) does not map back to it")
                }
                prev = i
                i = o.next
            }
            if book.pointee.crossTail != prev { problems.append("\(book.pointee.symbol): cross list tail is not the last order") }
        }
        if restingSeen != Int(counters.restingOrders) {
            problems.append("resting count \(counters.restingOrders) != orders in books \(restingSeen)")
        }
        for client in 0..<Int(maxClients) {
            var count = 0
            var i = accounts[client].head
            while i != nullOrder && count <= restingSeen {
                if orders[Int(i)].client != ClientID(client) { problems.append("client \(client): list holds another client's order") }
                count += 1
                i = clientLinks[Int(i)].next
            }
            if accounts[client].openNotional != notional[ClientID(client), default: 0] {
                problems.append("client \(client): open notional \(accounts[client].openNotional) != \(notional[ClientID(client), default: 0])")
            }
        }
        // With every resting order's token mapping back to it (checked above), an equal count
        // means the table holds nothing else.
        let live = tokens.live.count
        if live != restingSeen { problems.append("token table has \(live) live tokens for \(restingSeen) resting orders") }
        for position in 0..<expiries.count {
            let e = expiries.entries[position]
            if position > 0 && e.precedes(expiries.entries[(position - 1) / 2]) { problems.append("expiry heap out of order at \(position)") }
            if orders[Int(e.order)].expirySlot != UInt32(position + 1) || !orders[Int(e.order)].resting {
                problems.append("expiry entry \(position) does not match its order")
            }
        }
        var free = 0
        var i = freeHead
        while i != nullOrder && free <= layout.orderCapacity { free += 1; i = orders[Int(i)].next }
        if free + restingSeen != layout.orderCapacity - 1 {
            problems.append("pool leak: \(free) free + \(restingSeen) resting != \(layout.orderCapacity - 1) records")
        }
        return problems
    }
}
