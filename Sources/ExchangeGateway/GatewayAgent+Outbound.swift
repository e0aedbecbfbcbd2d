import CExchangeShim
import ExchangeClock
import ExchangeCore
import ExchangeEngine
import ExchangeRuntime
import ExchangeWire
import Glibc

// What goes to clients: engine events into session logs, unsequenced packets into control
// buffers, and the sends that carry both.
extension GatewayAgent {
    /// Takes the engine's order events off their ring and appends each to its account's log
    /// (an execution to both sides'). In mode sync only those whose command is durable: the
    /// durable position is loaded once (acquiring) and the first event beyond it stops the
    /// turn, leaving it and what follows in the ring (sequences only grow along the ring).
    mutating func routeOrderEvents() -> Int {
        var limit = gatesOutput ? durable.unsafelyUnwrapped.load() : UInt64.max
        // A primary whose lease is not confirmed in time acknowledges nothing more: one
        // acquiring load against this turn's clock reading (LeadershipGate).
        if let gate = leadershipGate, !gate.mayAcknowledge(atTicks: nowTicks) { limit = 0 }
        var routed = 0
        var waiting = false
        while true {
            let batch = orderEvents.peek(upTo: Self.eventBatch)
            if batch.isEmpty { break }
            var n = 0
            while n < batch.count && batch[n].sequence <= limit {
                route(batch[n].event)
                n &+= 1
            }
            orderEvents.release(n)
            routed &+= n
            if n < batch.count { waiting = true }
            if n < Self.eventBatch { break }
        }
        if stallBudgetNanoseconds > 0 { watchDurability(limit, waiting: waiting) }
        return routed
    }

    /// Appends the OUCH messages of `event` to the sessions it speaks to (`SessionRouting`,
    /// which the journal archive shares, so that what it regenerates is what went out here).
    mutating func route(_ event: EngineEvent) {
        let out = scratch + SoupBinTCP.headerLength
        var part = 0
        while let message = SessionRouting.encode(event, part: part, symbols: symbols, symbolCount: symbolCount, to: out) {
            if message.everySession {
                // `commitMessage` writes only the header in front of the message: it stays at `out`.
                for account in 0..<accounts.count { commitMessage(account: ClientID(account), length: message.length) }
            } else {
                commitMessage(account: message.client, length: message.length)
            }
            part &+= 1
        }
        switch event {
        case .rejected(let e):
            noteReject(account: e.client, reason: e.reason, answer: .rejected, token: e.token)
        case .cancelRejected(let e):
            noteReject(account: e.client, reason: e.reason, answer: .cancelReject, token: e.token)
        case .systemEvent(let e):
            if e.event == .endOfDay { endOfDayRouted = true }
        default:
            break
        }
        if fixOn && fix.sessionsBound > 0 { fixRoute(event) }
        if fix.dropCount > 0 { dropCopyRoute(event) }
    }

    @inline(__always)
    func symbol(_ instrument: InstrumentIndex) -> Symbol {
        Int(instrument) < symbolCount ? symbols[Int(instrument)] : Symbol(rawValue: 0x2020_2020_2020_2020)
    }

    /// Appends the OUCH message of `length` bytes at `scratch + SoupBinTCP.headerLength` to the account's session
    /// log as a Sequenced Data packet, and wakes the connection logged in to it.
    mutating func commitMessage(account client: ClientID, length: Int) {
        let account = Int(client)
        guard account < accounts.count else {
            count(GatewayCounters.unroutedEvents)
            return
        }
        _ = SoupBinTCP.sequencedDataHeader(payloadLength: length, to: scratch)
        accounts.logs[account].append(scratch, count: SoupBinTCP.headerLength &+ length)
        count(GatewayCounters.messagesOut)
        let slot = Int(accounts.connections[account])
        guard slot >= 0 else { return }
        let phase = connections[slot].phase
        guard phase == .active || phase == .loggingOut || phase == .flushing else { return }
        // Served from the journal archive for now: the log may grow and wrap meanwhile (the
        // archive is asked again for what the log no longer holds).
        guard connections[slot].archiveChunk < 0 else { return }
        let unsent = accounts.logs[account].writeOffset &- connections[slot].logOffset
        if !table.admitBacklog(slot, unsentBytes: unsent) {
            beginClose(slot, .slowConsumer, flush: false)
        } else {
            markDirty(slot)
        }
    }

    /// Queues an unsequenced packet in the connection's control buffer. Returns false when
    /// it does not fit (only heartbeats can meet that, and they are simply skipped).
    @discardableResult
    mutating func queueControl(_ slot: Int, _ packet: UnsafeRawPointer, _ length: Int) -> Bool {
        let buffer = control + slot &* Self.controlBytes
        var used = Int(connections[slot].controlLength)
        let sent = Int(connections[slot].controlSent)
        if used &+ length > Self.controlBytes && sent > 0 && !(table.isSending(slot) && connections[slot].sendingControl) {
            // Move what is still unsent to the front.
            (buffer).copyMemory(from: buffer + sent, byteCount: used &- sent)
            used &-= sent
            connections[slot].controlSent = 0
        }
        guard used &+ length <= Self.controlBytes else { return false }
        (buffer + used).copyMemory(from: packet, byteCount: length)
        connections[slot].controlLength = Int32(used &+ length)
        markDirty(slot)
        return true
    }

    /// Queues a Debug packet with `text` (nothing for empty text).
    mutating func queueDebug(_ slot: Int, _ text: StaticString) {
        guard text.utf8CodeUnitCount > 0 else { return }
        let length = SoupBinTCP.debug(text: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount), to: scratch)
        queueControl(slot, scratch, length)
    }

    /// Starts a send for every connection with bytes waiting and none in flight: its control
    /// packets first, then its session log from where it stands.
    mutating func flushSends() {
        let listed = dirtyCount
        for i in 0..<listed {
            let slot = Int(dirtySlots[i])
            connections[slot].dirty = false
            startSend(slot)
        }
        // Connections marked while sending (e.g. End of Session queued) wait for the next turn.
        let added = dirtyCount &- listed
        if added > 0 { dirtySlots.update(from: dirtySlots + listed, count: added) }
        dirtyCount = added
    }

    mutating func startSend(_ slot: Int) {
        let phase = connections[slot].phase
        guard phase == .active || phase == .loggingOut || phase == .flushing || phase == .awaitingLogin || phase == .authenticating else { return }
        guard !table.isSending(slot) else { return }
        if tlsOn && sendPendingCiphertext(slot) { return }
        var start: UnsafeRawPointer?
        var length = 0
        var fromControl = false
        var fromArchive = false
        if connections[slot].controlSent < connections[slot].controlLength {
            start = UnsafeRawPointer(control + slot &* Self.controlBytes + Int(connections[slot].controlSent))
            length = Int(connections[slot].controlLength &- connections[slot].controlSent)
            fromControl = true
        } else if connections[slot].archiveChunk >= 0 {
            // Older than the session's history: from the journal archive's chunk (nothing
            // until its reply is in).
            let pending = pendingArchiveBytes(slot)
            start = pending.baseAddress
            length = pending.count
            fromArchive = true
        } else if connections[slot].account >= 0 {
            let account = Int(connections[slot].account)
            let pending = accounts.logs[account].contiguousBytes(from: connections[slot].logOffset, limit: Self.maximumSendBytes)
            if pending.count > 0 {
                start = pending.baseAddress
                length = pending.count
            } else if connections[slot].endOfSessionPending {
                // Everything owed has gone: End of Session, then close.
                connections[slot].endOfSessionPending = false
                let z = SoupBinTCP.endOfSession(to: scratch)
                queueControl(slot, scratch, z)
                beginClose(slot, .shutdown, flush: true)
                return
            }
        }
        guard let bytes = start, length > 0 else {
            if phase == .flushing { beginClose(slot, connections[slot].closeReason, flush: false) }
            return
        }
        let outcome = tlsOn ? sendEncrypted(slot, bytes, count: length, fromControl: fromControl)
            : table.send(slot, bytes: bytes, count: length, ring: ring)
        switch outcome {
        case .started:
            break
        case .submissionQueueFull:
            markDirty(slot)  // the queue is full: try again next turn, after it is submitted
            return
        case .busy, .notOpen:
            return
        }
        connections[slot].sendingControl = fromControl
        connections[slot].sendingArchive = fromArchive
        connections[slot].lastSendAt = now
    }

    // MARK: Closing

    /// Starts closing a connection. With `flush`, what is queued (and a Debug packet naming
    /// the reason, where there is one) is sent first, for at most a second; without, the
    /// socket is shut down at once. The reason is counted once.
    mutating func beginClose(_ slot: Int, _ reason: DisconnectReason, flush: Bool) {
        if connections[slot].inputHeld { dropHeldInput(slot) }
        switch connections[slot].phase {
        case .free, .closing:
            return
        case .flushing:
            if flush { return }
        case .awaitingLogin, .authenticating, .active, .loggingOut:
            if connections[slot].phase == .loggingOut { loggingOut &-= 1 }
            countDisconnect(reason)
            connections[slot].closeReason = reason
            // The session is free at once (a client may log in again while this connection
            // sends what it still owes); the connection keeps reading the log until closed.
            let account = Int(connections[slot].account)
            if account >= 0 && accounts.connections[account] == Int32(slot) {
                releaseSession(account, reason == .logout ? .logout : .disconnect)
                // One debug line, written by the authenticator's thread; none when its ring is full.
                _ = logins.post(.sessionEnded(account: Int32(account), reason: reason.rawValue, slot: Int32(slot)))
            }
        }
        if flush {
            queueDebug(slot, reason.debugText)
            connections[slot].phase = .flushing
            connections[slot].flushDeadline = now &+ Self.flushTimeoutNanoseconds
            markDirty(slot)
            return
        }
        // The table shuts the socket down and frees the slot once nothing of the kernel's
        // refers to it: now, or with the last completion (`.released`).
        connections[slot].phase = .closing
        if table.close(slot) { released(slot) }
    }

    /// A Logout Request: the session stays bound to the connection (so the engine's answers
    /// to what it sent before the Logout reach it) until the engine has handled all of it,
    /// or for at most the flush timeout when the engine does not answer; then what is owed is
    /// flushed and the connection closed (`finishLogouts`).
    mutating func beginLogout(_ slot: Int) {
        connections[slot].phase = .loggingOut
        connections[slot].flushDeadline = now &+ Self.flushTimeoutNanoseconds
        loggingOut &+= 1
    }

    /// Starts the flush-and-close of each logging-out connection whose commands the engine
    /// has all handled (their events are then in the ring: routed first).
    /// In mode sync the answers may still wait in the ring for the durable position: the
    /// connection then also waits until the ring has been consumed past where they were.
    mutating func finishLogouts() -> Int {
        let handled = engineCounters.loadAcquiring(EngineCounters.commandsHandled)
        var routed = false
        var finished = 0
        for slot in 0..<maxConnections where connections[slot].phase == .loggingOut {
            guard handled >= connections[slot].lastCommand || now > connections[slot].flushDeadline else { continue }
            if !routed {
                _ = routeOrderEvents()
                routed = true
            }
            if gatesOutput && now <= connections[slot].flushDeadline {
                // Its answers are all before the ring's end as it stands now.
                if connections[slot].answersEnd == 0 { connections[slot].answersEnd = orderEvents.released &+ UInt64(orderEvents.depth) }
                guard orderEvents.released >= connections[slot].answersEnd else { continue }
            }
            beginClose(slot, .logout, flush: true)
            finished &+= 1
            if loggingOut == 0 { break }
        }
        return finished
    }

    /// The session ends: the logout or disconnect is owed to the engine (journaling modes),
    /// then the cancel-all of an account that asked for cancel-on-disconnect, in that order.
    mutating func releaseSession(_ account: Int, _ kind: SessionEventKind) {
        accounts.connections[account] = -1
        counts[GatewayCounters.activeSessions.index] &-= 1
        let owed = accounts.owes(account)
        if journalsSessions { accounts.sessionEventsOwed[account] |= 1 << kind.rawValue }
        if accounts.cancelOnDisconnect[account] { accounts.cancelAllPending[account] = true }
        if !owed && accounts.owes(account) { accountsOwing &+= 1 }
        settle(account)
    }

    /// A login is owed to the engine (journaling modes) and sent now if the ring has room.
    mutating func oweLogin(_ account: Int) {
        guard journalsSessions else { return }
        if !accounts.owes(account) { accountsOwing &+= 1 }
        accounts.sessionEventsOwed[account] |= 1 << SessionEventKind.login.rawValue
        settle(account)
    }

    /// Sends what `account` owes the engine, in order: its session events (login, then
    /// logout or disconnect), then its cancel-all. False while the ring is full (the rest
    /// stays owed).
    @discardableResult
    mutating func settle(_ account: Int) -> Bool {
        guard accounts.owes(account) else { return true }
        var owed = accounts.sessionEventsOwed[account]
        while owed != 0 {
            let kind = SessionEventKind(rawValue: UInt8(truncatingIfNeeded: owed.trailingZeroBitCount)) ?? .disconnect
            let event = SessionEvent(timestamp: now, client: ClientID(account), kind: kind)
            guard commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: .session(event))) else {
                accounts.sessionEventsOwed[account] = owed
                return false
            }
            owed &= owed &- 1
            lastCommandAt = now
        }
        accounts.sessionEventsOwed[account] = 0
        if accounts.cancelAllPending[account] {
            let command = EngineCommand.cancelAll(ClientAction(timestamp: now, client: ClientID(account)))
            guard commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: command)) else { return false }
            accounts.cancelAllPending[account] = false
            lastCommandAt = now
        }
        accountsOwing &-= 1
        return true
    }

    /// Session events and cancel-on-disconnect owed because the command ring was full:
    /// retried each millisecond.
    mutating func settleOwedSessions() {
        guard accountsOwing > 0 else { return }
        for account in 0..<accounts.count where accounts.owes(account) {
            guard settle(account) else { return }
        }
    }
}
