/// Open-addressing slots keyed by a 32-bit hash tag: linear probing, backward-shift
/// deletion (no tombstones). A slot is one `UInt64`: the tag in the high half (bit 31 set,
/// so 0 means empty; its low bits are the home slot), a value in the low half. Keys are
/// not stored: the owner confirms a tag match against wherever the key lives.
///
/// The slots in use grow with the live entries, not with the space reserved: the table
/// starts at `initialSlots` (or the reservation, if smaller) and doubles in place when it
/// would pass a load factor of 1/2, up to `capacity`. So the lines a lookup touches are those
/// of a table sized for the orders live so far today (issue 16: a table sized for a 1 M pool
/// is 16 MB and every lookup a cold miss, whatever the number of live orders). Growing costs
/// one pass over the entries (into `scratch`) and happens log₂(capacity / initialSlots) times
/// at most; the table never shrinks, so a day pays each doubling once.
@usableFromInline
struct TokenSlots {
    @usableFromInline let slots: UnsafeMutablePointer<UInt64>
    /// Slots in use − 1 (a power of two − 1).
    @usableFromInline var mask: UInt32
    /// Occupied slots.
    @usableFromInline var count = 0
    /// Slots reserved (a power of two): the table never uses more.
    @usableFromInline let capacity: Int
    /// Room for the entries while the table doubles: `capacity / 4` entries.
    let scratch: UnsafeMutablePointer<UInt64>

    /// Slots a new table uses: 4,096 (32 KiB), or fewer when fewer are reserved.
    static let initialSlots = 4_096

    /// Over `count` zeroed slots (a power of two) and `count / 4` of scratch.
    init(slots: UnsafeMutablePointer<UInt64>, count: Int, scratch: UnsafeMutablePointer<UInt64>) {
        self.slots = slots
        self.capacity = count
        self.scratch = scratch
        mask = UInt32(min(count, TokenSlots.initialSlots) - 1)
    }

    /// Slots in use.
    var size: Int { Int(mask) + 1 }

    /// Whether one more entry would pass a load factor of 1/2 while the table can still grow.
    @inline(__always) var mustGrowBeforeInsert: Bool {
        count >= (Int(mask) + 1) / 2 && Int(mask) + 1 < capacity
    }

    /// Doubles the slots in use, rehashing every entry. Slots beyond the ones in use are zero
    /// (the region starts zeroed and the table only grows), so the new half is empty.
    /// Invalidates slot numbers held from before.
    @inline(never)
    mutating func grow() {
        let old = Int(mask) + 1
        var n = 0
        for i in 0..<old where slots[i] != 0 {
            scratch[n] = slots[i]
            n &+= 1
        }
        slots.update(repeating: 0, count: old)
        mask = UInt32(2 * old - 1)
        for k in 0..<n {
            let s = scratch[k]
            var i = TokenSlots.tag(s) & mask
            while slots[Int(i)] != 0 { i = (i &+ 1) & mask }
            slots[Int(i)] = s
        }
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
/// Reserved for the whole pool at a load factor of at most 1/2, but it uses only as many
/// slots as the live orders need so far (`TokenSlots`), so with a few thousand live orders
/// its lines stay in cache whatever the pool; with many, the agent prefetches them a few
/// commands ahead (`MatchingEngine.prefetch`).
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
        if _slowPath(live.mustGrowBeforeInsert) { live.grow() }
        var i = tag & live.mask
        while live.entry(i) != 0 { i = (i &+ 1) & live.mask }
        live.store(tag: tag, value: order, at: i)
    }

    /// Registers a token in place of one just deleted (a replace): the count is back where it
    /// was, so the table need not grow.
    @inline(__always)
    mutating func insertAfterDelete(tag: UInt32, order: OrderIndex) {
        var i = tag & live.mask
        while live.entry(i) != 0 { i = (i &+ 1) & live.mask }
        live.store(tag: tag, value: order, at: i)
    }

    /// Registers a live token at the slot a `probe` found free (valid only if nothing changed
    /// the table since), unless the table must grow first: then wherever it goes after.
    @inline(__always)
    mutating func insert(tag: UInt32, order: OrderIndex, probedSlot: UInt32) {
        if _slowPath(live.mustGrowBeforeInsert) {
            insert(tag: tag, order: order)
        } else {
            live.store(tag: tag, value: order, at: probedSlot)
        }
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
