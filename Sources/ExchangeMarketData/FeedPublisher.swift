import ExchangeBookReplica
import ExchangeCore
import ExchangeWire

/// The pure half of the market-data publisher: turns the engine's book events into ITCH
/// 5.0 messages, numbers them, packs them into MoldUDP64 packets in `packets`, keeps each
/// in the re-request `history`, and applies it to the `replica` the snapshot service reads.
/// No I/O and no clock: the agent hands finished packets to the socket and passes time in.
///
/// Packing: messages go into the open packet until the next would pass `maxPayload`; then
/// the packet is closed and a new one opened. `flush()` closes the open packet — the agent
/// calls it at the end of every batch of engine events, so no message waits for a full
/// packet. Every call that may close a packet needs a free slot beyond the open one:
/// `canPublish` says whether there is room for one more event.
///
/// Session framing: `advanceOpening` publishes System Event `O`, a Stock Directory per
/// instrument, `S`, `Q`, then a Trading Action per instrument (its state at the start);
/// `advanceClosing` publishes `M`, `E`, `C` and then an End of Session packet (count 0xFFFF).
/// Both go as far as free slots allow and resume on the next call.
///
/// Event → message (docs/MATCHING.md, "What the book events give ITCH"):
///
/// | engine event | ITCH |
/// |---|---|
/// | `bookAdd` | `A`, or `F` with the firm when attributed |
/// | `bookReduce` remaining > 0 | `X` canceled shares |
/// | `bookReduce` remaining = 0 | `D` |
/// | `bookReplace` | `U` |
/// | `executed`, displayed maker | `E` (the continuous book always trades at the maker's price, so never `C`) |
/// | `executed`, non-displayed maker | `P`, order reference 0, the maker's side |
/// | `tradingState` | `H`, halted (`O1`) or trading |
public struct FeedPublisher: ~Copyable, @unchecked Sendable {
    public let session: SoupSessionName
    public let maxPayload: Int
    /// The smallest packet that holds what one engine event publishes, with the packet and
    /// block headers: the longest message (`I`, 50 bytes), or a cross fill's two Executed
    /// With Price (2 × 36), whichever is more — so one event never needs more than the two
    /// free slots `canPublish` promises.
    public static let minimumPayload = MoldUDP64.headerLength + max(
        MoldUDP64.blockHeaderLength + ITCH.Length.maximum,
        2 * (MoldUDP64.blockHeaderLength + ITCH.Length.orderExecutedWithPrice))
    public var packets: PacketSlots
    public var history: RetransmitHistory
    public var replica: BookReplica
    @usableFromInline let instruments: UnsafeMutablePointer<InstrumentSpec>
    public let instrumentCount: Int

    /// Sequence number of the next message.
    @inlinable public var nextSequence: UInt64 { history.nextSequence }
    @usableFromInline var openCount = 0
    @usableFromInline var openBytes = 0
    @usableFromInline var openFirst: UInt64 = 1

    public internal(set) var phase: Phase = .opening(0)
    /// The end-of-day System Events (`M`, `E`, `C`) are out: closing adds only End of Session.
    public internal(set) var endOfDayPublished = false
    @usableFromInline var storedCounters = Counters()
    public var counters: Counters { storedCounters }

    public enum Phase: Equatable, Sendable {
        /// The next opening message's index.
        case opening(Int)
        case live
        /// The next closing message's index.
        case closing(Int)
        case ended
    }

    public struct Counters: Equatable, Sendable {
        public var messages: UInt64 = 0
        public var packets: UInt64 = 0
        public var bytes: UInt64 = 0
        public var heartbeats: UInt64 = 0
        /// Book events the replica disagreed with (never, unless the engine and this
        /// publisher disagree about the book: a bug to investigate).
        public var replicaMismatches: UInt64 = 0
        public init() {}
    }

    /// - Parameters:
    ///   - maxPayload: MoldUDP64 packet size at most, `minimumPayload`…65507.
    ///   - packetSlots: packets that may be ready or in flight at once (a power of two ≥ 4).
    ///   - historyMessages: messages kept for re-requests (a power of two).
    ///   - orderCapacity: resting orders the replica can hold (the engine's order pool).
    ///   - firstSequence: the sequence number of the first message (1 for a new session; past
    ///     it when the feed continues its session after a restart).
    public init(session: SoupSessionName, maxPayload: Int, instruments: [InstrumentSpec], packetSlots: Int,
                historyMessages: Int, orderCapacity: Int, firstSequence: UInt64 = 1) {
        precondition((Self.minimumPayload...MoldUDP64.maximumPayload).contains(maxPayload), "max payload out of range")
        precondition(packetSlots >= 4, "at least four packet slots")
        precondition(!instruments.isEmpty, "no instruments")
        self.session = session
        self.maxPayload = maxPayload
        packets = PacketSlots(count: packetSlots, slotBytes: maxPayload)
        history = RetransmitHistory(capacity: historyMessages, firstSequence: firstSequence)
        replica = BookReplica(instrumentCount: instruments.count, orderCapacity: orderCapacity)
        self.instruments = .allocate(capacity: instruments.count)
        self.instruments.initialize(from: instruments, count: instruments.count)
        instrumentCount = instruments.count
    }

    deinit { instruments.deallocate() }

    /// Whether the feed's opening says the market is open (System Events `S` and `Q` after
    /// the directory). False when the trading day's schedule runs: its phase commands publish
    /// them when they happen.
    public var opensMarket = true

    /// The heap bytes `init` allocates besides its `RetransmitHistory` (planned on its own):
    /// the packet slots, the replica of the books and the instruments.
    public static func requiredBytes(maxPayload: Int, instrumentCount: Int, packetSlots: Int, orderCapacity: Int) -> Int {
        PacketSlots.requiredBytes(count: packetSlots, slotBytes: maxPayload)
            + BookReplica.requiredBytes(instrumentCount: instrumentCount, orderCapacity: orderCapacity)
            + instrumentCount * MemoryLayout<InstrumentSpec>.stride
    }

    /// Whether one more event (or one more opening/closing message) has room: a free slot
    /// beyond the open packet's.
    @inlinable public var canPublish: Bool { packets.free >= 2 }

    // MARK: Engine events

    /// Publishes what a book event says (other events are not book events and are ignored).
    /// Needs `canPublish`.
    @inlinable
    public mutating func publish(_ event: EngineEvent) {
        switch event {
        case .bookAdd(let e):
            publish(.addOrder(.init(
                locate: e.instrument &+ 1, timestamp: e.timestamp, reference: e.reference,
                side: e.side.itchCode, shares: e.shares, symbol: instruments[Int(e.instrument)].symbol,
                price: e.price, attribution: e.attribution)))
            check(replica.add(instrument: e.instrument, side: e.side, reference: e.reference, shares: e.shares,
                              price: e.price, attribution: e.attribution))
        case .bookReduce(let e):
            if e.remaining > 0 {
                publish(.orderCancel(.init(locate: e.instrument &+ 1, timestamp: e.timestamp, reference: e.reference,
                                           canceledShares: e.canceledShares)))
                check(replica.reduce(reference: e.reference, by: e.canceledShares))
            } else {
                publish(.orderDelete(.init(locate: e.instrument &+ 1, timestamp: e.timestamp, reference: e.reference)))
                check(replica.delete(reference: e.reference))
            }
        case .bookReplace(let e):
            publish(.orderReplace(.init(locate: e.instrument &+ 1, timestamp: e.timestamp, originalReference: e.previousReference,
                                        newReference: e.reference, shares: e.shares, price: e.price)))
            check(replica.replace(reference: e.previousReference, with: e.reference, shares: e.shares, price: e.price))
        case .executed(let e):
            if e.makerDisplay.isDisplayed {
                publish(.orderExecuted(.init(locate: e.instrument &+ 1, timestamp: e.timestamp, reference: e.makerReference,
                                             shares: e.shares, matchNumber: e.matchNumber)))
                check(replica.reduce(reference: e.makerReference, by: e.shares))
            } else {
                publish(.trade(.init(locate: e.instrument &+ 1, timestamp: e.timestamp, reference: 0,
                                     side: e.makerSide.bookSide.itchCode, shares: e.shares,
                                     symbol: instruments[Int(e.instrument)].symbol, price: e.price, matchNumber: e.matchNumber)))
            }
        case .tradingState(let e):
            publish(tradingAction(instrument: Int(e.instrument), timestamp: e.timestamp, halted: e.halted))
            check(replica.setHalted(instrument: e.instrument, e.halted))
        case .phaseChanged(let e):
            // The book replica's halted flag stays the operator's halt (`tradingState`).
            guard let state = e.phase.itchTradingState else { break }
            let reason = e.reason == .luldPause ? ITCH.Reason.luldPause
                : e.phase == .halted ? ITCH.Reason.operationsHalt : ITCH.Reason.none
            publish(.tradingAction(.init(
                locate: e.instrument &+ 1, timestamp: e.timestamp, symbol: instruments[Int(e.instrument)].symbol,
                state: state.rawValue, reason: reason)))
        case .auctionCollar(let e):
            publish(.luldAuctionCollar(.init(
                locate: e.instrument &+ 1, timestamp: e.timestamp, symbol: instruments[Int(e.instrument)].symbol,
                referencePrice: e.referencePrice, upperPrice: e.upperPrice, lowerPrice: e.lowerPrice,
                extensions: e.extensions)))
        case .limitState:
            // ITCH has no message for a limit state (the SIP's quotes carry it).
            break
        case .marketEvent(let e):
            publish(.systemEvent(.init(timestamp: e.timestamp, code: e.code.itchCode)))
        case .imbalance(let e):
            publish(.imbalance(.init(
                locate: e.instrument &+ 1, timestamp: e.timestamp, pairedShares: e.pairedShares,
                imbalanceShares: e.imbalanceShares, direction: e.direction.itchCode.rawValue,
                symbol: instruments[Int(e.instrument)].symbol, farPrice: e.price, nearPrice: e.price,
                referencePrice: e.referencePrice, crossType: e.cross.itchCode.rawValue,
                priceVariation: ITCH.priceVariation(price: e.price, reference: e.referencePrice))))
        case .crossFill(let e):
            // A side on the displayed book executes at the cross price, not printable (the
            // cross's `Q` is the print); other sides were never on the feed.
            if e.buy.onBook { publishCrossExecution(e, reference: e.buy.reference) }
            if e.sell.onBook { publishCrossExecution(e, reference: e.sell.reference) }
        case .crossCompleted(let e):
            publish(.crossTrade(.init(
                locate: e.instrument &+ 1, timestamp: e.timestamp, shares: e.shares,
                symbol: instruments[Int(e.instrument)].symbol, price: e.price, matchNumber: e.matchNumber,
                crossType: e.cross.itchCode.rawValue)))
        case .accepted, .rejected, .replaced, .canceled, .modified, .cancelRejected:
            break
        case .systemEvent(let e):
            // The start of the day is the opening (`advanceOpening`, which takes several
            // packets); the end of the day is three messages, within the two free slots.
            if e.event == .endOfDay { publishEndOfDay(timestamp: e.timestamp % ITCHEncoder.nanosecondsPerDay) }
        }
    }

    @inlinable
    mutating func publishCrossExecution(_ e: CrossFill, reference: OrderReference) {
        publish(.orderExecutedWithPrice(.init(
            locate: e.instrument &+ 1, timestamp: e.timestamp, reference: reference, shares: e.shares,
            matchNumber: e.matchNumber, printable: 0x4E, price: e.price)))
        check(replica.reduce(reference: reference, by: e.shares))
    }

    /// Starts loading the replica's table lines `event` will touch: the agent calls it a few
    /// events ahead in a batch, so that those (random) lines are in cache by the time the
    /// event is published. Changes nothing.
    @inlinable @inline(__always)
    public func prefetch(_ event: EngineEvent) {
        switch event {
        case .bookAdd(let e):
            replica.prefetch(reference: e.reference)
            replica.prefetchLevel(instrument: e.instrument, side: e.side, price: e.price)
        case .bookReduce(let e):
            replica.prefetch(reference: e.reference)
        case .bookReplace(let e):
            replica.prefetch(reference: e.previousReference)
            replica.prefetch(reference: e.reference)
        case .executed(let e):
            if e.makerDisplay.isDisplayed { replica.prefetch(reference: e.makerReference) }
        default:
            break
        }
    }

    @inlinable @inline(__always)
    mutating func check(_ outcome: BookReplica.Outcome) {
        if outcome != .applied { storedCounters.replicaMismatches &+= 1 }
    }

    /// Appends one message to the open packet (opening one, or closing a full one first).
    @inlinable
    public mutating func publish(_ message: ITCHMessage) {
        // The replica keeps every instrument's last Trading Action for snapshots and restarts.
        if case .tradingAction(let m) = message, m.locate > 0 {
            _ = replica.setTradingState(instrument: m.locate &- 1, state: m.state, reason: m.reason)
        }
        let length = message.length
        if openCount > 0 && openBytes &+ MoldUDP64.blockHeaderLength &+ length > maxPayload { closePacket() }
        guard let slot = packets.fillingSlot else { preconditionFailure("publish without a free packet slot") }
        if openCount == 0 {
            openBytes = MoldUDP64.headerLength
            openFirst = nextSequence
        }
        let block = packets.bytes(slot) + openBytes
        BigEndian.write(UInt16(truncatingIfNeeded: length), to: block, at: 0)
        _ = ITCHEncoder.write(message, to: block + MoldUDP64.blockHeaderLength)
        history.appendBlock(block)
        openBytes &+= MoldUDP64.blockHeaderLength &+ length
        openCount &+= 1
        storedCounters.messages &+= 1
    }

    /// Closes the open packet, if any: it becomes ready to send.
    @inlinable
    public mutating func flush() {
        if openCount > 0 { closePacket() }
    }


    @inlinable
    mutating func closePacket() {
        let slot = packets.fillingSlot!
        MoldUDP64.writeHeader(session: session, sequence: openFirst, count: UInt16(truncatingIfNeeded: openCount), to: packets.bytes(slot))
        packets.commit(length: openBytes)
        storedCounters.packets &+= 1
        storedCounters.bytes &+= UInt64(openBytes)
        openCount = 0
        openBytes = 0
    }

    /// A heartbeat packet (count 0, the next sequence number). Needs `canPublish`.
    public mutating func heartbeat() {
        headerOnlyPacket(count: MoldUDP64.heartbeatCount)
        storedCounters.heartbeats &+= 1
    }

    mutating func headerOnlyPacket(count: UInt16) {
        flush()
        guard let slot = packets.fillingSlot else { preconditionFailure("no free packet slot") }
        MoldUDP64.writeHeader(session: session, sequence: nextSequence, count: count, to: packets.bytes(slot))
        packets.commit(length: MoldUDP64.headerLength)
        storedCounters.packets &+= 1
        storedCounters.bytes &+= UInt64(MoldUDP64.headerLength)
    }

    // MARK: Opening and closing

    /// Publishes the opening messages as far as free slots allow; true once all are out
    /// (the feed is live). `timestamp`: now, nanoseconds since midnight.
    public mutating func advanceOpening(timestamp: Timestamp) -> Bool {
        guard case .opening(var index) = phase else { return phase == .live }
        let n = instrumentCount
        while index < 3 + 2 * n && canPublish {
            if !opensMarket && (index == n + 1 || index == n + 2) {
                index += 1
                continue
            }
            switch index {
            case 0: publish(.systemEvent(.init(timestamp: timestamp, code: .startOfMessages)))
            case 1...n:
                publish(.stockDirectory(.init(locate: UInt16(index), timestamp: timestamp, instrument: instruments[index - 1])))
            case n + 1: publish(.systemEvent(.init(timestamp: timestamp, code: .startOfSystemHours)))
            case n + 2: publish(.systemEvent(.init(timestamp: timestamp, code: .startOfMarketHours)))
            default:
                let instrument = index - n - 3
                publish(tradingAction(instrument: instrument, timestamp: timestamp, halted: replica.isHalted(InstrumentIndex(instrument))))
            }
            index += 1
        }
        flush()
        phase = index == 3 + 2 * n ? .live : .opening(index)
        return phase == .live
    }

    /// The end of the trading day: `M` (end of market hours), `E` (end of system hours), `C`
    /// (end of messages), once. The End of Session packet follows at shutdown
    /// (`advanceClosing`). Needs `canPublish`.
    public mutating func publishEndOfDay(timestamp: Timestamp) {
        guard !endOfDayPublished else { return }
        publish(.systemEvent(.init(timestamp: timestamp, code: .endOfMarketHours)))
        publish(.systemEvent(.init(timestamp: timestamp, code: .endOfSystemHours)))
        publish(.systemEvent(.init(timestamp: timestamp, code: .endOfMessages)))
        endOfDayPublished = true
    }

    /// Publishes the closing messages (`M`, `E`, `C`, unless the end of day published them)
    /// and the End of Session packet as far
    /// as free slots allow; true once the End of Session is out. Starts closing if live.
    public mutating func advanceClosing(timestamp: Timestamp) -> Bool {
        var index: Int
        switch phase {
        case .ended: return true
        case .closing(let i): index = i
        case .opening, .live: index = endOfDayPublished ? 3 : 0
        }
        while index < 3 && canPublish {
            let code: ITCH.EventCode = index == 0 ? .endOfMarketHours : index == 1 ? .endOfSystemHours : .endOfMessages
            publish(.systemEvent(.init(timestamp: timestamp, code: code)))
            index += 1
        }
        if index == 3 && canPublish {
            headerOnlyPacket(count: MoldUDP64.endOfSessionCount)
            phase = .ended
            return true
        }
        flush()
        phase = .closing(index)
        return false
    }

    @inlinable
    func tradingAction(instrument: Int, timestamp: Timestamp, halted: Bool) -> ITCHMessage {
        .tradingAction(.init(locate: UInt16(truncatingIfNeeded: instrument &+ 1), timestamp: timestamp,
                             symbol: instruments[instrument].symbol,
                             state: halted ? ITCH.TradingState.halted.rawValue : ITCH.TradingState.trading.rawValue,
                             reason: halted ? ITCH.Reason.operationsHalt : ITCH.Reason.none))
    }
}
