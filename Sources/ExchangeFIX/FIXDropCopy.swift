import ExchangeCore

// The FIX drop copy's mapping: every order event of an account whose firm has a drop copy
// becomes one ExecutionReport (35=8), whatever protocol the order came in by (OUCH or FIX).
// The engine's events do not carry what FIX reports about an order over its life (OrderQty,
// CumQty, LeavesQty, AvgPx, the chain's first OrderID), so the drop copy keeps each live
// order's state in `FIXDropCopyBook`, keyed by (client, token), from its acceptance to its
// end (filled, cancelled, expired, replaced). Pure logic; nothing allocates after `init`.
// docs/FIX.md, "Drop copy", is the contract.

/// One live order of a drop-copy firm.
public struct FIXDropCopyOrder: Sendable, BitwiseCopyable {
    /// `ClientID.max`: a free slot of the book.
    public var client: ClientID = .max
    public var token = OrderToken(high: 0, low: 0)
    /// The engine's reference of the chain's first order (FIX OrderID); 0: none ("NONE").
    public var orderID: OrderReference = 0
    /// 0: written as "[N/A]" (a reject of an OUCH order, whose fields the reject does not carry).
    public var symbol = Symbol(rawValue: 0)
    /// nil: Side 7 (Undisclosed), for a reject of an order whose side is unknown.
    public var side: Side? = nil
    public var ordType: OrderType = .limit
    public var ordStatus: UInt8 = UInt8(ascii: "0")
    public var orderQty: Shares = 0
    public var price: Price = 0
    public var cumQty: Shares = 0
    public var leavesQty: Shares = 0
    public var notional: UInt64 = 0
    public init() {}
}

/// The drop copy's live orders: open addressing with linear probing and backward-shift
/// deletion (no tombstones), at most `capacity` orders, sized once.
public struct FIXDropCopyBook: ~Copyable {
    public let capacity: Int
    public private(set) var count = 0
    @usableFromInline let slots: UnsafeMutablePointer<FIXDropCopyOrder>
    @usableFromInline let mask: Int

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        var size = 2
        while size < 2 * self.capacity { size <<= 1 }
        mask = size - 1
        slots = .allocate(capacity: size)
        slots.initialize(repeating: FIXDropCopyOrder(), count: size)
    }

    deinit { slots.deallocate() }

    @inline(__always)
    func home(_ client: ClientID, _ token: OrderToken) -> Int {
        var h = token.high &* 0x9E37_79B9_7F4A_7C15
        h ^= (token.low &+ UInt64(client)) &* 0xC2B2_AE3D_27D4_EB4F
        h ^= h >> 29
        return Int(truncatingIfNeeded: h) & mask
    }

    /// The slot of `client`'s order `token`, or nil.
    public func find(_ client: ClientID, _ token: OrderToken) -> Int? {
        var i = home(client, token)
        while slots[i].client != .max {
            if slots[i].client == client && slots[i].token == token { return i }
            i = (i &+ 1) & mask
        }
        return nil
    }

    /// Adds an order (its `client` and `token` set); nil when the book is full.
    public mutating func insert(_ order: FIXDropCopyOrder) -> Int? {
        if let i = find(order.client, order.token) {
            slots[i] = order
            return i
        }
        guard count < capacity else { return nil }
        var i = home(order.client, order.token)
        while slots[i].client != .max { i = (i &+ 1) & mask }
        slots[i] = order
        count &+= 1
        return i
    }

    public func order(_ i: Int) -> FIXDropCopyOrder { slots[i] }
    /// Slots (`order(_:)` takes 0..<slotCount; a free slot's client is `.max`): for a day snapshot.
    public var slotCount: Int { mask &+ 1 }
    public mutating func update(_ i: Int, _ order: FIXDropCopyOrder) { slots[i] = order }

    /// Frees slot `i`, moving back the orders of its probe run that would no longer be found.
    public mutating func remove(_ i: Int) {
        var hole = i
        var j = (i &+ 1) & mask
        while slots[j].client != .max {
            let h = home(slots[j].client, slots[j].token)
            // Move j into the hole when its home is not cyclically in (hole, j].
            let inRange = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !inRange {
                slots[hole] = slots[j]
                hole = j
            }
            j = (j &+ 1) & mask
        }
        slots[hole] = FIXDropCopyOrder()
        count &-= 1
    }
}

/// What a drop-copy report is about, beyond the event: who, and under which ClOrdIDs.
public struct FIXDropCopyParty {
    /// The account's username (Account, 1).
    public var account: UnsafeRawBufferPointer
    /// ClOrdID (11): the FIX ClOrdID, or the OUCH order token (trailing spaces cut).
    public var clOrdID: UnsafeRawBufferPointer
    /// OrigClOrdID (41) of a replace (empty: none).
    public var origClOrdID: UnsafeRawBufferPointer
    /// The event's symbol, from its instrument (events that carry none: ignored).
    public var symbol: Symbol
    /// For a reject: what the order would have been, when the caller knows (a FIX order's
    /// NewOrderSingle); nil: Symbol "[N/A]", Side 7.
    public var rejected: FIXDropCopyOrder?

    public init(account: UnsafeRawBufferPointer, clOrdID: UnsafeRawBufferPointer, origClOrdID: UnsafeRawBufferPointer,
                symbol: Symbol, rejected: FIXDropCopyOrder? = nil) {
        self.account = account
        self.clOrdID = clOrdID
        self.origClOrdID = origClOrdID
        self.symbol = symbol
        self.rejected = rejected
    }
}

public struct FIXDropCopy: ~Copyable {
    public var book: FIXDropCopyBook
    /// ExecIDs are `DC<n>`, n counting the drop copy's reports of the day (replay counts the
    /// same, so a regenerated report has its original ExecID).
    public private(set) var execCounter: UInt64 = 0
    /// Reports of orders the book had no room for (or never saw): their fields are the event's.
    public private(set) var untracked: UInt64 = 0
    /// TransactTime's date and time of day, written once per second.
    @usableFromInline var timestampCache = FIXTimestampCache()
    public let midnight: UInt64
    public var timestampPrecision: FIXTimestamp.Precision = .milliseconds

    public init(capacity: Int, midnight: UInt64) {
        book = FIXDropCopyBook(capacity: capacity)
        self.midnight = midnight
    }

    /// Continues a day from a day snapshot (the book is restored order by order through `book`).
    public mutating func restore(execCounter: UInt64, untracked: UInt64) {
        self.execCounter = execCounter
        self.untracked = untracked
    }

    /// Updates the order's state for `event` (`maker` picks an execution's side) and writes
    /// its ExecutionReport's body to `body` (≥ 512 bytes). Returns the body's length; 0 for an
    /// event without one (cancel rejects, book and market events).
    public mutating func report(_ event: EngineEvent, maker: Bool, party: FIXDropCopyParty,
                                body: UnsafeMutableRawBufferPointer) -> Int {
        var w = FIXBodyWriter(body)
        switch event {
        case .accepted(let e):
            var o = FIXDropCopyOrder()
            o.client = e.client
            o.token = e.token
            o.orderID = e.reference
            o.symbol = party.symbol
            o.side = e.side
            o.ordType = e.orderType
            o.orderQty = e.shares
            o.price = e.price
            o.leavesQty = e.shares
            if book.insert(o) == nil { untracked &+= 1 }
            write(&w, o, execType: UInt8(ascii: "0"), party, timestamp: e.timestamp)

        case .rejected(let e):
            // Never touches the book: a duplicate token's reject names a live order's token.
            var o = party.rejected ?? FIXDropCopyOrder()
            o.ordStatus = UInt8(ascii: "8")
            o.cumQty = 0
            o.leavesQty = 0
            o.notional = 0
            write(&w, o, execType: UInt8(ascii: "8"), party, timestamp: e.timestamp,
                  rejectReason: FIXApplication.ordRejReason(e.reason), text: FIXApplication.reasonText(e.reason))

        case .replaced(let e):
            var o = FIXDropCopyOrder()
            o.client = e.client
            o.token = e.token
            o.orderID = e.previousReference
            if let old = book.find(e.client, e.previousToken) {
                let previous = book.order(old)
                o.cumQty = previous.cumQty
                o.notional = previous.notional
                if previous.orderID != 0 { o.orderID = previous.orderID }
                book.remove(old)
            } else {
                untracked &+= 1
            }
            o.symbol = party.symbol
            o.side = e.side
            o.ordType = .limit
            o.price = e.price
            o.orderQty = o.cumQty &+ e.shares
            o.leavesQty = e.shares
            o.ordStatus = o.cumQty > 0 ? UInt8(ascii: "1") : UInt8(ascii: "0")
            if book.insert(o) == nil { untracked &+= 1 }
            write(&w, o, execType: UInt8(ascii: "5"), party, timestamp: e.timestamp)

        case .canceled(let e):
            let done = e.remaining == 0
            let expired = e.reason == .timeout
            let found = book.find(e.client, e.token)
            var o = Self.untrackedOrder(e.client, e.token, e.reference, party.symbol)
            if let found { o = book.order(found) } else { untracked &+= 1 }
            o.leavesQty = e.remaining
            if done { o.ordStatus = expired ? UInt8(ascii: "C") : UInt8(ascii: "4") } else { o.orderQty = o.cumQty &+ e.remaining }
            let execType: UInt8 = !done ? UInt8(ascii: "D") : expired ? UInt8(ascii: "C") : UInt8(ascii: "4")
            write(&w, o, execType: execType, party, timestamp: e.timestamp, text: FIXApplication.cancelText(e.reason))
            if let found { if done { book.remove(found) } else { book.update(found, o) } }

        case .executed(let e):
            let client = maker ? e.makerClient : e.takerClient
            let token = maker ? e.makerToken : e.takerToken
            let found = book.find(client, token)
            var o = Self.untrackedOrder(client, token, maker ? e.makerReference : e.takerReference, party.symbol)
            if let found { o = book.order(found) } else {
                untracked &+= 1
                o.side = maker ? e.makerSide : e.takerSide
                o.leavesQty = e.shares
            }
            o.cumQty &+= e.shares
            o.leavesQty = o.leavesQty >= e.shares ? o.leavesQty &- e.shares : 0
            o.notional &+= UInt64(e.price) &* UInt64(e.shares)
            o.ordStatus = o.leavesQty == 0 ? UInt8(ascii: "2") : UInt8(ascii: "1")
            write(&w, o, execType: UInt8(ascii: "F"), party, timestamp: e.timestamp, lastQty: e.shares, lastPx: e.price)
            if let found { if o.leavesQty == 0 { book.remove(found) } else { book.update(found, o) } }

        case .modified(let e):
            let found = book.find(e.client, e.token)
            var o = Self.untrackedOrder(e.client, e.token, 0, party.symbol)
            if let found { o = book.order(found) } else { untracked &+= 1 }
            o.side = e.side
            o.leavesQty = e.shares
            o.orderQty = o.cumQty &+ e.shares
            write(&w, o, execType: UInt8(ascii: "D"), party, timestamp: e.timestamp)
            if let found { book.update(found, o) }

        case .crossFill(let c):
            // A fill of a cross: reported as any execution (the buy as taker, the sell as maker).
            return report(.executed(c.asExecution), maker: maker, party: party, body: body)

        case .cancelRejected, .bookAdd, .bookReduce, .bookReplace, .tradingState, .systemEvent,
             .phaseChanged, .marketEvent, .imbalance, .crossCompleted, .limitState, .auctionCollar:
            return 0
        }
        return w.length
    }

    static func untrackedOrder(_ client: ClientID, _ token: OrderToken, _ reference: OrderReference, _ symbol: Symbol) -> FIXDropCopyOrder {
        var o = FIXDropCopyOrder()
        o.client = client
        o.token = token
        o.orderID = reference
        o.symbol = symbol
        return o
    }

    /// The ExecutionReport's fields, FIX 4.4's meanings (docs/FIX.md, "Drop copy").
    mutating func write(_ w: inout FIXBodyWriter, _ o: FIXDropCopyOrder, execType: UInt8, _ party: FIXDropCopyParty,
                        timestamp: Timestamp, lastQty: Shares = 0, lastPx: Price = 0, rejectReason: UInt64? = nil,
                        text: StaticString? = nil) {
        if o.orderID != 0 { w.w.field(Tag.orderID, o.orderID) } else { w.w.field(Tag.orderID, text: "NONE") }
        if !party.clOrdID.isEmpty { w.w.field(Tag.clOrdID, party.clOrdID) }
        if !party.origClOrdID.isEmpty { w.w.field(Tag.origClOrdID, party.origClOrdID) }
        execCounter &+= 1
        writeExecID(&w, execCounter)
        w.w.field(Tag.execType, char: execType)
        w.w.field(Tag.ordStatus, char: o.ordStatus)
        if let rejectReason { w.w.field(Tag.ordRejReason, rejectReason) }
        if !party.account.isEmpty { w.w.field(Tag.account, party.account) }
        if o.symbol.rawValue == 0 { w.w.field(Tag.symbol, text: "[N/A]") } else { FIXApplication.writeSymbol(&w, o.symbol) }
        if let side = o.side { FIXApplication.writeSide(&w, side) } else { w.w.field(Tag.side, char: UInt8(ascii: "7")) }
        if o.orderQty > 0 { w.w.field(Tag.orderQty, UInt64(o.orderQty)) }
        w.w.field(Tag.ordType, char: o.ordType == .market ? UInt8(ascii: "1") : UInt8(ascii: "2"))
        if o.ordType == .limit && o.price > 0 { w.w.price(Tag.price, o.price) }
        if execType == UInt8(ascii: "F") {
            w.w.field(Tag.lastQty, UInt64(lastQty))
            w.w.price(Tag.lastPx, lastPx)
        }
        w.w.field(Tag.leavesQty, UInt64(o.leavesQty))
        w.w.field(Tag.cumQty, UInt64(o.cumQty))
        if o.cumQty > 0 {
            let scaled = o.notional.multipliedFullWidth(by: 10_000)
            let (q, _) = UInt64(o.cumQty).dividingFullWidth(scaled.high < UInt64(o.cumQty) ? scaled : (0, 0))
            w.w.decimal(Tag.avgPx, q, scale: 8)
        } else {
            w.w.field(Tag.avgPx, 0)
        }
        w.w.timestamp(Tag.transactTime, midnight &+ timestamp, precision: timestampPrecision, cache: &timestampCache)
        if let text { w.w.field(Tag.text, text: text) }
    }

    /// `DC` and `n` in decimal, from a buffer on the stack.
    func writeExecID(_ w: inout FIXBodyWriter, _ n: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var end = 24
            var v = n
            repeat {
                end &-= 1
                buffer[end] = UInt8(truncatingIfNeeded: 0x30 &+ v % 10)
                v /= 10
            } while v > 0
            end &-= 2
            buffer[end] = UInt8(ascii: "D")
            buffer[end &+ 1] = UInt8(ascii: "C")
            w.w.field(Tag.execID, UnsafeRawBufferPointer(rebasing: buffer[end..<24]))
        }
    }
}

extension FIXDropCopyBook {
    /// The heap a book for `capacity` live orders allocates (its hash slots).
    public static func heapBytes(capacity: Int) -> Int {
        var size = 2
        while size < 2 * max(1, capacity) { size <<= 1 }
        return size * MemoryLayout<FIXDropCopyOrder>.stride
    }
}
