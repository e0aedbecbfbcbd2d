import ExchangeCore
import ExchangeEngine
import ExchangeFIX
import ExchangeWire

// What the FIX sessions' state is made of, apart from any connection (docs/FIX.md, "Across
// restarts"): the replay of the journal's `fix_session` facts and of the commands that fill
// ClOrdID entries, and an ExecutionReport numbered into its session (order entry or drop
// copy). The gateway runs them live and in recovery (GatewayAgent+FIX*.swift,
// GatewayAgent+DropCopy.swift); the snapshot agent's replica runs them on a FIX port of its
// own (`FIXDayReplica`), so that a day snapshot holds the sessions as the gateway has them.
extension FIXPort {
    // MARK: Facts and commands (cold path)

    /// A journaled fact, replayed; `firms`: each account's firm.
    mutating func replay(_ fact: FIXSessionFact, firms: UnsafeMutablePointer<Firm>) {
        if fact.client >= Self.dropCopyClientBase { return replayDropCopy(fact) }
        let account = Int(fact.client)
        guard account < accountCount else { return }
        switch fact.kind {
        case .bind:
            guard sessionOfAccount[account] < 0, sessionsBound < sessionCapacity else {
                replayMismatches &+= 1
                return
            }
            let session = sessionsBound
            sessionsBound &+= 1
            sessionOfAccount[account] = Int32(session)
            username(account: account).withUnsafeBytes { sessions[session].rebind(counterparty: $0) }
            applications[session].replayBind(client: ClientID(account), firm: firms[account],
                                             tokenBase: Int(fact.tokenBase), execIDPrefix: fact.execIDPrefix)
            accountedOutbound[session] = 1
            accountedExecIDs[session] = 0
        case .clOrdID:
            let session = Int(sessionOfAccount[account])
            guard session >= 0, let kind = FIXEntryKind(rawValue: fact.detail), kind != .free,
                  applications[session].replayClOrdID(fact.clOrdIDBytes, entry: Int(fact.entry), kind: kind, link: Int(fact.link),
                                                      rejectedAtOnce: fact.rejectedAtOnce) else {
                replayMismatches &+= 1
                return
            }
            sessions[session].replayInbound(fact.nextInbound)
        case .outbound:
            let session = Int(sessionOfAccount[account])
            guard session >= 0 else {
                replayMismatches &+= 1
                return
            }
            sessions[session].replayOutbound(first: fact.first, count: fact.count, nextInbound: fact.nextInbound, reset: fact.reset)
            applications[session].replayExecIDs(fact.execIDs)
            accountedOutbound[session] = sessions[session].nextOutbound
            accountedExecIDs[session] = applications[session].answerExecCounter
        case .reply:
            replayReply(fact)
        }
    }

    /// Puts an answer together from its chunks and keeps it in its session's resend store.
    mutating func replayReply(_ fact: FIXSessionFact) {
        let session = Int(sessionOfAccount[Int(fact.client)])
        guard session >= 0 else {
            replayMismatches &+= 1
            return
        }
        if fact.chunk == 0 {
            replySequence = fact.first
            replyMsgType = fact.replyMsgType
            replyLength = min(fact.replyBodyLength, Self.bodyBytes)
            replyReceived = 0
            replySendingTime = fact.replySendingTime
        } else {
            let n = Int(fact.length)
            guard fact.first == replySequence, fact.chunk == replyReceived / FIXSessionFact.replyChunkBytes &+ 1,
                  replyReceived &+ n <= replyLength else {
                replayMismatches &+= 1
                return
            }
            let target = replyBody.baseAddress! + replyReceived
            withUnsafeBytes(of: fact.words) { words in target.copyMemory(from: words.baseAddress!, byteCount: n) }
            replyReceived &+= n
        }
        if replyReceived == replyLength {
            sessions[session].replayStore(sequence: replySequence, msgType: FIXMsgType(rawValue: replyMsgType),
                                          sendingTime: replySendingTime,
                                          body: UnsafeRawBufferPointer(start: replyBody.baseAddress, count: replyLength))
        }
    }

    /// A journaled fact of a drop-copy session: the MsgSeqNums its session messages took.
    mutating func replayDropCopy(_ fact: FIXSessionFact) {
        let account = Int(fact.client &- Self.dropCopyClientBase)
        guard account < accountCount, fact.kind == .outbound, dropSessionOfAccount[account] >= 0 else {
            replayMismatches &+= 1
            return
        }
        let session = Int(dropSessionOfAccount[account])
        sessions[session].replayOutbound(first: fact.first, count: fact.count, nextInbound: fact.nextInbound, reset: fact.reset)
        accountedOutbound[session] = sessions[session].nextOutbound
    }

    /// Fills the ClOrdID entry a replayed Enter Order or Replace was made from.
    mutating func replayCommand(_ command: EngineCommand) {
        let client: ClientID
        switch command {
        case .enter(let c): client = c.client
        case .replace(let c): client = c.client
        default: return
        }
        let account = Int(client)
        guard account < accountCount, sessionOfAccount[account] >= 0 else { return }
        applications[Int(sessionOfAccount[account])].replayCommand(command)
    }

    // MARK: Reports (live and replay)

    /// `event`'s ExecutionReport or OrderCancelReject for order-entry `session`, its body of
    /// `length` bytes in `body` (`FIXApplication.report`), numbered and stored by the session
    /// and written to `out`: what the session wrote (0: nothing to `out`).
    @inline(__always)
    mutating func sendReport(_ event: EngineEvent, session: Int, type: FIXMsgType, length: Int, now: UInt64,
                             out: UnsafeMutableRawBufferPointer) -> Int {
        // Stamped with the event's time, which replay knows, so that a resend after a restart
        // is the same message.
        let n = sessions[session].send(type, body: UnsafeRawBufferPointer(start: body.baseAddress, count: length),
                                       sendingTime: epochMidnight &+ event.timestamp, now: now, out: out)
        accountedOutbound[session] = sessions[session].nextOutbound
        accountedExecIDs[session] = applications[session].answerExecCounter
        return n ?? 0
    }

    /// The drop copy's report body of `event` for `account`'s order `token` (in `body`):
    /// its length, 0 when none. `symbol`: the instrument's, when the event names one.
    @inline(__always)
    mutating func dropCopyBody(_ event: EngineEvent, account: Int, maker: Bool, token: OrderToken, previous: OrderToken?,
                               symbol: Symbol) -> Int {
        let clOrdID = dropCopyClOrdID(account: account, token: token, at: 0)
        let orig = previous.map { dropCopyClOrdID(account: account, token: $0, at: 32) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
        var rejected: FIXDropCopyOrder? = nil
        if case .rejected = event, let entry = dropCopyFIXEntry(account: account, token: token) {
            // A FIX order's NewOrderSingle said what it was.
            var o = FIXDropCopyOrder()
            o.symbol = entry.symbol
            o.side = entry.side
            o.ordType = entry.ordType
            o.orderQty = entry.orderQty
            o.price = entry.price
            rejected = o
        }
        let copy = dropCopy
        let out = body
        return withUnsafeBytes(of: usernames[account].rawValue.bigEndian) { raw -> Int in
            var n = SoupUsername.width
            let start = raw.count &- SoupUsername.width
            while n > 1 && raw[start &+ n &- 1] == 0x20 { n &-= 1 }
            let party = FIXDropCopyParty(account: UnsafeRawBufferPointer(rebasing: raw[start..<(start &+ n)]), clOrdID: clOrdID,
                                         origClOrdID: orig, symbol: symbol, rejected: rejected)
            return copy.pointee.report(event, maker: maker, party: party, body: out)
        }
    }

    /// The drop copy's report (its body of `length` bytes in `body`) numbered and stored by
    /// drop-copy `session` and written to `out`: what the session wrote.
    @inline(__always)
    mutating func dropCopySend(_ event: EngineEvent, session: Int, length: Int, now: UInt64, out: UnsafeMutableRawBufferPointer) -> Int {
        let n = sessions[session].send(.executionReport, body: UnsafeRawBufferPointer(start: body.baseAddress, count: length),
                                       sendingTime: epochMidnight &+ event.timestamp, now: now, out: out)
        accountedOutbound[session] = sessions[session].nextOutbound
        return n ?? 0
    }

    /// The ClOrdID of `account`'s order `token`: the FIX ClOrdID when the order came over FIX,
    /// else the OUCH token (trailing spaces cut), written at `offset` of `tokenText`.
    func dropCopyClOrdID(account: Int, token: OrderToken, at offset: Int) -> UnsafeRawBufferPointer {
        let session = Int(sessionOfAccount[account])
        if session >= 0, let i = applications[session].orders.index(of: token) {
            return applications[session].orders.clOrdID(i)
        }
        let out = tokenText.baseAddress! + offset
        withUnsafeBytes(of: token.high.bigEndian) { out.copyMemory(from: $0.baseAddress!, byteCount: 8) }
        withUnsafeBytes(of: token.low.bigEndian) { (out + 8).copyMemory(from: $0.baseAddress!, byteCount: 6) }
        var n = 14
        while n > 1 && out.load(fromByteOffset: n &- 1, as: UInt8.self) == 0x20 { n &-= 1 }
        return UnsafeRawBufferPointer(start: out, count: n)
    }

    /// `account`'s FIX order entry for `token` (an order's or a replace's), when it came over FIX.
    func dropCopyFIXEntry(account: Int, token: OrderToken) -> FIXOrderEntry? {
        let session = Int(sessionOfAccount[account])
        guard session >= 0, let i = applications[session].orders.index(of: token) else { return nil }
        let entry = applications[session].orders.entry(i)
        return entry.kind == .order || entry.kind == .replacement ? entry : nil
    }

    // MARK: Replay without a gateway (cold path)

    /// Routes an order event into the sessions as the gateway's `fixRoute` and `dropCopyRoute`
    /// do, with no connection: each report is numbered and stored, its bytes discarded.
    /// `symbols`: the configuration's, by instrument.
    mutating func replayRoute(_ event: EngineEvent, symbols: [Symbol]) {
        if sessionsBound > 0 {
            switch event {
            case .accepted(let e): replayReport(event, client: e.client, maker: false)
            case .rejected(let e): replayReport(event, client: e.client, maker: false)
            case .replaced(let e): replayReport(event, client: e.client, maker: false)
            case .canceled(let e): replayReport(event, client: e.client, maker: false)
            case .cancelRejected(let e): replayReport(event, client: e.client, maker: false)
            case .executed(let e):
                replayReport(event, client: e.makerClient, maker: true)
                replayReport(event, client: e.takerClient, maker: false)
            case .crossFill(let e):
                replayReport(event, client: e.buy.client, maker: false)
                replayReport(event, client: e.sell.client, maker: true)
            default: break
            }
        }
        guard dropCount > 0 else { return }
        func symbol(_ instrument: InstrumentIndex) -> Symbol {
            Int(instrument) < symbols.count ? symbols[Int(instrument)] : Symbol(rawValue: 0x2020_2020_2020_2020)
        }
        switch event {
        case .accepted(let e): replayDropCopy(event, client: e.client, maker: false, token: e.token, symbol: symbol(e.instrument))
        case .rejected(let e): replayDropCopy(event, client: e.client, maker: false, token: e.token)
        case .replaced(let e):
            replayDropCopy(event, client: e.client, maker: false, token: e.token, previous: e.previousToken, symbol: symbol(e.instrument))
        case .canceled(let e): replayDropCopy(event, client: e.client, maker: false, token: e.token, symbol: symbol(e.instrument))
        case .modified(let e): replayDropCopy(event, client: e.client, maker: false, token: e.token)
        case .executed(let e):
            replayDropCopy(event, client: e.makerClient, maker: true, token: e.makerToken, symbol: symbol(e.instrument))
            replayDropCopy(event, client: e.takerClient, maker: false, token: e.takerToken, symbol: symbol(e.instrument))
        case .crossFill(let c):
            let e = c.asExecution
            replayDropCopy(event, client: e.makerClient, maker: true, token: e.makerToken, symbol: symbol(e.instrument))
            replayDropCopy(event, client: e.takerClient, maker: false, token: e.takerToken, symbol: symbol(e.instrument))
        default: break
        }
    }

    mutating func replayReport(_ event: EngineEvent, client: ClientID, maker: Bool) {
        let account = Int(client)
        guard account < accountCount, sessionOfAccount[account] >= 0 else { return }
        let session = Int(sessionOfAccount[account])
        guard let (type, length) = applications[session].report(event, maker: maker, body: body) else { return }
        _ = sendReport(event, session: session, type: type, length: length, now: 0, out: discard)
    }

    mutating func replayDropCopy(_ event: EngineEvent, client: ClientID, maker: Bool, token: OrderToken, previous: OrderToken? = nil,
                                 symbol: Symbol = Symbol(rawValue: 0)) {
        let account = Int(client)
        guard account < accountCount, dropFanCount[account] > 0 else { return }
        let length = dropCopyBody(event, account: account, maker: maker, token: token, previous: previous, symbol: symbol)
        guard length > 0 else { return }
        let first = Int(dropFanStart[account])
        for i in first..<(first &+ Int(dropFanCount[account])) {
            _ = dropCopySend(event, session: Int(dropFan[i]), length: length, now: 0, out: discard)
        }
    }
}
