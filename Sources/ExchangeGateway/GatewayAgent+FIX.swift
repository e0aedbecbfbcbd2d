import ExchangeAccess
import ExchangeCore
import ExchangeEngine
import ExchangeFIX
import ExchangeRuntime
import ExchangeWire

// FIX 4.4 order entry on `fix.port`: the gateway's second listener and connection table on
// the same io_uring, into the same command ring as OUCH, answered from the same order-events
// ring — so FIX and OUCH clients trade with each other, under the same accounts, firms,
// risk limits, self-trade prevention and cancel-on-disconnect. The session layer and the
// mapping are ExchangeFIX's; this file is their transport. docs/FIX.md is the contract.
//
// A connection's first message must be a Logon whose Username (553) is an account of the
// keys file and whose SenderCompID (49) is that same username; its Password (554) goes to
// the authenticator like an OUCH Login Request's (same throttling, same lockout). The
// account's FIX session (FIXPort) is bound to the connection while it is connected; it
// keeps its sequence numbers and resend store for the day, so a client that reconnects
// asks with ResendRequest for what it missed.

/// A Logon's password goes to the authenticator: the session waits (`completeLogon`).
struct FIXPendingLogon: FIXLogonVerifier {
    var asked = false
    mutating func verify(username: UnsafeRawBufferPointer?, password: UnsafeRawBufferPointer?) -> FIXLogonDecision {
        asked = true
        return .pending
    }
}

/// Logged-on sessions never verify again: a second Logon is the session's to refuse.
struct FIXNoLogon: FIXLogonVerifier {
    mutating func verify(username: UnsafeRawBufferPointer?, password: UnsafeRawBufferPointer?) -> FIXLogonDecision { .reject }
}

extension GatewayAgent {
    /// The gateway's time as FIX writes it: nanoseconds since the epoch.
    @inline(__always) var fixNow: UInt64 { fix.epochMidnight &+ now }

    // MARK: Completions

    mutating func handleFIXCompletion(_ completion: Completion) {
        switch fixTable.handle(completion, ring: ring) {
        case .none:
            break
        case .accepted(let slot):
            fixTable.sessions[slot].phase = .awaitingLogon
            fixTable.sessions[slot].connectedAt = now
            fixTable.sessions[slot].floodTokens = floodCapacity
            fixTable.sessions[slot].floodRefilledAt = now
            fixTable.sessions[slot].dropCopy = fixTable.acceptedOnSecondListener(slot)
            count(GatewayCounters.fixConnectionsAccepted)
            if fixTable.sessions[slot].dropCopy { count(GatewayCounters.dropCopyConnectionsAccepted) }
            if fixTLSOn { fixOpenTLS(slot) }
        case .refused(let refusal):
            count(GatewayCounters.fixConnectionsRefused)
            switch refusal {
            case .preLoginFull: countDisconnect(.preLoginFull)
            case .addressLimit: countDisconnect(.addressLimit)
            case .tableFull, .notAccepting, .submissionQueueFull: countDisconnect(.tableFull)
            }
        case .acceptFailed:
            count(GatewayCounters.acceptErrors)
        case .received(let slot, let bytes):
            if fixTLSOn { fixReceiveTLS(slot, bytes) } else { fixReceive(slot, bytes) }
        case .peerClosed(let slot):
            fixClose(slot, .peerClosed, flush: false)
        case .sent(let slot, let bytes):
            if fixTLSOn { fixSentTLS(slot, bytes: bytes) } else {
                fixTable.sessions[slot].outboundSent &+= Int32(truncatingIfNeeded: bytes)
                fixMarkDirty(slot)
            }
        case .failed(let slot, _):
            fixClose(slot, .connectionError, flush: false)
        case .released(let slot):
            if fixTLSOn { fixTLS.release(slot) }
            count(GatewayCounters.fixConnectionsClosed)
        }
    }

    // MARK: Input

    /// Appends received bytes to the connection's inbound buffer and handles the whole
    /// messages in it.
    mutating func fixReceive(_ slot: Int, _ bytes: UnsafeRawBufferPointer) {
        var input = bytes
        while !input.isEmpty {
            let phase = fixTable.sessions[slot].phase
            guard phase == .awaitingLogon || phase == .authenticating || phase == .active else { return }
            let held = Int(fixTable.sessions[slot].inboundLength)
            let room = FIXPort.inboundBytes &- held
            guard room > 0 else {
                // Only while a Logon is being checked (the client sent more than a buffer's
                // worth behind it), or input held (a safety bound: receives are paused), can
                // the buffer fill.
                fixClose(slot, fixTable.sessions[slot].inputHeld ? .inputBacklog : .notLoggedIn, flush: false)
                return
            }
            let n = min(room, input.count)
            (fix.inboundBuffer(slot) + held).copyMemory(from: input.baseAddress!, byteCount: n)
            fixTable.sessions[slot].inboundLength = Int32(held &+ n)
            input = UnsafeRawBufferPointer(rebasing: input[n...])
            if phase != .authenticating && !fixTable.sessions[slot].inputHeld { fixHandleInbound(slot) }
        }
    }

    /// Frames and handles the messages at the start of the inbound buffer, then moves what is
    /// left (a partial message) to its start.
    mutating func fixHandleInbound(_ slot: Int) {
        let buffer = fix.inboundBuffer(slot)
        var offset = 0
        loop: while true {
            let phase = fixTable.sessions[slot].phase
            guard phase == .awaitingLogon || phase == .active else { break }
            let length = Int(fixTable.sessions[slot].inboundLength)
            let available = UnsafeRawBufferPointer(start: buffer + offset, count: length &- offset)
            let frame = FIXFrameReader.next(available, maximumLength: FIXPort.maximumMessage)
            let state = Int(fixTable.sessions[slot].state)
            switch frame {
            case .needMore:
                break loop
            case .garbled(let skip, _):
                if state < 0 {
                    fixClose(slot, .malformedFrame, flush: false)
                    return
                }
                fixStep(slot, frame, UnsafeRawBufferPointer(start: available.baseAddress, count: 0))
                offset &+= skip
            case .fatal:
                if state < 0 {
                    fixClose(slot, .malformedFrame, flush: false)
                    return
                }
                fixStep(slot, frame, UnsafeRawBufferPointer(start: available.baseAddress, count: 0))
                return
            case .message(let n):
                let message = UnsafeRawBufferPointer(start: available.baseAddress, count: n)
                count(GatewayCounters.fixMessagesIn)
                guard fixAdmit(slot) else {
                    fixClose(slot, .flood, flush: false)
                    return
                }
                if phase == .active && journalsSessions && !fixTable.sessions[slot].dropCopy
                    && !fixCommandRoom(account: Int(fixTable.sessions[slot].account)) {
                    // No room for what this message may ask of the engine: it and what follows
                    // wait, in order, and the client's sends block meanwhile.
                    fixHold(slot)
                    break loop
                }
                if phase == .awaitingLogon && state < 0 {
                    if fixTable.sessions[slot].dropCopy { dropCopyLogon(slot, message) } else { fixLogon(slot, message) }
                    // A refused Logon stays in the buffer until the authenticator answers.
                    if fixTable.sessions[slot].state < 0 { break loop }
                } else {
                    fixStep(slot, frame, message)
                }
                offset &+= n
            }
        }
        let length = Int(fixTable.sessions[slot].inboundLength)
        guard offset > 0, fixTable.sessions[slot].phase != .free else { return }
        if offset < length { buffer.copyMemory(from: buffer + offset, byteCount: length &- offset) }
        fixTable.sessions[slot].inboundLength = Int32(length &- offset)
    }

    /// The connection's flood bucket, as for OUCH packets (`gateway.max_messages_per_second`).
    @inline(__always)
    mutating func fixAdmit(_ slot: Int) -> Bool {
        let elapsed = min(now &- fixTable.sessions[slot].floodRefilledAt, 1_000_000_000)
        fixTable.sessions[slot].floodRefilledAt = now
        let tokens = min(fixTable.sessions[slot].floodTokens &+ elapsed &* floodRate, floodCapacity)
        guard tokens >= 1_000_000_000 else {
            fixTable.sessions[slot].floodTokens = tokens
            return false
        }
        fixTable.sessions[slot].floodTokens = tokens &- 1_000_000_000
        return true
    }

    // MARK: Back-pressure (journaling modes)

    mutating func fixHold(_ slot: Int) {
        guard !fixTable.sessions[slot].inputHeld else { return }
        fixTable.sessions[slot].inputHeld = true
        fix.heldConnections &+= 1
        fixTable.pauseReceiving(slot, ring: ring)
        count(GatewayCounters.inputHolds)
    }

    /// Each turn while input is held: connections whose account now has room go on with what
    /// they kept, then with what the table parked, then receive again.
    mutating func fixResumeHeldInput() -> Int {
        var resumed = 0
        for slot in 0..<fix.capacity where fixTable.sessions[slot].inputHeld {
            guard fixCommandRoom(account: Int(fixTable.sessions[slot].account)) else { continue }
            fixTable.sessions[slot].inputHeld = false
            fix.heldConnections &-= 1
            resumed &+= 1
            fixHandleInbound(slot)
            while !fixTable.sessions[slot].inputHeld && fixTable.sessions[slot].phase == .active, let bytes = fixTable.nextParked(slot) {
                fixReceive(slot, bytes)
            }
            if !fixTable.sessions[slot].inputHeld && fixTable.sessions[slot].phase == .active && !fixTable.resumeReceiving(slot, ring: ring) {
                // No submission entry this turn: held again, without a message waiting; tried next turn.
                fixTable.sessions[slot].inputHeld = true
                fix.heldConnections &+= 1
            }
            if fix.heldConnections == 0 { break }
        }
        return resumed
    }

    // MARK: Logon

    /// The first message of a FIX or drop-copy connection, parsed as a Logon: its username
    /// (packed, and the field's bytes in `message`), password and account (-1: none of that
    /// name). Nil when it is no Logon (the connection is closed) or carries no credentials the
    /// keys file could hold (refused, nothing to check).
    mutating func fixLogonCredentials(_ slot: Int, _ message: UnsafeRawBufferPointer)
        -> (username: SoupUsername, name: UnsafeRawBufferPointer, password: SoupPassword, account: Int)? {
        _ = fix.logon.pointee.parse(message)
        guard fix.logon.pointee.msgType == .logon else {
            fixClose(slot, .notLoggedIn, flush: false)
            return nil
        }
        let usernameField = fix.logon.pointee.value(Tag.username)
        guard let user = FIXPort.pack(usernameField, width: SoupUsername.width),
              let pass = FIXPort.pack(fix.logon.pointee.value(Tag.password), width: SoupPassword.width),
              let sender = fix.logon.pointee.value(Tag.senderCompID), let name = usernameField, fixEqual(sender, name) else {
            count(GatewayCounters.loginsRejectedNotAuthorized)
            fixRefuseWithoutSession(slot, message, text: "Logon needs Username(553) and Password(554) of an account, and SenderCompID(49) = Username")
            return nil
        }
        let username = SoupUsername(rawValue: user.high)
        return (username, name, SoupPassword(high: pass.high, low: UInt16(truncatingIfNeeded: pass.low)), fix.account(named: username))
    }

    /// The first message: it names the account (Username 553, which must also be the
    /// SenderCompID 49). A known account that may log on gets its FIX session bound, which
    /// checks the Logon and asks the authenticator for the password; anything else is
    /// refused once the authenticator has answered (so the answer's timing and text do not
    /// tell which accounts exist).
    mutating func fixLogon(_ slot: Int, _ message: UnsafeRawBufferPointer) {
        guard let (username, name, password, account) = fixLogonCredentials(slot, message) else { return }
        var refusal = fixLogonRefusal(slot, username: username, account: account)
        if refusal == .none && (accounts.connections[account] != -1 || (journalsSessions && accounts.owes(account))
                    || (fix.sessionOfAccount[account] >= 0 && fix.slotOfSession[Int(fix.sessionOfAccount[account])] >= 0)) {
            refusal = .alreadyLoggedOn
        } else if refusal == .none && fix.sessionOfAccount[account] < 0 && fix.sessionsBound >= fix.sessionCapacity {
            refusal = .noSessionLeft
        }
        guard refusal == .none else { return fixRefuseAfterPassword(slot, refusal, account: account, message, username, password) }
        fixTable.sessions[slot].account = Int32(account)
        // The account's session for the day: bound at its first Logon.
        var session = Int(fix.sessionOfAccount[account])
        if session < 0 {
            session = fix.sessionsBound
            fix.sessionsBound &+= 1
            fix.sessionOfAccount[account] = Int32(session)
            fix.sessions[session].rebind(counterparty: name)
            fix.applications[session].rebind(client: ClientID(account), firm: accounts.firms[account], execIDPrefix: fix.execIDPrefix(account: account))
            fix.accountedOutbound[session] = 1
            fix.accountedExecIDs[session] = 0
            fixRecord(.bind(timestamp: now, client: ClientID(account), tokenBase: UInt64(fix.applications[session].orders.tokenBase),
                            execIDPrefix: fix.execIDPrefix(account: account)))
        }
        fixOpenSession(slot, session, message, username, password)
    }

    /// What refuses any Logon, trading or drop copy: an unknown account (or, with mutual TLS,
    /// a certificate of another account, refused as a wrong password is), or a draining gateway.
    func fixLogonRefusal(_ slot: Int, username: SoupUsername, account: Int) -> FIXConnection.Refusal {
        if account < 0 || (fixTLSOn && !fixTLSPermitsLogon(slot, username: username)) { return .unknownAccount }
        if leadership == .lapsed { return .notLeader }
        return drainPhase != .running ? .shuttingDown : .none
    }

    /// A refused Logon: the refusal is told (in the Logout) only once the password is known to
    /// be right, so its timing and text do not tell which accounts exist.
    mutating func fixRefuseAfterPassword(_ slot: Int, _ refusal: FIXConnection.Refusal, account: Int, _ message: UnsafeRawBufferPointer,
                                         _ username: SoupUsername, _ password: SoupPassword) {
        fixTable.sessions[slot].account = Int32(account)
        fixTable.sessions[slot].refusal = refusal
        fixTable.sessions[slot].logonLength = Int32(message.count)
        fixAskAuthenticator(slot, username, password)
    }

    /// Connection `slot` takes `session` (trading or drop copy): the session layer checks the
    /// Logon and asks for the password when it accepts it.
    mutating func fixOpenSession(_ slot: Int, _ session: Int, _ message: UnsafeRawBufferPointer,
                                 _ username: SoupUsername, _ password: SoupPassword) {
        fix.slotOfSession[session] = Int32(slot)
        fixTable.sessions[slot].state = Int32(session)
        fix.sessions[session].reconnect(now: fixNow)
        var verifier = FIXPendingLogon()
        let step = fix.sessions[session].receive(.message(length: message.count), bytes: message, now: fixNow, verifier: &verifier,
                                                 out: fixOutput(slot))
        fixApply(slot, step)
        fixAccountOutbound(session)
        if verifier.asked && fixTable.sessions[slot].phase == .awaitingLogon { fixAskAuthenticator(slot, username, password) }
    }

    /// Posts the password check (a ring push, never a wait). A full ring refuses at once.
    mutating func fixAskAuthenticator(_ slot: Int, _ username: SoupUsername, _ password: SoupPassword) {
        let posted = logins.post(LoginRequest(
            username: username, password: password, descriptor: fixTable.descriptor(slot), slot: Int32(FIXPort.loginSlotBase &+ slot),
            generation: fixTable.generation(slot)))
        fixTable.sessions[slot].phase = .authenticating
        if !posted {
            count(GatewayCounters.loginsRejectedBusy)
            fixFinishLogon(slot, accepted: false)
        }
    }

    /// The authenticator's answer for a FIX connection (an answer for one that has gone is ignored).
    mutating func fixCompleteLogin(_ answer: LoginAnswer) {
        let slot = Int(answer.slot) &- FIXPort.loginSlotBase
        guard slot >= 0, slot < fix.capacity, fixTable.generation(slot) == answer.generation,
              fixTable.sessions[slot].phase == .authenticating else { return }
        let accepted = answer.verdict == .accepted && answer.account == fixTable.sessions[slot].account
        if !accepted { count(GatewayCounters.loginsRejectedNotAuthorized) }
        fixFinishLogon(slot, accepted: accepted)
    }

    mutating func fixFinishLogon(_ slot: Int, accepted: Bool) {
        let session = Int(fixTable.sessions[slot].state)
        guard session >= 0 else {
            // Refused before a session was bound: the reason only for the right password.
            var text: StaticString = "Logon rejected"
            if accepted {
                switch fixTable.sessions[slot].refusal {
                case .shuttingDown: text = "the exchange is shutting down"
                case .alreadyLoggedOn:
                    text = fixTable.sessions[slot].dropCopy ? "this account's drop copy is already logged on"
                        : "this account is already logged on (FIX or OUCH)"
                case .noSessionLeft: text = "no FIX session left today (fix.max_sessions)"
                case .notEntitled: text = "this account is not entitled to the drop copy (drop_copy in the keys file)"
                case .notLeader: text = "this exchange is no longer the primary (its leadership lapsed); log on at the standby"
                case .none, .unknownAccount: break
                }
            }
            if accepted { count(GatewayCounters.loginsRejectedSession) }
            let logon = UnsafeRawBufferPointer(start: fix.inboundBuffer(slot), count: Int(fixTable.sessions[slot].logonLength))
            _ = fix.logon.pointee.parse(logon)
            fixRefuseWithoutSession(slot, logon, text: text)
            return
        }
        let account = Int(fixTable.sessions[slot].account)
        // Someone logged on to the account meanwhile (OUCH), or the exchange began to close.
        // (A drop copy is not the account's trading session: only the latter matters to it.)
        let admissible = accepted && drainPhase == .running && (fixTable.sessions[slot].dropCopy
            || accounts.connections[account] == -1 && !(journalsSessions && accounts.owes(account)))
        let step = fix.sessions[session].completeLogon(accepted: admissible, now: fixNow, out: fixOutput(slot))
        fixApply(slot, step)
        fixAccountOutbound(session)
        // What the client sent behind its Logon.
        if fixTable.sessions[slot].phase == .active { fixHandleInbound(slot) }
    }

    /// The Logon was accepted: the account's session is this connection's.
    mutating func fixLoggedOn(_ slot: Int) {
        if fixTable.sessions[slot].dropCopy { return dropCopyLoggedOn(slot) }
        let account = Int(fixTable.sessions[slot].account)
        fixTable.sessions[slot].phase = .active
        accounts.connections[account] = Self.fixConnectionMarker
        counts[GatewayCounters.activeSessions.index] &+= 1
        fixTable.markLoggedIn(slot)
        count(GatewayCounters.loginsAccepted)
        count(GatewayCounters.fixLogons)
        oweLogin(account)
    }

    /// `AccountBook.connections` of an account logged on over FIX (OUCH slots are ≥ 0, -1 is none).
    static var fixConnectionMarker: Int32 { -2 }

    /// A Logout written without a session (MsgSeqNum 1, addressed from the Logon in
    /// `fix.logon`), then close.
    mutating func fixRefuseWithoutSession(_ slot: Int, _ logon: UnsafeRawBufferPointer, text: StaticString) {
        let out = fixOutput(slot)
        var w = FIXWriter(out)
        w.msgType(.logout)
        w.field(Tag.senderCompID, UnsafeRawBufferPointer(fix.senderCompID))
        if let theirs = fix.logon.pointee.value(Tag.senderCompID), !theirs.isEmpty, theirs.count <= 32 { w.field(Tag.targetCompID, theirs) }
        w.field(Tag.msgSeqNum, 1)
        w.timestamp(Tag.sendingTime, fixNow, precision: .milliseconds)
        w.field(Tag.text, text: text)
        if let n = w.finish(), out.baseAddress == fix.outboundBuffer(slot) + Int(fixTable.sessions[slot].outboundLength) {
            fixTable.sessions[slot].outboundLength &+= Int32(n)
            count(GatewayCounters.fixMessagesOut)
        }
        fixClose(slot, .loginRejected, flush: true)
    }

    // MARK: Logged on

    /// Hands a frame to the connection's session and acts on what it says.
    mutating func fixStep(_ slot: Int, _ frame: FIXFrame, _ bytes: UnsafeRawBufferPointer) {
        let session = Int(fixTable.sessions[slot].state)
        var verifier = FIXNoLogon()
        let step = fix.sessions[session].receive(frame, bytes: bytes, now: fixNow, verifier: &verifier, out: fixOutput(slot))
        fixApply(slot, step)
        if case .application(let type) = step.event {
            if fix.isDropCopy(session) { dropCopyRejectApplication(slot, session: session) } else { fixApplication(slot, session: session, type: type) }
        }
        fixAccountOutbound(session)
    }

    /// Counts and queues the bytes a session step wrote, and acts on its event.
    mutating func fixApply(_ slot: Int, _ step: FIXSessionStep) {
        fixWrote(slot, step.written)
        switch step.event {
        case .none, .application:
            break
        case .loggedOn:
            fixLoggedOn(slot)
        case .disconnect(let reason):
            fixClose(slot, Self.disconnectReason(reason), flush: true)
        }
    }

    static func disconnectReason(_ reason: FIXDisconnectReason) -> DisconnectReason {
        switch reason {
        case .logonRejected: .loginRejected
        case .logonTimeout: .loginTimeout
        case .firstMessageNotLogon: .notLoggedIn
        case .logoutByCounterparty, .logoutCompleted, .logoutTimeout: .logout
        case .heartbeatTimeout: .idleTimeout
        case .messageTooLong, .wrongBeginString: .malformedFrame
        case .invalidLogon, .resetSeqNumNotAllowed, .missingMsgSeqNum, .msgSeqNumTooLow, .compIDProblem, .sendingTimeAccuracy,
             .unexpectedLogon: .protocolViolation
        }
    }

    /// An application message in sequence: the mapping answers it at once (a reject, a
    /// status) or hands the engine a command, whose answers come back through `fixRoute`.
    mutating func fixApplication(_ slot: Int, session: Int, type: FIXMsgType) {
        let entries = fix.applications[session].orders.count
        let result = fix.applications[session].inbound(fix.sessions[session].message, now: fixNow, timestamp: now, body: fix.body)
        if fix.applications[session].orders.count != entries { fixRecordClOrdID(session) }
        if let problem = result.reject {
            fixWrote(slot, fix.sessions[session].reject(problem, now: fixNow, out: fixOutput(slot)))
        }
        if result.replyLength > 0 {
            let out = fixOutput(slot)
            let body = UnsafeRawBufferPointer(start: fix.body.baseAddress, count: result.replyLength)
            let sequence = fix.sessions[session].nextOutbound
            let sendingTime = fixNow
            let n = fix.sessions[session].send(result.replyType, body: body, now: sendingTime, out: out)
            count(GatewayCounters.fixMessagesOut)
            fixWrote(slot, n ?? 0)
            if n != nil {
                // Counted, then kept whole: replay cannot make this answer again (GatewayAgent+FIXJournal.swift).
                fixAccountOutbound(session)
                fixRecordReply(session, sequence: sequence, type: result.replyType, body: body, sendingTime: sendingTime)
            }
        }
        if let command = result.command { fixSubmit(command, account: Int(fixTable.sessions[slot].account)) }
    }

    /// What the gateway checks for every order (shutdown, a stalled journal), then the
    /// command ring. FIX tokens are unique per account and day by construction (the
    /// session's ClOrdID table), so they take no room in the token history. Refusals go
    /// through the engine, so they are answered in order (ExecutionReport rejected, or
    /// OrderCancelReject); a full ring is answered at once.
    mutating func fixSubmit(_ command: EngineCommand, account: Int) {
        let token: OrderToken
        let isNew: Bool
        switch command {
        case .enter(let order): (token, isNew) = (order.token, true)
        case .replace(let replace): (token, isNew) = (replace.replacementToken, true)
        case .cancel(let cancel): (token, isNew) = (cancel.token, false)
        default: (token, isNew) = (OrderToken(high: 0, low: 0), false)
        }
        let type = isNew ? OUCH.InboundType.enterOrder : OUCH.InboundType.cancelOrder
        if case .cancelAll = command {
            // A mass cancel: nothing the engine would refuse.
        } else if drainPhase != .running {
            count(GatewayCounters.shutdownRejects)
            return fixRefuse(type: type, token: token, reason: .exchangeClosing, account: account)
        } else if refusingNewOrders && isNew {
            count(GatewayCounters.stallRefusals)
            return fixRefuse(type: type, token: token, reason: .journalStalled, account: account)
        }
        // Journaling modes made room before the message was handled (`fixHold`); without a
        // journal a full ring is answered at once.
        guard accounts.sessionEventsOwed[account] == 0 || settle(account), fixFlushFacts(),
              commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: command)) else {
            count(GatewayCounters.backpressureRejects)
            return fixAnswerNow(isNew: isNew, token: token, reason: .systemBusy, account: account)
        }
        lastCommandAt = now
        count(GatewayCounters.ordersIn)
    }

    mutating func fixRefuse(type: UInt8, token: OrderToken, reason: RejectReason, account: Int) {
        let refusal = Refusal(timestamp: now, client: ClientID(account), token: token, reason: reason,
                              asCancelReject: type == OUCH.InboundType.cancelOrder)
        if accounts.sessionEventsOwed[account] == 0 || settle(account), fixFlushFacts(),
           commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: .refuse(refusal))) {
            lastCommandAt = now
            return
        }
        count(GatewayCounters.backpressureRejects)
        fixAnswerNow(isNew: type == OUCH.InboundType.enterOrder, token: token, reason: reason, account: account)
    }

    /// The ring to the engine is full: the answer the engine would have given, at once.
    mutating func fixAnswerNow(isNew: Bool, token: OrderToken, reason: RejectReason, account: Int) {
        let event: EngineEvent = isNew
            ? .rejected(OrderRejected(timestamp: now, client: ClientID(account), token: token, reason: reason))
            : .cancelRejected(CancelRejected(timestamp: now, client: ClientID(account), token: token, reason: reason))
        fixReport(event, client: ClientID(account), maker: false)
        noteReject(account: ClientID(account), reason: reason, answer: isNew ? .rejected : .cancelReject, token: token)
    }

    // MARK: Output

    /// The engine's order events for accounts with a FIX session today (called by `route`).
    mutating func fixRoute(_ event: EngineEvent) {
        switch event {
        case .accepted(let e): fixReport(event, client: e.client, maker: false)
        case .rejected(let e): fixReport(event, client: e.client, maker: false)
        case .replaced(let e): fixReport(event, client: e.client, maker: false)
        case .canceled(let e): fixReport(event, client: e.client, maker: false)
        case .cancelRejected(let e): fixReport(event, client: e.client, maker: false)
        case .executed(let e):
            fixReport(event, client: e.makerClient, maker: true)
            fixReport(event, client: e.takerClient, maker: false)
        case .crossFill(let e):
            fixReport(event, client: e.buy.client, maker: false)
            fixReport(event, client: e.sell.client, maker: true)
        default: break
        }
    }

    mutating func fixReport(_ event: EngineEvent, client: ClientID, maker: Bool) {
        let account = Int(client)
        guard account < fix.accountCount else { return }
        let session = Int(fix.sessionOfAccount[account])
        guard session >= 0 else { return }
        // What the session sent before this report is the journal's to know; the report is replay's.
        fixAccountOutbound(session)
        guard let (type, length) = fix.applications[session].report(event, maker: maker, body: fix.body) else { return }
        let slot = Int(fix.slotOfSession[session])
        let connected = slot >= 0 && fixTable.sessions[slot].phase == .active
        let out = connected ? fixOutput(slot) : fix.discard
        // Numbered and stored as replay does it (FIXPort+Replay.swift).
        let n = fix.sendReport(event, session: session, type: type, length: length, now: fixNow, out: out)
        count(GatewayCounters.fixMessagesOut)
        if connected { fixWrote(slot, n) }
    }

    /// Where the connection's session writes next: the free end of its outbound buffer
    /// (moved to the front when nothing is in flight). A connection whose unsent bytes leave
    /// no room for another message is a slow consumer: closed, its session writing into the
    /// discard buffer (what it misses is in the resend store).
    mutating func fixOutput(_ slot: Int) -> UnsafeMutableRawBufferPointer {
        let phase = fixTable.sessions[slot].phase
        guard phase == .awaitingLogon || phase == .authenticating || phase == .active || phase == .flushing else { return fix.discard }
        let buffer = fix.outboundBuffer(slot)
        var used = Int(fixTable.sessions[slot].outboundLength)
        let sent = Int(fixTable.sessions[slot].outboundSent)
        if sent > 0 && !fixTable.isSending(slot) {
            if used > sent { buffer.copyMemory(from: buffer + sent, byteCount: used &- sent) }
            used &-= sent
            fixTable.sessions[slot].outboundLength = Int32(used)
            fixTable.sessions[slot].outboundSent = 0
        }
        guard fix.outboundBytes &- used >= FIXPort.outboundReserve else {
            fixClose(slot, .slowConsumer, flush: false)
            return fix.discard
        }
        return UnsafeMutableRawBufferPointer(start: buffer + used, count: fix.outboundBytes &- used)
    }

    /// `n` bytes were written at the connection's `fixOutput`.
    @inline(__always)
    mutating func fixWrote(_ slot: Int, _ n: Int) {
        guard n > 0, fixTable.sessions[slot].phase != .closing, fixTable.sessions[slot].phase != .free else { return }
        fixTable.sessions[slot].outboundLength &+= Int32(n)
        fixMarkDirty(slot)
    }

    @inline(__always)
    mutating func fixMarkDirty(_ slot: Int) {
        guard !fixTable.sessions[slot].dirty else { return }
        fixTable.sessions[slot].dirty = true
        fix.dirtySlots[fix.dirtyCount] = Int32(slot)
        fix.dirtyCount &+= 1
    }

    /// Starts a send for every FIX connection with bytes waiting (more of a resend first,
    /// while there is room), as `flushSends` does for OUCH.
    mutating func fixFlushSends() {
        let listed = fix.dirtyCount
        for i in 0..<listed {
            let slot = Int(fix.dirtySlots[i])
            fixTable.sessions[slot].dirty = false
            fixStartSend(slot)
        }
        let added = fix.dirtyCount &- listed
        if added > 0 { fix.dirtySlots.update(from: fix.dirtySlots + listed, count: added) }
        fix.dirtyCount = added
    }

    mutating func fixStartSend(_ slot: Int) {
        let phase = fixTable.sessions[slot].phase
        guard phase != .free, phase != .closing, !fixTable.isSending(slot) else { return }
        let session = Int(fixTable.sessions[slot].state)
        if phase == .active && session >= 0 && fix.sessions[session].hasPendingResend {
            let out = fixOutput(slot)
            if out.baseAddress != fix.discard.baseAddress {
                let n = fix.sessions[session].drainResend(now: fixNow, out: out)
                fixTable.sessions[slot].outboundLength &+= Int32(n)
            }
        }
        if fixTLSOn { return fixSendTLS(slot) }
        let sent = Int(fixTable.sessions[slot].outboundSent)
        let pending = Int(fixTable.sessions[slot].outboundLength) &- sent
        guard pending > 0 else {
            if phase == .flushing { fixClose(slot, fixTable.sessions[slot].closeReason, flush: false) }
            return
        }
        switch fixTable.send(slot, bytes: fix.outboundBuffer(slot) + sent, count: pending, ring: ring) {
        case .started: break
        case .submissionQueueFull: fixMarkDirty(slot)
        case .busy, .notOpen: break
        }
        // A resend longer than the buffer continues once this send is done.
    }

    // MARK: Time and closing

    /// Every millisecond: each FIX session's heartbeats, TestRequests and timeouts; Logon
    /// and flush deadlines; at shutdown, Logout.
    mutating func fixTimers() {
        for slot in 0..<fix.capacity {
            let phase = fixTable.sessions[slot].phase
            let session = Int(fixTable.sessions[slot].state)
            switch phase {
            case .free, .closing:
                continue
            case .flushing:
                if now > fixTable.sessions[slot].flushDeadline { fixClose(slot, fixTable.sessions[slot].closeReason, flush: false) }
            case .awaitingLogon, .authenticating:
                if now &- fixTable.sessions[slot].connectedAt > loginNanoseconds { fixClose(slot, .loginTimeout, flush: false) }
            case .active:
                if drainPhase != .running && fix.sessions[session].state == .active {
                    fixWrote(slot, fix.sessions[session].logout(now: fixNow, out: fixOutput(slot)).written)
                }
                // Held input is the gateway's wait, not the client's silence.
                if fixTable.sessions[slot].phase == .active && !fixTable.sessions[slot].inputHeld {
                    fixApply(slot, fix.sessions[session].tick(now: fixNow, out: fixOutput(slot)))
                }
                fixAccountOutbound(session)
            }
            if session >= 0 && fixTable.sessions[slot].phase == .active && fix.sessions[session].hasPendingResend { fixMarkDirty(slot) }
        }
        if fix.factCount > 0 { fixFlushFacts() }
        if drainPhase == .running { fixTable.tick(ring: ring) }
        counts[GatewayCounters.fixActiveConnections.index] = UInt64(fixTable.occupied)
    }

    /// The lease lapsed (`leadershipLapsed`): every logged-on FIX session, trading and drop
    /// copy, gets a Logout whose Text(58) names the reason and is closed once it is sent (at
    /// most a second); a connection still logging on is closed. The Logout takes the session's
    /// next sequence number and is journaled as every outbound message is, so the standby —
    /// still following this primary until it wins — learns it, and a client logging on there
    /// continues after it.
    mutating func fixLeadershipLapsed() {
        for slot in 0..<fix.capacity {
            switch fixTable.sessions[slot].phase {
            case .active:
                let session = Int(fixTable.sessions[slot].state)
                if session >= 0 && fix.sessions[session].state == .active {
                    fixWrote(slot, fix.sessions[session].logout(
                        now: fixNow, out: fixOutput(slot),
                        text: "RTES: disconnected: this exchange is no longer the primary (its leadership lapsed); log on at the standby").written)
                    fixAccountOutbound(session)
                }
                fixClose(slot, .leadershipLost, flush: true)
            case .awaitingLogon, .authenticating:
                fixClose(slot, .leadershipLost, flush: false)
            case .free, .closing, .flushing:
                break
            }
        }
    }

    /// At the start of the drain: Logout on every logged-on FIX session (then the session waits
    /// for the client's, as `fixTimers` does), recorded for the journal.
    mutating func fixLogoutAll() {
        for slot in 0..<fix.capacity where fixTable.sessions[slot].phase == .active {
            let session = Int(fixTable.sessions[slot].state)
            guard session >= 0, fix.sessions[session].state == .active else { continue }
            fixWrote(slot, fix.sessions[session].logout(now: fixNow, out: fixOutput(slot)).written)
            fixAccountOutbound(session)
        }
    }

    /// Starts closing a FIX connection, as `beginClose` does for OUCH: the account's session
    /// ends at once (cancel-on-disconnect, the journal's session event); with `flush`, what is
    /// queued (a Logout) is sent first, for at most a second.
    mutating func fixClose(_ slot: Int, _ reason: DisconnectReason, flush: Bool) {
        switch fixTable.sessions[slot].phase {
        case .free, .closing:
            return
        case .flushing:
            if flush { return }
        case .awaitingLogon, .authenticating, .active:
            if fixTable.sessions[slot].inputHeld {
                fixTable.sessions[slot].inputHeld = false
                fix.heldConnections &-= 1
            }
            countDisconnect(reason)
            count(GatewayCounters.fixDisconnects)
            fixTable.sessions[slot].closeReason = reason
            let account = Int(fixTable.sessions[slot].account)
            let session = Int(fixTable.sessions[slot].state)
            if session >= 0 && fix.slotOfSession[session] == Int32(slot) { fix.slotOfSession[session] = -1 }
            if fixTable.sessions[slot].phase == .active && fixTable.sessions[slot].dropCopy {
                counts[GatewayCounters.dropCopyActiveSessions.index] &-= 1
            }
            if fixTable.sessions[slot].phase == .active && account >= 0 && !fixTable.sessions[slot].dropCopy
                && accounts.connections[account] == Self.fixConnectionMarker {
                releaseSession(account, reason == .logout ? .logout : .disconnect)
                _ = logins.post(.sessionEnded(account: Int32(account), reason: reason.rawValue, slot: Int32(FIXPort.loginSlotBase &+ slot)))
            }
        }
        if flush {
            fixTable.sessions[slot].phase = .flushing
            fixTable.sessions[slot].flushDeadline = now &+ Self.flushTimeoutNanoseconds
            fixMarkDirty(slot)
            return
        }
        fixTable.sessions[slot].phase = .closing
        if fixTable.close(slot) { count(GatewayCounters.fixConnectionsClosed) }
    }

    @inline(__always)
    func fixEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }
}
