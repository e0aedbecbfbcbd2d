import ExchangeAccess
import ExchangeCore
import ExchangeEngine
import ExchangeFIX
import ExchangeWire

// The FIX drop copy on `fix.drop_copy_port` (docs/FIX.md, "Drop copy"): the FIX port's
// connection table takes connections from a second listener, and a connection from it is a
// read-only FIX 4.4 session of the account that logs on — an account entitled to it
// (`drop_copy` in the keys file) — which receives an ExecutionReport for every order event of
// every account of the account's firm, from OUCH and FIX alike. Each entitled account has its
// drop-copy session for the day from the start (FIXPort), so the reports of a firm go into
// its sessions' resend stores while nobody is logged on, and a client that logs on later asks
// for them with ResendRequest. The session layer, the transport, the timers and TLS are the
// FIX port's; what differs is here: the Logon's checks, no engine behind it (application
// messages get BusinessMessageReject), and the reports' fan-out from `route`.
//
// Across restarts: the reports are a function of the journal (the engine's events, replayed
// through `route` like the FIX sessions' reports, SendingTime the event's time), and the
// session messages' MsgSeqNums are journaled as the FIX sessions' are (`outbound` facts of
// client `FIXPort.dropCopyClientBase + account`), so a restarted exchange gives each drop
// copy back with the same MsgSeqNums and the same resend store.
extension GatewayAgent {
    /// The first message on the drop-copy port: as `fixLogon`, for the account's drop-copy
    /// session (never its trading session: an account may trade and watch its drop copy).
    mutating func dropCopyLogon(_ slot: Int, _ message: UnsafeRawBufferPointer) {
        guard let (username, _, password, account) = fixLogonCredentials(slot, message) else { return }
        var refusal = fixLogonRefusal(slot, username: username, account: account)
        if refusal == .none && fix.dropSessionOfAccount[account] < 0 {
            refusal = .notEntitled
        } else if refusal == .none && fix.slotOfSession[Int(fix.dropSessionOfAccount[account])] >= 0 {
            refusal = .alreadyLoggedOn
        }
        guard refusal == .none else { return fixRefuseAfterPassword(slot, refusal, account: account, message, username, password) }
        fixTable.sessions[slot].account = Int32(account)
        fixOpenSession(slot, Int(fix.dropSessionOfAccount[account]), message, username, password)
    }

    /// The drop-copy Logon was accepted.
    mutating func dropCopyLoggedOn(_ slot: Int) {
        fixTable.sessions[slot].phase = .active
        fixTable.markLoggedIn(slot)
        count(GatewayCounters.dropCopyLogons)
        counts[GatewayCounters.dropCopyActiveSessions.index] &+= 1
    }

    /// An application message on the drop copy: BusinessMessageReject, nothing else.
    mutating func dropCopyRejectApplication(_ slot: Int, session: Int) {
        count(GatewayCounters.dropCopyRejects)
        fixWrote(slot, fix.sessions[session].rejectUnsupported(text: "Unsupported Message Type: the drop copy is read-only",
                                                               now: fixNow, out: fixOutput(slot)))
    }

    // MARK: Reports

    /// Every order event of an account whose firm has drop-copy sessions (called by `route`,
    /// live and in replay).
    mutating func dropCopyRoute(_ event: EngineEvent) {
        switch event {
        case .accepted(let e): dropCopyReport(event, client: e.client, maker: false, token: e.token, instrument: e.instrument)
        case .rejected(let e): dropCopyReport(event, client: e.client, maker: false, token: e.token)
        case .replaced(let e):
            dropCopyReport(event, client: e.client, maker: false, token: e.token, previous: e.previousToken, instrument: e.instrument)
        case .canceled(let e): dropCopyReport(event, client: e.client, maker: false, token: e.token, instrument: e.instrument)
        case .modified(let e): dropCopyReport(event, client: e.client, maker: false, token: e.token)
        case .executed(let e):
            dropCopyReport(event, client: e.makerClient, maker: true, token: e.makerToken, instrument: e.instrument)
            dropCopyReport(event, client: e.takerClient, maker: false, token: e.takerToken, instrument: e.instrument)
        case .crossFill(let c):
            let e = c.asExecution
            dropCopyReport(event, client: e.makerClient, maker: true, token: e.makerToken, instrument: e.instrument)
            dropCopyReport(event, client: e.takerClient, maker: false, token: e.takerToken, instrument: e.instrument)
        default: break
        }
    }

    mutating func dropCopyReport(_ event: EngineEvent, client: ClientID, maker: Bool, token: OrderToken,
                                 previous: OrderToken? = nil, instrument: InstrumentIndex? = nil) {
        let account = Int(client)
        guard account < fix.accountCount, fix.dropFanCount[account] > 0 else { return }
        let symbol = instrument.map { self.symbol($0) } ?? Symbol(rawValue: 0)
        let untracked = fix.dropCopy.pointee.untracked
        // The report's body is the FIX port's (FIXPort+Replay.swift).
        let length = fix.dropCopyBody(event, account: account, maker: maker, token: token, previous: previous, symbol: symbol)
        counts[GatewayCounters.dropCopyUntracked.index] &+= fix.dropCopy.pointee.untracked &- untracked
        guard length > 0 else { return }
        let first = Int(fix.dropFanStart[account])
        for i in first..<(first &+ Int(fix.dropFanCount[account])) {
            let session = Int(fix.dropFan[i])
            // What the session sent before this report is the journal's to know; the report is replay's.
            fixAccountOutbound(session)
            let slot = Int(fix.slotOfSession[session])
            let connected = slot >= 0 && fixTable.sessions[slot].phase == .active
            let out = connected ? fixOutput(slot) : fix.discard
            let n = fix.dropCopySend(event, session: session, length: length, now: fixNow, out: out)
            count(GatewayCounters.dropCopyMessagesOut)
            if connected { fixWrote(slot, n) }
        }
    }

    // MARK: Replay

    /// At the start of a day with drop copies (journaling modes): one `outbound` fact of no
    /// MsgSeqNums per drop-copy session, so that the journal says the day has them from its
    /// start: its day snapshots carry them in their `fix` section (FIXPort+DayState.swift), or
    /// are passed over by recovery when they have none.
    mutating func dropCopyRecordSessions() {
        for n in 0..<fix.dropCount {
            let session = fix.sessionCapacity &+ n
            fixRecord(.outbound(timestamp: now, client: fix.applications[session].configuration.client, first: 1, count: 0, execIDs: 0,
                                nextInbound: 1, reset: false))
        }
    }

    /// `account`'s drop-copy session as replay or the live gateway left it: its next MsgSeqNums
    /// (ours, the counterparty's); nil when the account has none.
    public func dropCopySessionState(account: Int) -> (nextOutbound: UInt64, nextInbound: UInt64)? {
        guard account < fix.accountCount, fix.dropSessionOfAccount[account] >= 0 else { return nil }
        let session = Int(fix.dropSessionOfAccount[account])
        return (fix.sessions[session].nextOutbound, fix.sessions[session].nextInbound)
    }
}
