// The engine's whole state as bytes, and back: what recovery starts from (a snapshot plus
// the journal's tail, docs/DURABILITY.md), and the state hash that proves a recovered
// engine equals the one that crashed. None of this is on the per-command path: taking a
// snapshot walks the books once, between two commands; the commands' code is untouched.
//
// The format is logical, not a memory image: orders are written in priority order and
// numbered as they are written, and the client lists and the expiry queue refer to those
// numbers. So a snapshot does not depend on pool slots, the layout or the pool size, and
// restoring rebuilds every derived structure (levels' share totals, occupancy bitmaps,
// open notional, the token table) from the orders themselves.
//
// Engine section, version 4 (little-endian; version 3 had no LULD state, version 2 no cross
// lists either, version 1 no phases either: read as every instrument continuous with nothing
// waiting and no limit state or pause):
//
// ```
// u64 magic "RTESENGN"   u32 version   u32 reserved (0)
// configuration: u32 instruments, then per instrument u64 symbol, u32 tick size, u32 lot size,
//   u32 collar basis points, u32 reference price; u32 price levels; u32 max clients;
//   u8 self-trade prevention; u8 collar market orders; u8 LULD on (v4); u8 reserved; u64 order pool size
//   (information only); u64 resting orders (N)
// u64 engine time, u64 last command's timestamp, u64 next order reference, u64 next match number
// 15 × u64 counters (EngineCounters, declaration order); u32 reject slots, then u64 per slot
// per instrument: u32 last trade price (0: none), u8 halted, u8 phase (TradingPhase, v2);
//   LULD (v4): u8 limit state (LimitState), u64 its deadline, u8 paused, u64 pause end,
//   u32 auction collar reference, u32 lower, u32 upper, u32 extensions (the bands follow
//   from the last trade price and the configured rules);
//   u32 orders waiting for a cross (v3), per order in arrival order the 41 bytes below then
//   u32 price (0: a market order) and u32 ladder level; then bids, then asks:
//   u32 levels; per level, best first: u32 ladder level, u32 orders; per order, oldest first
//   (41 bytes): u64 reference, u64 token high, u64 token low, u32 leaves, u32 client,
//   u32 firm, u8 side, u8 display, u8 capacity, u8 intermarket sweep, u8 cross type
//   — orders are numbered 0 ..< N in this order
// u32 client lists; per list (ascending client): u32 client, u32 orders, u32 order number each,
//   in the order the orders came to rest (mass cancels follow it)
// u32 timed orders; per entry, in heap order: u32 order number, u64 deadline
// u64 state hash (stateHash() of the state above); u64 end magic "RTESEEND"
// ```

extension MatchingEngine {
    /// The engine section's format version this build writes and reads.
    public static let snapshotVersion: UInt32 = 4
    /// The oldest engine section this build reads.
    public static let oldestSnapshotVersion: UInt32 = 1

    /// Writes the whole engine state through `sink`, in chunks of `chunkBytes`. Refuses
    /// (`notAtCommandBoundary`) while a command is suspended or its events are not drained:
    /// a snapshot is a state between two commands. Errors the sink throws pass through.
    public func writeSnapshot(chunkBytes: Int = 1 << 16, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        if let problem = state.pointee.commandBoundaryProblem { throw EngineSnapshotError.notAtCommandBoundary(problem) }
        let state = self.state
        try withoutActuallyEscaping(sink) { sink in
            var encoder = SnapshotEncoder(chunkBytes: chunkBytes, sink: sink)
            try state.pointee.encodeSnapshot(into: &encoder)
            try encoder.flush()
        }
    }

    /// Restores a snapshot into this engine, which must be fresh (constructed, nothing
    /// processed) and configured as the one that took it; the order pool may differ if it
    /// holds the snapshot's orders. On any error the engine is put back to fresh, so a
    /// refused snapshot leaves nothing half-restored behind.
    public mutating func restoreSnapshot(from bytes: UnsafeRawBufferPointer) throws(EngineSnapshotError) {
        if let problem = state.pointee.freshnessProblem { throw .engineNotFresh(problem) }
        do throws(EngineSnapshotError) {
            try state.pointee.decodeSnapshot(bytes)
        } catch {
            resetToFresh()
            throw error
        }
    }

    /// A 64-bit digest of the logical state: the books in priority order with every field
    /// of every order and its deadline, the client lists in order, halts and last trades,
    /// engine time, the next reference and match numbers, the counters and reject counts.
    /// Pool slots, memory layout, the pool size and the event buffer's size do not enter it
    /// (nor the suspension count, which depends on that size), so two engines that
    /// processed the same commands hash equal, and so does one restored from a snapshot.
    public func stateHash() -> UInt64 {
        var hasher = StateHasher()
        state.pointee.hashState(into: &hasher)
        return hasher.finalize()
    }

    /// Lays a fresh state over the region again (a refused restore).
    private mutating func resetToFresh() {
        let configuration = state.pointee.configuration
        let layout = state.pointee.layout
        state.deinitialize(count: 1)
        region.initializeMemory(as: UInt8.self, repeating: 0, count: layout.totalBytes)
        state.initialize(to: EngineState(configuration: configuration, layout: layout, region: region))
    }
}

extension EngineState {
    static let snapshotMagic: UInt64 = 0x4E47_4E45_5345_5452  // "RTESENGN" little-endian
    static let snapshotEndMagic: UInt64 = 0x444E_4545_5345_5452  // "RTESEEND" little-endian

    /// Why this is not a command boundary, or nil when it is.
    var commandBoundaryProblem: String? {
        if job != .idle { return "a command is suspended (\(job)): resume it first" }
        if hasPendingCommand { return "a command waits to start after expiries: resume it first" }
        if eventBuffer.count != 0 { return "\(eventBuffer.count) events of the last command are not drained" }
        return nil
    }

    /// Why this engine cannot take a snapshot's state, or nil when it is fresh.
    var freshnessProblem: String? {
        if counters.commands != 0 { return "it has processed \(counters.commands) commands" }
        if counters.restingOrders != 0 || nextReference != 1 || nextMatchNumber != 1 { return "it holds state" }
        return commandBoundaryProblem
    }

    // MARK: Writing

    func encodeSnapshot(into e: inout SnapshotEncoder) throws {
        try e.u64(Self.snapshotMagic)
        try e.u32(MatchingEngine.snapshotVersion)
        try e.u32(0)

        try e.u32(UInt32(configuration.instruments.count))
        for spec in configuration.instruments {
            try e.u64(spec.symbol.rawValue)
            try e.u32(spec.tickSize)
            try e.u32(spec.lotSize)
            try e.u32(spec.collarBasisPoints)
            try e.u32(spec.referencePrice)
        }
        try e.u32(priceLevels)
        try e.u32(maxClients)
        try e.u8(selfTradePrevention.rawValue)
        try e.bool(collarMarketOrders)
        try e.bool(luldEnabled)
        try e.u8(0)
        try e.u64(poolCapacity)
        try e.u64(counters.restingOrders)

        try e.u64(now)
        try e.u64(commandTimestamp)
        try e.u64(nextReference)
        try e.u64(nextMatchNumber)
        for value in counters.snapshotValues { try e.u64(value) }
        try e.u32(UInt32(RejectReason.counterSlots))
        for slot in 0..<RejectReason.counterSlots { try e.u64(rejectCounts[slot]) }

        // The state hash is taken in the same pass (the books are walked once): the same
        // pieces, in the same order, as `hashState`.
        var h = StateHasher()
        hashScalars(into: &h)

        // Order numbers, by pool slot, for the client lists and the expiry queue.
        let numbers = UnsafeMutablePointer<UInt32>.allocate(capacity: layout.orderCapacity)
        defer { numbers.deallocate() }
        var number: UInt32 = 0
        for instrument in 0..<instrumentCount {
            let book = books + instrument
            try e.u32(book.pointee.lastTradePrice)
            try e.bool(book.pointee.halted)
            try e.u8(book.pointee.phase.rawValue)
            try e.u8(book.pointee.limitState.rawValue)
            try e.u64(book.pointee.limitStateDeadline)
            try e.bool(book.pointee.luldPaused)
            try e.u64(book.pointee.pauseEnd)
            try e.u32(book.pointee.auctionReference)
            try e.u32(book.pointee.auctionLower)
            try e.u32(book.pointee.auctionUpper)
            try e.u32(book.pointee.auctionExtensions)
            var waiting: UInt32 = 0
            var w = book.pointee.crossHead
            while w != nullOrder { waiting &+= 1; w = orders[Int(w)].next }
            try e.u32(waiting)
            w = book.pointee.crossHead
            while w != nullOrder {
                let o = orders[Int(w)]
                numbers[Int(w)] = number
                number &+= 1
                try encodeOrderFields(o, into: &e)
                try e.u32(o.price)
                try e.u32(o.level)
                w = o.next
            }
            hashBook(book, into: &h)
            for side in [BookSide.bid, .ask] {
                var levels: UInt32 = 0
                forEachOccupiedLevel(side, of: book) { _ in levels &+= 1 }
                try e.u32(levels)
                var failure: (any Error)?
                forEachOccupiedLevel(side, of: book) { level in
                    guard failure == nil else { return }
                    do {
                        let l = book.pointee.levels[Int(level)]
                        var count: UInt32 = 0
                        var i = l.head
                        while i != nullOrder { count &+= 1; i = orders[Int(i)].next }
                        try e.u32(level)
                        try e.u32(count)
                        h.combine(UInt64(level) | 1 << 40)
                        i = l.head
                        while i != nullOrder {
                            let o = orders[Int(i)]
                            hashOrder(o, into: &h)
                            numbers[Int(i)] = number
                            number &+= 1
                            try encodeOrderFields(o, into: &e)
                            i = o.next
                        }
                    } catch {
                        failure = error
                    }
                }
                if let failure { throw failure }
                h.combine(Self.endOfSide)
            }
        }

        var lists: UInt32 = 0
        for client in 0..<Int(maxClients) where accounts[client].head != nullOrder { lists &+= 1 }
        try e.u32(lists)
        for client in 0..<Int(maxClients) where accounts[client].head != nullOrder {
            var count: UInt32 = 0
            var i = accounts[client].head
            while i != nullOrder { count &+= 1; i = clientLinks[Int(i)].next }
            try e.u32(UInt32(client))
            try e.u32(count)
            h.combine(UInt64(client) | 1 << 48)
            i = accounts[client].head
            while i != nullOrder {
                try e.u32(numbers[Int(i)])
                h.combine(orders[Int(i)].reference)
                i = clientLinks[Int(i)].next
            }
        }

        try e.u32(UInt32(expiries.count))
        for position in 0..<expiries.count {
            let entry = expiries.entries[position]
            try e.u32(numbers[Int(entry.order)])
            try e.u64(entry.deadline)
        }

        hashTail(into: &h)
        try e.u64(h.finalize())
        try e.u64(Self.snapshotEndMagic)
    }

    /// An order's 41 bytes: reference, token, leaves, client, firm and its attributes.
    private func encodeOrderFields(_ o: OrderRecord, into e: inout SnapshotEncoder) throws {
        try e.u64(o.reference)
        try e.u64(o.token.high)
        try e.u64(o.token.low)
        try e.u32(o.leaves)
        try e.u32(o.client)
        try e.u32(o.firm.rawValue)
        try e.u8(o.side.rawValue)
        try e.u8(o.display.rawValue)
        try e.u8(o.capacity.rawValue)
        try e.u8(o.intermarketSweep.rawValue)
        try e.u8(o.crossType.rawValue)
    }

    /// Calls `body` with each occupied level of one side, best first.
    private func forEachOccupiedLevel(_ side: BookSide, of book: UnsafeMutablePointer<InstrumentBook>, _ body: (UInt32) -> Void) {
        var level = best(side, in: book)
        while level >= 0 {
            body(UInt32(level))
            level = side == .bid
                ? Int64(book.pointee.bids.highest(below: UInt32(level)))
                : Int64(book.pointee.asks.lowest(above: UInt32(level)))
        }
    }

    // MARK: Hashing

    /// The state hash's walk. `encodeSnapshot` takes the same pieces in the same order while
    /// it writes (a test restores every snapshot and compares, so the two cannot drift apart).
    func hashState(into h: inout StateHasher) {
        hashScalars(into: &h)
        for instrument in 0..<instrumentCount {
            let book = books + instrument
            hashBook(book, into: &h)
            for side in [BookSide.bid, .ask] {
                forEachOccupiedLevel(side, of: book) { level in
                    h.combine(UInt64(level) | 1 << 40)
                    var i = book.pointee.levels[Int(level)].head
                    while i != nullOrder {
                        let o = orders[Int(i)]
                        hashOrder(o, into: &h)
                        i = o.next
                    }
                }
                h.combine(Self.endOfSide)
            }
        }
        for client in 0..<Int(maxClients) where accounts[client].head != nullOrder {
            h.combine(UInt64(client) | 1 << 48)
            var i = accounts[client].head
            while i != nullOrder {
                h.combine(orders[Int(i)].reference)
                i = clientLinks[Int(i)].next
            }
        }
        hashTail(into: &h)
    }

    static let endOfSide = UInt64.max - 1

    private func hashScalars(into h: inout StateHasher) {
        h.combine(now)
        h.combine(commandTimestamp)
        h.combine(nextReference)
        h.combine(nextMatchNumber)
        for (i, value) in counters.snapshotValues.enumerated() where i != EngineCounters.suspensionsSlot { h.combine(value) }
        for slot in 0..<RejectReason.counterSlots { h.combine(rejectCounts[slot]) }
    }

    private func hashBook(_ book: UnsafeMutablePointer<InstrumentBook>, into h: inout StateHasher) {
        h.combine(book.pointee.symbol.rawValue)
        h.combine(book.pointee.lastTradePrice)
        h.combine(book.pointee.halted)
        // The trading day, only when it is not the default (so hashes of an engine that
        // never saw a phase command are unchanged).
        if book.pointee.phase != .continuous { h.combine(UInt64(0x5048_4153_4500_0000) | UInt64(book.pointee.phase.rawValue)) }
        // LULD, only when not idle (bands follow from the last trade price).
        if book.pointee.limitState != .none {
            h.combine(UInt64(0x4C55_4C44_0000_0000) | UInt64(book.pointee.limitState.rawValue))
            h.combine(book.pointee.limitStateDeadline)
        }
        if book.pointee.luldPaused {
            h.combine(UInt64(0x5041_5553_4500_0000))
            h.combine(book.pointee.pauseEnd)
            h.combine(UInt64(book.pointee.auctionLower) << 32 | UInt64(book.pointee.auctionUpper))
            h.combine(UInt64(book.pointee.auctionReference) << 32 | UInt64(book.pointee.auctionExtensions))
        }
        var i = book.pointee.crossHead
        while i != nullOrder {
            hashOrder(orders[Int(i)], into: &h)
            i = orders[Int(i)].next
        }
    }

    /// Every field of a resting order, its price and its deadline (none: all ones).
    @inline(__always)
    private func hashOrder(_ o: OrderRecord, into h: inout StateHasher) {
        h.combine(o.reference)
        h.combine(o.token.high)
        h.combine(o.token.low)
        h.combine(UInt64(o.leaves) << 32 | UInt64(o.price))
        h.combine(UInt64(o.client) << 32 | UInt64(o.firm.rawValue))
        var attributes = UInt64(o.side.rawValue)
        attributes |= UInt64(o.display.rawValue) << 8
        attributes |= UInt64(o.capacity.rawValue) << 16
        attributes |= UInt64(o.intermarketSweep.rawValue) << 24
        attributes |= UInt64(o.crossType.rawValue) << 32
        attributes |= UInt64(o.instrument) << 40
        h.combine(attributes)
        h.combine(o.expirySlot == 0 ? UInt64.max : expiries.entries[Int(o.expirySlot) - 1].deadline)
    }

    private func hashTail(into h: inout StateHasher) {
        h.combine(UInt64(tokens.live.count))
        h.combine(UInt64(expiries.count))
    }

    // MARK: Reading

    mutating func decodeSnapshot(_ bytes: UnsafeRawBufferPointer) throws(EngineSnapshotError) {
        var d = SnapshotDecoder(bytes)
        guard try d.u64("the magic number") == Self.snapshotMagic else {
            throw .notASnapshot("the engine section does not start with RTESENGN")
        }
        let version = try d.u32("the format version")
        guard (MatchingEngine.oldestSnapshotVersion...MatchingEngine.snapshotVersion).contains(version) else {
            throw .unsupportedVersion(found: version, supported: MatchingEngine.snapshotVersion)
        }
        _ = try d.u32("a reserved word")

        let instruments = try d.count("the instrument count", atMost: Int(InstrumentIndex.max))
        guard instruments == instrumentCount else {
            throw .configurationMismatch("the snapshot has \(instruments) instruments, this engine \(instrumentCount)")
        }
        for (i, spec) in configuration.instruments.enumerated() {
            let taken = InstrumentSpec(
                symbol: Symbol(rawValue: try d.u64("an instrument's symbol")), tickSize: try d.u32("a tick size"),
                lotSize: try d.u32("a lot size"), collarBasisPoints: try d.u32("a collar"), referencePrice: try d.u32("a reference price"))
            guard taken == spec else {
                throw .configurationMismatch("instrument \(i) is \(taken.snapshotText) in the snapshot, \(spec.snapshotText) here")
            }
        }
        let levels = try d.u32("the price levels")
        guard levels == priceLevels else { throw .configurationMismatch("the snapshot's ladders have \(levels) price levels, this engine's \(priceLevels)") }
        let clients = try d.u32("max clients")
        guard clients == maxClients else { throw .configurationMismatch("the snapshot has \(clients) max clients, this engine \(maxClients)") }
        let prevention = try d.u8("self-trade prevention")
        guard prevention == selfTradePrevention.rawValue else {
            throw .configurationMismatch("the snapshot's self-trade prevention is mode \(prevention), this engine's \(selfTradePrevention)")
        }
        let collars = try d.bool("collar market orders")
        guard collars == collarMarketOrders else {
            throw .configurationMismatch("the snapshot \(collars ? "stops" : "does not stop") market orders at the collar, this engine \(collarMarketOrders ? "does" : "does not")")
        }
        if version >= 4 {
            let luldOn = try d.bool("the LULD flag")
            guard luldOn == luldEnabled else {
                throw .configurationMismatch("the snapshot was taken with limit up, limit down \(luldOn ? "on" : "off"), this engine has it \(luldEnabled ? "on" : "off")")
            }
            _ = try d.u8("a reserved byte")
        } else {
            _ = try d.u16("a reserved word")
        }
        _ = try d.u64("the order pool size")
        let resting = try d.u64("the resting order count")
        guard resting <= poolCapacity else {
            throw .configurationMismatch("the snapshot holds \(resting) resting orders; this engine's order pool holds \(poolCapacity)")
        }
        let n = Int(resting)

        let time = try d.u64("engine time")
        let lastCommand = try d.u64("the last command's timestamp")
        let reference = try d.u64("the next order reference")
        let match = try d.u64("the next match number")
        guard reference >= 1, match >= 1 else { throw .damaged("the next order reference and match number must be at least 1") }
        var restored = EngineCounters()
        var values = [UInt64]()
        values.reserveCapacity(EngineCounters.snapshotSlots)
        for _ in 0..<EngineCounters.snapshotSlots { values.append(try d.u64("a counter")) }
        restored.snapshotValues = values
        guard restored.restingOrders == resting, restored.peakRestingOrders >= resting else {
            throw .damaged("the counters say \(restored.restingOrders) resting orders (peak \(restored.peakRestingOrders)), the header \(resting)")
        }
        let slots = try d.count("the reject counter slots", atMost: 1 << 16)
        guard slots == RejectReason.counterSlots else {
            throw .damaged("the snapshot counts \(slots) reject reasons, this build \(RejectReason.counterSlots)")
        }
        for slot in 0..<slots { rejectCounts[slot] = try d.u64("a reject count") }

        // Books: orders in priority order, numbered as they come.
        let indexOf = UnsafeMutablePointer<OrderIndex>.allocate(capacity: max(1, n))
        defer { indexOf.deallocate() }
        var placed = 0
        for instrument in 0..<instrumentCount {
            let book = books + instrument
            let spec = configuration.instruments[instrument]
            let lastTrade = try d.u32("a last trade price")
            if lastTrade != 0 {
                guard lastTrade % spec.tickSize == 0,
                      spec.ladderTicks(priceLevels: Int(priceLevels)).contains(UInt64(lastTrade / spec.tickSize)) else {
                    throw .damaged("\(spec.symbol)'s last trade price \(lastTrade) is not a price of its ladder")
                }
                book.pointee.setLastTrade(lastTrade)
            }
            if luldEnabled { refreshBands(book) }
            book.pointee.halted = try d.bool("a halt flag")
            if version >= 2 {
                let raw = try d.u8("a trading phase")
                guard let phase = TradingPhase(rawValue: raw) else { throw .damaged("\(spec.symbol)'s trading phase \(raw) is not one") }
                book.pointee.phase = phase
            }
            if version >= 4 { try decodeLULDState(&d, book: book) }
            if version >= 3 {
                let waiting = try d.count("a cross list's order count", atMost: n - placed)
                for _ in 0..<waiting {
                    indexOf[placed] = try decodeWaitingOrder(&d, instrument: InstrumentIndex(instrument), before: reference)
                    placed += 1
                }
            }
            for side in [BookSide.bid, .ask] {
                let levelCount = try d.count("a level count", atMost: Int(priceLevels))
                var previous: Int64 = -1
                for _ in 0..<levelCount {
                    let at = d.offset
                    let level = try d.u32("a price level")
                    guard level < priceLevels else { throw .damaged("\(spec.symbol) level \(level) at offset \(at) is beyond the ladder's \(priceLevels)") }
                    guard previous < 0 || (side == .bid ? Int64(level) < previous : Int64(level) > previous) else {
                        throw .damaged("\(spec.symbol) \(side) level \(level) at offset \(at) is out of priority order")
                    }
                    previous = Int64(level)
                    let count = try d.count("a level's order count", atMost: n - placed)
                    guard count > 0 else { throw .damaged("\(spec.symbol) level \(level) at offset \(at) is listed with no orders") }
                    for _ in 0..<count {
                        let index = try decodeOrder(&d, instrument: InstrumentIndex(instrument), side: side, level: level, before: reference)
                        indexOf[placed] = index
                        placed += 1
                    }
                }
            }
            let bid = best(.bid, in: book)
            let ask = best(.ask, in: book)
            if bid >= 0 && ask >= 0 && bid >= ask { throw .damaged("\(spec.symbol)'s book is crossed or locked (bid level \(bid), ask level \(ask))") }
        }
        guard placed == n else { throw .damaged("the books hold \(placed) orders; the snapshot says \(n) rest") }

        // Client lists, in the order the orders came to rest.
        let listed = UnsafeMutablePointer<Bool>.allocate(capacity: max(1, n))
        defer { listed.deallocate() }
        listed.initialize(repeating: false, count: max(1, n))
        let lists = try d.count("the client list count", atMost: Int(maxClients))
        var previousClient: Int64 = -1
        var inLists = 0
        for _ in 0..<lists {
            let at = d.offset
            let client = try d.u32("a client")
            guard client < maxClients, Int64(client) > previousClient else {
                throw .damaged("client list at offset \(at) names client \(client): beyond max clients or out of order")
            }
            previousClient = Int64(client)
            let count = try d.count("a client list's length", atMost: n - inLists)
            guard count > 0 else { throw .damaged("client \(client)'s list at offset \(at) is empty") }
            for _ in 0..<count {
                let number = try orderNumber(&d, count: n, "an order number in a client list")
                guard !listed[number] else { throw .damaged("order number \(number) appears twice in the client lists") }
                listed[number] = true
                let index = indexOf[number]
                guard orders[Int(index)].client == client else {
                    throw .damaged("client \(client)'s list holds order \(orders[Int(index)].reference) of client \(orders[Int(index)].client)")
                }
                appendToClientList(index)
            }
            inLists += count
        }
        guard inLists == n else { throw .damaged("the client lists hold \(inLists) orders; the books \(n)") }

        let timed = try d.count("the timed order count", atMost: n)
        for _ in 0..<timed {
            let number = try orderNumber(&d, count: n, "a timed order's number")
            let deadline = try d.u64("a deadline")
            let index = indexOf[number]
            guard orders[Int(index)].expirySlot == 0 else { throw .damaged("order \(orders[Int(index)].reference) has two deadlines") }
            expiries.push(ExpiryEntry(deadline: deadline, reference: orders[Int(index)].reference, order: index), orders: orders)
        }

        // The earliest LULD deadline, as the timer scan leaves it.
        luldNextDeadline = .max
        for i in 0..<bookCount {
            if books[i].luldPaused { luldNextDeadline = min(luldNextDeadline, books[i].pauseEnd) }
            if books[i].limitState != .none { luldNextDeadline = min(luldNextDeadline, books[i].limitStateDeadline) }
        }
        now = time
        commandTimestamp = lastCommand
        nextReference = reference
        nextMatchNumber = match
        counters = restored

        let recorded = try d.u64("the state hash")
        guard try d.u64("the end magic number") == Self.snapshotEndMagic else { throw .damaged("the engine section does not end with RTESEEND") }
        try d.expectEnd()
        var hasher = StateHasher()
        hashState(into: &hasher)
        let hash = hasher.finalize()
        guard hash == recorded else {
            throw .damaged("the restored state hashes to \(StateHasher.text(hash)), the snapshot recorded \(StateHasher.text(recorded))")
        }
    }

    /// Reads an instrument's limit state and LULD pause (version 4), checked against its
    /// phase: a limit state only in continuous trading, a pause only while halted, with a
    /// collar of prices on the instrument's ladder.
    private mutating func decodeLULDState(_ d: inout SnapshotDecoder, book: UnsafeMutablePointer<InstrumentBook>) throws(EngineSnapshotError) {
        let symbol = book.pointee.symbol
        let raw = try d.u8("a limit state")
        guard let state = LimitState(rawValue: raw) else { throw .damaged("\(symbol)'s limit state \(raw) is not one") }
        let deadline = try d.u64("a limit state's deadline")
        let paused = try d.bool("an LULD pause flag")
        let pauseEnd = try d.u64("an LULD pause's end")
        let reference = try d.u32("an auction collar's reference")
        let lower = try d.u32("an auction collar's lower price")
        let upper = try d.u32("an auction collar's upper price")
        let extensions = try d.u32("an auction collar's extensions")
        guard luldEnabled || (state == .none && !paused) else {
            throw .damaged("\(symbol) is in an LULD limit state or pause, but limit up, limit down is off")
        }
        guard state == .none || book.pointee.phase == .continuous else {
            throw .damaged("\(symbol) is limit \(state) outside continuous trading (\(book.pointee.phase))")
        }
        guard !paused || book.pointee.phase == .halted else {
            throw .damaged("\(symbol) is in an LULD pause but its phase is \(book.pointee.phase)")
        }
        guard !paused || lower <= upper else {
            throw .damaged("\(symbol)'s auction collar is upside down (lower \(lower), upper \(upper))")
        }
        book.pointee.limitState = state
        book.pointee.limitStateDeadline = deadline
        book.pointee.luldPaused = paused
        book.pointee.pauseEnd = pauseEnd
        book.pointee.auctionReference = reference
        book.pointee.auctionLower = lower
        book.pointee.auctionUpper = upper
        book.pointee.auctionExtensions = extensions
    }

    /// Reads one order waiting for a cross (its fields, price and level), appends it to its
    /// instrument's cross list and registers its token.
    private mutating func decodeWaitingOrder(
        _ d: inout SnapshotDecoder, instrument: InstrumentIndex, before nextReference: OrderReference
    ) throws(EngineSnapshotError) -> OrderIndex {
        var o = try decodeOrderFields(&d, instrument: instrument, side: nil, before: nextReference)
        let book = books + Int(instrument)
        o.price = try d.u32("a waiting order's price")
        o.level = try d.u32("a waiting order's level")
        guard o.level < priceLevels, o.price == 0 || o.price == book.pointee.price(ofLevel: o.level) else {
            throw .damaged("\(book.pointee.symbol)'s waiting order \(o.reference) has price \(o.price) and level \(o.level), which do not agree with the ladder")
        }
        o.placement = .crossList
        let index = allocateOrder()
        orders[Int(index)] = o
        let tail = book.pointee.crossTail
        orders[Int(index)].prev = tail
        if tail == nullOrder { book.pointee.crossHead = index } else { orders[Int(tail)].next = index }
        book.pointee.crossTail = index
        tokens.insert(client: o.client, token: o.token, order: index)
        return index
    }

    /// Reads one order, places it at the back of its level and registers its token.
    private mutating func decodeOrder(
        _ d: inout SnapshotDecoder, instrument: InstrumentIndex, side: BookSide, level: UInt32, before nextReference: OrderReference
    ) throws(EngineSnapshotError) -> OrderIndex {
        var o = try decodeOrderFields(&d, instrument: instrument, side: side, before: nextReference)
        let index = allocateOrder()
        let book = books + Int(instrument)
        o.price = book.pointee.price(ofLevel: level)
        o.level = level
        o.placement = .ladder
        orders[Int(index)] = o
        let leaves = o.leaves
        let l = book.pointee.levels + Int(level)
        let tail = l.pointee.tail
        orders[Int(index)].prev = tail
        if tail == nullOrder {
            l.pointee.head = index
            if side == .bid { book.pointee.bids.insert(level) } else { book.pointee.asks.insert(level) }
        } else {
            orders[Int(tail)].next = index
        }
        l.pointee.tail = index
        l.pointee.shares &+= UInt64(leaves)
        tokens.insert(client: o.client, token: o.token, order: index)
        return index
    }

    /// Reads and checks an order's 41 bytes (`side`: the book side it is filed under, nil for
    /// a cross list). Price, level and placement are left for the caller.
    private func decodeOrderFields(
        _ d: inout SnapshotDecoder, instrument: InstrumentIndex, side: BookSide?, before nextReference: OrderReference
    ) throws(EngineSnapshotError) -> OrderRecord {
        let at = d.offset
        let reference = try d.u64("an order reference")
        let high = try d.u64("a token")
        let low = try d.u64("a token")
        let leaves = try d.u32("an order's shares")
        let client = try d.u32("an order's client")
        let firm = Firm(rawValue: try d.u32("an order's firm"))
        let orderSide = try d.enumeration(Side.self, "an order's side")
        let display = try d.enumeration(Display.self, "an order's display")
        let capacity = try d.enumeration(Capacity.self, "an order's capacity")
        let sweep = try d.enumeration(IntermarketSweep.self, "an order's intermarket sweep flag")
        let cross = try d.enumeration(CrossType.self, "an order's cross type")
        guard reference != 0, reference < nextReference else {
            throw .damaged("the order at offset \(at) has reference \(reference), not below the next reference \(nextReference)")
        }
        guard low & 0xFFFF == 0 else { throw .damaged("order \(reference)'s token has bytes beyond its 14 characters") }
        guard leaves > 0 else { throw .damaged("order \(reference) rests with no shares") }
        guard client < maxClients else { throw .damaged("order \(reference) belongs to client \(client), beyond max clients \(maxClients)") }
        if let side, orderSide.bookSide != side { throw .damaged("order \(reference) is a \(orderSide) order filed among the \(side)s") }
        let token = OrderToken(high: high, low: low)
        guard tokens.liveOrder(client: client, token: token, orders: orders) == nil else {
            throw .damaged("two resting orders of client \(client) hold token \(token)")
        }
        return OrderRecord(
            reference: reference, token: token, next: nullOrder, prev: nullOrder, leaves: leaves,
            price: 0, client: client, firm: firm, level: 0, expirySlot: 0,
            instrument: instrument, side: orderSide, display: display, capacity: capacity, intermarketSweep: sweep,
            crossType: cross, placement: .none)
    }

    private func orderNumber(_ d: inout SnapshotDecoder, count n: Int, _ what: StaticString) throws(EngineSnapshotError) -> Int {
        let at = d.offset
        let number = Int(try d.u32(what))
        guard number < n else { throw .damaged("\(what) at offset \(at) is \(number); the snapshot numbers \(n) orders") }
        return number
    }

    /// Appends a placed order to its client's list (the level half of `link`).
    private mutating func appendToClientList(_ index: OrderIndex) {
        let i = Int(index)
        let client = Int(orders[i].client)
        let tail = accounts[client].tail
        clientLinks[i] = ClientLink(next: nullOrder, prev: tail)
        if tail == nullOrder { accounts[client].head = index } else { clientLinks[Int(tail)].next = index }
        accounts[client].tail = index
        accounts[client].openNotional &+= UInt128(UInt64(orders[i].leaves) &* UInt64(orders[i].price))
    }
}

extension InstrumentSpec {
    fileprivate var snapshotText: String {
        "\(symbol) (tick \(tickSize), lot \(lotSize), collar \(collarBasisPoints) bp, reference \(referencePrice))"
    }
}

extension EngineCounters {
    static let snapshotSlots = 15
    /// Where `suspensions` sits in `snapshotValues`: it depends on the event buffer's size,
    /// not on the commands, so the state hash leaves it out.
    static let suspensionsSlot = 12

    /// Every counter, in declaration order (the snapshot's order).
    var snapshotValues: [UInt64] {
        get {
            [commands, ordersAccepted, ordersReplaced, ordersCanceled, ordersExpired, ordersModified, rejects,
             cancelRejects, executions, sharesExecuted, selfTradesPrevented, events, suspensions, restingOrders,
             peakRestingOrders]
        }
        set {
            (commands, ordersAccepted, ordersReplaced, ordersCanceled, ordersExpired, ordersModified, rejects,
             cancelRejects, executions, sharesExecuted, selfTradesPrevented, events, suspensions, restingOrders,
             peakRestingOrders) = (newValue[0], newValue[1], newValue[2], newValue[3], newValue[4], newValue[5], newValue[6],
                                   newValue[7], newValue[8], newValue[9], newValue[10], newValue[11], newValue[12], newValue[13],
                                   newValue[14])
        }
    }
}
