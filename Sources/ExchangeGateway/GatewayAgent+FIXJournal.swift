import ExchangeCore
import ExchangeEngine
import ExchangeFIX

// FIX sessions across restarts (docs/FIX.md, "Across restarts"; docs/DURABILITY.md). The
// journal holds the engine's input, and replay regenerates every ExecutionReport of an engine
// event byte for byte (SendingTime is the event's time), so what it must learn besides are
// the facts no engine event decides (`FIXSessionFact`): that an account's FIX session exists
// (with its token base and ExecID prefix), which ClOrdID took which entry of its table, and
// which MsgSeqNums went out as messages replay does not regenerate — session messages, and
// answers the mapping gives at once — with the ExecIDs they used and the counterparty's next
// MsgSeqNum. The gateway writes them into the command ring in order, before any command that
// depends on them; the engine sequences them like session events and the journal keeps them.
//
// Replay meets a session message only after the events the engine had produced before the
// gateway wrote its fact, so it numbers the reports in the engine's order and moves those it
// numbered past a session message up when that message's fact arrives (`replayOutbound`):
// each report ends with the MsgSeqNum it had live.
extension GatewayAgent {
    // MARK: Live

    /// Queues a fact for the command ring (sent at once when there is room). Only in the
    /// journaling modes; without a journal nothing survives a restart anyway.
    mutating func fixRecord(_ fact: FIXSessionFact) {
        guard journalsSessions else { return }
        if fix.factCount == fix.factCapacity {
            // The engine has taken nothing for 64 facts per session: every FIX connection's
            // input is held meanwhile, so only timers could add more. Closed rather than lost.
            count(GatewayCounters.backpressureRejects)
            for slot in 0..<fix.capacity where fixTable.sessions[slot].phase == .active { fixClose(slot, .inputBacklog, flush: false) }
            return
        }
        fix.pendingFacts[(fix.factHead &+ fix.factCount) % fix.factCapacity] = fact
        fix.factCount &+= 1
        fixFlushFacts()
    }

    /// A new leadership term (onStart, after recovery): every FIX session of the day, order
    /// entry and drop copy, skips one MsgSeqNum, journaled as an `outbound` fact of count 1
    /// (docs/FAILOVER.md, "FIX"). The lapsed primary's last message to a session — the Logout
    /// saying its leadership lapsed — took a MsgSeqNum that this primary may not have (the
    /// record need not have reached it before the lapse): reusing it would give a counterparty
    /// that counted that Logout a MsgSeqNum lower than expected, which FIX treats as fatal.
    /// Skipping one instead gives it at worst a gap, which it closes with a ResendRequest that
    /// is answered with a SequenceReset-GapFill. Cold path (allocates in replay).
    mutating func fixSkipOneMsgSeqNumForNewTerm() {
        guard journalsSessions else { return }
        for account in 0..<fix.accountCount {
            for drop in [false, true] {
                let session = Int(drop ? fix.dropSessionOfAccount[account] : fix.sessionOfAccount[account])
                guard session >= 0 else { continue }
                let client = drop ? FIXPort.dropCopyClientBase &+ ClientID(account) : ClientID(account)
                let fact = FIXSessionFact.outbound(timestamp: now, client: client, first: fix.sessions[session].nextOutbound, count: 1,
                                                   execIDs: 0, nextInbound: fix.sessions[session].nextInbound, reset: false)
                fix.replay(fact, firms: accounts.firms)
                fixRecord(fact)
            }
        }
    }

    /// Pushes queued facts, oldest first, while the ring has room; true when none is left.
    @discardableResult
    mutating func fixFlushFacts() -> Bool {
        while fix.factCount > 0 {
            // Stamped when it goes: the engine's commands keep the gateway's order of time.
            var fact = fix.pendingFacts[fix.factHead]
            fact.timestamp = now
            guard commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: .fixSession(fact))) else {
                return false
            }
            fix.factHead = (fix.factHead &+ 1) % fix.factCapacity
            fix.factCount &-= 1
            lastCommandAt = now
        }
        return true
    }

    /// Room in the command ring for the queued facts, and a fact and a command of the message
    /// about to be handled (journaling modes; see `fixHold`).
    mutating func fixCommandRoom(account: Int) -> Bool {
        guard commandRoom(account: account), fixFlushFacts() else { return false }
        if commands.knownFreeSlots >= 2 { return true }
        let room = commands.claim(upTo: 2).count
        commands.publish(0)
        return room >= 2
    }

    /// Records the messages `session` sent since the last fact or report that replay will
    /// not regenerate (called after every step of the session, and before each report).
    mutating func fixAccountOutbound(_ session: Int) {
        let next = fix.sessions[session].nextOutbound
        let accounted = fix.accountedOutbound[session]
        let execIDs = fix.applications[session].answerExecCounter
        // A Logon with ResetSeqNumFlag numbered from 1 again (and forgot the store), whether
        // or not the number it reached differs from the one accounted.
        let reset = next < accounted || fix.sessions[session].didResetSequenceNumbers
        guard next != accounted || reset else {
            fix.accountedExecIDs[session] = execIDs
            return
        }
        let first = reset ? 1 : accounted
        fixRecord(.outbound(timestamp: now, client: fix.applications[session].configuration.client, first: first,
                            count: next &- first, execIDs: execIDs &- fix.accountedExecIDs[session],
                            nextInbound: fix.sessions[session].nextInbound, reset: reset))
        fix.sessions[session].didResetSequenceNumbers = false
        fix.accountedOutbound[session] = next
        fix.accountedExecIDs[session] = execIDs
    }

    /// A ClOrdID the mapping just gave an entry (its last) of `session`'s table.
    mutating func fixRecordClOrdID(_ session: Int) {
        let entry = fix.applications[session].orders.count
        let e = fix.applications[session].orders.entry(entry)
        let fact = FIXSessionFact.clOrdID(
            timestamp: now, client: fix.applications[session].configuration.client, entry: UInt32(entry), entryKind: e.kind.rawValue,
            link: e.kind == .order ? 0 : e.link, rejectedAtOnce: e.kind == .order && e.ordStatus == UInt8(ascii: "8"),
            nextInbound: fix.sessions[session].nextInbound, clOrdID: fix.applications[session].orders.clOrdID(entry))
        if let fact { fixRecord(fact) }
    }

    /// An answer the mapping gave at once, sent as MsgSeqNum `sequence` (after the
    /// `outbound` fact that counts it): its bytes, for replay to keep in the resend store.
    mutating func fixRecordReply(_ session: Int, sequence: UInt64, type: FIXMsgType, body: UnsafeRawBufferPointer, sendingTime: UInt64) {
        guard journalsSessions, body.count <= FIXPort.bodyBytes else { return }
        let client = fix.applications[session].configuration.client
        fixRecord(.replyHeader(timestamp: now, client: client, sequence: sequence, msgType: type.rawValue, bodyLength: body.count,
                               sendingTime: sendingTime))
        var offset = 0
        var chunk: UInt8 = 1
        while offset < body.count {
            let n = min(FIXSessionFact.replyChunkBytes, body.count &- offset)
            fixRecord(.replyChunk(timestamp: now, client: client, sequence: sequence, chunk: chunk,
                                  bytes: UnsafeRawBufferPointer(rebasing: body[offset..<(offset &+ n)])))
            offset &+= n
            chunk &+= 1
        }
    }

    // MARK: Replay

    /// A journaled fact, replayed (`replayCommand`; the replay itself is the FIX port's,
    /// FIXPort+Replay.swift, which the snapshot agent's replica runs too).
    mutating func fixReplay(_ fact: FIXSessionFact) { fix.replay(fact, firms: accounts.firms) }

    /// Fills the ClOrdID entry a replayed Enter Order or Replace was made from.
    mutating func fixReplayCommand(_ command: EngineCommand) { fix.replayCommand(command) }

    /// Facts that did not fit the session they name during replay (0 when the journal and the
    /// configuration agree; recovery reports any).
    public var fixReplayMismatches: Int { fix.replayMismatches }

    /// FIX sessions bound today (after recovery: those the journal gave back).
    public var fixSessionsBound: Int { fix.sessionsBound }

    /// `account`'s FIX session as replay or the live gateway left it: its next MsgSeqNums
    /// (ours, the counterparty's) and ClOrdIDs used; nil when it has none today.
    public func fixSessionState(account: Int) -> (nextOutbound: UInt64, nextInbound: UInt64, clOrdIDs: Int)? {
        guard account < fix.accountCount, fix.sessionOfAccount[account] >= 0 else { return nil }
        let session = Int(fix.sessionOfAccount[account])
        return (fix.sessions[session].nextOutbound, fix.sessions[session].nextInbound, fix.applications[session].orders.count)
    }
}
