/// A timed order's deadline. Heap order is (deadline, reference), so orders that expire
/// at the same nanosecond go in the order they were accepted.
@usableFromInline
struct ExpiryEntry {
    @usableFromInline var deadline: Timestamp
    @usableFromInline var reference: OrderReference
    @usableFromInline var order: OrderIndex

    @inline(__always) func precedes(_ other: ExpiryEntry) -> Bool {
        deadline != other.deadline ? deadline < other.deadline : reference < other.reference
    }
}

/// Indexed binary min-heap of deadlines. Each order remembers its heap position
/// (`OrderRecord.expirySlot`, position + 1), so an order that dies early is removed in
/// O(log n) instead of lingering; the heap never holds more entries than resting orders.
@usableFromInline
struct ExpiryQueue {
    @usableFromInline var entries: UnsafeMutablePointer<ExpiryEntry>
    @usableFromInline var count = 0

    init(entries: UnsafeMutablePointer<ExpiryEntry>) { self.entries = entries }

    @inline(__always) var earliest: ExpiryEntry? { count > 0 ? entries[0] : nil }

    mutating func push(_ entry: ExpiryEntry, orders: UnsafeMutablePointer<OrderRecord>) {
        count += 1
        siftUp(entry, from: count - 1, orders: orders)
    }

    /// Removes the order's entry. Precondition: `orders[order].expirySlot != 0`.
    mutating func remove(order: OrderIndex, orders: UnsafeMutablePointer<OrderRecord>) {
        let position = Int(orders[Int(order)].expirySlot) - 1
        orders[Int(order)].expirySlot = 0
        count -= 1
        if position == count { return }
        let last = entries[count]
        if position > 0 && last.precedes(entries[(position - 1) / 2]) {
            siftUp(last, from: position, orders: orders)
        } else {
            siftDown(last, from: position, orders: orders)
        }
    }

    private mutating func siftUp(_ entry: ExpiryEntry, from start: Int, orders: UnsafeMutablePointer<OrderRecord>) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard entry.precedes(entries[parent]) else { break }
            place(entries[parent], at: i, orders: orders)
            i = parent
        }
        place(entry, at: i, orders: orders)
    }

    private mutating func siftDown(_ entry: ExpiryEntry, from start: Int, orders: UnsafeMutablePointer<OrderRecord>) {
        var i = start
        while true {
            var child = 2 * i + 1
            if child >= count { break }
            if child + 1 < count && entries[child + 1].precedes(entries[child]) { child += 1 }
            guard entries[child].precedes(entry) else { break }
            place(entries[child], at: i, orders: orders)
            i = child
        }
        place(entry, at: i, orders: orders)
    }

    @inline(__always)
    private mutating func place(_ entry: ExpiryEntry, at i: Int, orders: UnsafeMutablePointer<OrderRecord>) {
        entries[i] = entry
        orders[Int(entry.order)].expirySlot = UInt32(i + 1)
    }
}
