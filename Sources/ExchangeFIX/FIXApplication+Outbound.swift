import ExchangeCore

/// Fields of a message body being written (`FIXWriter(fieldsOnly:)`).
public struct FIXBodyWriter {
    public var w: FIXWriter
    @inlinable public init(_ body: UnsafeMutableRawBufferPointer) { w = FIXWriter(fieldsOnly: body) }
    /// The body's byte count; 0 when it did not fit in the buffer (nothing should be sent).
    @inlinable public var length: Int { w.didOverflow ? 0 : w.bodyLength }
}

extension FIXApplication {
    /// The next ExecID, unique for the day: `<execIDPrefix>.<n>` for a report of an engine
    /// event, `<execIDPrefix>-<n>` for an answer given at once (`atOnce`). Two counters, so that
    /// an answer given while the engine still owes reports does not renumber them in replay
    /// (which meets the answer's journal record after those reports' events).
    mutating func execID(_ w: inout FIXBodyWriter, atOnce: Bool = false) {
        if atOnce {
            answerExecCounter &+= 1
            w.w.field(Tag.execID, configuration.execIDPrefix, separator: UInt8(ascii: "-"), answerExecCounter)
        } else {
            execCounter &+= 1
            w.w.field(Tag.execID, configuration.execIDPrefix, separator: UInt8(ascii: "."), execCounter)
        }
    }

    static func writeSide(_ w: inout FIXBodyWriter, _ side: Side) {
        let c: UInt8 = switch side {
        case .buy: UInt8(ascii: "1")
        case .sell: UInt8(ascii: "2")
        case .sellShort: UInt8(ascii: "5")
        case .sellShortExempt: UInt8(ascii: "6")
        }
        w.w.field(Tag.side, char: c)
    }

    static func writeSymbol(_ w: inout FIXBodyWriter, _ symbol: Symbol) {
        withUnsafeBytes(of: symbol.rawValue.bigEndian) { bytes in
            var n = 8
            while n > 1, bytes[n - 1] == 0x20 { n -= 1 }
            w.w.field(Tag.symbol, UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
        }
    }

    func writeOrderID(_ w: inout FIXBodyWriter, _ e: FIXOrderEntry) {
        if e.orderID != 0 { w.w.field(Tag.orderID, e.orderID) } else { w.w.field(Tag.orderID, text: "NONE") }
    }

    /// An ExecutionReport of entry `index` as it stands. `clOrdIDOf`/`origOf` name the entries
    /// whose ClOrdIDs go in 11 and 41 (0: no 41).
    mutating func report(_ w: inout FIXBodyWriter, index: Int, execType: UInt8, clOrdIDOf: Int, origOf: Int, timestamp: Timestamp,
                         lastQty: Shares = 0, lastPx: Price = 0, rejectReason: UInt64? = nil, text: StaticString? = nil,
                         atOnce: Bool = false) {
        let e = orders.entry(index)
        writeOrderID(&w, e)
        w.w.field(Tag.clOrdID, orders.clOrdID(clOrdIDOf))
        if origOf != 0 { w.w.field(Tag.origClOrdID, orders.clOrdID(origOf)) }
        execID(&w, atOnce: atOnce)
        w.w.field(Tag.execType, char: execType)
        w.w.field(Tag.ordStatus, char: e.ordStatus)
        if let rejectReason { w.w.field(Tag.ordRejReason, rejectReason) }
        Self.writeSymbol(&w, e.symbol)
        Self.writeSide(&w, e.side)
        w.w.field(Tag.orderQty, UInt64(e.orderQty))
        w.w.field(Tag.ordType, char: e.ordType == .market ? UInt8(ascii: "1") : UInt8(ascii: "2"))
        if e.ordType == .limit { w.w.price(Tag.price, e.price) }
        if execType == UInt8(ascii: "F") {
            w.w.field(Tag.lastQty, UInt64(lastQty))
            w.w.price(Tag.lastPx, lastPx)
        }
        w.w.field(Tag.leavesQty, UInt64(e.leavesQty))
        w.w.field(Tag.cumQty, UInt64(e.cumQty))
        // AvgPx = Σ price × qty / CumQty, exact to 8 decimals (truncated beyond).
        if e.cumQty > 0 {
            let scaled = e.notional.multipliedFullWidth(by: 10_000)
            let (q, _) = UInt64(e.cumQty).dividingFullWidth(scaled.high < UInt64(e.cumQty) ? scaled : (0, 0))
            w.w.decimal(Tag.avgPx, q, scale: 8)
        } else {
            w.w.field(Tag.avgPx, 0)
        }
        w.w.timestamp(Tag.transactTime, configuration.midnight &+ timestamp, precision: configuration.timestampPrecision,
                      cache: &timestampCache)
        if let text { w.w.field(Tag.text, text: text) }
    }

    func writeCancelReject(_ w: inout FIXBodyWriter, clOrdID: UnsafeRawBufferPointer, orig: UnsafeRawBufferPointer, target: Int?,
                           responseTo: UInt8, reason: UInt64, text: StaticString) {
        if let target { writeOrderID(&w, orders.entry(target)) } else { w.w.field(Tag.orderID, text: "NONE") }
        w.w.field(Tag.clOrdID, clOrdID)
        w.w.field(Tag.origClOrdID, orig)
        var status = UInt8(ascii: "8")
        if let target { status = orders.entry(target).ordStatus }
        w.w.field(Tag.ordStatus, char: status)
        w.w.field(Tag.cxlRejResponseTo, char: responseTo &+ 0x30)
        w.w.field(Tag.cxlRejReason, reason)
        w.w.field(Tag.text, text: text)
    }

    /// The FIX message for one engine event of this session's client (`maker` picks the side
    /// of an execution when the client is the maker). Returns the message type and body
    /// length written to `body` (≥ 512 bytes), or nil when the event is not for this session
    /// or has no FIX message (a Modify, which FIX clients cannot send).
    public mutating func report(_ event: EngineEvent, maker: Bool = false, body: UnsafeMutableRawBufferPointer) -> (FIXMsgType, Int)? {
        var w = FIXBodyWriter(body)
        switch event {
        case .accepted(let e):
            guard e.client == configuration.client, let i = orders.index(of: e.token) else { return nil }
            orders.update(i) {
                $0.orderID = e.reference
                $0.ordStatus = UInt8(ascii: "0")
                $0.leavesQty = e.shares
                $0.price = e.price  // a post-only order may have been repriced
            }
            report(&w, index: i, execType: UInt8(ascii: "0"), clOrdIDOf: i, origOf: 0, timestamp: e.timestamp)
            return (.executionReport, w.length)

        case .rejected(let e):
            guard e.client == configuration.client, let i = orders.index(of: e.token) else { return nil }
            let entry = orders.entry(i)
            if entry.kind == .replacement {
                orders.update(i) { $0.ordStatus = UInt8(ascii: "8") }
                let target = Int(entry.link)
                writeCancelReject(&w, clOrdID: orders.clOrdID(i), orig: orders.clOrdID(target), target: target, responseTo: 2,
                                  reason: e.reason == .unknownOrder ? 1 : 99, text: Self.reasonText(e.reason))
                return (.orderCancelReject, w.length)
            }
            orders.update(i) {
                $0.ordStatus = UInt8(ascii: "8")
                $0.leavesQty = 0
            }
            report(&w, index: i, execType: UInt8(ascii: "8"), clOrdIDOf: i, origOf: 0, timestamp: e.timestamp,
                   rejectReason: Self.ordRejReason(e.reason), text: Self.reasonText(e.reason))
            return (.executionReport, w.length)

        case .replaced(let e):
            guard e.client == configuration.client, let i = orders.index(of: e.token), let old = orders.index(of: e.previousToken) else {
                return nil
            }
            let previous = orders.entry(old)
            orders.update(old) {
                $0.ordStatus = UInt8(ascii: "5")
                $0.leavesQty = 0
            }
            orders.update(i) {
                $0.kind = .order
                $0.cumQty = previous.cumQty
                $0.notional = previous.notional
                $0.orderQty = previous.cumQty &+ e.shares
                $0.leavesQty = e.shares
                $0.price = e.price
                if $0.orderID == 0 { $0.orderID = e.previousReference }
                $0.ordStatus = previous.cumQty > 0 ? UInt8(ascii: "1") : UInt8(ascii: "0")
            }
            report(&w, index: i, execType: UInt8(ascii: "5"), clOrdIDOf: i, origOf: old, timestamp: e.timestamp)
            return (.executionReport, w.length)

        case .canceled(let e):
            guard e.client == configuration.client, let i = orders.index(of: e.token) else { return nil }
            let entry = orders.entry(i)
            let done = e.remaining == 0
            let expired = e.reason == .timeout
            // Answer the cancel request with its ClOrdID when there is one.
            let request = entry.link != 0 && orders.entry(Int(entry.link)).kind == .cancelRequest ? Int(entry.link) : 0
            orders.update(i) {
                $0.leavesQty = e.remaining
                if done { $0.ordStatus = expired ? UInt8(ascii: "C") : UInt8(ascii: "4") }
                if !done { $0.orderQty = $0.cumQty &+ e.remaining }
                if request != 0, done { $0.link = 0 }
            }
            let execType: UInt8 = !done ? UInt8(ascii: "D") : expired ? UInt8(ascii: "C") : UInt8(ascii: "4")
            report(&w, index: i, execType: execType, clOrdIDOf: request != 0 ? request : i, origOf: request != 0 ? i : 0,
                   timestamp: e.timestamp, text: Self.cancelText(e.reason))
            return (.executionReport, w.length)

        case .executed(let e):
            let token = maker ? e.makerToken : e.takerToken
            guard (maker ? e.makerClient : e.takerClient) == configuration.client, let i = orders.index(of: token) else { return nil }
            orders.update(i) {
                $0.cumQty &+= e.shares
                $0.leavesQty = $0.leavesQty >= e.shares ? $0.leavesQty &- e.shares : 0
                $0.notional &+= UInt64(e.price) &* UInt64(e.shares)
                $0.ordStatus = $0.leavesQty == 0 ? UInt8(ascii: "2") : UInt8(ascii: "1")
            }
            report(&w, index: i, execType: UInt8(ascii: "F"), clOrdIDOf: i, origOf: 0, timestamp: e.timestamp, lastQty: e.shares,
                   lastPx: e.price)
            return (.executionReport, w.length)

        case .cancelRejected(let e):
            guard e.client == configuration.client, let i = orders.index(of: e.token) else { return nil }
            let entry = orders.entry(i)
            guard entry.link != 0, orders.entry(Int(entry.link)).kind == .cancelRequest else { return nil }
            let request = Int(entry.link)
            orders.update(i) { $0.link = 0 }
            writeCancelReject(&w, clOrdID: orders.clOrdID(request), orig: orders.clOrdID(i), target: i, responseTo: 1,
                              reason: e.reason == .unknownOrder ? 1 : 99, text: Self.reasonText(e.reason))
            return (.orderCancelReject, w.length)

        case .crossFill(let e):
            // The gateway routes each side as an execution (`asExecution`: buy taker, sell maker).
            return report(.executed(e.asExecution), maker: maker, body: body)

        case .modified, .bookAdd, .bookReduce, .bookReplace, .tradingState, .systemEvent,
             .phaseChanged, .marketEvent, .imbalance, .crossCompleted, .limitState, .auctionCollar:
            return nil
        }
    }

    /// OrdRejReason (103) for an engine reason.
    static func ordRejReason(_ r: RejectReason) -> UInt64 {
        switch r {
        case .unknownSymbol: 1
        case .exchangeClosing, .exchangeKilled, .instrumentHalted: 2
        case .maxOrderSizeExceeded, .maxNotionalExceeded, .priceCollarBreached: 3
        case .unknownOrder: 5
        case .duplicateToken: 6
        case .invalidShares, .oddLot, .invalidMinimumQuantity: 13
        default: 99
        }
    }

    static func reasonText(_ r: RejectReason) -> StaticString {
        switch r {
        case .unknownClient: "unknown client"
        case .exchangeKilled: "exchange kill switch"
        case .clientKilled: "client kill switch"
        case .rateLimited: "rate limited"
        case .unknownSymbol: "unknown symbol"
        case .instrumentHalted: "instrument halted"
        case .invalidShares: "invalid quantity"
        case .invalidTimeInForce: "invalid time in force"
        case .invalidDisplay: "invalid display"
        case .invalidMinimumQuantity: "invalid MinQty"
        case .oddLot: "odd lot"
        case .invalidPriceIncrement: "invalid price increment"
        case .priceOutOfRange: "price out of range"
        case .duplicateToken: "duplicate order"
        case .unknownOrder: "unknown order"
        case .postOnlyCannotPost: "post-only order cannot post"
        case .orderPoolExhausted: "order capacity exhausted"
        case .maxOrderSizeExceeded: "max order size exceeded"
        case .priceCollarBreached: "price collar breached"
        case .maxNotionalExceeded: "max notional exceeded"
        case .cancelSizeNotSmaller: "cancel size not smaller"
        case .invalidModify: "invalid modify"
        case .tokenHistoryFull: "token history full"
        case .invalidSide: "invalid side"
        case .marketPriceOnReplace: "market price on replace"
        case .exchangeClosing: "exchange closing"
        case .systemBusy: "system busy"
        case .firmNotAuthorized: "firm not authorized"
        case .invalidCapacity: "invalid capacity"
        case .invalidIntermarketSweep: "invalid intermarket sweep"
        case .invalidCrossType: "invalid cross type"
        case .invalidCustomerType: "invalid customer type"
        case .journalStalled: "exchange journal stalled; retry"
        }
    }

    static func cancelText(_ r: CancelReason) -> StaticString {
        switch r {
        case .userRequested: "canceled on request"
        case .immediateOrCancel: "immediate-or-cancel remainder"
        case .timeout: "time in force elapsed"
        case .supervisory: "kill switch"
        case .selfMatchPrevention: "self-match prevention"
        case .system: "system"
        }
    }
}
