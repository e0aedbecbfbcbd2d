import CCPUHints
import ExchangeCore
import ExchangeWire

/// Every displayed order of every book, rebuilt from the published ITCH messages: what the
/// snapshot service sends a late joiner, and what a receiver keeps to follow the feed.
///
/// Storage is allocated once, for `orderCapacity` orders (and as many price levels):
/// an order pool and a level pool, each with a free list, and two open-addressing hash
/// tables (linear probing, backward-shift deletion) — order reference → order, and
/// (instrument, side, price) → level. Within a level orders are a FIFO list (priority
/// order); each (instrument, side) keeps an unsorted list of its levels, sorted only when a
/// snapshot or a depth is asked for (`BookReplica+Views.swift`). Applying a message
/// allocates nothing and costs a hash probe or two.
///
/// Priority on Order Replace: ITCH cannot say whether a replaced order kept its place. This
/// replica follows the engine's rule (docs/MATCHING.md): a replacement at the same price
/// for no more shares keeps its place; any other goes to the back of its new level.
public struct BookReplica: ~Copyable, @unchecked Sendable {
    @usableFromInline static let none: UInt32 = .max

    @usableFromInline
    struct Order {
        @usableFromInline var reference: UInt64
        @usableFromInline var price: UInt32
        @usableFromInline var shares: UInt32
        @usableFromInline var level: UInt32
        @usableFromInline var previous: UInt32
        @usableFromInline var next: UInt32
        /// The MPID of an `F` Add Order, or 0.
        @usableFromInline var attribution: UInt32

        @usableFromInline
        init(reference: UInt64, price: UInt32, shares: UInt32, level: UInt32, previous: UInt32, next: UInt32, attribution: UInt32) {
            self.reference = reference
            self.price = price
            self.shares = shares
            self.level = level
            self.previous = previous
            self.next = next
            self.attribution = attribution
        }
    }

    @usableFromInline
    struct Level {
        @usableFromInline var key: UInt64
        @usableFromInline var shares: UInt64
        @usableFromInline var head: UInt32
        @usableFromInline var tail: UInt32
        @usableFromInline var orders: UInt32
        /// The (instrument, side) list of levels.
        @usableFromInline var previous: UInt32
        @usableFromInline var next: UInt32

        @usableFromInline
        init(key: UInt64, shares: UInt64, head: UInt32, tail: UInt32, orders: UInt32, previous: UInt32, next: UInt32) {
            self.key = key
            self.shares = shares
            self.head = head
            self.tail = tail
            self.orders = orders
            self.previous = previous
            self.next = next
        }
    }

    /// What applying a message did; anything but `applied` means the message and the
    /// replica disagree (a receiver that sees one has missed something).
    public enum Outcome: Equatable, Sendable, BitwiseCopyable {
        case applied
        /// A message that does not touch the books (system event, directory, trade).
        case ignored
        case unknownInstrument
        case duplicateReference
        case unknownReference
        /// An execution or cancel of more shares than the order has.
        case tooManyShares
        case full
    }

    public let instrumentCount: Int
    public let orderCapacity: Int
    @usableFromInline let orders: UnsafeMutablePointer<Order>
    @usableFromInline let levels: UnsafeMutablePointer<Level>
    @usableFromInline var freeOrder: UInt32
    @usableFromInline var freeLevel: UInt32
    /// Order table: reference (0 = empty) and order index.
    @usableFromInline let orderKeys: UnsafeMutablePointer<UInt64>
    @usableFromInline let orderSlots: UnsafeMutablePointer<UInt32>
    @usableFromInline let orderMask: Int
    /// Level table: key with the top bit set (0 = empty) and level index.
    @usableFromInline let levelKeys: UnsafeMutablePointer<UInt64>
    @usableFromInline let levelSlots: UnsafeMutablePointer<UInt32>
    @usableFromInline let levelMask: Int
    /// Per (instrument, side): first level of its list.
    @usableFromInline let sideHeads: UnsafeMutablePointer<UInt32>
    @usableFromInline let haltedFlags: UnsafeMutablePointer<Bool>
    /// Per instrument the last Trading Action's state letter (`T` at first) and reason: what a
    /// snapshot tells a late joiner (pre-open `Q`, a phase's or LULD pause's `H`, …).
    @usableFromInline let tradingStates: UnsafeMutablePointer<UInt8>
    @usableFromInline let tradingReasons: UnsafeMutablePointer<UInt32>
    /// Scratch for sorting one side's levels (views only).
    @usableFromInline let scratch: UnsafeMutablePointer<UInt32>
    @usableFromInline var storedOrderCount = 0
    @usableFromInline var storedLevelCount = 0
    /// Orders on the books.
    public var orderCount: Int { storedOrderCount }
    /// Price levels with at least one order.
    public var levelCount: Int { storedLevelCount }

    public init(instrumentCount: Int, orderCapacity: Int) {
        precondition(instrumentCount > 0 && instrumentCount <= Int(UInt16.max), "instrument count out of range")
        precondition(orderCapacity > 0 && orderCapacity < Int(UInt32.max / 4), "order capacity out of range")
        self.instrumentCount = instrumentCount
        self.orderCapacity = orderCapacity
        orders = .allocate(capacity: orderCapacity)
        levels = .allocate(capacity: orderCapacity)
        for i in 0..<orderCapacity {
            (orders + i).initialize(to: Order(reference: 0, price: 0, shares: 0, level: Self.none, previous: Self.none,
                                              next: i + 1 < orderCapacity ? UInt32(i + 1) : Self.none, attribution: 0))
            (levels + i).initialize(to: Level(key: 0, shares: 0, head: Self.none, tail: Self.none, orders: 0, previous: Self.none,
                                              next: i + 1 < orderCapacity ? UInt32(i + 1) : Self.none))
        }
        freeOrder = 0
        freeLevel = 0
        let tableSize = Self.tableSize(orderCapacity: orderCapacity)
        orderKeys = .filled(tableSize, with: 0)
        orderSlots = .filled(tableSize, with: 0)
        orderMask = tableSize - 1
        levelKeys = .filled(tableSize, with: 0)
        levelSlots = .filled(tableSize, with: 0)
        levelMask = tableSize - 1
        sideHeads = .filled(instrumentCount * 2, with: Self.none)
        haltedFlags = .filled(instrumentCount, with: false)
        tradingStates = .filled(instrumentCount, with: ITCH.TradingState.trading.rawValue)
        tradingReasons = .filled(instrumentCount, with: ITCH.Reason.none)
        scratch = .allocate(capacity: orderCapacity)
    }

    /// Slots of each hash table (orders by reference, levels by key): a power of two, at least
    /// twice the capacity, so that probes stay short.
    static func tableSize(orderCapacity: Int) -> Int {
        var tableSize = 16
        while tableSize < orderCapacity * 2 { tableSize <<= 1 }
        return tableSize
    }

    /// The heap bytes `init(instrumentCount:orderCapacity:)` allocates (for the exchange's
    /// memory plan, `--check`).
    public static func requiredBytes(instrumentCount: Int, orderCapacity: Int) -> Int {
        let tableSize = Self.tableSize(orderCapacity: orderCapacity)
        return orderCapacity * (MemoryLayout<Order>.stride + MemoryLayout<Level>.stride + MemoryLayout<UInt32>.stride)
            + 2 * tableSize * (MemoryLayout<UInt64>.stride + MemoryLayout<UInt32>.stride)
            + instrumentCount * (2 * MemoryLayout<UInt32>.stride + MemoryLayout<Bool>.stride
                                     + MemoryLayout<UInt8>.stride + MemoryLayout<UInt32>.stride)
    }

    deinit {
        orders.deallocate()
        levels.deallocate()
        orderKeys.deallocate()
        orderSlots.deallocate()
        levelKeys.deallocate()
        levelSlots.deallocate()
        sideHeads.deallocate()
        haltedFlags.deallocate()
        tradingStates.deallocate()
        tradingReasons.deallocate()
        scratch.deallocate()
    }

    // MARK: Book changes

    /// A displayed order comes to rest at the back of its level (`A`/`F`).
    @inlinable
    public mutating func add(instrument: InstrumentIndex, side: BookSide, reference: OrderReference, shares: Shares,
                             price: Price, attribution: Firm?) -> Outcome {
        guard Int(instrument) < instrumentCount else { return .unknownInstrument }
        guard reference != 0, findOrder(reference) == nil else { return .duplicateReference }
        guard freeOrder != Self.none else { return .full }
        let key = Self.levelKey(instrument: instrument, side: side, price: price)
        let level: UInt32
        if let found = findLevel(key) {
            level = found
        } else {
            guard freeLevel != Self.none else { return .full }
            level = newLevel(key: key, side: Int(instrument) &* 2 &+ Int(side.rawValue))
        }
        let index = freeOrder
        freeOrder = orders[Int(index)].next
        orders[Int(index)] = Order(reference: reference, price: price, shares: shares, level: Self.none, previous: Self.none,
                                   next: Self.none, attribution: attribution?.rawValue ?? 0)
        insertOrderKey(reference, index)
        append(index, to: level)
        storedOrderCount &+= 1
        return .applied
    }

    /// `E`/`C` (executed) and `X` (canceled): `shares` come off the order; at zero it leaves.
    @inlinable
    public mutating func reduce(reference: OrderReference, by shares: Shares) -> Outcome {
        guard let index = findOrder(reference) else { return .unknownReference }
        let leaves = orders[Int(index)].shares
        guard shares <= leaves else { return .tooManyShares }
        if shares == leaves {
            remove(index)
        } else {
            orders[Int(index)].shares = leaves &- shares
            levels[Int(orders[Int(index)].level)].shares &-= UInt64(shares)
        }
        return .applied
    }

    /// `D`.
    @inlinable
    public mutating func delete(reference: OrderReference) -> Outcome {
        guard let index = findOrder(reference) else { return .unknownReference }
        remove(index)
        return .applied
    }

    /// `U`: same side, instrument and attribution, a new reference, shares and price.
    @inlinable
    public mutating func replace(reference: OrderReference, with newReference: OrderReference, shares: Shares, price: Price) -> Outcome {
        guard let index = findOrder(reference) else { return .unknownReference }
        guard newReference != 0, newReference == reference || findOrder(newReference) == nil else { return .duplicateReference }
        let old = orders[Int(index)]
        if price == old.price && shares <= old.shares {
            // In place: keeps its place in the queue.
            removeOrderKey(reference)
            insertOrderKey(newReference, index)
            orders[Int(index)].reference = newReference
            orders[Int(index)].shares = shares
            levels[Int(old.level)].shares = levels[Int(old.level)].shares &- UInt64(old.shares) &+ UInt64(shares)
            return .applied
        }
        let key = levels[Int(old.level)].key
        let instrument = InstrumentIndex(truncatingIfNeeded: (key >> 33) & 0xFFFF)
        let side: BookSide = (key >> 32) & 1 == 0 ? .bid : .ask
        let attribution = old.attribution
        remove(index)
        return add(instrument: instrument, side: side, reference: newReference, shares: shares, price: price,
                   attribution: attribution == 0 ? nil : Firm(rawValue: attribution))
    }

    /// `H`.
    @inlinable
    public mutating func setHalted(instrument: InstrumentIndex, _ halted: Bool) -> Outcome {
        guard Int(instrument) < instrumentCount else { return .unknownInstrument }
        haltedFlags[Int(instrument)] = halted
        return .applied
    }

    /// Records the Trading Action last published for `instrument` (state letter and reason).
    @inlinable
    public mutating func setTradingState(instrument: InstrumentIndex, state: UInt8, reason: UInt32) -> Outcome {
        guard Int(instrument) < instrumentCount else { return .unknownInstrument }
        tradingStates[Int(instrument)] = state
        tradingReasons[Int(instrument)] = reason
        return .applied
    }

    /// Applies a decoded message (stock locate = instrument index + 1).
    @inlinable
    public mutating func apply(_ message: ITCHMessage) -> Outcome {
        switch message {
        case .addOrder(let m):
            guard m.locate > 0 else { return .unknownInstrument }
            return add(instrument: m.locate &- 1, side: m.side == ITCH.buy ? .bid : .ask, reference: m.reference,
                       shares: m.shares, price: m.price, attribution: m.attribution)
        case .orderExecuted(let m): return reduce(reference: m.reference, by: m.shares)
        case .orderExecutedWithPrice(let m): return reduce(reference: m.reference, by: m.shares)
        case .orderCancel(let m): return reduce(reference: m.reference, by: m.canceledShares)
        case .orderDelete(let m): return delete(reference: m.reference)
        case .orderReplace(let m): return replace(reference: m.originalReference, with: m.newReference, shares: m.shares, price: m.price)
        case .tradingAction(let m):
            guard m.locate > 0 else { return .unknownInstrument }
            _ = setTradingState(instrument: m.locate &- 1, state: m.state, reason: m.reason)
            return setHalted(instrument: m.locate &- 1, m.state == ITCH.TradingState.halted.rawValue)
        case .systemEvent, .stockDirectory, .trade, .crossTrade, .imbalance, .luldAuctionCollar: return .ignored
        }
    }

    /// Forgets every order (a receiver about to load a snapshot).
    public mutating func removeAll() {
        for side in 0..<(instrumentCount * 2) {
            while sideHeads[side] != Self.none {
                let level = sideHeads[side]
                while levels[Int(level)].head != Self.none { remove(levels[Int(level)].head) }
            }
        }
        for i in 0..<instrumentCount {
            haltedFlags[i] = false
            tradingStates[i] = ITCH.TradingState.trading.rawValue
            tradingReasons[i] = ITCH.Reason.none
        }
    }

    // MARK: Reading

    @inlinable public func isHalted(_ instrument: InstrumentIndex) -> Bool {
        Int(instrument) < instrumentCount && haltedFlags[Int(instrument)]
    }

    /// The last Trading Action's state letter and reason (`T` and blanks before any).
    @inlinable public func tradingState(_ instrument: InstrumentIndex) -> (state: UInt8, reason: UInt32) {
        guard Int(instrument) < instrumentCount else { return (ITCH.TradingState.trading.rawValue, ITCH.Reason.none) }
        return (tradingStates[Int(instrument)], tradingReasons[Int(instrument)])
    }

    /// Shares left on an order, nil when it is not on the book.
    @inlinable public func shares(of reference: OrderReference) -> Shares? {
        findOrder(reference).map { orders[Int($0)].shares }
    }

    // MARK: Internals

    @inlinable @inline(__always)
    static func levelKey(instrument: InstrumentIndex, side: BookSide, price: Price) -> UInt64 {
        1 << 63 | UInt64(instrument) << 33 | UInt64(side.rawValue) << 32 | UInt64(price)
    }

    @inlinable @inline(__always)
    static func hash(_ key: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Starts loading the order-table lines a message about `reference` will probe (the
    /// publisher calls it a few events ahead; it changes nothing).
    @inlinable @inline(__always)
    public func prefetch(reference: UInt64) {
        let i = Self.hash(reference, mask: orderMask)
        rtes_prefetch(orderKeys + i)
        rtes_prefetch(orderSlots + i)
    }

    /// Starts loading the level-table lines of (instrument, side, price).
    @inlinable @inline(__always)
    public func prefetchLevel(instrument: InstrumentIndex, side: BookSide, price: Price) {
        let i = Self.hash(Self.levelKey(instrument: instrument, side: side, price: price), mask: levelMask)
        rtes_prefetch(levelKeys + i)
        rtes_prefetch(levelSlots + i)
    }

    @inlinable
    func findOrder(_ reference: UInt64) -> UInt32? {
        var i = Self.hash(reference, mask: orderMask)
        while true {
            let k = orderKeys[i]
            if k == reference { return orderSlots[i] }
            if k == 0 { return nil }
            i = (i &+ 1) & orderMask
        }
    }

    @inlinable
    func findLevel(_ key: UInt64) -> UInt32? {
        var i = Self.hash(key, mask: levelMask)
        while true {
            let k = levelKeys[i]
            if k == key { return levelSlots[i] }
            if k == 0 { return nil }
            i = (i &+ 1) & levelMask
        }
    }

    @inlinable
    mutating func insertOrderKey(_ key: UInt64, _ value: UInt32) {
        Self.insert(key, value, keys: orderKeys, slots: orderSlots, mask: orderMask)
    }

    @inlinable
    mutating func removeOrderKey(_ key: UInt64) {
        Self.remove(key, keys: orderKeys, slots: orderSlots, mask: orderMask)
    }

    @inlinable
    static func insert(_ key: UInt64, _ value: UInt32, keys: UnsafeMutablePointer<UInt64>, slots: UnsafeMutablePointer<UInt32>, mask: Int) {
        var i = hash(key, mask: mask)
        while keys[i] != 0 { i = (i &+ 1) & mask }
        keys[i] = key
        slots[i] = value
    }

    /// Backward-shift deletion: later entries of the probe run move into the hole, so
    /// lookups never need tombstones.
    @inlinable
    static func remove(_ key: UInt64, keys: UnsafeMutablePointer<UInt64>, slots: UnsafeMutablePointer<UInt32>, mask: Int) {
        var i = hash(key, mask: mask)
        while keys[i] != key {
            if keys[i] == 0 { return }
            i = (i &+ 1) & mask
        }
        var hole = i
        var j = (i &+ 1) & mask
        while keys[j] != 0 {
            let home = hash(keys[j], mask: mask)
            // Move j into the hole unless its home lies cyclically in (hole, j].
            let distanceToHome = (j &- home) & mask
            let distanceToHole = (j &- hole) & mask
            if distanceToHome >= distanceToHole {
                keys[hole] = keys[j]
                slots[hole] = slots[j]
                hole = j
            }
            j = (j &+ 1) & mask
        }
        keys[hole] = 0
    }

    @inlinable
    mutating func newLevel(key: UInt64, side: Int) -> UInt32 {
        let level = freeLevel
        freeLevel = levels[Int(level)].next
        let head = sideHeads[side]
        levels[Int(level)] = Level(key: key, shares: 0, head: Self.none, tail: Self.none, orders: 0, previous: Self.none, next: head)
        if head != Self.none { levels[Int(head)].previous = level }
        sideHeads[side] = level
        Self.insert(key, level, keys: levelKeys, slots: levelSlots, mask: levelMask)
        storedLevelCount &+= 1
        return level
    }

    @inlinable
    mutating func append(_ index: UInt32, to level: UInt32) {
        let tail = levels[Int(level)].tail
        orders[Int(index)].level = level
        orders[Int(index)].previous = tail
        orders[Int(index)].next = Self.none
        if tail == Self.none { levels[Int(level)].head = index } else { orders[Int(tail)].next = index }
        levels[Int(level)].tail = index
        levels[Int(level)].orders &+= 1
        levels[Int(level)].shares &+= UInt64(orders[Int(index)].shares)
    }

    /// Takes an order off its level (freeing an emptied level) and out of the table.
    @inlinable
    mutating func remove(_ index: UInt32) {
        let o = orders[Int(index)]
        let level = o.level
        if o.previous == Self.none { levels[Int(level)].head = o.next } else { orders[Int(o.previous)].next = o.next }
        if o.next == Self.none { levels[Int(level)].tail = o.previous } else { orders[Int(o.next)].previous = o.previous }
        levels[Int(level)].orders &-= 1
        levels[Int(level)].shares &-= UInt64(o.shares)
        removeOrderKey(o.reference)
        orders[Int(index)].reference = 0
        orders[Int(index)].next = freeOrder
        freeOrder = index
        storedOrderCount &-= 1
        if levels[Int(level)].orders == 0 { freeLevelSlot(level) }
    }

    @inlinable
    mutating func freeLevelSlot(_ level: UInt32) {
        let l = levels[Int(level)]
        let side = Int((l.key >> 33) & 0xFFFF) &* 2 &+ Int((l.key >> 32) & 1)
        if l.previous == Self.none { sideHeads[side] = l.next } else { levels[Int(l.previous)].next = l.next }
        if l.next != Self.none { levels[Int(l.next)].previous = l.previous }
        Self.remove(l.key, keys: levelKeys, slots: levelSlots, mask: levelMask)
        levels[Int(level)].key = 0
        levels[Int(level)].next = freeLevel
        freeLevel = level
        storedLevelCount &-= 1
    }
}
