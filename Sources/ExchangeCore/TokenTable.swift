/// Open-addressing slots keyed by a 32-bit hash tag: linear probing, backward-shift
/// deletion (no tombstones). A slot is one `UInt64`: the tag in the high half (bit 31 set,
/// so 0 means empty; its low bits are the home slot), a value in the low half. Keys are
/// not stored: the owner confirms a tag match against wherever the key lives.
@usableFromInline
struct TokenSlots {
    @usableFromInline let slots: UnsafeMutablePointer<UInt64>
    @usableFromInline let mask: UInt32
    /// Occupied slots.
    @usableFromInline var count = 0

    init(slots: UnsafeMutablePointer<UInt64>, count: Int) {
        self.slots = slots
        mask = UInt32(count - 1)
    }

    @inline(__always) func entry(_ slot: UInt32) -> UInt64 { slots[Int(slot)] }

    @inline(__always) static func value(_ entry: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: entry) }

    @inline(__always) static func tag(_ entry: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: entry >> 32) }

    /// Fills an empty slot.
    @inline(__always) mutating func store(tag: UInt32, value: UInt32, at slot: UInt32) {
        slots[Int(slot)] = UInt64(tag) << 32 | UInt64(value)
        count &+= 1
    }

    /// The slot holding exactly this tag and value. Precondition: present.
    @inline(__always) func slot(tag: UInt32, value: UInt32) -> UInt32 {
        let wanted = UInt64(tag) << 32 | UInt64(value)
        var i = tag & mask
        while slots[Int(i)] != wanted { i = (i &+ 1) & mask }
        return i
    }

    /// Empties `slot` and shifts later entries of its probe run back into the hole.
    mutating func delete(_ slot: UInt32) {
        var hole = slot
        var j = slot
        while true {
            j = (j &+ 1) & mask
            let s = slots[Int(j)]
            if s == 0 { break }
            let home = TokenSlots.tag(s) & mask
            if (j &- home) & mask >= (j &- hole) & mask {
                slots[Int(hole)] = s
                hole = j
            }
        }
        slots[Int(hole)] = 0
        count &-= 1
    }
}

/// (client, token) → live order (docs/MATCHING.md §Tokens).
///
/// Sized for the whole pool at a load factor of at most 1/2, so it is large and its lines
/// are cold: the agent prefetches them a few commands ahead (`MatchingEngine.prefetch`).
/// Only live tokens are kept. Remembering dead ones (tokens are day-unique for each
/// account) is the order-entry session's job: it costs two more random accesses per
/// retirement here, which measured at 40 % of the engine's throughput.
@usableFromInline
struct TokenTable {
    @usableFromInline var live: TokenSlots

    init(live: TokenSlots) { self.live = live }

    /// Slots a table needs for `entries` keys at a load factor of at most 1/2.
    static func slotCount(for entries: Int) -> Int {
        var slots = 64
        while slots < 2 * entries { slots <<= 1 }
        return slots
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

    /// Where a token is, or would go. `slot` is the token's slot when `order` is non-nil,
    /// else the empty slot that ends its probe run (valid until the table next changes).
    @usableFromInline
    struct Probe {
        @usableFromInline var tag: UInt32
        @usableFromInline var slot: UInt32
        @usableFromInline var order: OrderIndex?
    }

    @inline(__always)
    func probe(client: ClientID, token: OrderToken, orders: UnsafeMutablePointer<OrderRecord>) -> Probe {
        let tag = TokenTable.tag(client: client, token: token)
        var i = tag & live.mask
        while true {
            let s = live.entry(i)
            if s == 0 { return Probe(tag: tag, slot: i, order: nil) }
            if TokenSlots.tag(s) == tag {
                let order = TokenSlots.value(s)
                if orders[Int(order)].token == token && orders[Int(order)].client == client {
                    return Probe(tag: tag, slot: i, order: order)
                }
            }
            i = (i &+ 1) & live.mask
        }
    }

    /// The live order holding this token, if any.
    @inline(__always)
    func liveOrder(client: ClientID, token: OrderToken, orders: UnsafeMutablePointer<OrderRecord>) -> OrderIndex? {
        let tag = TokenTable.tag(client: client, token: token)
        var i = tag & live.mask
        while true {
            let s = live.entry(i)
            if s == 0 { return nil }
            if TokenSlots.tag(s) == tag {
                let order = TokenSlots.value(s)
                if orders[Int(order)].token == token && orders[Int(order)].client == client { return order }
            }
            i = (i &+ 1) & live.mask
        }
    }

    /// Registers a live token. Precondition: not live (callers check `liveOrder` first).
    @inline(__always)
    mutating func insert(client: ClientID, token: OrderToken, order: OrderIndex) {
        insert(tag: TokenTable.tag(client: client, token: token), order: order)
    }

    /// Registers a live token whose tag is known.
    @inline(__always)
    mutating func insert(tag: UInt32, order: OrderIndex) {
        var i = tag & live.mask
        while live.entry(i) != 0 { i = (i &+ 1) & live.mask }
        live.store(tag: tag, value: order, at: i)
    }

    /// The order died: its token is free again.
    @inline(__always)
    mutating func retire(order: OrderIndex, orders: UnsafeMutablePointer<OrderRecord>) {
        let record = orders[Int(order)]
        live.delete(live.slot(tag: TokenTable.tag(client: record.client, token: record.token), value: order))
    }

    /// Where a token's probe starts (for prefetching).
    @inline(__always)
    func slotAddress(client: ClientID, token: OrderToken) -> UnsafeMutablePointer<UInt64> {
        live.slots + Int(TokenTable.tag(client: client, token: token) & live.mask)
    }
}
