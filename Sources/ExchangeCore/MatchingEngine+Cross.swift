// Phase commands and crosses (docs/MATCHING.md §The trading day). A phase command walks its
// instruments (one, or all in index order); a cross finds its one price, executes the buys
// and sells that cross at it in priority order, then cancels or places what waited for it.
// Every step is resumable (`Job.phase`): a cross with more fills than the event buffer holds
// suspends and resumes like a sweep. Scratch comes from the region (`cross_*`), sized by the
// ladder and the order pool: a cross allocates nothing.

/// Progress of a phase command.
@usableFromInline
struct PhaseJob {
    @usableFromInline enum Stage: UInt8 {
        case marketEvent
        case begin
        case filling
        case leftovers
        case finish
        /// End of system hours: the instrument's orders are being cancelled.
        case closingOut
    }

    @usableFromInline var timestamp: Timestamp = 0
    @usableFromInline var action = PhaseAction.preOpen
    @usableFromInline var instrument = 0
    @usableFromInline var lastInstrument = 0
    @usableFromInline var marketWide = false
    @usableFromInline var stage = Stage.begin
    // The cross of the current instrument
    @usableFromInline var cross = CrossKind.opening
    @usableFromInline var after = TradingPhase.continuous
    @usableFromInline var price: Price = 0
    @usableFromInline var executed: UInt64 = 0
    @usableFromInline var buyCount = 0
    @usableFromInline var sellCount = 0
    @usableFromInline var buyCursor = 0
    @usableFromInline var sellCursor = 0
    @usableFromInline var listCursor: OrderIndex = nullOrder
    /// The halt cross that ends an LULD pause (its phase change has reason `luldPause`, and
    /// the deadline scan continues after it).
    @usableFromInline var luldReopening = false
}

/// The outcome of the price search.
@usableFromInline
struct CrossPrice {
    /// Ladder level of the cross price, or -1 when nothing crosses.
    var level: Int64 = -1
    var paired: UInt64 = 0
    var imbalance: UInt64 = 0
    var direction = ImbalanceDirection.none
}

extension EngineState {
    // MARK: The command

    mutating func startPhase(_ command: PhaseCommand) -> ProcessStatus {
        var first = 0
        var last = bookCount - 1
        if !command.isMarketWide {
            guard let instrument = symbols.instrument(for: command.symbol) else { return .completed }
            first = Int(instrument)
            last = first
        }
        let announces = command.isMarketWide
            && (command.action == .preOpen || command.action == .openingCross || command.action == .closingCross
                || command.action == .endOfSystemHours)
        phaseJob = PhaseJob(
            timestamp: command.timestamp, action: command.action, instrument: first, lastInstrument: last,
            marketWide: command.isMarketWide, stage: announces ? .marketEvent : .begin)
        job = .phase
        return continuePhase()
    }

    mutating func continuePhase() -> ProcessStatus {
        while true {
            guard hasRoomForStep else {
                counters.suspensions &+= 1
                return .suspended
            }
            switch phaseJob.stage {
            case .marketEvent:
                let code: MarketEventCode = switch phaseJob.action {
                case .openingCross: .startOfMarketHours
                case .closingCross: .endOfMarketHours
                case .endOfSystemHours: .endOfSystemHours
                default: .startOfSystemHours
                }
                emit(.marketEvent(MarketEvent(timestamp: phaseJob.timestamp, code: code)))
                phaseJob.stage = .begin
            case .begin:
                beginInstrument()
            case .filling:
                if !fillStep() {
                    // Only now: fills retire list orders, so the walk starts after them.
                    phaseJob.listCursor = books[phaseJob.instrument].crossHead
                    phaseJob.stage = .leftovers
                }
            case .leftovers:
                if !leftoverStep() { phaseJob.stage = .finish }
            case .finish:
                finishCross()
            case .closingOut:
                if !closeOutStep() {
                    phaseJob.instrument += 1
                    phaseJob.stage = .begin
                }
            }
            if phaseJob.stage == .begin && phaseJob.instrument > phaseJob.lastInstrument {
                job = phaseJob.luldReopening ? .luldTimers : .idle
                return .completed
            }
        }
    }

    /// Applies the action to the current instrument: a phase change, an imbalance, or the
    /// start of a cross.
    private mutating func beginInstrument() {
        let instrument = phaseJob.instrument
        let book = books + instrument
        let phase = book.pointee.phase
        switch phaseJob.action {
        case .preOpen:
            // Ends an LULD pause too (the day starts over).
            book.pointee.luldPaused = false
            if phase != .preOpen { setPhase(.preOpen, instrument: instrument) }
        case .halt:
            // An LULD pause becomes an ordinary halt, which only `resume` ends.
            book.pointee.luldPaused = false
            if phase == .preOpen || phase == .continuous { setPhase(.halted, instrument: instrument) }
        case .openingCross:
            if phase == .preOpen { return startCross(.opening, after: .continuous) }
        case .closingCross:
            if phase == .continuous { return startCross(.closing, after: .postClose) }
        case .resume:
            // An LULD pause ends only at its deadline (`luldReopening` clears the flag first).
            if phase == .halted && !book.pointee.luldPaused { return startCross(.halt, after: .continuous) }
        case .indicateImbalance:
            let kind: CrossKind? = switch phase {
            case .preOpen: .opening
            case .continuous: .closing
            case .halted: .halt
            case .postClose: nil
            }
            if let kind {
                let found = findCrossPrice(instrument: instrument, kind: kind)
                emitImbalance(found, kind: kind)
            }
        case .endOfSystemHours:
            // The day ends (market-wide only): nothing carries over to the next day from an
            // instrument whose market closed or that stayed halted.
            if phaseJob.marketWide && (phase == .postClose || phase == .halted) && holdsOrders(book) {
                phaseJob.stage = .closingOut
                return
            }
        }
        phaseJob.instrument += 1
    }

    /// Whether any order rests on the instrument's ladder or waits in its cross list.
    private func holdsOrders(_ book: UnsafeMutablePointer<InstrumentBook>) -> Bool {
        book.pointee.crossHead != nullOrder || !book.pointee.bids.isEmpty || !book.pointee.asks.isEmpty
    }

    /// Cancels the instrument's next order at the end of the day (reason `timeout`: every
    /// time in force ends with the day): the cross list in arrival order, then the bids,
    /// then the asks, each in priority order. False when none is left.
    private mutating func closeOutStep() -> Bool {
        let book = books + phaseJob.instrument
        var index = book.pointee.crossHead
        if index == nullOrder {
            let bid = best(.bid, in: book)
            let ask = best(.ask, in: book)
            if bid >= 0 {
                index = book.pointee.levels[Int(bid)].head
            } else if ask >= 0 {
                index = book.pointee.levels[Int(ask)].head
            } else {
                return false
            }
        }
        cancelResting(index, shares: orders[Int(index)].leaves, reason: .timeout, timestamp: phaseJob.timestamp)
        return true
    }

    private mutating func setPhase(_ phase: TradingPhase, instrument: Int) {
        changePhase(phase, instrument: instrument, timestamp: phaseJob.timestamp,
                    reason: phaseJob.luldReopening ? .luldPause : .command)
    }

    private mutating func emitImbalance(_ found: CrossPrice, kind: CrossKind) {
        let instrument = phaseJob.instrument
        let book = books + instrument
        emit(.imbalance(ImbalanceIndication(
            timestamp: phaseJob.timestamp, instrument: InstrumentIndex(instrument), pairedShares: found.paired,
            imbalanceShares: found.imbalance, direction: found.direction,
            price: found.level < 0 ? 0 : book.pointee.price(ofLevel: UInt32(found.level)),
            referencePrice: book.pointee.currentReference, cross: kind)))
    }

    // MARK: Eligibility

    /// Whether a cross-list order takes part in a cross of `kind`: every order of the
    /// continuous market that waited, and the cross-only orders of that cross (a halt cross
    /// also takes opening orders: an instrument halted before its open opens through it).
    @inline(__always)
    func isEligible(_ o: OrderRecord, for kind: CrossKind) -> Bool {
        switch o.crossType {
        case .opening: kind == .opening || kind == .halt
        case .closing: kind == .closing
        case .haltOrIPO: kind == .halt
        default: true
        }
    }

    // MARK: The price

    /// The price that executes the most shares, then leaves the least imbalance, then is
    /// closest to the reference price, then is the lower. Leaves the scratch zeroed.
    func findCrossPrice(instrument: Int, kind: CrossKind) -> CrossPrice {
        let book = books + instrument
        let levels = Int(priceLevels)
        let buys = crossVolumes
        let sells = crossVolumes + levels
        // The ladder's interest, level by level.
        var level = best(.bid, in: book)
        while level >= 0 {
            buys[Int(level)] = book.pointee.levels[Int(level)].shares
            level = Int64(book.pointee.bids.highest(below: UInt32(level)))
        }
        level = best(.ask, in: book)
        while level >= 0 {
            sells[Int(level)] = book.pointee.levels[Int(level)].shares
            level = Int64(book.pointee.asks.lowest(above: UInt32(level)))
        }
        // The cross list's.
        var marketBuys: UInt64 = 0
        var marketSells: UInt64 = 0
        var i = book.pointee.crossHead
        while i != nullOrder {
            let o = orders[Int(i)]
            if isEligible(o, for: kind) {
                let buy = o.side == .buy
                if o.price == 0 {
                    if buy { marketBuys &+= UInt64(o.leaves) } else { marketSells &+= UInt64(o.leaves) }
                } else if buy {
                    buys[Int(o.level)] &+= UInt64(o.leaves)
                } else {
                    sells[Int(o.level)] &+= UInt64(o.leaves)
                }
            }
            i = o.next
        }
        // Buy interest at or above each level, from the top.
        var cumulative = marketBuys
        for l in stride(from: levels - 1, through: 0, by: -1) {
            cumulative &+= buys[l]
            buys[l] = cumulative
        }
        let totalBuys = cumulative
        // Sell interest at or below each level, from the bottom; pick the best level.
        let reference = UInt64(book.pointee.currentReference)
        var result = CrossPrice()
        var bestDistance = UInt64.max
        var sellsBelow = marketSells
        for l in 0..<levels {
            sellsBelow &+= sells[l]
            sells[l] = 0
            let buysAbove = buys[l]
            buys[l] = 0
            let paired = min(buysAbove, sellsBelow)
            let price = UInt64(book.pointee.price(ofLevel: UInt32(l)))
            guard paired > 0, price > 0 else { continue }
            let imbalance = buysAbove > sellsBelow ? buysAbove - sellsBelow : sellsBelow - buysAbove
            let distance = price > reference ? price - reference : reference - price
            if paired > result.paired
                || (paired == result.paired && (imbalance < result.imbalance
                    || (imbalance == result.imbalance && distance < bestDistance)))
            {
                result.level = Int64(l)
                result.paired = paired
                result.imbalance = imbalance
                result.direction = buysAbove > sellsBelow ? .buy : buysAbove < sellsBelow ? .sell : .none
                bestDistance = distance
            }
        }
        if result.level < 0 {
            let totalSells = sellsBelow
            result.imbalance = totalBuys > totalSells ? totalBuys - totalSells : totalSells - totalBuys
            result.direction = totalBuys > totalSells ? .buy : totalBuys < totalSells ? .sell : .none
        }
        return result
    }

    // MARK: The cross

    private mutating func startCross(_ kind: CrossKind, after: TradingPhase) {
        let instrument = phaseJob.instrument
        let found = findCrossPrice(instrument: instrument, kind: kind)
        emitImbalance(found, kind: kind)
        phaseJob.cross = kind
        phaseJob.after = after
        phaseJob.executed = 0
        phaseJob.buyCursor = 0
        phaseJob.sellCursor = 0
        guard found.level >= 0 else {
            phaseJob.listCursor = books[instrument].crossHead
            phaseJob.price = 0
            phaseJob.buyCount = 0
            phaseJob.sellCount = 0
            phaseJob.stage = .leftovers
            return
        }
        let level = UInt32(found.level)
        phaseJob.price = books[instrument].price(ofLevel: level)
        phaseJob.buyCount = collectPriority(.bid, instrument: instrument, kind: kind, crossLevel: level, into: crossBuys)
        phaseJob.sellCount = collectPriority(.ask, instrument: instrument, kind: kind, crossLevel: level, into: crossSells)
        phaseJob.stage = .filling
    }

    /// Writes the orders of one side that cross at `crossLevel`, in priority order: market
    /// orders (oldest first), then by price, best first; at one price the ladder's orders in
    /// time priority, then the cross list's, oldest first. Returns how many.
    private func collectPriority(_ side: BookSide, instrument: Int, kind: CrossKind, crossLevel: UInt32,
                                 into out: UnsafeMutablePointer<OrderIndex>) -> Int {
        let book = books + instrument
        let top = UInt32(priceLevels - 1)
        let low = side == .bid ? crossLevel : 0
        let high = side == .bid ? top : crossLevel
        var n = 0
        // Market orders, and a count of the limit orders per level (counting sort).
        var i = book.pointee.crossHead
        while i != nullOrder {
            let o = orders[Int(i)]
            if o.side.bookSide == side && isEligible(o, for: kind) {
                if o.price == 0 {
                    out[n] = i
                    n += 1
                } else if o.level >= low && o.level <= high {
                    crossLevelCounts[Int(o.level)] &+= 1
                }
            }
            i = o.next
        }
        // Begin offsets; after the placement pass, counts[l] is the end of level l's group.
        var offset: UInt32 = 0
        for l in Int(low)...Int(high) {
            let count = crossLevelCounts[l]
            crossLevelCounts[l] = offset
            offset &+= count
        }
        i = book.pointee.crossHead
        while i != nullOrder {
            let o = orders[Int(i)]
            if o.side.bookSide == side && o.price != 0 && o.level >= low && o.level <= high && isEligible(o, for: kind) {
                crossSorted[Int(crossLevelCounts[Int(o.level)])] = i
                crossLevelCounts[Int(o.level)] &+= 1
            }
            i = o.next
        }
        // Best price first: the ladder's FIFO, then the list's group.
        var l = side == .bid ? Int(high) : Int(low)
        let stop = side == .bid ? Int(low) : Int(high)
        let step = side == .bid ? -1 : 1
        let bits = side == .bid ? book.pointee.bids : book.pointee.asks
        while true {
            if bits.contains(UInt32(l)) {
                var m = book.pointee.levels[l].head
                while m != nullOrder {
                    out[n] = m
                    n += 1
                    m = orders[Int(m)].next
                }
            }
            let begin = l == Int(low) ? 0 : Int(crossLevelCounts[l - 1])
            let end = Int(crossLevelCounts[l])
            var k = begin
            while k < end {
                out[n] = crossSorted[k]
                n += 1
                k += 1
            }
            if l == stop { break }
            l += step
        }
        for l in Int(low)...Int(high) { crossLevelCounts[l] = 0 }
        return n
    }

    /// One fill between the best buy and the best sell left; false when a side is done.
    private mutating func fillStep() -> Bool {
        guard phaseJob.buyCursor < phaseJob.buyCount, phaseJob.sellCursor < phaseJob.sellCount else { return false }
        let b = crossBuys[phaseJob.buyCursor]
        let s = crossSells[phaseJob.sellCursor]
        let buy = orders[Int(b)]
        let sell = orders[Int(s)]
        let shares = min(buy.leaves, sell.leaves)
        let match = nextMatchNumber
        nextMatchNumber &+= 1
        emit(.crossFill(CrossFill(
            timestamp: phaseJob.timestamp, instrument: buy.instrument, shares: shares, price: phaseJob.price,
            matchNumber: match, cross: phaseJob.cross,
            buy: CrossParty(client: buy.client, token: buy.token, reference: buy.reference, side: buy.side,
                            display: buy.display, onBook: buy.onFeed),
            sell: CrossParty(client: sell.client, token: sell.token, reference: sell.reference, side: sell.side,
                             display: sell.display, onBook: sell.onFeed))))
        counters.executions &+= 1
        counters.sharesExecuted &+= UInt64(shares)
        phaseJob.executed &+= UInt64(shares)
        if buy.leaves == shares { phaseJob.buyCursor += 1 }
        if sell.leaves == shares { phaseJob.sellCursor += 1 }
        reduce(b, by: shares)
        reduce(s, by: shares)
        return true
    }

    /// Settles the next cross-list order that took part: a cross-only or market order is
    /// cancelled, another joins the ladder. False when the list is done.
    private mutating func leftoverStep() -> Bool {
        while phaseJob.listCursor != nullOrder {
            let i = phaseJob.listCursor
            let o = orders[Int(i)]
            phaseJob.listCursor = o.next
            guard isEligible(o, for: phaseJob.cross) else { continue }
            if o.crossType.isCrossOnly || o.price == 0 {
                cancelResting(i, shares: o.leaves, reason: .system, timestamp: phaseJob.timestamp)
            } else {
                unlinkFromCrossList(i)
                linkIntoLevel(i)
                orders[Int(i)].placement = .ladder
                emitBookAdd(i, timestamp: phaseJob.timestamp)
            }
            return true
        }
        return false
    }

    private mutating func finishCross() {
        let instrument = phaseJob.instrument
        var match: MatchNumber = 0
        if phaseJob.executed > 0 {
            books[instrument].setLastTrade(phaseJob.price)
            if luldEnabled { refreshBands(books + instrument) }
            match = nextMatchNumber
            nextMatchNumber &+= 1
        }
        emit(.crossCompleted(CrossCompleted(
            timestamp: phaseJob.timestamp, instrument: InstrumentIndex(instrument), shares: phaseJob.executed,
            price: phaseJob.executed > 0 ? phaseJob.price : 0, matchNumber: match, cross: phaseJob.cross)))
        setPhase(phaseJob.after, instrument: instrument)
        phaseJob.instrument += 1
        phaseJob.stage = .begin
    }

    // MARK: Orders while nothing matches

    /// Places an accepted order (or a replacement) without matching: in a phase where
    /// nothing matches, or a cross-only order. A continuous-market IOC or market order is
    /// cancelled (nothing can execute now); a cross-only order, a market order and one that
    /// would cross the ladder wait in the cross list; the rest rest on the ladder.
    mutating func placeWithoutMatching(_ index: OrderIndex, isMarket: Bool, timeInForce: TimeInForce, timestamp: Timestamp) {
        let o = orders[Int(index)]
        if !o.crossType.isCrossOnly && (isMarket || timeInForce.isImmediateOrCancel) {
            cancelIncoming(index, shares: o.leaves, reason: .immediateOrCancel, timestamp: timestamp)
            retire(index)
            return
        }
        let book = books + Int(o.instrument)
        let side = o.side.bookSide
        var crosses = o.crossType.isCrossOnly || isMarket
        if !crosses {
            let opposite = best(side.opposite, in: book)
            crosses = opposite >= 0 && (side == .bid ? Int64(o.level) >= opposite : Int64(o.level) <= opposite)
        }
        if crosses {
            linkIntoCrossList(index)
            if timeInForce.isTimed {
                expiries.push(ExpiryEntry(deadline: deadline(timeInForce), reference: o.reference, order: index), orders: orders)
            }
        } else {
            rest(index, timeInForce: timeInForce)
            emitBookAdd(index, timestamp: timestamp)
        }
    }

    /// `bookAdd` for an order on the ladder, when it is displayed.
    @inline(__always)
    mutating func emitBookAdd(_ index: OrderIndex, timestamp: Timestamp) {
        let o = orders[Int(index)]
        guard o.display.isDisplayed else { return }
        emit(.bookAdd(BookAdd(
            timestamp: timestamp, instrument: o.instrument, reference: o.reference,
            side: o.side.bookSide, shares: o.leaves, price: o.price,
            attribution: o.display.isAttributed ? o.firm : nil)))
    }

    /// Whether an order of `crossType` may be entered in `phase` (its cross is ahead).
    @inline(__always)
    static func crossTypeAccepted(_ crossType: CrossType, in phase: TradingPhase) -> Bool {
        switch crossType {
        case .opening: phase == .preOpen
        case .closing: phase != .postClose
        case .haltOrIPO: phase == .halted
        default: true
        }
    }

    // MARK: Queries

    func phase(of instrument: InstrumentIndex) -> TradingPhase { books[Int(instrument)].phase }

    /// Orders waiting in the cross list of an instrument, oldest first.
    func crossListOrders(instrument: InstrumentIndex) -> [RestingOrder] {
        var result: [RestingOrder] = []
        var i = books[Int(instrument)].crossHead
        while i != nullOrder {
            let o = orders[Int(i)]
            result.append(RestingOrder(
                client: o.client, token: o.token, reference: o.reference, side: o.side,
                shares: o.leaves, price: o.price, firm: o.firm, display: o.display))
            i = o.next
        }
        return result
    }
}
