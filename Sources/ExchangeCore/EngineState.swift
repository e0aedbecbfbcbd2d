/// Everything the engine knows, placed at the start of its region. `MatchingEngine` is a
/// two-word handle to it: a value this size (about 600 bytes) passed to a call in
/// another module would be copied to the stack on every call.
@usableFromInline
struct EngineState: ~Copyable {
    let configuration: EngineConfiguration
    let layout: EngineLayout

    @usableFromInline var orders: UnsafeMutablePointer<OrderRecord>
    @usableFromInline var clientLinks: UnsafeMutablePointer<ClientLink>
    @usableFromInline var books: UnsafeMutablePointer<InstrumentBook>
    @usableFromInline var accounts: UnsafeMutablePointer<ClientAccount>
    @usableFromInline var tokens: TokenTable
    @usableFromInline var expiries: ExpiryQueue
    @usableFromInline var eventBuffer: EventBuffer
    @usableFromInline let symbols: SymbolDirectory
    @usableFromInline let rejectCounts: UnsafeMutablePointer<UInt64>
    // Scratch of a cross (MatchingEngine+Cross.swift), zero between crosses.
    let crossVolumes: UnsafeMutablePointer<UInt64>
    let crossLevelCounts: UnsafeMutablePointer<UInt32>
    let crossSorted: UnsafeMutablePointer<OrderIndex>
    let crossBuys: UnsafeMutablePointer<OrderIndex>
    let crossSells: UnsafeMutablePointer<OrderIndex>

    @usableFromInline var freeHead: OrderIndex = nullOrder
    @usableFromInline let maxClients: UInt32
    @usableFromInline let poolCapacity: UInt64
    @usableFromInline let priceLevels: UInt32
    /// Instruments configured (a phase command walks them without touching the array).
    @usableFromInline let bookCount: Int
    @usableFromInline let selfTradePrevention: SelfTradePrevention
    @usableFromInline let collarMarketOrders: Bool
    /// Limit up, limit down (MatchingEngine+LULD.swift): the rules, and whether they apply.
    @usableFromInline let luld: LULDRules
    @usableFromInline let luldEnabled: Bool
    /// Instruments whose best prices, reference or phase changed in this command (one bit
    /// each), and whether any bit is set.
    let luldDirty: UnsafeMutablePointer<UInt64>
    let luldDirtyWords: Int
    @usableFromInline var luldDirtyAny = false
    /// No limit state ends or pause ends before this (it may be earlier than the real next
    /// deadline: reaching it costs one scan of the instruments, which recomputes it).
    @usableFromInline var luldNextDeadline: Timestamp = .max
    /// The instrument the deadline scan is at.
    var luldCursor = 0

    /// Engine time: the largest command timestamp seen.
    @usableFromInline var now: Timestamp = 0
    /// Timestamp of the command in progress; events carry it.
    @usableFromInline var commandTimestamp: Timestamp = 0
    @usableFromInline var nextReference: OrderReference = 1
    @usableFromInline var nextMatchNumber: MatchNumber = 1
    @usableFromInline var job = Job.idle
    @usableFromInline var taker = TakerState()
    @usableFromInline var massCancel = MassCancelState()
    @usableFromInline var phaseJob = PhaseJob()
    /// A command whose expiry filled the event buffer before it could start (`resume` runs
    /// it). A flag beside a plain value rather than an optional: the flag is what every
    /// command reads, and the value is written only when a command suspends.
    @usableFromInline var pendingCommand = EngineCommand.advanceTime(0)
    @usableFromInline var hasPendingCommand = false
    var counters = EngineCounters()

    /// Lays the engine out over `region`, which is zeroed (every page touched now, so
    /// nothing faults in later).
    init(configuration c: EngineConfiguration, layout: EngineLayout, region: UnsafeMutableRawPointer) {
        self.configuration = c
        self.layout = layout

        func at<T>(_ name: String, _ type: T.Type) -> UnsafeMutablePointer<T> {
            (region + layout.offset(name)).assumingMemoryBound(to: T.self)
        }
        orders = at("orders", OrderRecord.self)
        orders.initialize(repeating: OrderRecord(), count: layout.orderCapacity)
        clientLinks = at("client_links", ClientLink.self)
        clientLinks.initialize(repeating: ClientLink(), count: layout.orderCapacity)
        accounts = at("client_accounts", ClientAccount.self)
        accounts.initialize(repeating: ClientAccount(), count: c.maxClients)
        tokens = TokenTable(live: TokenSlots(slots: at("live_tokens", UInt64.self), count: layout.liveTokenSlots,
                                                  scratch: at("token_scratch", UInt64.self)))
        expiries = ExpiryQueue(entries: at("expiry_heap", ExpiryEntry.self))
        eventBuffer = EventBuffer(storage: at("events", EngineEvent.self), capacity: c.eventBufferCapacity)
        symbols = SymbolDirectory(storage: region + layout.offset("symbol_directory"), slots: layout.symbolSlots, instruments: c.instruments)
        rejectCounts = at("reject_counters", UInt64.self)
        crossVolumes = at("cross_volumes", UInt64.self)
        crossLevelCounts = at("cross_level_counts", UInt32.self)
        crossSorted = at("cross_sorted", OrderIndex.self)
        crossBuys = at("cross_buys", OrderIndex.self)
        crossSells = at("cross_sells", OrderIndex.self)
        maxClients = UInt32(c.maxClients)
        poolCapacity = UInt64(c.orderPoolSize)
        priceLevels = UInt32(c.priceLevels)
        bookCount = c.instruments.count
        selfTradePrevention = c.selfTradePrevention
        collarMarketOrders = c.collarMarketOrders
        luld = c.luld ?? .nasdaq
        luldEnabled = c.luld != nil
        luldDirty = at("luld_dirty", UInt64.self)
        luldDirtyWords = (c.instruments.count + 63) / 64

        // Free list through `next`, lowest index first. Record 0 is the null index.
        for i in 1..<(layout.orderCapacity - 1) { orders[i].next = OrderIndex(i + 1) }
        freeHead = 1

        let levelsBase = at("price_levels", PriceLevel.self)
        levelsBase.initialize(repeating: PriceLevel(), count: c.priceLevels * c.instruments.count)
        let bitmapBase = at("bitmaps", UInt64.self)
        let (w, s) = layout.bitmapWords
        books = at("books", InstrumentBook.self)
        for (i, spec) in c.instruments.enumerated() {
            let bits = bitmapBase + 2 * (w + s) * i
            books.advanced(by: i).initialize(to: InstrumentBook(
                levels: levelsBase + c.priceLevels * i,
                bids: OccupancyBitmap(words: bits, summary: bits + w),
                asks: OccupancyBitmap(words: bits + w + s, summary: bits + 2 * w + s),
                symbol: spec.symbol,
                baseTick: spec.ladderBaseTick(priceLevels: c.priceLevels),
                tickSize: spec.tickSize, lotSize: spec.lotSize, tick: Divisor(spec.tickSize), lot: Divisor(spec.lotSize),
                referencePrice: spec.referencePrice,
                collarBasisPoints: spec.collarBasisPoints))
            books[i].updateCollar()
            if luldEnabled { refreshBands(books + i) }
        }
    }


    // MARK: Output

    /// Events of the last `process`/`resume` call, in order. Valid until the next call.
    var events: UnsafeBufferPointer<EngineEvent> {
        UnsafeBufferPointer(start: eventBuffer.storage, count: eventBuffer.count)
    }

    /// Marks the events as consumed. Call before every `process` and `resume`.
    mutating func clearEvents() { eventBuffer.count = 0 }

    /// True when no command is in progress.
    @inlinable var isIdle: Bool { job == .idle && !hasPendingCommand }

    // MARK: Queries (read by risk, the admin plane and tests)

    @inline(__always) func instrument(for symbol: Symbol) -> InstrumentIndex? { symbols.instrument(for: symbol) }

    var instrumentCount: Int { configuration.instruments.count }

    @inline(__always) func symbol(of instrument: InstrumentIndex) -> Symbol { books[Int(instrument)].symbol }

    /// Sum of leaves × price over the client's resting orders (saturated at `UInt64.max`).
    @inline(__always) func openNotional(client: ClientID) -> Notional {
        Notional(clamping: exactOpenNotional(client: client))
    }

    /// Sum of leaves × price over the client's resting orders, exactly.
    @inlinable @inline(__always) func exactOpenNotional(client: ClientID) -> UInt128 {
        client < maxClients ? accounts[Int(client)].openNotional : 0
    }

    /// Last trade price, else the configured reference price.
    @inlinable @inline(__always) func referencePrice(of instrument: InstrumentIndex) -> Price { books[Int(instrument)].currentReference }

    /// Last trade price, or nil before the first trade.
    @inline(__always) func lastTradePrice(of instrument: InstrumentIndex) -> Price? {
        let p = books[Int(instrument)].lastTradePrice
        return p == 0 ? nil : p
    }

    @inline(__always) func isHalted(_ instrument: InstrumentIndex) -> Bool { books[Int(instrument)].halted }

    /// The collar band around the current reference, or nil when the instrument has none.
    @inlinable @inline(__always) func collar(of instrument: InstrumentIndex) -> (lower: Price, upper: Price)? {
        let book = books + Int(instrument)
        guard book.pointee.collarBasisPoints > 0 else { return nil }
        return (book.pointee.collarLower, book.pointee.collarUpper)
    }

    /// Rejects of one reason so far.
    @inline(__always) func rejectCount(_ reason: RejectReason) -> UInt64 { rejectCounts[Int(reason.rawValue)] }

    var restingOrderCount: Int { Int(counters.restingOrders) }
}

/// The resumable work in progress.
@usableFromInline
enum Job: UInt8 {
    case idle
    case expiring
    case matching
    case massCancel
    /// A phase command: phase changes, imbalances, crosses (MatchingEngine+Cross.swift).
    case phase
    /// LULD pauses and reopenings due at the start of a command (MatchingEngine+LULD.swift).
    case luldTimers
    /// The limit states of the instruments a command touched, at its end.
    case luldSettle
}

/// The incoming order while it matches. Its record (`order`) holds token, reference,
/// firm and open size (`leaves`); this holds what the loop needs besides.
@usableFromInline
struct TakerState {
    @usableFromInline var order: OrderIndex = nullOrder
    @usableFromInline var instrument: InstrumentIndex = 0
    @usableFromInline var side: BookSide = .bid
    /// Worst opposite level it may take: buys take asks at levels ≤ this, sells bids ≥ this.
    @usableFromInline var limitLevel: Int64 = 0
    @usableFromInline var restsAfterMatching = false
    @usableFromInline var timeInForce: TimeInForce = .immediateOrCancel
    @usableFromInline var timestamp: Timestamp = 0
    /// The LULD band stopped it before it could take anything (the opposite best is beyond
    /// the band on the near side): a remainder that would cross the book is cancelled.
    @usableFromInline var luldBlocked = false
}

/// Progress of a mass cancel (cancel-all, kill switches).
@usableFromInline
struct MassCancelState {
    @usableFromInline var client: ClientID = 0
    @usableFromInline var lastClient: ClientID = 0
    @usableFromInline var reason: CancelReason = .userRequested
    @usableFromInline var timestamp: Timestamp = 0
}
