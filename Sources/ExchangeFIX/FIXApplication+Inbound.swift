import ExchangeCore

extension FIXApplication {
    @inlinable static func tags(_ type: FIXMsgType, _ tag: FIXTag) -> Bool {
        switch type {
        case .newOrderSingle:
            switch tag {
            case 1, 11, 18, 21, 38, 40, 44, 54, 55, 59, 60, 110, 111, 126, 58: return true
            default: return false
            }
        case .orderCancelRequest:
            switch tag {
            case 1, 11, 37, 38, 41, 54, 55, 60, 58: return true
            default: return false
            }
        case .orderCancelReplaceRequest:
            switch tag {
            case 1, 11, 18, 21, 37, 38, 40, 41, 44, 54, 55, 59, 60, 110, 111, 126, 58: return true
            default: return false
            }
        case .orderStatusRequest:
            switch tag {
            case 1, 11, 37, 54, 55, 790: return true
            default: return false
            }
        case .orderMassCancelRequest:
            switch tag {
            case 11, 530, 55, 54, 60, 58: return true
            default: return false
            }
        default: return false
        }
    }

    /// Maps the application message the session delivered (`session.message`). `body` is
    /// scratch memory for an immediate answer's body (≥ 512 bytes); `now` is nanoseconds since
    /// the epoch, `timestamp` the engine's (since midnight).
    public mutating func inbound(
        _ m: borrowing FIXMessage, now: UInt64, timestamp: Timestamp, body: UnsafeMutableRawBufferPointer
    ) -> FIXInbound {
        var result = FIXInbound()
        let type = m.msgType
        if let problem = m.firstUnexpectedTag(allowed: { Self.tags(type, $0) }) {
            result.reject = problem
            return result
        }
        switch type {
        case .newOrderSingle: newOrder(m, now: now, timestamp: timestamp, body: body, result: &result)
        case .orderCancelRequest: cancel(m, timestamp: timestamp, body: body, result: &result)
        case .orderCancelReplaceRequest: replace(m, now: now, timestamp: timestamp, body: body, result: &result)
        case .orderStatusRequest: status(m, timestamp: timestamp, body: body, result: &result)
        case .orderMassCancelRequest: massCancel(m, timestamp: timestamp, body: body, result: &result)
        default: break
        }
        return result
    }

    // MARK: Field helpers

    @inlinable
    static func require(_ m: borrowing FIXMessage, _ tag: FIXTag, _ result: inout FIXInbound) -> UnsafeRawBufferPointer? {
        guard let v = m.value(tag) else {
            result.reject = FIXFieldProblem(.requiredTagMissing, tag: tag)
            return nil
        }
        return v
    }

    @inlinable
    static func char(_ v: UnsafeRawBufferPointer) -> UInt8 { v.count == 1 ? v[0] : 0 }

    static func side(_ v: UnsafeRawBufferPointer) -> Side? {
        switch char(v) {
        case UInt8(ascii: "1"): .buy
        case UInt8(ascii: "2"): .sell
        case UInt8(ascii: "5"): .sellShort
        case UInt8(ascii: "6"): .sellShortExempt
        default: nil
        }
    }

    /// The order terms D and G share: OrdType, Price, TimeInForce (+ExpireTime), MinQty,
    /// ExecInst, MaxFloor. nil after setting a reject or writing an answer.
    struct Terms {
        var orderType: OrderType
        var price: Price
        var timeInForce: TimeInForce
        var minimumQuantity: Shares
        var display: Display
        var fixTIF: UInt8
    }

    /// Why an order cannot be taken, as the Text (58) of its rejection.
    enum Unsupported: Error { case ordType, timeInForce, expireTime, maxFloor, execInst, clOrdID, full, duplicate, unknownOrder, tooLateToReplace }

    static func text(_ u: Unsupported) -> StaticString {
        switch u {
        case .ordType: "OrdType must be 1 (market) or 2 (limit)"
        case .timeInForce: "TimeInForce must be 0 (Day), 3 (IOC), 4 (FOK) or 6 (GTD)"
        case .expireTime: "GTD needs an ExpireTime(126) 1 s to 24 h ahead"
        case .maxFloor: "MaxFloor must be 0 (non-displayed) or the OrderQty: reserve orders are not supported"
        case .execInst: "ExecInst supports only 6 (post-only)"
        case .clOrdID: "ClOrdID must be 1 to 32 characters"
        case .full: "ClOrdID limit for the day reached"
        case .duplicate: "Duplicate ClOrdID"
        case .unknownOrder: "Unknown OrigClOrdID"
        case .tooLateToReplace: "OrderQty not above CumQty"
        }
    }

    func terms(_ m: borrowing FIXMessage, orderQty: Shares, now: UInt64, result: inout FIXInbound) -> Result<Terms, Unsupported>? {
        guard let ordType = Self.require(m, Tag.ordType, &result) else { return nil }
        // TimeInForce's named values are not inlinable: their raw values (99998 market hours, 0 IOC).
        var t = Terms(orderType: .limit, price: 0, timeInForce: TimeInForce(rawValue: 99_998), minimumQuantity: 0, display: .anonymous,
                      fixTIF: UInt8(ascii: "0"))
        switch Self.char(ordType) {
        case UInt8(ascii: "1"): t.orderType = .market
        case UInt8(ascii: "2"):
            guard let p = Self.require(m, Tag.price, &result) else { return nil }
            guard let price = FIXNumbers.price(p), price > 0 else {
                result.reject = FIXFieldProblem(.valueIsIncorrect, tag: Tag.price)
                return nil
            }
            t.price = price
        case UInt8(ascii: "3"), UInt8(ascii: "4"), UInt8(ascii: "5"), UInt8(ascii: "6"), UInt8(ascii: "7"), UInt8(ascii: "8"),
             UInt8(ascii: "9"), UInt8(ascii: "D"), UInt8(ascii: "E"), UInt8(ascii: "G"), UInt8(ascii: "J"), UInt8(ascii: "K"),
             UInt8(ascii: "L"), UInt8(ascii: "M"), UInt8(ascii: "P"):
            return .failure(.ordType)
        default:
            result.reject = FIXFieldProblem(.valueIsIncorrect, tag: Tag.ordType)
            return nil
        }
        if let minQty = m.value(Tag.minQty) {
            guard let q = FIXNumbers.shares(minQty) else {
                result.reject = FIXFieldProblem(.incorrectDataFormat, tag: Tag.minQty)
                return nil
            }
            t.minimumQuantity = q
        }
        if let tif = m.value(Tag.timeInForce) {
            t.fixTIF = Self.char(tif)
            switch t.fixTIF {
            case UInt8(ascii: "0"): t.timeInForce = TimeInForce(rawValue: 99_998)
            case UInt8(ascii: "3"): t.timeInForce = TimeInForce(rawValue: 0)
            case UInt8(ascii: "4"):
                t.timeInForce = TimeInForce(rawValue: 0)
                t.minimumQuantity = orderQty
            case UInt8(ascii: "6"):
                guard let e = m.value(Tag.expireTime), let expire = FIXTimestamp.parse(e), expire > now,
                      (expire &- now) / 1_000_000_000 >= 1, (expire &- now) / 1_000_000_000 <= 86_400
                else { return .failure(.expireTime) }
                t.timeInForce = .seconds(UInt32((expire &- now) / 1_000_000_000))
            case UInt8(ascii: "1"), UInt8(ascii: "2"), UInt8(ascii: "5"), UInt8(ascii: "7"):
                return .failure(.timeInForce)
            default:
                result.reject = FIXFieldProblem(.valueIsIncorrect, tag: Tag.timeInForce)
                return nil
            }
        }
        if let execInst = m.value(Tag.execInst) {
            // A space-separated list; only 6 (Participate don't initiate: post-only) is taken.
            for b in execInst where b != UInt8(ascii: " ") && b != UInt8(ascii: "6") { return .failure(.execInst) }
            t.display = .postOnly
        }
        if let maxFloor = m.value(Tag.maxFloor) {
            guard let f = FIXNumbers.shares(maxFloor) else {
                result.reject = FIXFieldProblem(.incorrectDataFormat, tag: Tag.maxFloor)
                return nil
            }
            if f == 0 {
                guard t.display != .postOnly else { return .failure(.maxFloor) }
                t.display = .nonDisplayed
            } else if f != orderQty {
                return .failure(.maxFloor)
            }
        }
        return .success(t)
    }

    // MARK: Messages

    mutating func newOrder(_ m: borrowing FIXMessage, now: UInt64, timestamp: Timestamp, body: UnsafeMutableRawBufferPointer,
                           result: inout FIXInbound) {
        guard let clOrdID = Self.require(m, Tag.clOrdID, &result), let s = Self.require(m, Tag.side, &result),
              let sym = Self.require(m, Tag.symbol, &result), let q = Self.require(m, Tag.orderQty, &result),
              Self.require(m, Tag.transactTime, &result) != nil
        else { return }
        guard let side = Self.side(s) else {
            result.reject = FIXFieldProblem(.valueIsIncorrect, tag: Tag.side)
            return
        }
        guard let symbol = Self.symbol(sym) else {
            result.reject = FIXFieldProblem(.valueIsIncorrect, tag: Tag.symbol)
            return
        }
        guard let qty = FIXNumbers.shares(q), qty > 0 else {
            result.reject = FIXFieldProblem(.valueIsIncorrect, tag: Tag.orderQty)
            return
        }
        if let h = m.value(Tag.handlInst), Self.char(h) < UInt8(ascii: "1") || Self.char(h) > UInt8(ascii: "3") {
            result.reject = FIXFieldProblem(.valueIsIncorrect, tag: Tag.handlInst)
            return
        }
        guard let termsResult = terms(m, orderQty: qty, now: now, result: &result) else { return }
        let index: Int
        switch orders.add(clOrdID, kind: .order) {
        case .success(let i): index = i
        case .failure(let f):
            let u: Unsupported = f == .duplicate ? .duplicate : f == .full ? .full : .clOrdID
            rejectNew(clOrdID: clOrdID, side: side, symbol: symbol, qty: qty, reason: f == .duplicate ? 6 : 99, text: Self.text(u),
                      timestamp: timestamp, body: body, result: &result)
            return
        }
        orders.update(index) {
            $0.side = side
            $0.symbol = symbol
            $0.orderQty = qty
            $0.leavesQty = qty
        }
        let t: Terms
        switch termsResult {
        case .success(let x): t = x
        case .failure(let u):
            orders.update(index) { $0.ordStatus = UInt8(ascii: "8"); $0.leavesQty = 0 }
            rejectNew(clOrdID: clOrdID, side: side, symbol: symbol, qty: qty, reason: 99, text: Self.text(u), timestamp: timestamp,
                      body: body, result: &result)
            return
        }
        orders.update(index) {
            $0.ordType = t.orderType
            $0.price = t.price
        }
        result.command = .enter(EnterOrder(
            timestamp: timestamp, client: configuration.client, token: orders.engineToken(index), side: side, orderType: t.orderType,
            shares: qty, symbol: symbol, price: t.price, timeInForce: t.timeInForce, firm: configuration.firm, display: t.display,
            minimumQuantity: t.minimumQuantity))
    }

    static func symbol(_ v: UnsafeRawBufferPointer) -> Symbol? {
        guard v.count >= 1, v.count <= 8 else { return nil }
        var raw: UInt64 = 0
        for i in 0..<8 {
            let b: UInt8 = i < v.count ? v[i] : 0x20
            guard b >= 0x20, b < 0x7F else { return nil }
            raw = raw << 8 | UInt64(b)
        }
        return Symbol(rawValue: raw)
    }

    /// An ExecutionReport rejecting a NewOrderSingle the engine never saw.
    mutating func rejectNew(clOrdID: UnsafeRawBufferPointer, side: Side, symbol: Symbol, qty: Shares, reason: UInt64,
                            text: StaticString, timestamp: Timestamp, body: UnsafeMutableRawBufferPointer, result: inout FIXInbound) {
        var w = FIXBodyWriter(body)
        w.w.field(Tag.orderID, text: "NONE")
        w.w.field(Tag.clOrdID, clOrdID)
        execID(&w, atOnce: true)
        w.w.field(Tag.execType, char: UInt8(ascii: "8"))
        w.w.field(Tag.ordStatus, char: UInt8(ascii: "8"))
        w.w.field(Tag.ordRejReason, reason)
        Self.writeSymbol(&w, symbol)
        Self.writeSide(&w, side)
        w.w.field(Tag.orderQty, UInt64(qty))
        w.w.field(Tag.leavesQty, 0)
        w.w.field(Tag.cumQty, 0)
        w.w.field(Tag.avgPx, 0)
        w.w.timestamp(Tag.transactTime, configuration.midnight &+ timestamp, precision: configuration.timestampPrecision)
        w.w.field(Tag.text, text: text)
        result.replyType = .executionReport
        result.replyLength = w.length
    }

    mutating func cancel(_ m: borrowing FIXMessage, timestamp: Timestamp, body: UnsafeMutableRawBufferPointer, result: inout FIXInbound) {
        guard let clOrdID = Self.require(m, Tag.clOrdID, &result), let orig = Self.require(m, Tag.origClOrdID, &result),
              let s = Self.require(m, Tag.side, &result), Self.require(m, Tag.symbol, &result) != nil,
              Self.require(m, Tag.transactTime, &result) != nil
        else { return }
        guard Self.side(s) != nil else {
            result.reject = FIXFieldProblem(.valueIsIncorrect, tag: Tag.side)
            return
        }
        guard let target = liveOrder(orig) else {
            cancelReject(clOrdID: clOrdID, orig: orig, target: nil, responseTo: 1, reason: 1, text: Self.text(.unknownOrder),
                         body: body, result: &result)
            return
        }
        switch orders.add(clOrdID, kind: .cancelRequest) {
        case .success(let index):
            orders.update(index) { $0.link = UInt32(target) }
            orders.update(target) { $0.link = UInt32(index) }
            result.command = .cancel(CancelOrder(timestamp: timestamp, client: configuration.client, token: orders.engineToken(target)))
        case .failure(let f):
            cancelReject(clOrdID: clOrdID, orig: orig, target: target, responseTo: 1, reason: f == .duplicate ? 6 : 99,
                         text: Self.text(f == .duplicate ? .duplicate : f == .full ? .full : .clOrdID), body: body, result: &result)
        }
    }

    /// The entry of OrigClOrdID when it names an order (the latest of its chain) still open.
    func liveOrder(_ orig: UnsafeRawBufferPointer) -> Int? {
        guard let i = orders.find(orig) else { return nil }
        let e = orders.entry(i)
        guard e.kind == .order || e.kind == .replacement else { return nil }
        switch e.ordStatus {
        case UInt8(ascii: "0"), UInt8(ascii: "1"), UInt8(ascii: "A"): return i
        default: return nil
        }
    }

    mutating func replace(_ m: borrowing FIXMessage, now: UInt64, timestamp: Timestamp, body: UnsafeMutableRawBufferPointer,
                          result: inout FIXInbound) {
        guard let clOrdID = Self.require(m, Tag.clOrdID, &result), let orig = Self.require(m, Tag.origClOrdID, &result),
              let s = Self.require(m, Tag.side, &result), Self.require(m, Tag.symbol, &result) != nil,
              let q = Self.require(m, Tag.orderQty, &result), Self.require(m, Tag.transactTime, &result) != nil
        else { return }
        guard Self.side(s) != nil else {
            result.reject = FIXFieldProblem(.valueIsIncorrect, tag: Tag.side)
            return
        }
        guard let qty = FIXNumbers.shares(q), qty > 0 else {
            result.reject = FIXFieldProblem(.valueIsIncorrect, tag: Tag.orderQty)
            return
        }
        guard let termsResult = terms(m, orderQty: qty, now: now, result: &result) else { return }
        guard let target = liveOrder(orig) else {
            cancelReject(clOrdID: clOrdID, orig: orig, target: nil, responseTo: 2, reason: 1, text: Self.text(.unknownOrder),
                         body: body, result: &result)
            return
        }
        let old = orders.entry(target)
        let t: Terms
        switch termsResult {
        case .success(let x) where x.orderType == .limit && qty > old.cumQty: t = x
        case .success(let x):
            cancelReject(clOrdID: clOrdID, orig: orig, target: target, responseTo: 2, reason: 99,
                         text: x.orderType != .limit ? Self.text(.ordType) : Self.text(.tooLateToReplace), body: body, result: &result)
            return
        case .failure(let u):
            cancelReject(clOrdID: clOrdID, orig: orig, target: target, responseTo: 2, reason: 99, text: Self.text(u), body: body,
                         result: &result)
            return
        }
        switch orders.add(clOrdID, kind: .replacement) {
        case .success(let index):
            orders.update(index) {
                $0.link = UInt32(target)
                $0.side = old.side
                $0.symbol = old.symbol
                $0.orderQty = qty
                $0.price = t.price
                $0.ordType = .limit
                $0.cumQty = old.cumQty
                $0.notional = old.notional
                $0.orderID = old.orderID
                $0.leavesQty = qty &- old.cumQty
            }
            result.command = .replace(ReplaceOrder(
                timestamp: timestamp, client: configuration.client, existingToken: orders.engineToken(target),
                replacementToken: orders.engineToken(index), shares: qty &- old.cumQty, price: t.price, timeInForce: t.timeInForce,
                display: t.display, minimumQuantity: t.minimumQuantity))
        case .failure(let f):
            cancelReject(clOrdID: clOrdID, orig: orig, target: target, responseTo: 2, reason: f == .duplicate ? 6 : 99,
                         text: Self.text(f == .duplicate ? .duplicate : f == .full ? .full : .clOrdID), body: body, result: &result)
        }
    }

    mutating func status(_ m: borrowing FIXMessage, timestamp: Timestamp, body: UnsafeMutableRawBufferPointer, result: inout FIXInbound) {
        guard let clOrdID = Self.require(m, Tag.clOrdID, &result), let s = Self.require(m, Tag.side, &result),
              Self.require(m, Tag.symbol, &result) != nil
        else { return }
        guard let side = Self.side(s) else {
            result.reject = FIXFieldProblem(.valueIsIncorrect, tag: Tag.side)
            return
        }
        var w = FIXBodyWriter(body)
        if let index = orders.find(clOrdID), orders.entry(index).kind != .cancelRequest {
            report(&w, index: index, execType: UInt8(ascii: "I"), clOrdIDOf: index, origOf: 0, timestamp: timestamp, atOnce: true)
        } else {
            w.w.field(Tag.orderID, text: "NONE")
            w.w.field(Tag.clOrdID, clOrdID)
            execID(&w, atOnce: true)
            w.w.field(Tag.execType, char: UInt8(ascii: "I"))
            w.w.field(Tag.ordStatus, char: UInt8(ascii: "8"))
            if let sym = m.value(Tag.symbol) { w.w.field(Tag.symbol, sym) }
            Self.writeSide(&w, side)
            w.w.field(Tag.leavesQty, 0)
            w.w.field(Tag.cumQty, 0)
            w.w.field(Tag.avgPx, 0)
            w.w.field(Tag.text, text: "Unknown ClOrdID")
        }
        result.replyType = .executionReport
        result.replyLength = w.length
    }

    mutating func massCancel(_ m: borrowing FIXMessage, timestamp: Timestamp, body: UnsafeMutableRawBufferPointer,
                             result: inout FIXInbound) {
        guard let clOrdID = Self.require(m, Tag.clOrdID, &result), let type = Self.require(m, Tag.massCancelRequestType, &result),
              Self.require(m, Tag.transactTime, &result) != nil
        else { return }
        let t = Self.char(type)
        guard (UInt8(ascii: "1")...UInt8(ascii: "7")).contains(t) else {
            result.reject = FIXFieldProblem(.valueIsIncorrect, tag: Tag.massCancelRequestType)
            return
        }
        var w = FIXBodyWriter(body)
        w.w.field(Tag.clOrdID, clOrdID)
        w.w.field(Tag.orderID, text: "NONE")
        w.w.field(Tag.massCancelRequestType, char: t)
        if t == UInt8(ascii: "7") {
            // Cancel all of this session's orders: the engine's cancel-all of the client.
            w.w.field(Tag.massCancelResponse, char: t)
            result.command = .cancelAll(ClientAction(timestamp: timestamp, client: configuration.client))
        } else {
            w.w.field(Tag.massCancelResponse, char: UInt8(ascii: "0"))
            w.w.field(Tag.massCancelRejectReason, 0)
            w.w.field(Tag.text, text: "Only MassCancelRequestType 7 (all orders) is supported")
        }
        result.replyType = .orderMassCancelReport
        result.replyLength = w.length
    }

    /// An OrderCancelReject (9).
    mutating func cancelReject(clOrdID: UnsafeRawBufferPointer, orig: UnsafeRawBufferPointer, target: Int?, responseTo: UInt8,
                               reason: UInt64, text: StaticString, body: UnsafeMutableRawBufferPointer, result: inout FIXInbound) {
        var w = FIXBodyWriter(body)
        writeCancelReject(&w, clOrdID: clOrdID, orig: orig, target: target, responseTo: responseTo, reason: reason, text: text)
        result.replyType = .orderCancelReject
        result.replyLength = w.length
    }
}
