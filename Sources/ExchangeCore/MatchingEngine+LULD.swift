// Limit up, limit down (docs/MATCHING.md §Limit up, limit down). Three places:
//
// - on entry, in continuous trading, a limit price through a band is repriced to the band
//   and the taker's walk never leaves the bands (`bandLevel`, `applyBands`);
// - at the end of every command, the instruments whose best prices, reference or phase
//   changed are looked at, in ascending index: bands are recomputed and limit states begin
//   or end (`settleLimitStates`, `Job.luldSettle`);
// - at the start of a command whose time reached the earliest LULD deadline, limit states
//   held `limitStateNanoseconds` become pauses and pauses `pauseNanoseconds` old reopen
//   through the halt cross (`continueLULDTimers`, `Job.luldTimers`).
//
// The hot path pays one load and compare for the deadline and a branch on `luldEnabled`
// where a level empties or fills; only a due deadline scans the instruments.

extension EngineState {
    // MARK: Bands

    /// Recomputes the bands around the instrument's current reference (last trade, else the
    /// configured reference price).
    @inline(__always)
    func refreshBands(_ book: UnsafeMutablePointer<InstrumentBook>) {
        let (lower, upper) = luld.bands(reference: book.pointee.currentReference, tickSize: book.pointee.tickSize)
        book.pointee.luldLower = lower
        book.pointee.luldUpper = upper
        let base = Int64(book.pointee.baseTick)
        let tick = Int64(book.pointee.tickSize)
        book.pointee.luldLowerLevel = Int64(lower) / tick - base
        book.pointee.luldUpperLevel = Int64(upper) / tick - base
    }

    /// Notes that an instrument's limit state must be looked at when the command ends.
    @inline(__always)
    mutating func luldTouched(_ instrument: InstrumentIndex) {
        if _slowPath(luldEnabled) {
            luldDirty[Int(instrument) >> 6] |= 1 &<< (UInt64(instrument) & 63)
            luldDirtyAny = true
        }
    }

    /// A limit price through the band on entry (continuous trading) is repriced to the band:
    /// a buy above the upper band to the upper band, a sell below the lower band to the lower
    /// band. A band off the ladder on the far side cannot be reached: `priceOutOfRange`.
    @inline(__always)
    func bandLevel(_ level: UInt32, side: BookSide, in book: UnsafeMutablePointer<InstrumentBook>) -> Result<UInt32, RejectReason> {
        if side == .bid {
            let upper = book.pointee.luldUpperLevel
            guard Int64(level) > upper else { return .success(level) }
            return upper < 0 ? .failure(.priceOutOfRange) : .success(UInt32(upper))
        }
        let lower = book.pointee.luldLowerLevel
        guard Int64(level) < lower else { return .success(level) }
        return lower >= Int64(priceLevels) ? .failure(.priceOutOfRange) : .success(UInt32(lower))
    }

    /// Keeps the taker's walk inside the bands: its limit stops at the far band (market
    /// orders), and when the opposite best is already beyond the near band (a buy facing an
    /// ask below the lower band, a sell facing a bid above the upper band) it takes nothing.
    @inline(__always)
    mutating func applyBands(_ book: UnsafeMutablePointer<InstrumentBook>) {
        if taker.side == .bid {
            if taker.limitLevel > book.pointee.luldUpperLevel { taker.limitLevel = book.pointee.luldUpperLevel }
            let ask = best(.ask, in: book)
            if ask >= 0 && ask < book.pointee.luldLowerLevel {
                taker.limitLevel = -1
                taker.luldBlocked = true
            }
        } else {
            if taker.limitLevel < book.pointee.luldLowerLevel { taker.limitLevel = book.pointee.luldLowerLevel }
            let bid = best(.bid, in: book)
            if bid >= 0 && bid > book.pointee.luldUpperLevel {
                taker.limitLevel = Int64(priceLevels)
                taker.luldBlocked = true
            }
        }
    }

    /// Whether the order, resting at its level, would lock or cross the opposite best.
    @inline(__always)
    func wouldCross(_ index: OrderIndex) -> Bool {
        let o = orders[Int(index)]
        let book = books + Int(o.instrument)
        let side = o.side.bookSide
        let opposite = best(side.opposite, in: book)
        guard opposite >= 0 else { return false }
        return side == .bid ? Int64(o.level) >= opposite : Int64(o.level) <= opposite
    }

    // MARK: Limit states, at the end of a command

    /// Looks at every instrument the command touched, ascending: bands, then the limit state.
    mutating func settleLimitStates() -> ProcessStatus {
        var word = 0
        while word < luldDirtyWords {
            while luldDirty[word] != 0 {
                guard hasRoomForStep else {
                    job = .luldSettle
                    counters.suspensions &+= 1
                    return .suspended
                }
                let bit = luldDirty[word].trailingZeroBitCount
                luldDirty[word] &= luldDirty[word] &- 1
                evaluateLimitState(word * 64 + bit)
            }
            word += 1
        }
        luldDirtyAny = false
        job = .idle
        return .completed
    }

    /// Recomputes the bands; the limit state is `upper` when the best bid is at or above the
    /// upper band, else `lower` when the best ask is at or below the lower band, else none
    /// (always none outside continuous trading). A change is an event; a new limit state
    /// gets its deadline.
    private mutating func evaluateLimitState(_ instrument: Int) {
        let book = books + instrument
        refreshBands(book)
        var state = LimitState.none
        if book.pointee.phase == .continuous {
            let bid = best(.bid, in: book)
            let ask = best(.ask, in: book)
            if bid >= 0 && bid >= book.pointee.luldUpperLevel {
                state = .upper
            } else if ask >= 0 && ask <= book.pointee.luldLowerLevel {
                state = .lower
            }
        }
        guard state != book.pointee.limitState else { return }
        book.pointee.limitState = state
        if state != .none {
            let (deadline, overflow) = now.addingReportingOverflow(luld.limitStateNanoseconds)
            book.pointee.limitStateDeadline = overflow ? .max : deadline
            if book.pointee.limitStateDeadline < luldNextDeadline { luldNextDeadline = book.pointee.limitStateDeadline }
        }
        emit(.limitState(LimitStateChanged(
            timestamp: commandTimestamp, instrument: InstrumentIndex(instrument), state: state,
            lowerBand: book.pointee.luldLower, upperBand: book.pointee.luldUpper)))
    }

    // MARK: Pauses, at the start of a command

    /// Starts the deadline scan when engine time reached the earliest LULD deadline.
    @inline(__always)
    mutating func startLULDTimers() -> ProcessStatus {
        guard _slowPath(luldEnabled) && now >= luldNextDeadline else { return .completed }
        luldCursor = 0
        job = .luldTimers
        return continueLULDTimers()
    }

    /// Instruments in ascending index: a pause whose end is due reopens through the halt
    /// cross; a limit state whose deadline is due becomes a pause. Then the next deadline.
    mutating func continueLULDTimers() -> ProcessStatus {
        while luldCursor < bookCount {
            guard hasRoomForStep else {
                counters.suspensions &+= 1
                return .suspended
            }
            let instrument = luldCursor
            let book = books + instrument
            luldCursor += 1
            if book.pointee.luldPaused {
                guard book.pointee.pauseEnd <= now else { continue }
                // The reopening price must be inside the collar; if not, the pause is extended
                // and the collar widens on that side.
                let found = findCrossPrice(instrument: instrument, kind: .halt)
                if found.level >= 0 {
                    let price = book.pointee.price(ofLevel: UInt32(found.level))
                    if price > book.pointee.auctionUpper || price < book.pointee.auctionLower {
                        extendPause(instrument, upward: price > book.pointee.auctionUpper)
                        continue
                    }
                }
                book.pointee.luldPaused = false
                phaseJob = PhaseJob(
                    timestamp: commandTimestamp, action: .resume, instrument: instrument, lastInstrument: instrument,
                    marketWide: false, stage: .begin)
                phaseJob.luldReopening = true
                job = .phase
                if continuePhase() == .suspended { return .suspended }
            } else if book.pointee.limitState != .none && book.pointee.limitStateDeadline <= now
                        && book.pointee.phase == .continuous {
                startPause(instrument)
            }
        }
        var next = Timestamp.max
        for i in 0..<bookCount {
            let book = books[i]
            if book.luldPaused { next = min(next, book.pauseEnd) }
            if book.limitState != .none { next = min(next, book.limitStateDeadline) }
        }
        luldNextDeadline = next
        job = .idle
        return .completed
    }

    /// The limit state held too long: the instrument pauses (`halted`, reason `luldPause`)
    /// and the collar of its reopening cross is published.
    private mutating func startPause(_ instrument: Int) {
        let book = books + instrument
        let side = book.pointee.limitState
        book.pointee.limitState = .none
        book.pointee.luldPaused = true
        let (end, overflow) = now.addingReportingOverflow(luld.pauseNanoseconds)
        book.pointee.pauseEnd = overflow ? .max : end
        changePhase(.halted, instrument: instrument, timestamp: commandTimestamp, reason: .luldPause)
        let collar = luld.auctionCollar(side: side, lower: book.pointee.luldLower, upper: book.pointee.luldUpper,
                                        tickSize: book.pointee.tickSize)
        book.pointee.auctionReference = collar.reference
        book.pointee.auctionLower = collar.lower
        book.pointee.auctionUpper = collar.upper
        book.pointee.auctionExtensions = 0
        emitAuctionCollar(instrument)
    }

    /// The reopening price fell outside the collar: the pause lasts `pauseNanoseconds` more,
    /// the collar widens on that side, and the new collar is published.
    private mutating func extendPause(_ instrument: Int, upward: Bool) {
        let book = books + instrument
        let (end, overflow) = now.addingReportingOverflow(luld.pauseNanoseconds)
        book.pointee.pauseEnd = overflow ? .max : end
        (book.pointee.auctionLower, book.pointee.auctionUpper) = luld.widenedCollar(
            lower: book.pointee.auctionLower, upper: book.pointee.auctionUpper, upward: upward, tickSize: book.pointee.tickSize)
        book.pointee.auctionExtensions &+= 1
        emitAuctionCollar(instrument)
    }

    private mutating func emitAuctionCollar(_ instrument: Int) {
        let book = books + instrument
        emit(.auctionCollar(AuctionCollar(
            timestamp: commandTimestamp, instrument: InstrumentIndex(instrument), referencePrice: book.pointee.auctionReference,
            upperPrice: book.pointee.auctionUpper, lowerPrice: book.pointee.auctionLower,
            extensions: book.pointee.auctionExtensions)))
    }

    /// Sets an instrument's phase and emits `phaseChanged`.
    mutating func changePhase(_ phase: TradingPhase, instrument: Int, timestamp: Timestamp, reason: PhaseReason) {
        let previous = books[instrument].phase
        books[instrument].phase = phase
        luldTouched(InstrumentIndex(instrument))
        emit(.phaseChanged(PhaseChanged(
            timestamp: timestamp, instrument: InstrumentIndex(instrument), previous: previous, phase: phase, reason: reason)))
    }

    // MARK: Queries

    func luldBands(of instrument: InstrumentIndex) -> (lower: Price, upper: Price)? {
        guard luldEnabled else { return nil }
        return (books[Int(instrument)].luldLower, books[Int(instrument)].luldUpper)
    }

    func limitState(of instrument: InstrumentIndex) -> LimitState { books[Int(instrument)].limitState }

    func isLULDPaused(_ instrument: InstrumentIndex) -> Bool { books[Int(instrument)].luldPaused }
}
