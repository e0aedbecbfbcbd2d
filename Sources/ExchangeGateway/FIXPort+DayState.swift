import ExchangeCore
import ExchangeFIX

/// The FIX sessions' day state (docs/FIX.md, "Across restarts"), as the `fix` section of a day
/// snapshot holds it (docs/DURABILITY.md, "Day snapshots"): what replay of the journal's
/// `fix_session` facts and of the engine's events rebuilds — each order-entry session's
/// binding (account, token base, ExecID prefix), its MsgSeqNums both ways, ExecIDs used, its
/// ClOrdID table and its resend store; each drop-copy session's MsgSeqNums and resend store;
/// the drop copy's order book and ExecID counter. Restored into a FIX port that has seen
/// nothing, then fed the journal after the snapshot, it ends as a replay of the whole day
/// (`FIXDayStateTests`). Cold path (allocates). All integers little-endian:
/// ```
/// 0   4  version 2
/// 4   4  order-entry sessions bound b (in the order they were bound)
/// 8   4  drop-copy sessions d
/// 12  4  zero
/// 16  8  the FIX port's midnight (UTC, nanoseconds since the epoch: a report's SendingTime is
///        it plus the event's time); a gateway of another midnight cannot use the section
/// 24  8  the drop copy's ExecIDs used
/// 32  8  the drop copy's untracked reports
/// 40  8  the drop copy's orders m
/// per order-entry session:
///     4 account, 4 ClOrdIDs c, 8 token base, 8 ExecID prefix, 8 ExecIDs used by reports of
///     engine events, 8 ExecIDs used by answers given at once (version 1 had one counter for both),
///     8 next inbound MsgSeqNum, 8 next outbound MsgSeqNum, 8 stored messages s;
///     per ClOrdID entry (1…c), 88 bytes: 1 kind, 1 OrdStatus, 1 side, 1 OrdType,
///       1 ClOrdID length, 3 zero, 8 symbol, 4 OrderQty, 4 price, 4 CumQty, 4 LeavesQty,
///       8 notional, 8 OrderID, 4 link, 4 zero, 32 the ClOrdID (zero padded);
///     per stored message (oldest first): 8 MsgSeqNum, 8 SendingTime, 2 MsgType, 2 body
///       length l, 4 zero, l body bytes padded to 8
/// per drop-copy session (in the keys file's order of entitled accounts):
///     8 next inbound, 8 next outbound, 8 stored messages s; the stored messages as above
/// per drop-copy order (sorted by client, token), 64 bytes: 4 client, 1 side (255 none),
///     1 OrdType, 1 OrdStatus, 1 zero, 8 token high, 8 token low, 8 OrderID, 8 symbol,
///     4 OrderQty, 4 price, 4 CumQty, 4 LeavesQty, 8 notional
/// ```
extension FIXPort {
    static let dayStateVersion: UInt32 = 2

    func encodeDayState() -> [UInt8] {
        var out = FIXDayStateWriter()
        out.u32(Self.dayStateVersion)
        out.u32(UInt32(sessionsBound))
        out.u32(UInt32(dropCount))
        out.u32(0)
        out.u64(epochMidnight)
        out.u64(dropCopy.pointee.execCounter)
        out.u64(dropCopy.pointee.untracked)
        var orders: [FIXDropCopyOrder] = []
        let book = dropCopy.pointee.book.slotCount
        for i in 0..<book {
            let o = dropCopy.pointee.book.order(i)
            if o.client != .max { orders.append(o) }
        }
        orders.sort { ($0.client, $0.token.high, $0.token.low) < ($1.client, $1.token.high, $1.token.low) }
        out.u64(UInt64(orders.count))
        for session in 0..<sessionsBound {
            var account = -1
            for a in 0..<accountCount where sessionOfAccount[a] == Int32(session) { account = a }
            let orderCount = applications[session].orders.count
            out.u32(UInt32(truncatingIfNeeded: account))
            out.u32(UInt32(orderCount))
            out.u64(UInt64(applications[session].orders.tokenBase))
            out.u64(applications[session].configuration.execIDPrefix)
            out.u64(applications[session].execCounter)
            out.u64(applications[session].answerExecCounter)
            out.u64(sessions[session].nextInbound)
            out.u64(sessions[session].nextOutbound)
            let stored = storedSequences(session)
            out.u64(UInt64(stored.count))
            for index in stride(from: 1, through: orderCount, by: 1) {
                let e = applications[session].orders.entry(index)
                let id = applications[session].orders.clOrdID(index)
                out.u8(e.kind.rawValue)
                out.u8(e.ordStatus)
                out.u8(e.side.rawValue)
                out.u8(e.ordType.rawValue)
                out.u8(UInt8(id.count))
                out.zeros(3)
                out.u64(e.symbol.rawValue)
                out.u32(e.orderQty)
                out.u32(e.price)
                out.u32(e.cumQty)
                out.u32(e.leavesQty)
                out.u64(e.notional)
                out.u64(e.orderID)
                out.u32(e.link)
                out.u32(0)
                out.append(id)
                out.zeros(FIXOrderTable.maximumClOrdIDLength - id.count)
            }
            writeStored(session, stored, &out)
        }
        for n in 0..<dropCount {
            let session = sessionCapacity &+ n
            out.u64(sessions[session].nextInbound)
            out.u64(sessions[session].nextOutbound)
            let stored = storedSequences(session)
            out.u64(UInt64(stored.count))
            writeStored(session, stored, &out)
        }
        for o in orders {
            out.u32(o.client)
            out.u8(o.side?.rawValue ?? 255)
            out.u8(o.ordType.rawValue)
            out.u8(o.ordStatus)
            out.u8(0)
            out.u64(o.token.high)
            out.u64(o.token.low)
            out.u64(o.orderID)
            out.u64(o.symbol.rawValue)
            out.u32(o.orderQty)
            out.u32(o.price)
            out.u32(o.cumQty)
            out.u32(o.leavesQty)
            out.u64(o.notional)
        }
        return out.bytes
    }

    /// The MsgSeqNums `session`'s resend store holds, oldest first.
    func storedSequences(_ session: Int) -> [UInt64] {
        let next = sessions[session].nextOutbound
        let slots = UInt64(sessions[session].storeSlotCount)
        let first = next > slots ? next &- slots : 1
        var out: [UInt64] = []
        var sequence = first
        while sequence < next {
            if sessions[session].storedMessage(sequence: sequence) != nil { out.append(sequence) }
            sequence &+= 1
        }
        return out
    }

    func writeStored(_ session: Int, _ stored: [UInt64], _ out: inout FIXDayStateWriter) {
        for sequence in stored {
            let m = sessions[session].storedMessage(sequence: sequence)!
            out.u64(sequence)
            out.u64(m.sendingTime)
            out.u16(m.msgType.rawValue)
            out.u16(UInt16(m.body.count))
            out.u32(0)
            out.append(m.body)
            out.zeros((8 &- m.body.count % 8) % 8)
        }
    }

    /// Why a `fix` section's header does not fit this FIX port (nil: it does): the checks a
    /// restore makes first, for a caller that must decide before it changes anything.
    func dayStateProblem(_ bytes: UnsafeRawBufferPointer) -> String? {
        var r = FIXDayStateReader(bytes)
        guard let version = r.u32(), version == Self.dayStateVersion else { return "its fix section is not version 2 (version 1 counted ExecIDs otherwise)" }
        guard let bound = r.u32(), let drops = r.u32(), r.u32() != nil, let midnight = r.u64() else { return r.truncated.description }
        guard midnight == epochMidnight else {
            return "its FIX sessions count time from midnight \(midnight) ns since the epoch, this FIX port from \(epochMidnight) "
                + "(another UTC day): their messages would not be the ones sent"
        }
        guard Int(bound) <= sessionCapacity else { return "it has \(bound) FIX sessions, fix.max_sessions is \(sessionCapacity)" }
        guard Int(drops) == dropCount else {
            return "it has \(drops) drop-copy sessions, this configuration and keys file \(dropCount)"
        }
        return nil
    }

    /// Puts a `fix` section into a FIX port that has bound nothing yet (before any replay and
    /// before `onStart`). Refuses, naming the problem, a section that does not decode or does
    /// not fit this configuration (more sessions, ClOrdIDs or drop-copy orders than it has
    /// room for; another set of drop-copy accounts); the port may be partly restored then,
    /// and the caller gives up on the snapshot.
    mutating func restoreDayState(_ bytes: UnsafeRawBufferPointer, firms: UnsafeMutablePointer<Firm>) throws(DayStateError) {
        var r = FIXDayStateReader(bytes)
        guard sessionsBound == 0, dropCopy.pointee.book.count == 0 else { throw DayStateError("the FIX sessions have state already") }
        if let problem = dayStateProblem(bytes) { throw DayStateError(problem) }
        guard r.skip(24), let dropExecIDs = r.u64(), let untracked = r.u64(), let orderCount = r.u64() else { throw r.truncated }
        let bound = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        guard orderCount <= UInt64(dropCopy.pointee.book.capacity) else {
            throw DayStateError("it has \(orderCount) drop-copy orders, fix.drop_copy_orders is \(dropCopy.pointee.book.capacity)")
        }
        for session in 0..<Int(bound) {
            guard let account32 = r.u32(), let clOrdIDs = r.u32(), let tokenBase = r.u64(), let prefix = r.u64(),
                  let execIDs = r.u64(), let answerExecIDs = r.u64(), let nextInbound = r.u64(), let nextOutbound = r.u64(), let storedCount = r.u64() else {
                throw r.truncated
            }
            let account = Int(account32)
            guard account < accountCount, sessionOfAccount[account] < 0 else {
                throw DayStateError("its FIX session \(session) names account \(account32), which the keys file does not have or "
                    + "another session has")
            }
            guard Int(clOrdIDs) <= applications[session].orders.capacity else {
                throw DayStateError("its FIX session of account \(account) has \(clOrdIDs) ClOrdIDs, fix.max_cl_ord_ids is "
                    + "\(applications[session].orders.capacity)")
            }
            sessionsBound = session &+ 1
            sessionOfAccount[account] = Int32(session)
            username(account: account).withUnsafeBytes { sessions[session].rebind(counterparty: $0) }
            applications[session].replayBind(client: ClientID(account), firm: firms[account], tokenBase: Int(tokenBase),
                                             execIDPrefix: prefix)
            applications[session].restore(execCounter: execIDs, answerExecCounter: answerExecIDs)
            sessions[session].restore(nextInbound: nextInbound, nextOutbound: nextOutbound)
            for index in stride(from: 1, through: Int(clOrdIDs), by: 1) {
                guard let kind = r.u8(), let ordStatus = r.u8(), let side = r.u8(), let ordType = r.u8(), let length = r.u8(),
                      r.skip(3), let symbol = r.u64(), let orderQty = r.u32(), let price = r.u32(), let cumQty = r.u32(),
                      let leavesQty = r.u32(), let notional = r.u64(), let orderID = r.u64(), let link = r.u32(), r.u32() != nil,
                      let id = r.take(FIXOrderTable.maximumClOrdIDLength) else { throw r.truncated }
                guard let k = FIXEntryKind(rawValue: kind), k != .free, let s = Side(rawValue: side), let t = OrderType(rawValue: ordType),
                      length >= 1, Int(length) <= FIXOrderTable.maximumClOrdIDLength, link <= clOrdIDs else {
                    throw DayStateError("ClOrdID entry \(index) of account \(account)'s FIX session does not decode")
                }
                let added = applications[session].orders.add(UnsafeRawBufferPointer(rebasing: id[0..<Int(length)]), kind: k)
                guard case .success(let i) = added, i == index else {
                    throw DayStateError("ClOrdID entry \(index) of account \(account)'s FIX session is a duplicate")
                }
                applications[session].orders.update(i) {
                    $0.ordStatus = ordStatus
                    $0.side = s
                    $0.ordType = t
                    $0.symbol = Symbol(rawValue: symbol)
                    $0.orderQty = orderQty
                    $0.price = price
                    $0.cumQty = cumQty
                    $0.leavesQty = leavesQty
                    $0.notional = notional
                    $0.orderID = orderID
                    $0.link = link
                }
            }
            try restoreStored(session, count: storedCount, &r)
        }
        for n in 0..<dropCount {
            let session = sessionCapacity &+ n
            guard let nextInbound = r.u64(), let nextOutbound = r.u64(), let storedCount = r.u64() else { throw r.truncated }
            sessions[session].restore(nextInbound: nextInbound, nextOutbound: nextOutbound)
            try restoreStored(session, count: storedCount, &r)
        }
        dropCopy.pointee.restore(execCounter: dropExecIDs, untracked: untracked)
        for _ in 0..<orderCount {
            guard let client = r.u32(), let side = r.u8(), let ordType = r.u8(), let ordStatus = r.u8(), r.skip(1),
                  let high = r.u64(), let low = r.u64(), let orderID = r.u64(), let symbol = r.u64(), let orderQty = r.u32(),
                  let price = r.u32(), let cumQty = r.u32(), let leavesQty = r.u32(), let notional = r.u64() else { throw r.truncated }
            guard client != .max, side == 255 || Side(rawValue: side) != nil, let t = OrderType(rawValue: ordType) else {
                throw DayStateError("a drop-copy order does not decode")
            }
            var o = FIXDropCopyOrder()
            o.client = client
            o.token = OrderToken(high: high, low: low)
            o.orderID = orderID
            o.symbol = Symbol(rawValue: symbol)
            o.side = side == 255 ? nil : Side(rawValue: side)
            o.ordType = t
            o.ordStatus = ordStatus
            o.orderQty = orderQty
            o.price = price
            o.cumQty = cumQty
            o.leavesQty = leavesQty
            o.notional = notional
            guard dropCopy.pointee.book.insert(o) != nil else { throw DayStateError("the drop copy's book is full") }
        }
        guard r.remaining == 0 else { throw DayStateError("its fix section has \(r.remaining) bytes after its end") }
        for session in 0..<allSessions {
            accountedOutbound[session] = sessions[session].nextOutbound
            accountedExecIDs[session] = applications[session].answerExecCounter
        }
    }

    mutating func restoreStored(_ session: Int, count: UInt64, _ r: inout FIXDayStateReader) throws(DayStateError) {
        var previous: UInt64 = 0
        for _ in 0..<count {
            guard let sequence = r.u64(), let sendingTime = r.u64(), let msgType = r.u16(), let length = r.u16(), r.u32() != nil,
                  let body = r.take(Int(length)), r.skip((8 &- Int(length) % 8) % 8) else { throw r.truncated }
            guard sequence > previous, sequence < sessions[session].nextOutbound, Int(length) <= sessions[session].storeSlotSize else {
                throw DayStateError("a stored message (MsgSeqNum \(sequence)) of FIX session \(session) does not fit its session")
            }
            previous = sequence
            sessions[session].replayStore(sequence: sequence, msgType: FIXMsgType(rawValue: msgType), sendingTime: sendingTime,
                                          body: body)
        }
    }
}

/// Little-endian bytes of the `fix` section.
struct FIXDayStateWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func zeros(_ n: Int) { if n > 0 { bytes.append(contentsOf: repeatElement(UInt8(0), count: n)) } }
    mutating func append(_ b: UnsafeRawBufferPointer) { bytes.append(contentsOf: b) }
}

struct FIXDayStateReader {
    let base: UnsafeRawBufferPointer
    var offset = 0
    init(_ base: UnsafeRawBufferPointer) { self.base = base }
    var remaining: Int { base.count &- offset }
    var truncated: DayStateError { DayStateError("its fix section ends early (at byte \(offset) of \(base.count))") }

    mutating func take(_ n: Int) -> UnsafeRawBufferPointer? {
        guard n >= 0, remaining >= n else { return nil }
        defer { offset &+= n }
        return UnsafeRawBufferPointer(rebasing: base[offset..<(offset &+ n)])
    }
    mutating func skip(_ n: Int) -> Bool { take(n) != nil }
    mutating func u8() -> UInt8? { take(1).map { $0[0] } }
    mutating func u16() -> UInt16? { take(2).map { UInt16(littleEndian: $0.loadUnaligned(as: UInt16.self)) } }
    mutating func u32() -> UInt32? { take(4).map { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) } }
    mutating func u64() -> UInt64? { take(8).map { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) } }
}

extension GatewayAgent {
    /// The FIX sessions' day state, as a day snapshot's `fix` section holds it (allocates).
    public func fixDayState() -> [UInt8] { fix.encodeDayState() }

    /// Why a day snapshot's `fix` section does not fit this gateway's FIX port (another UTC
    /// midnight, more sessions than `fix.max_sessions`, other drop-copy accounts); nil: it fits.
    public func fixDayStateProblem(_ bytes: UnsafeRawBufferPointer) -> String? { fix.dayStateProblem(bytes) }

    /// Puts a day snapshot's `fix` section into a gateway that has seen nothing yet (before
    /// any replay and before `onStart`), as `restoreDayState` does for the OUCH sessions.
    public mutating func restoreFIXDayState(_ bytes: UnsafeRawBufferPointer) throws(DayStateError) {
        try fix.restoreDayState(bytes, firms: accounts.firms)
    }
}
