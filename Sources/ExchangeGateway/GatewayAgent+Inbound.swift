import CExchangeShim
import ExchangeAccess
import ExchangeClock
import ExchangeCore
import ExchangeEngine
import ExchangeRuntime
import ExchangeWire

// What clients send: SoupBinTCP packets, the Login Request, OUCH messages.
extension GatewayAgent {
    /// Splits received bytes into packets and handles each, until the connection stops
    /// reading (it was closed or is flushing).
    mutating func receive(_ slot: Int, _ bytes: UnsafeRawBufferPointer) {
        if connections[slot].phase == .authenticating { return hold(slot, bytes, overflow: .notLoggedIn) }
        if connections[slot].inputHeld { return hold(slot, bytes, overflow: .inputBacklog) }
        var input = bytes
        while connections[slot].phase == .awaitingLogin || connections[slot].phase == .active {
            switch readers[slot].next(&input) {
            case .frame(let frame):
                if journalsSessions && frame.type == SoupPacketType.unsequencedData && connections[slot].phase == .active
                    && !commandRoom(account: Int(connections[slot].account)) {
                    return holdInput(slot, frame: frame, rest: input)
                }
                handlePacket(slot, type: frame.type, payload: frame.payload)
                // The Login Request went to the authenticator: what follows waits for its answer.
                if connections[slot].phase == .authenticating { return hold(slot, input, overflow: .notLoggedIn) }
            case .needMoreData:
                return
            case .malformed:
                beginClose(slot, .malformedFrame, flush: true)
                return
            }
        }
    }

    mutating func handlePacket(_ slot: Int, type: UInt8, payload: UnsafeRawBufferPointer) {
        count(GatewayCounters.messagesIn)
        // Only whole packets count as hearing from the client: a trickle of bytes that never
        // completes one does not keep a connection alive.
        connections[slot].lastReceiveAt = now
        guard admitPacket(slot) else {
            beginClose(slot, .flood, flush: true)
            return
        }
        if connections[slot].phase == .awaitingLogin {
            switch type {
            case SoupPacketType.loginRequest: login(slot, payload)
            case SoupPacketType.debug, SoupPacketType.clientHeartbeat: break
            case SoupPacketType.logoutRequest: beginClose(slot, .logout, flush: true)
            default: beginClose(slot, .notLoggedIn, flush: true)
            }
            return
        }
        switch type {
        case SoupPacketType.unsequencedData:
            handleMessage(slot, payload)
            connections[slot].lastCommand = commands.published
        case SoupPacketType.clientHeartbeat:
            if !payload.isEmpty { beginClose(slot, .protocolViolation, flush: true) }
        case SoupPacketType.debug:
            break
        case SoupPacketType.logoutRequest:
            beginLogout(slot)
        default:
            // A second Login Request, a server packet type, or an unknown one.
            beginClose(slot, .protocolViolation, flush: true)
        }
    }

    /// The connection's flood bucket: one second's worth of packets, refilled continuously.
    @inline(__always)
    mutating func admitPacket(_ slot: Int) -> Bool {
        let elapsed = min(now &- connections[slot].floodRefilledAt, 1_000_000_000)
        connections[slot].floodRefilledAt = now
        let refilled = connections[slot].floodTokens &+ elapsed &* floodRate
        let tokens = min(refilled, floodCapacity)
        guard tokens >= 1_000_000_000 else {
            connections[slot].floodTokens = tokens
            return false
        }
        connections[slot].floodTokens = tokens &- 1_000_000_000
        return true
    }

    // MARK: Login

    /// Hands the Login Request to the authenticator (a ring push, never a wait); the login
    /// completes when its answer comes back (`completeLogins`). A full ring is Login
    /// Rejected `A` at once, counted as `logins_rejected_busy`.
    mutating func login(_ slot: Int, _ payload: UnsafeRawBufferPointer) {
        guard case .success(let request) = SoupBinTCP.decodeLoginRequest(payload) else {
            beginClose(slot, .protocolViolation, flush: true)
            return
        }
        if tlsOn && !tlsPermitsLogin(slot, username: request.username) {
            // Mutual TLS: the client certificate names another account (or none).
            count(GatewayCounters.loginsRejectedNotAuthorized)
            rejectLogin(slot, reason: SoupLoginRejectReason.notAuthorized, explanation: "")
            return
        }
        let posted = logins.post(LoginRequest(
            username: request.username, password: request.password, descriptor: table.descriptor(slot), slot: Int32(slot),
            generation: table.generation(slot)))
        guard posted else {
            count(GatewayCounters.loginsRejectedBusy)
            rejectLogin(slot, reason: SoupLoginRejectReason.notAuthorized, explanation: "")
            return
        }
        connections[slot].phase = .authenticating
        connections[slot].requestedSession = request.session
        connections[slot].requestedSequence = request.sequence
    }

    /// Keeps bytes that arrive while the connection's login is being checked (at most one
    /// receive buffer: more closes it, `not_logged_in`), or while its input waits for room in
    /// the command ring (its receives paused meanwhile, so at most one receive buffer and the
    /// packet that found the ring full: `input_backlog` is a bound never reached), to be
    /// handled once that is over. `bytes` may lie in the held-input buffer itself, after
    /// where they go (memmove).
    mutating func hold(_ slot: Int, _ bytes: UnsafeRawBufferPointer, overflow: DisconnectReason) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        let held = Int(connections[slot].heldLength)
        let limit = overflow == .notLoggedIn ? heldLoginBytes : heldInputBytes
        guard held &+ bytes.count <= limit else {
            beginClose(slot, overflow, flush: true)
            return
        }
        (heldInput + slot &* heldInputBytes + held).copyMemory(from: source, byteCount: bytes.count)
        connections[slot].heldLength = Int32(held &+ bytes.count)
    }

    // MARK: Backpressure (journaling modes)

    /// Whether the command ring has room for the account's next message (after any session
    /// event it still owes, which goes first). Looks at the consumer's index only when the
    /// cached view says full.
    @inline(__always)
    mutating func commandRoom(account: Int) -> Bool {
        guard accounts.sessionEventsOwed[account] == 0 || settle(account) else { return false }
        if commands.knownFreeSlots > 0 { return true }
        let room = commands.claim(upTo: 1).count
        commands.publish(0)
        return room > 0
    }

    /// The authenticator's answers: each for a connection still authenticating (an answer
    /// for a connection that has gone — its slot's generation moved on — is ignored).
    mutating func completeLogins() -> Int {
        var work = 0
        while let answer = logins.nextAnswer() {
            work &+= 1
            let slot = Int(answer.slot)
            if fixOn && slot >= FIXPort.loginSlotBase {
                fixCompleteLogin(answer)
                continue
            }
            guard slot >= 0, slot < maxConnections, table.generation(slot) == answer.generation,
                  connections[slot].phase == .authenticating else { continue }
            guard answer.verdict == .accepted, answer.account >= 0, Int(answer.account) < accounts.count else {
                count(GatewayCounters.loginsRejectedNotAuthorized)
                rejectLogin(slot, reason: SoupLoginRejectReason.notAuthorized, explanation: "")
                continue
            }
            connections[slot].phase = .awaitingLogin
            admitSession(slot, account: Int(answer.account), session: connections[slot].requestedSession,
                         sequence: connections[slot].requestedSequence)
            // What the client sent behind its Login Request, now that it is logged in.
            let held = Int(connections[slot].heldLength)
            connections[slot].heldLength = 0
            if held > 0 && connections[slot].phase == .active {
                receive(slot, UnsafeRawBufferPointer(start: heldInput + slot &* heldInputBytes, count: held))
            }
        }
        return work
    }

    /// The checks after the password: shutdown, session name, one connection per account,
    /// the history; then Login Accepted.
    mutating func admitSession(_ slot: Int, account: Int, session requested: SoupSessionName, sequence: UInt64) {
        let request = (session: requested, sequence: sequence)
        guard drainPhase == .running else {
            rejectSession(slot, "RTES: the exchange is shutting down")
            return
        }
        guard leadership != .lapsed else {
            rejectSession(slot, "RTES: this exchange is no longer the primary (its leadership lapsed); log in at the standby")
            return
        }
        guard request.session.isBlank || request.session == session else {
            rejectSession(slot, "RTES: unknown session; log in to the current one (blank)")
            return
        }
        guard accounts.connections[account] == -1 else {  // -2: logged on over FIX
            rejectSession(slot, "RTES: this account is already logged in on another connection")
            return
        }
        // The end of the account's last session is not yet with the engine (its ring has
        // been full): one session at a time there too.
        guard !(journalsSessions && accounts.owes(account)) else {
            rejectSession(slot, "RTES: the exchange is busy; log in again in a moment")
            return
        }
        let log = accounts.logs[account]
        let first = request.sequence == 0 ? log.nextSequence : min(request.sequence, log.nextSequence)
        // Older than the history kept: served from the journal archive (GatewayAgent+Archive.swift).
        let offset = log.offset(ofSequence: first)
        if offset == nil, let refusal = archiveRefusal(account: account) {
            count(GatewayCounters.loginsRejectedSession)
            if archive.available { count(GatewayCounters.archiveRefusals) }
            rejectLogin(slot, reason: SoupLoginRejectReason.sessionNotAvailable, explanation: refusal)
            return
        }
        count(GatewayCounters.loginsAccepted)
        count(GatewayCounters.replayedMessages, by: log.nextSequence &- first)
        connections[slot].phase = .active
        connections[slot].account = Int32(account)
        accounts.connections[account] = Int32(slot)
        counts[GatewayCounters.activeSessions.index] &+= 1
        table.markLoggedIn(slot)
        let keepable = UInt64(log.byteCapacity &- 2 &* SessionLog.maximumPacketBytes)
        if let offset {
            connections[slot].logOffset = offset
            table.setSendBound(slot, bytes: min(keepable, (log.writeOffset &- offset) &+ sendQueueBytes))
        } else {
            connections[slot].logOffset = log.writeOffset
            table.setSendBound(slot, bytes: keepable)
        }
        let length = SoupBinTCP.loginAccepted(session: session, sequence: first, to: scratch)
        queueControl(slot, scratch, length)
        if offset == nil { startArchive(slot, account: account, from: first) }
        markDirty(slot)
        oweLogin(account)
    }

    mutating func rejectSession(_ slot: Int, _ explanation: StaticString) {
        count(GatewayCounters.loginsRejectedSession)
        rejectLogin(slot, reason: SoupLoginRejectReason.sessionNotAvailable, explanation: explanation)
    }

    /// Debug (why, when there is something to say) and Login Rejected, then close.
    mutating func rejectLogin(_ slot: Int, reason: UInt8, explanation: StaticString) {
        queueDebug(slot, explanation)
        let length = SoupBinTCP.loginRejected(reason: reason, to: scratch)
        queueControl(slot, scratch, length)
        beginClose(slot, .loginRejected, flush: true)
    }

    // MARK: OUCH

    mutating func handleMessage(_ slot: Int, _ payload: UnsafeRawBufferPointer) {
        let account = Int(connections[slot].account)
        let client = ClientID(account)
        switch OUCHInbound.decode(payload, client: client, defaultFirm: accounts.firms[account], timestamp: now) {
        case .command(.enter(let order)) where !accounts.mayUse(order.firm, account: account):
            // A Firm the keys file does not give this account: another firm's self-trade
            // prevention and feed attribution are not its to use.
            count(GatewayCounters.firmRejects)
            refuse(type: OUCH.InboundType.enterOrder, token: order.token, reason: .firmNotAuthorized, account: account)
        case .command(let command):
            submit(command, account: account, slot: slot)
        case .rejectable(let token, let reason):
            count(GatewayCounters.fieldRejects)
            refuse(type: payload.load(as: UInt8.self), token: token, reason: reason, account: account)
        case .malformed:
            beginClose(slot, .malformedMessage, flush: true)
        }
    }

    /// Checks what only the gateway can (token reuse, shutdown) and hands the command to
    /// the engine; anything that cannot go is answered at once.
    mutating func submit(_ command: EngineCommand, account: Int, slot: Int) {
        let type: UInt8
        let token: OrderToken
        switch command {
        case .enter(let c):
            type = OUCH.InboundType.enterOrder
            token = c.token
        case .replace(let c):
            type = OUCH.InboundType.replaceOrder
            token = c.replacementToken
        case .cancel(let c):
            type = OUCH.InboundType.cancelOrder
            token = c.token
        case .modify(let c):
            type = OUCH.InboundType.modifyOrder
            token = c.token
        default:
            return
        }
        guard drainPhase == .running else {
            count(GatewayCounters.shutdownRejects)
            refuse(type: type, token: token, reason: .exchangeClosing, account: account)
            return
        }
        if refusingNewOrders && (type == OUCH.InboundType.enterOrder || type == OUCH.InboundType.replaceOrder) {
            return refuseForStall(type: type, token: token, account: account, slot: slot)
        }
        if type == OUCH.InboundType.enterOrder || type == OUCH.InboundType.replaceOrder {
            let outcome = accounts.tokensUsed[account] < tokensPerAccount ? tokens.insert(token, account: account) : .full
            switch outcome {
            case .inserted:
                accounts.tokensUsed[account] &+= 1
            case .duplicate:
                count(GatewayCounters.duplicateTokenRejects)
                refuse(type: type, token: token, reason: .duplicateToken, account: account)
                return
            case .full:
                count(GatewayCounters.tokenHistoryFullRejects)
                refuse(type: type, token: token, reason: .tokenHistoryFull, account: account)
                return
            }
        }
        // A login still owed to the engine goes first: the journal has the session before its orders.
        guard accounts.sessionEventsOwed[account] == 0 || settle(account),
              commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: command)) else {
            count(GatewayCounters.backpressureRejects)
            answerNow(type: type, token: token, reason: .systemBusy, account: account)
            return
        }
        lastCommandAt = now
        count(GatewayCounters.ordersIn)
    }

    /// Refuses a message through the engine (`EngineCommand.refuse`), so that the answer
    /// comes after the answers to the client's earlier messages; when the ring to the engine
    /// is full, at once (counted as backpressure too).
    mutating func refuse(type: UInt8, token: OrderToken, reason: RejectReason, account: Int) {
        let refusal = Refusal(timestamp: now, client: ClientID(account), token: token, reason: reason,
                              asCancelReject: type == OUCH.InboundType.cancelOrder || type == OUCH.InboundType.modifyOrder)
        if accounts.sessionEventsOwed[account] == 0 || settle(account),
           commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: .refuse(refusal))) {
            lastCommandAt = now
            return
        }
        count(GatewayCounters.backpressureRejects)
        answerNow(type: type, token: token, reason: reason, account: account)
    }

    /// Answers a message the engine will not see, at once: Rejected for Enter and Replace
    /// (the replacement token), Cancel Reject for Cancel and Modify. Only when the ring to
    /// the engine is full — the answer may then overtake answers to earlier messages.
    mutating func answerNow(type: UInt8, token: OrderToken, reason: RejectReason, account: Int) {
        let timestamp = now % Clocks.nanosecondsPerDay
        let length = type == OUCH.InboundType.enterOrder || type == OUCH.InboundType.replaceOrder
            ? OUCHOutbound.rejected(timestamp: timestamp, token: token, reason: reason.ouchCode, to: scratch + SoupBinTCP.headerLength)
            : OUCHOutbound.cancelReject(timestamp: timestamp, token: token, to: scratch + SoupBinTCP.headerLength)
        commitMessage(account: ClientID(account), length: length)
        let rejected = type == OUCH.InboundType.enterOrder || type == OUCH.InboundType.replaceOrder
        noteReject(account: ClientID(account), reason: reason, answer: rejected ? .rejected : .cancelReject, token: token)
    }
}
