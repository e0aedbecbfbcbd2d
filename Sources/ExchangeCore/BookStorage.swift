// The records the engine keeps in its preallocated region. Layouts are fixed and checked
// by tests (BookStorageLayoutTests): an order is exactly one 64-byte cache line.

/// Pool index of an order record. 0 is the null index; records start at 1.
@usableFromInline typealias OrderIndex = UInt32
@usableFromInline let nullOrder: OrderIndex = 0

/// One order, one cache line. Everything matching reads sits in this line; the links of
/// the per-client list live in a parallel array (`ClientLink`) because only mass actions
/// and rest/removal touch them.
///
/// | offset | field | offset | field |
/// |---|---|---|---|
/// | 0 | reference u64 | 44 | firm u32 |
/// | 8 | token 16 B | 48 | level u32 (ladder index) |
/// | 24 | next u32 (level list) | 52 | expirySlot u32 (heap position + 1, 0 = none) |
/// | 28 | prev u32 | 56 | instrument u16 |
/// | 32 | leaves u32 | 58 | side, display, capacity u8 |
/// | 36 | price u32 | 61 | intermarketSweep, crossType u8 |
/// | 40 | client u32 | 63 | placement u8 (none, a ladder level, the cross list) |
@usableFromInline
struct OrderRecord {
    @usableFromInline var reference: OrderReference = 0
    @usableFromInline var token = OrderToken(high: 0, low: 0)
    @usableFromInline var next: OrderIndex = nullOrder
    @usableFromInline var prev: OrderIndex = nullOrder
    @usableFromInline var leaves: Shares = 0
    @usableFromInline var price: Price = 0
    @usableFromInline var client: ClientID = 0
    @usableFromInline var firm = Firm(rawValue: 0)
    @usableFromInline var level: UInt32 = 0
    @usableFromInline var expirySlot: UInt32 = 0
    @usableFromInline var instrument: InstrumentIndex = 0
    @usableFromInline var side: Side = .buy
    @usableFromInline var display: Display = .anonymous
    @usableFromInline var capacity: Capacity = .agency
    @usableFromInline var intermarketSweep: IntermarketSweep = .notEligible
    @usableFromInline var crossType: CrossType = .continuous
    @usableFromInline var placement: Placement = .none

    /// In the book: on a ladder level or in the instrument's cross list.
    @inlinable @inline(__always) var resting: Bool { placement != .none }
    /// On a ladder level and displayed: the feed knows the order's reference.
    @inlinable @inline(__always) var onFeed: Bool { placement == .ladder && display.isDisplayed }
}

/// Where a live order is kept.
@usableFromInline
enum Placement: UInt8 {
    /// Not in the book (the incoming order while it matches).
    case none = 0
    /// On its ladder level, in time priority.
    case ladder
    /// In its instrument's cross list, in arrival order, waiting for a cross: an order that
    /// would have crossed the ladder while nothing matches, a market order, or a cross-only
    /// order (docs/MATCHING.md §The trading day). Not on the ladder, not on the feed.
    case crossList
}

/// Links of the per-client list of resting orders, in the order they came to rest.
@usableFromInline
struct ClientLink {
    @usableFromInline var next: OrderIndex = nullOrder
    @usableFromInline var prev: OrderIndex = nullOrder
}

/// One price level: a FIFO of orders (intrusive, through `OrderRecord.next/prev`) and the
/// shares they hold. 16 bytes, four to a cache line.
@usableFromInline
struct PriceLevel {
    @usableFromInline var head: OrderIndex = nullOrder
    @usableFromInline var tail: OrderIndex = nullOrder
    @usableFromInline var shares: UInt64 = 0
}

/// Per-client accounting the core maintains (risk reads it). Open notional is kept in 128
/// bits: a client may rest enough shares at high enough prices to pass 2⁶⁴, and the sum
/// must stay exact so that removals subtract what additions added.
@usableFromInline
struct ClientAccount {
    @usableFromInline var openNotional: UInt128 = 0
    @usableFromInline var head: OrderIndex = nullOrder
    @usableFromInline var tail: OrderIndex = nullOrder
}

/// One instrument's book.
///
/// Price levels are a *ladder*: a flat array of `priceLevels` levels, one per tick, starting
/// at `baseTick` (centred on the reference price). Bids and asks share it — the book is
/// never locked or crossed, so a level only ever holds one side — and two occupancy
/// bitmaps say which levels hold bids and which asks.
///
/// Why a ladder: adding, cancelling and executing at a level is an array index, and the
/// next best level after one empties is three bit scans, all O(1) with no pointer chasing
/// and no rebalancing. A tree (what exchange-core and most textbook books use) costs
/// O(log levels) pointer hops per new level and allocates nodes. The price is memory
/// (16 bytes × levels per instrument, 1 MiB at 65,536 levels) and a bounded price range:
/// orders outside the ladder are rejected (`priceOutOfRange`), which for a $150 stock with
/// a 1-cent tick and 65,536 levels is everything from $0.01 to $477. Measured in
/// benchmarks/RESULTS.md.
@usableFromInline
struct InstrumentBook {
    @usableFromInline var levels: UnsafeMutablePointer<PriceLevel>
    var bids: OccupancyBitmap
    var asks: OccupancyBitmap
    @usableFromInline var symbol: Symbol
    @usableFromInline var baseTick: UInt32
    @usableFromInline var tickSize: Price
    @usableFromInline var lotSize: Shares
    @usableFromInline var tick: Divisor
    @usableFromInline var lot: Divisor
    @usableFromInline var referencePrice: Price
    @usableFromInline var lastTradePrice: Price = 0
    @usableFromInline var collarBasisPoints: UInt32
    @usableFromInline var halted = false
    /// The trading phase (docs/MATCHING.md §The trading day).
    @usableFromInline var phase = TradingPhase.continuous
    /// The cross list: orders waiting for a cross, oldest first (through `OrderRecord.next/prev`).
    @usableFromInline var crossHead: OrderIndex = nullOrder
    @usableFromInline var crossTail: OrderIndex = nullOrder
    /// The collar band around `currentReference`, kept current by `setLastTrade`.
    @usableFromInline var collarLower: Price = 0
    @usableFromInline var collarUpper: Price = 0
    // Limit up, limit down (MatchingEngine+LULD.swift): the bands around the reference as
    // of the last settled command, as prices and as ladder levels (possibly off the ladder).
    @usableFromInline var luldLower: Price = 0
    @usableFromInline var luldUpper: Price = 0
    @usableFromInline var luldLowerLevel: Int64 = 0
    @usableFromInline var luldUpperLevel: Int64 = 0
    @usableFromInline var limitState = LimitState.none
    /// When the limit state turns into a pause.
    @usableFromInline var limitStateDeadline: Timestamp = 0
    /// In an LULD pause (phase `halted`), which ends at `pauseEnd`.
    @usableFromInline var luldPaused = false
    @usableFromInline var pauseEnd: Timestamp = 0
    /// The pause's auction collar (its `J`) and how often the pause was extended.
    @usableFromInline var auctionReference: Price = 0
    @usableFromInline var auctionLower: Price = 0
    @usableFromInline var auctionUpper: Price = 0
    @usableFromInline var auctionExtensions: UInt32 = 0

    /// The collar's reference: the last trade, else the configured price.
    @inlinable @inline(__always) var currentReference: Price { lastTradePrice != 0 ? lastTradePrice : referencePrice }

    @inline(__always) func price(ofLevel level: UInt32) -> Price { (baseTick &+ level) &* tickSize }

    /// Records a trade price; the collar follows it (recomputed only when it moves).
    @inline(__always) mutating func setLastTrade(_ price: Price) {
        guard price != lastTradePrice else { return }
        lastTradePrice = price
        updateCollar()
    }

    /// The band around `currentReference` (`InstrumentSpec.collarBand`, docs/MATCHING.md).
    mutating func updateCollar() {
        (collarLower, collarUpper) = InstrumentSpec.collarBand(reference: currentReference, basisPoints: collarBasisPoints)
    }
}

/// Where each structure lives in the engine's region. Computed once from the
/// configuration; the runtime asks for `totalBytes` and places the region (hugepages,
/// NUMA node, mlock) before the engine starts.
public struct EngineLayout: Sendable {
    public struct Region: Sendable, Equatable {
        public var name: String
        public var offset: Int
        public var bytes: Int
    }

    public private(set) var regions: [Region] = []
    public private(set) var totalBytes = 0

    let orderCapacity: Int
    let liveTokenSlots: Int
    let symbolSlots: Int
    let bitmapWords: (words: Int, summary: Int)

    public init(_ configuration: EngineConfiguration) {
        let c = configuration
        // Record 0 is the null index; one extra record holds an incoming order while it
        // matches, so `orderPoolSize` orders can rest.
        orderCapacity = c.orderPoolSize + 2
        liveTokenSlots = TokenTable.slotCount(for: c.orderPoolSize + 1)
        var symbolSlots = 16
        while symbolSlots < 4 * c.instruments.count { symbolSlots <<= 1 }
        self.symbolSlots = symbolSlots
        bitmapWords = OccupancyBitmap.wordCounts(levels: c.priceLevels)

        let books = c.instruments.count
        reserve("engine_state", MemoryLayout<EngineState>.stride)
        reserve("orders", MemoryLayout<OrderRecord>.stride * orderCapacity)
        reserve("client_links", MemoryLayout<ClientLink>.stride * orderCapacity)
        reserve("price_levels", MemoryLayout<PriceLevel>.stride * c.priceLevels * books)
        reserve("bitmaps", 8 * 2 * (bitmapWords.words + bitmapWords.summary) * books)
        reserve("books", MemoryLayout<InstrumentBook>.stride * books)
        reserve("client_accounts", MemoryLayout<ClientAccount>.stride * c.maxClients)
        reserve("live_tokens", 8 * liveTokenSlots)
        // Where the token table's entries wait while it doubles (TokenSlots.grow): it doubles
        // at half load, so from at most half the reservation, a quarter of it in entries.
        reserve("token_scratch", 8 * max(1, liveTokenSlots / 4))
        reserve("expiry_heap", MemoryLayout<ExpiryEntry>.stride * orderCapacity)
        reserve("symbol_directory", 16 * symbolSlots)
        reserve("events", MemoryLayout<EngineEvent>.stride * c.eventBufferCapacity)
        reserve("reject_counters", 8 * RejectReason.counterSlots)
        // Scratch of a cross (MatchingEngine+Cross.swift): interest per ladder level for each
        // side, counts per level for sorting the cross list, and the orders of each side in
        // priority order.
        reserve("cross_volumes", 8 * 2 * c.priceLevels)
        reserve("cross_level_counts", 4 * (c.priceLevels + 1))
        reserve("cross_sorted", 4 * orderCapacity)
        reserve("cross_buys", 4 * orderCapacity)
        reserve("cross_sells", 4 * orderCapacity)
        // Instruments whose limit state must be looked at when the command ends, one bit each.
        reserve("luld_dirty", 8 * ((books + 63) / 64))
    }

    private mutating func reserve(_ name: String, _ bytes: Int) {
        let offset = (totalBytes + 127) & ~127
        regions.append(Region(name: name, offset: offset, bytes: bytes))
        totalBytes = (offset + bytes + 127) & ~127
    }

    func offset(_ name: String) -> Int { regions.first { $0.name == name }!.offset }
}
