import ExchangeCore

extension BookReplica {
    /// Continues `cursor`'s walk: calls `body` with each order, in snapshot order (instruments
    /// in index order, bids then asks, best price first, then oldest first), doing at most
    /// `budget` units of work — an order visited, a level listed, one heap step (a sift-down
    /// or the removal of a level), a side passed — and returns the units used (less than
    /// `budget` only when the walk is finished). The side's levels are ordered by an
    /// incremental heap sort in the preallocated scratch, so a side with many levels costs
    /// many bounded steps, never one long one; allocates nothing. The replica must not change
    /// while a walk is under way (the scratch and the lists are the walk's).
    @inlinable
    public func walkOrders(_ cursor: inout ReplicaCursor, budget: Int,
                           _ body: (InstrumentIndex, BookSide, ReplicaOrder) -> Void) -> Int {
        var used = 0
        let levels = self.levels, scratch = self.scratch, orders = self.orders
        while used < budget {
            if cursor.stage == .done { return used }
            if cursor.instrument >= instrumentCount {
                cursor.stage = .done
                return used
            }
            let bids = cursor.side == 0
            // Max-heap of "better": the best level at the root.
            func better(_ a: UInt32, _ b: UInt32) -> Bool {
                let pa = UInt32(truncatingIfNeeded: levels[Int(a)].key), pb = UInt32(truncatingIfNeeded: levels[Int(b)].key)
                return bids ? pa > pb : pa < pb
            }
            func siftDown(_ start: Int, _ end: Int) {
                var root = start
                while true {
                    var child = 2 &* root &+ 1
                    if child >= end { return }
                    if child &+ 1 < end && better(scratch[child &+ 1], scratch[child]) { child &+= 1 }
                    if !better(scratch[child], scratch[root]) { return }
                    let t = scratch[root]; scratch[root] = scratch[child]; scratch[child] = t
                    root = child
                }
            }
            switch cursor.stage {
            case .collect:
                if !cursor.started {
                    cursor.started = true
                    cursor.level = sideHeads[cursor.instrument &* 2 &+ cursor.side]
                    cursor.count = 0
                }
                while used < budget && cursor.level != Self.none {
                    scratch[cursor.count] = cursor.level
                    cursor.count &+= 1
                    cursor.level = levels[Int(cursor.level)].next
                    used &+= 1
                }
                if cursor.level == Self.none {
                    cursor.stage = .heapify
                    cursor.heapify = cursor.count / 2
                }
            case .heapify:
                while used < budget && cursor.heapify > 0 {
                    cursor.heapify &-= 1
                    siftDown(cursor.heapify, cursor.count)
                    used &+= 1
                }
                if cursor.heapify == 0 {
                    cursor.stage = .drain
                    cursor.order = Self.none
                }
            case .drain:
                if cursor.order == Self.none {
                    used &+= 1
                    if cursor.count == 0 {
                        // The side is done: the next one.
                        cursor.side &+= 1
                        if cursor.side == 2 {
                            cursor.side = 0
                            cursor.instrument &+= 1
                        }
                        cursor.stage = .collect
                        cursor.started = false
                        continue
                    }
                    let top = scratch[0]
                    cursor.count &-= 1
                    scratch[0] = scratch[cursor.count]
                    siftDown(0, cursor.count)
                    cursor.order = levels[Int(top)].head
                }
                let instrument = InstrumentIndex(truncatingIfNeeded: cursor.instrument)
                let side: BookSide = bids ? .bid : .ask
                while used < budget && cursor.order != Self.none {
                    let order = orders[Int(cursor.order)]
                    body(instrument, side, ReplicaOrder(reference: order.reference, shares: order.shares, price: order.price,
                                                        attribution: order.attribution == 0 ? nil : Firm(rawValue: order.attribution)))
                    cursor.order = order.next
                    used &+= 1
                }
            case .done:
                return used
            }
        }
        return used
    }

    /// Makes this replica an exact copy of `other` (same instrument count and capacity): every
    /// order, level, table and flag, copied as memory. O(capacity); the snapshot service uses
    /// it only to recover its own copy after it fell behind the re-request history.
    public mutating func copy(from other: borrowing BookReplica) {
        precondition(instrumentCount == other.instrumentCount && orderCapacity == other.orderCapacity, "replica shapes differ")
        orders.update(from: other.orders, count: orderCapacity)
        levels.update(from: other.levels, count: orderCapacity)
        orderKeys.update(from: other.orderKeys, count: orderMask + 1)
        orderSlots.update(from: other.orderSlots, count: orderMask + 1)
        levelKeys.update(from: other.levelKeys, count: levelMask + 1)
        levelSlots.update(from: other.levelSlots, count: levelMask + 1)
        sideHeads.update(from: other.sideHeads, count: instrumentCount * 2)
        haltedFlags.update(from: other.haltedFlags, count: instrumentCount)
        tradingStates.update(from: other.tradingStates, count: instrumentCount)
        tradingReasons.update(from: other.tradingReasons, count: instrumentCount)
        freeOrder = other.freeOrder
        freeLevel = other.freeLevel
        storedOrderCount = other.storedOrderCount
        storedLevelCount = other.storedLevelCount
    }
}
