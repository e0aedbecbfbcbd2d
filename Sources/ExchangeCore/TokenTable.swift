/// A token that is no longer live, remembered for duplicate detection.
@usableFromInline
struct RetiredToken {
    @usableFromInline var token: OrderToken
    @usableFromInline var client: ClientID
}

/// (client, token) → order, plus the retired-token history (docs/MATCHING.md §Tokens).
///
/// Open addressing with linear probing and backward-shift deletion, so there are no
/// tombstones and probe lengths stay short at the fixed load factor ≤ 1/2. A slot is one
/// `UInt64`: the high half is a 32-bit hash tag (bit 31 set, so 0 means empty; its low
/// bits are the home slot), the low half is the value — a live order's pool index, or
/// `retiredBit | history slot`. Keys are not stored in the table: a tag match is
/// confirmed against the order record or the history entry.
///
/// The history is a FIFO ring of the last `historyCapacity` retirements. When it is full,
/// retiring a token first evicts the oldest one from the table.
@usableFromInline
struct TokenTable {
    @usableFromInline var slots: UnsafeMutablePointer<UInt64>
    @usableFromInline let mask: UInt32
    @usableFromInline var history: UnsafeMutablePointer<RetiredToken>
    @usableFromInline let historyCapacity: UInt32
    @usableFromInline var historyOldest: UInt32 = 0
    @usableFromInline var historyCount: UInt32 = 0

    @usableFromInline static let retiredBit: UInt32 = 0x8000_0000

    init(slots: UnsafeMutablePointer<UInt64>, slotCount: Int, history: UnsafeMutablePointer<RetiredToken>, historyCapacity: Int) {
        self.slots = slots
        self.mask = UInt32(slotCount - 1)
        self.history = history
        self.historyCapacity = UInt32(historyCapacity)
    }

    @inline(__always)
    static func tag(client: ClientID, token: OrderToken) -> UInt32 {
        var h = token.high &* 0x9E37_79B9_7F4A_7C15
        h ^= token.low
        h ^= UInt64(client) &* 0xC2B2_AE3D_27D4_EB4F
        h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        return UInt32(truncatingIfNeeded: h) | 0x8000_0000
    }

    /// Result of a probe: the value found (order index or retired marker), or where to insert.
    @usableFromInline
    struct Probe {
        @usableFromInline var slot: UInt32
        @usableFromInline var value: UInt32?
    }

    @inline(__always)
    func probe(client: ClientID, token: OrderToken, orders: UnsafeMutablePointer<OrderRecord>) -> Probe {
        let tag = TokenTable.tag(client: client, token: token)
        var i = tag & mask
        while true {
            let s = slots[Int(i)]
            if s == 0 { return Probe(slot: i, value: nil) }
            if UInt32(truncatingIfNeeded: s >> 32) == tag {
                let value = UInt32(truncatingIfNeeded: s)
                if value & TokenTable.retiredBit != 0 {
                    let r = history[Int(value & ~TokenTable.retiredBit)]
                    if r.client == client && r.token == token { return Probe(slot: i, value: value) }
                } else {
                    let o = orders[Int(value)]
                    if o.client == client && o.token == token { return Probe(slot: i, value: value) }
                }
            }
            i = (i &+ 1) & mask
        }
    }

    /// The live order holding this token, if any.
    @inline(__always)
    func liveOrder(client: ClientID, token: OrderToken, orders: UnsafeMutablePointer<OrderRecord>) -> OrderIndex? {
        guard let v = probe(client: client, token: token, orders: orders).value, v & TokenTable.retiredBit == 0 else { return nil }
        return v
    }

    /// Whether the token is live or remembered for this client.
    @inline(__always)
    func isKnown(client: ClientID, token: OrderToken, orders: UnsafeMutablePointer<OrderRecord>) -> Bool {
        probe(client: client, token: token, orders: orders).value != nil
    }

    /// Registers a live token. Precondition: not known (callers check `isKnown` first).
    @inline(__always)
    mutating func insert(client: ClientID, token: OrderToken, order: OrderIndex, orders: UnsafeMutablePointer<OrderRecord>) {
        let p = probe(client: client, token: token, orders: orders)
        let tag = TokenTable.tag(client: client, token: token)
        slots[Int(p.slot)] = UInt64(tag) << 32 | UInt64(order)
    }

    /// The order holding `order`'s token died: move the token to the history (or drop it).
    @inline(__always)
    mutating func retire(order: OrderIndex, orders: UnsafeMutablePointer<OrderRecord>) {
        let record = orders[Int(order)]
        if historyCapacity == 0 {
            deleteSlot(findSlot(tag: TokenTable.tag(client: record.client, token: record.token), value: order))
            return
        }
        if historyCount == historyCapacity {
            // Evict the oldest retirement first: deleting shifts slots, so find ours after.
            let oldest = history[Int(historyOldest)]
            let tag = TokenTable.tag(client: oldest.client, token: oldest.token)
            deleteSlot(findSlot(tag: tag, value: TokenTable.retiredBit | historyOldest))
            historyOldest = historyOldest &+ 1 == historyCapacity ? 0 : historyOldest &+ 1
            historyCount &-= 1
        }
        var at = historyOldest &+ historyCount
        if at >= historyCapacity { at &-= historyCapacity }
        history[Int(at)] = RetiredToken(token: record.token, client: record.client)
        historyCount &+= 1
        let tag = TokenTable.tag(client: record.client, token: record.token)
        let slot = findSlot(tag: tag, value: order)
        slots[Int(slot)] = UInt64(tag) << 32 | UInt64(TokenTable.retiredBit | at)
    }

    @inline(__always)
    private func findSlot(tag: UInt32, value: UInt32) -> UInt32 {
        let wanted = UInt64(tag) << 32 | UInt64(value)
        var i = tag & mask
        while slots[Int(i)] != wanted { i = (i &+ 1) & mask }
        return i
    }

    /// Empties `slot` and shifts later entries of the probe run back into the hole.
    private mutating func deleteSlot(_ slot: UInt32) {
        var hole = slot
        var j = slot
        while true {
            j = (j &+ 1) & mask
            let s = slots[Int(j)]
            if s == 0 { break }
            let home = UInt32(truncatingIfNeeded: s >> 32) & mask
            if (j &- home) & mask >= (j &- hole) & mask {
                slots[Int(hole)] = s
                hole = j
            }
        }
        slots[Int(hole)] = 0
    }

    /// Number of occupied slots (for invariant checks; O(capacity)).
    func occupiedSlots() -> (live: Int, retired: Int) {
        var live = 0
        var retired = 0
        for i in 0...Int(mask) where slots[i] != 0 {
            if UInt32(truncatingIfNeeded: slots[i]) & TokenTable.retiredBit != 0 { retired += 1 } else { live += 1 }
        }
        return (live, retired)
    }
}
