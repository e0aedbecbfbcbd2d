import ExchangeBookReplica
import ExchangeCore
import ExchangeWire

/// What market data needs to continue a trading day at a journal sequence without replaying
/// what came before: the MoldUDP64 next sequence number, where the opening and closing are,
/// and the book replica (every displayed order, in priority order, and the halts) — the
/// snapshot service's source and what every later book event applies to. Replay
/// (`MarketDataAgent+Replay.swift`) rebuilds exactly this and the re-request history; a day
/// snapshot keeps this and leaves the history empty (it starts at the next sequence:
/// older messages are the journal's to serve).
///
/// The `market-data` section of a day snapshot (docs/DURABILITY.md, "Day snapshots"), all
/// integers little-endian:
/// ```
/// 0   4  version 2 (1 still read: no trading actions)
/// 4   4  instruments n
/// 8   8  next sequence
/// 16  1  phase (0 opening, 1 live, 2 closing, 3 ended), 17 1 end of day published,
/// 18  1  day opened, 19 1 zero, 20 4 phase index (opening or closing)
/// 24  8  opening timestamp (nanoseconds since midnight)
/// 32  n  halted flags (0 or 1), zero-padded to a multiple of 8
/// …   5×n per instrument its last Trading Action: u8 state letter, u32 reason (version 2),
///        zero-padded to a multiple of 8
/// …   8  orders m
/// …   32×m per order, instrument by instrument, bids then asks, each side in priority order:
///        u16 instrument, u8 side (0 bid, 1 ask), 5 zero, u64 reference, u32 shares,
///        u32 price, u32 attribution (0: none), u32 zero
/// ```
public struct FeedDayState: Equatable, Sendable {
    public struct Order: Equatable, Sendable {
        public var instrument: InstrumentIndex
        public var side: BookSide
        public var reference: OrderReference
        public var shares: Shares
        public var price: Price
        public var attribution: UInt32
    }

    public static let version: UInt32 = 2

    /// An instrument's last Trading Action on the feed (what a snapshot tells a late joiner).
    public struct TradingAction: Equatable, Sendable {
        public var state: UInt8
        public var reason: UInt32
    }

    public var nextSequence: UInt64
    public var phase: FeedPublisher.Phase
    public var endOfDayPublished: Bool
    public var dayOpened: Bool
    public var openingTimestamp: Timestamp
    public var halted: [Bool]
    /// One per instrument (version 1 sections: `T`, or `H` `O1` where halted).
    public var tradingActions: [TradingAction] = []
    public var orders: [Order]

    /// The state of `publisher` (with the agent's `dayOpened` and `openingTimestamp`).
    /// Allocates: for snapshots and checks.
    public init(publisher: borrowing FeedPublisher, dayOpened: Bool, openingTimestamp: Timestamp) {
        nextSequence = publisher.nextSequence
        phase = publisher.phase
        endOfDayPublished = publisher.endOfDayPublished
        self.dayOpened = dayOpened
        self.openingTimestamp = openingTimestamp
        let n = publisher.instrumentCount
        halted = (0..<n).map { publisher.replica.isHalted(InstrumentIndex($0)) }
        tradingActions = (0..<n).map {
            let last = publisher.replica.tradingState(InstrumentIndex($0))
            return TradingAction(state: last.state, reason: last.reason)
        }
        var orders: [Order] = []
        orders.reserveCapacity(publisher.replica.orderCount)
        for i in 0..<n {
            for side in [BookSide.bid, .ask] {
                publisher.replica.forEachOrder(instrument: InstrumentIndex(i), side: side) { o in
                    orders.append(Order(instrument: InstrumentIndex(i), side: side, reference: o.reference, shares: o.shares,
                                        price: o.price, attribution: o.attribution?.rawValue ?? 0))
                }
            }
        }
        self.orders = orders
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(48 + halted.count + 32 * orders.count)
        func u8(_ v: UInt8) { out.append(v) }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        u32(Self.version)
        u32(UInt32(halted.count))
        u64(nextSequence)
        let (kind, index): (UInt8, Int) = switch phase {
        case .opening(let i): (0, i)
        case .live: (1, 0)
        case .closing(let i): (2, i)
        case .ended: (3, 0)
        }
        u8(kind)
        u8(endOfDayPublished ? 1 : 0)
        u8(dayOpened ? 1 : 0)
        u8(0)
        u32(UInt32(index))
        u64(openingTimestamp)
        for h in halted { u8(h ? 1 : 0) }
        while out.count % 8 != 0 { u8(0) }
        for t in tradingActions {
            u8(t.state)
            u32(t.reason)
        }
        while out.count % 8 != 0 { u8(0) }
        u64(UInt64(orders.count))
        for o in orders {
            u16(o.instrument)
            u8(o.side.rawValue)
            for _ in 0..<5 { u8(0) }
            u64(o.reference)
            u32(o.shares)
            u32(o.price)
            u32(o.attribution)
            u32(0)
        }
        return out
    }

    /// Decodes a `market-data` section; the error says what does not fit.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<FeedDayState, FeedDayStateError> {
        var at = 0
        func need(_ n: Int) -> Bool { at + n <= bytes.count }
        func u8() -> UInt8 { defer { at += 1 }; return bytes[at] }
        func u16() -> UInt16 { defer { at += 2 }; return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
        func u32() -> UInt32 { defer { at += 4 }; return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64() -> UInt64 { defer { at += 8 }; return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        func fail(_ reason: String) -> Result<FeedDayState, FeedDayStateError> { .failure(FeedDayStateError("market-data section: " + reason)) }
        guard need(32) else { return fail("\(bytes.count) bytes, shorter than its header") }
        let version = u32()
        guard version == 1 || version == Self.version else { return fail("version \(version), expected 1 or \(Self.version)") }
        let n = Int(u32())
        let next = u64()
        guard next >= 1 && next < UInt64.max / 2 else { return fail("next sequence \(next)") }
        let kind = u8(), ended = u8(), opened = u8()
        _ = u8()
        let index = Int(u32())
        let opening = u64()
        let phase: FeedPublisher.Phase
        switch kind {
        case 0: phase = .opening(index)
        case 1: phase = .live
        case 2: phase = .closing(index)
        case 3: phase = .ended
        default: return fail("phase \(kind)")
        }
        guard ended <= 1, opened <= 1 else { return fail("a flag that is not 0 or 1") }
        let padded = (n + 7) / 8 * 8
        guard need(padded + 8) else { return fail("cut short in its \(n) halted flags") }
        var halted: [Bool] = []
        halted.reserveCapacity(n)
        for _ in 0..<n {
            let h = u8()
            guard h <= 1 else { return fail("a halted flag \(h)") }
            halted.append(h == 1)
        }
        at += padded - n
        var actions: [TradingAction] = []
        if version >= 2 {
            let bytesOfActions = (5 * n + 7) / 8 * 8
            guard need(bytesOfActions + 8) else { return fail("cut short in its \(n) trading actions") }
            let states = Set(ITCH.TradingState.allCases.map(\.rawValue))
            for _ in 0..<n {
                let state = u8(), reason = u32()
                guard states.contains(state) else { return fail("a trading state \(state)") }
                actions.append(TradingAction(state: state, reason: reason))
            }
            at += bytesOfActions - 5 * n
        } else {
            actions = halted.map {
                $0 ? TradingAction(state: ITCH.TradingState.halted.rawValue, reason: ITCH.Reason.operationsHalt)
                    : TradingAction(state: ITCH.TradingState.trading.rawValue, reason: ITCH.Reason.none)
            }
        }
        let count = u64()
        guard count <= UInt64(bytes.count), at + 32 * Int(count) == bytes.count else {
            return fail("\(count) orders do not fill its \(bytes.count - at) remaining bytes")
        }
        var orders: [Order] = []
        orders.reserveCapacity(Int(count))
        for _ in 0..<Int(count) {
            let instrument = u16()
            let sideRaw = u8()
            at += 5
            let reference = u64(), shares = u32(), price = u32(), attribution = u32()
            _ = u32()
            guard Int(instrument) < n, let side = BookSide(rawValue: sideRaw) else {
                return fail("an order of instrument \(instrument) side \(sideRaw)")
            }
            orders.append(Order(instrument: instrument, side: side, reference: reference, shares: shares, price: price,
                                attribution: attribution))
        }
        var state = FeedDayState(nextSequence: next, phase: phase, endOfDayPublished: ended == 1, dayOpened: opened == 1,
                                 openingTimestamp: opening, halted: halted, orders: [])
        state.tradingActions = actions
        state.orders = orders
        return .success(state)
    }

    init(nextSequence: UInt64, phase: FeedPublisher.Phase, endOfDayPublished: Bool, dayOpened: Bool, openingTimestamp: Timestamp,
         halted: [Bool], orders: [Order]) {
        self.nextSequence = nextSequence
        self.phase = phase
        self.endOfDayPublished = endOfDayPublished
        self.dayOpened = dayOpened
        self.openingTimestamp = openingTimestamp
        self.halted = halted
        self.orders = orders
    }
}

/// A `market-data` section that does not decode, or does not fit the feed it is restored into.
public struct FeedDayStateError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension FeedPublisher {
    /// Puts a snapshot's state into a publisher made with `firstSequence` equal to the
    /// state's next sequence that has published nothing: the phase, the end-of-day flag and
    /// the replica's orders and halts. Refuses (changing nothing) a state for another number
    /// of instruments or more orders than the replica holds.
    public mutating func restoreDayState(_ state: FeedDayState) throws(FeedDayStateError) {
        guard state.halted.count == instrumentCount else {
            throw FeedDayStateError("the snapshot's feed has \(state.halted.count) instruments, the configuration \(instrumentCount)")
        }
        guard nextSequence == state.nextSequence, replica.orderCount == 0 else {
            throw FeedDayStateError("the feed must be made at the snapshot's next sequence \(state.nextSequence), empty (it is at \(nextSequence))")
        }
        for (i, h) in state.halted.enumerated() { _ = replica.setHalted(instrument: InstrumentIndex(i), h) }
        for (i, t) in state.tradingActions.enumerated() where i < instrumentCount {
            _ = replica.setTradingState(instrument: InstrumentIndex(i), state: t.state, reason: t.reason)
        }
        for o in state.orders {
            let outcome = replica.add(instrument: o.instrument, side: o.side, reference: o.reference, shares: o.shares, price: o.price,
                                      attribution: o.attribution == 0 ? nil : Firm(rawValue: o.attribution))
            guard outcome == .applied else {
                replica.removeAll()
                throw FeedDayStateError("the snapshot's order \(o.reference) does not fit the replica: \(outcome)")
            }
        }
        phase = state.phase
        endOfDayPublished = state.endOfDayPublished
    }
}

extension MarketDataAgent {
    /// The agent's day state now (allocates: for snapshots and checks).
    public func dayState() -> FeedDayState {
        FeedDayState(publisher: publisher, dayOpened: dayOpened, openingTimestamp: openingTimestamp)
    }

    /// Puts a snapshot's day state into an agent made with `Configuration.firstSequence` equal
    /// to its next sequence, before any replay and before `onStart`.
    public mutating func restoreDayState(_ state: FeedDayState) throws(FeedDayStateError) {
        try publisher.restoreDayState(state)
        dayOpened = state.dayOpened
        openingTimestamp = state.openingTimestamp
    }
}
