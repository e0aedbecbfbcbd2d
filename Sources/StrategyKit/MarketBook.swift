import ExchangeCore

/// What the feed told a strategy: the top of a book changed, or a trade printed.
public enum FeedEvent: Equatable, Sendable, BitwiseCopyable {
    case book(instrument: Int)
    case trade(instrument: Int, price: Price, shares: Shares)
}

/// The top of every book, rebuilt from ITCH 5.0 messages without allocating: an order table
/// (open addressing, fixed capacity) and per instrument and side a ladder of shares per tick
/// around the reference price, all allocated at the start. `apply` takes one message's bytes
/// (type byte first) and says what changed.
public struct MarketBook: ~Copyable {
    public struct Quote: Equatable, Sendable, BitwiseCopyable {
        public var bid: Price = 0
        public var bidShares: UInt64 = 0
        public var ask: Price = 0
        public var askShares: UInt64 = 0
        public var lastTrade: Price = 0
        public var trades: UInt64 = 0
        public var hasBid: Bool { bidShares > 0 }
        public var hasAsk: Bool { askShares > 0 }
        /// The mid price, or the side there is, or the last trade (0: nothing known).
        public var mid: Price {
            if hasBid && hasAsk { return bid / 2 + ask / 2 + (bid % 2 + ask % 2) / 2 }
            return hasBid ? bid : hasAsk ? ask : lastTrade
        }
    }

    struct Order { var key: UInt64; var instrument: Int32; var bid: Bool; var price: Price; var shares: Shares }

    public let instruments: [InstrumentSpec]
    public let ticksPerSide: Int
    let base: [Price]
    let ticks: [Price]
    /// Ladders: instrument i, side s (0 bid, 1 ask): shares at base + k*tick, k in 0..<ticksPerSide.
    let ladder: UnsafeMutablePointer<UInt64>
    let table: UnsafeMutablePointer<Order>
    let mask: Int
    public private(set) var quotes: UnsafeMutablePointer<Quote>
    public private(set) var orderCount = 0
    /// Messages that did not fit (an order table full, a price off the ladder, an unknown reference).
    public private(set) var misses: UInt64 = 0

    public init(instruments: [InstrumentSpec], orderCapacity: Int = 1 << 16, ticksPerSide: Int = 1 << 16) {
        self.instruments = instruments
        self.ticksPerSide = ticksPerSide
        ticks = instruments.map { max($0.tickSize, 1) }
        base = instruments.map { spec in
            let tick = max(spec.tickSize, 1)
            let half = Price(ticksPerSide / 2) * tick
            return spec.referencePrice > half ? (spec.referencePrice - half) / tick * tick : 0
        }
        ladder = .allocate(capacity: instruments.count * 2 * ticksPerSide)
        ladder.initialize(repeating: 0, count: instruments.count * 2 * ticksPerSide)
        var size = 1
        while size < orderCapacity * 2 { size <<= 1 }
        mask = size - 1
        table = .allocate(capacity: size)
        table.initialize(repeating: Order(key: 0, instrument: 0, bid: true, price: 0, shares: 0), count: size)
        quotes = .allocate(capacity: max(instruments.count, 1))
        quotes.initialize(repeating: Quote(), count: max(instruments.count, 1))
    }

    deinit {
        ladder.deallocate()
        table.deallocate()
        quotes.deallocate()
    }

    public func quote(_ instrument: Int) -> Quote { quotes[instrument] }

    /// The best price on a side with `own` shares at `ownPrice` left out (a strategy's own
    /// quote): nil when nothing else is there. Scans the ladder from the touch; allocates nothing.
    public func best(_ i: Int, bid: Bool, ownPrice: Price, own: UInt64) -> Price? {
        let q = quotes[i]
        guard bid ? q.hasBid : q.hasAsk else { return nil }
        let top = bid ? q.bid : q.ask
        if top != ownPrice || (bid ? q.bidShares : q.askShares) > own { return top }
        guard let k = level(i, top) else { return nil }
        let row = ladder + (i * 2 + (bid ? 0 : 1)) * ticksPerSide
        var j = bid ? k - 1 : k + 1
        while j >= 0 && j < ticksPerSide {
            if row[j] > 0 { return base[i] + Price(j) * ticks[i] }
            j += bid ? -1 : 1
        }
        return nil
    }

    // MARK: Messages

    @inline(__always) static func u32(_ m: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(bigEndian: m.loadUnaligned(fromByteOffset: o, as: UInt32.self))
    }
    @inline(__always) static func u64(_ m: UnsafeRawBufferPointer, _ o: Int) -> UInt64 {
        UInt64(bigEndian: m.loadUnaligned(fromByteOffset: o, as: UInt64.self))
    }

    /// Applies one ITCH message; the event it makes, if any.
    public mutating func apply(_ m: UnsafeRawBufferPointer) -> FeedEvent? {
        guard m.count >= 11 else { return nil }
        let locate = Int(UInt16(m[1]) << 8 | UInt16(m[2]))
        switch m[0] {
        case UInt8(ascii: "A"), UInt8(ascii: "F"):
            guard m.count >= 36, locate >= 1, locate <= instruments.count else { return nil }
            let i = locate - 1
            add(Self.u64(m, 11), instrument: i, bid: m[19] == UInt8(ascii: "B"), shares: Self.u32(m, 20), price: Self.u32(m, 32))
            return .book(instrument: i)
        case UInt8(ascii: "E"):
            guard m.count >= 31 else { return nil }
            return execute(Self.u64(m, 11), shares: Self.u32(m, 19), price: nil)
        case UInt8(ascii: "C"):
            guard m.count >= 36 else { return nil }
            return execute(Self.u64(m, 11), shares: Self.u32(m, 19), price: Self.u32(m, 32))
        case UInt8(ascii: "X"):
            guard m.count >= 23, let i = reduce(Self.u64(m, 11), by: Self.u32(m, 19)) else { return nil }
            return .book(instrument: i)
        case UInt8(ascii: "D"):
            guard m.count >= 19, let i = reduce(Self.u64(m, 11), by: .max) else { return nil }
            return .book(instrument: i)
        case UInt8(ascii: "U"):
            guard m.count >= 35, let slot = find(Self.u64(m, 11)) else { return nil }
            let o = table[slot]
            _ = reduce(o.key &- 1, by: .max)  // the table keys references + 1 (0 marks a free slot)
            add(Self.u64(m, 19), instrument: Int(o.instrument), bid: o.bid, shares: Self.u32(m, 27), price: Self.u32(m, 31))
            return .book(instrument: Int(o.instrument))
        case UInt8(ascii: "P"):
            guard m.count >= 44, locate >= 1, locate <= instruments.count else { return nil }
            return trade(locate - 1, price: Self.u32(m, 32), shares: Self.u32(m, 20))
        default:
            return nil
        }
    }

    mutating func execute(_ reference: UInt64, shares: Shares, price: Price?) -> FeedEvent? {
        guard let slot = find(reference) else {
            misses += 1
            return nil
        }
        let o = table[slot]
        _ = reduce(reference, by: shares)
        return trade(Int(o.instrument), price: price ?? o.price, shares: shares)
    }

    mutating func trade(_ i: Int, price: Price, shares: Shares) -> FeedEvent {
        quotes[i].lastTrade = price
        quotes[i].trades &+= 1
        return .trade(instrument: i, price: price, shares: shares)
    }

    // MARK: The order table

    @inline(__always) func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask }

    func find(_ reference: UInt64) -> Int? {
        let key = reference &+ 1
        var s = home(key)
        while table[s].key != 0 {
            if table[s].key == key { return s }
            s = (s + 1) & mask
        }
        return nil
    }

    mutating func add(_ reference: UInt64, instrument i: Int, bid: Bool, shares: Shares, price: Price) {
        guard orderCount < (mask + 1) / 2, let k = level(i, price) else {
            misses += 1
            return
        }
        let key = reference &+ 1
        var s = home(key)
        while table[s].key != 0 { s = (s + 1) & mask }
        table[s] = Order(key: key, instrument: Int32(i), bid: bid, price: price, shares: shares)
        orderCount += 1
        ladder[(i * 2 + (bid ? 0 : 1)) * ticksPerSide + k] &+= UInt64(shares)
        var q = quotes[i]
        if bid {
            if !q.hasBid || price >= q.bid { q.bid = price; q.bidShares = ladder[(i * 2) * ticksPerSide + k] }
        } else {
            if !q.hasAsk || price <= q.ask { q.ask = price; q.askShares = ladder[(i * 2 + 1) * ticksPerSide + k] }
        }
        quotes[i] = q
    }

    /// Takes `shares` off an order (all of it with `.max`); the instrument, nil when unknown.
    mutating func reduce(_ reference: UInt64, by shares: Shares) -> Int? {
        guard let slot = find(reference) else {
            misses += 1
            return nil
        }
        var o = table[slot]
        let n = min(shares, o.shares)
        o.shares -= n
        let i = Int(o.instrument)
        let side = o.bid ? 0 : 1
        let k = level(i, o.price)!
        ladder[(i * 2 + side) * ticksPerSide + k] &-= UInt64(n)
        if o.shares == 0 { remove(slot) } else { table[slot] = o }
        refresh(i, bid: o.bid, changed: o.price)
        return i
    }

    /// Backward-shift deletion: no tombstones.
    mutating func remove(_ slot: Int) {
        var hole = slot
        var s = (slot + 1) & mask
        while table[s].key != 0 {
            let h = home(table[s].key)
            if (s > hole && (h <= hole || h > s)) || (s < hole && h <= hole && h > s) {
                table[hole] = table[s]
                hole = s
            }
            s = (s + 1) & mask
        }
        table[hole].key = 0
        orderCount -= 1
    }

    @inline(__always) func level(_ i: Int, _ price: Price) -> Int? {
        guard price >= base[i] else { return nil }
        let k = Int((price - base[i]) / ticks[i])
        return k < ticksPerSide ? k : nil
    }

    /// After shares left `changed` on a side: the best of that side again (a bounded scan
    /// of the ladder, only when the best level emptied).
    mutating func refresh(_ i: Int, bid: Bool, changed: Price) {
        var q = quotes[i]
        let row = ladder + (i * 2 + (bid ? 0 : 1)) * ticksPerSide
        guard let k = level(i, changed) else { return }
        if bid {
            guard q.hasBid && changed == q.bid else { return }
            var j = k
            while j >= 0 && row[j] == 0 { j -= 1 }
            if j >= 0 { q.bid = base[i] + Price(j) * ticks[i]; q.bidShares = row[j] } else { q.bid = 0; q.bidShares = 0 }
        } else {
            guard q.hasAsk && changed == q.ask else { return }
            var j = k
            while j < ticksPerSide && row[j] == 0 { j += 1 }
            if j < ticksPerSide { q.ask = base[i] + Price(j) * ticks[i]; q.askShares = row[j] } else { q.ask = 0; q.askShares = 0 }
        }
        quotes[i] = q
    }
}
