import ExchangeCore

/// One resting order as the replica holds it.
public struct ReplicaOrder: Equatable, Sendable {
    public var reference: OrderReference
    public var shares: Shares
    public var price: Price
    public var attribution: Firm?

    public init(reference: OrderReference, shares: Shares, price: Price, attribution: Firm?) {
        self.reference = reference
        self.shares = shares
        self.price = price
        self.attribution = attribution
    }
}

extension BookReplica {
    /// Calls `body` with every order of one side in priority order: best price first, then
    /// oldest first. Sorts the side's levels in place in preallocated scratch (a heap sort):
    /// allocates nothing. `body` must not change the replica.
    @inlinable
    public func forEachOrder(instrument: InstrumentIndex, side: BookSide, _ body: (ReplicaOrder) -> Void) {
        let n = sortedLevels(instrument: instrument, side: side)
        for i in 0..<n {
            var o = levels[Int(scratch[i])].head
            while o != Self.none {
                let order = orders[Int(o)]
                body(ReplicaOrder(reference: order.reference, shares: order.shares, price: order.price,
                                  attribution: order.attribution == 0 ? nil : Firm(rawValue: order.attribution)))
                o = order.next
            }
        }
    }

    /// A resting order's instrument, side, price and shares left; nil when it is not on the
    /// book. What a receiver reads to price an `E` execution before applying it.
    @inlinable
    public func restingOrder(_ reference: OrderReference) -> (instrument: InstrumentIndex, side: BookSide, price: Price, shares: Shares)? {
        guard let o = findOrder(reference) else { return nil }
        let order = orders[Int(o)]
        let key = levels[Int(order.level)].key  // 1 << 63 | instrument << 33 | side << 32 | price
        return (InstrumentIndex(truncatingIfNeeded: key >> 33), (key >> 32) & 1 == 0 ? .bid : .ask,
                order.price, order.shares)
    }

    /// Aggregated levels of one side, best first (for receivers and tests: allocates).
    public func depth(instrument: InstrumentIndex, side: BookSide) -> [DepthLevel] {
        let n = sortedLevels(instrument: instrument, side: side)
        return (0..<n).map { i in
            let level = levels[Int(scratch[i])]
            return DepthLevel(price: Price(truncatingIfNeeded: level.key), shares: level.shares, orders: Int(level.orders))
        }
    }

    /// Orders of one side in priority order (for tests: allocates).
    public func restingOrders(instrument: InstrumentIndex, side: BookSide) -> [ReplicaOrder] {
        var result: [ReplicaOrder] = []
        forEachOrder(instrument: instrument, side: side) { result.append($0) }
        return result
    }

    /// Puts the side's levels into `scratch`, best first; returns how many.
    @inlinable
    func sortedLevels(instrument: InstrumentIndex, side: BookSide) -> Int {
        guard Int(instrument) < instrumentCount else { return 0 }
        let list = Int(instrument) &* 2 &+ Int(side.rawValue)
        let levels = self.levels, scratch = self.scratch
        var n = 0
        var level = sideHeads[list]
        while level != BookReplica.none {
            scratch[n] = level
            n &+= 1
            level = levels[Int(level)].next
        }
        // Heap sort, worst price at the root of a max-heap of "worse-ness", so that
        // the array ends best first.
        let bids = side == .bid
        func worse(_ a: UInt32, _ b: UInt32) -> Bool {
            let pa = UInt32(truncatingIfNeeded: levels[Int(a)].key), pb = UInt32(truncatingIfNeeded: levels[Int(b)].key)
            return bids ? pa < pb : pa > pb
        }
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while true {
                var child = 2 &* root &+ 1
                if child >= end { return }
                if child &+ 1 < end && worse(scratch[child &+ 1], scratch[child]) { child &+= 1 }
                if !worse(scratch[child], scratch[root]) { return }
                let t = scratch[root]; scratch[root] = scratch[child]; scratch[child] = t
                root = child
            }
        }
        if n > 1 {
            var start = n / 2 - 1
            while start >= 0 { siftDown(start, n); start -= 1 }
            var end = n - 1
            while end > 0 {
                let t = scratch[0]; scratch[0] = scratch[end]; scratch[end] = t
                siftDown(0, end)
                end -= 1
            }
        }
        return n
    }
}
