import CExchangeShim
import ExchangeCore
import ExchangeEngine
import ExchangeRuntime
import ExchangeWire
import Glibc

// What goes to clients: engine events into session logs, unsequenced packets into control
// buffers, and the sends that carry both.
extension GatewayAgent {
    /// Takes the engine's order events off their ring and appends each to its account's log
    /// (an execution to both sides').
    mutating func routeOrderEvents() -> Int {
        var routed = 0
        while true {
            let batch = orderEvents.peek(upTo: Self.eventBatch)
            if batch.isEmpty { break }
            for event in batch { route(event) }
            orderEvents.release(batch.count)
            routed &+= batch.count
            if batch.count < Self.eventBatch { break }
        }
        return routed
    }

    mutating func route(_ event: EngineEvent) {
        let out = scratch + SoupBinTCP.headerLength
        switch event {
        case .accepted(let e):
            commitMessage(account: e.client, length: OUCHOutbound.accepted(e, symbol: symbol(e.instrument), to: out))
        case .rejected(let e):
            commitMessage(account: e.client, length: OUCHOutbound.rejected(e, to: out))
            noteReject(account: e.client, reason: e.reason, answer: .rejected, token: e.token)
        case .replaced(let e):
            commitMessage(account: e.client, length: OUCHOutbound.replaced(e, symbol: symbol(e.instrument), to: out))
        case .canceled(let e):
            commitMessage(account: e.client, length: OUCHOutbound.canceled(e, to: out))
        case .modified(let e):
            commitMessage(account: e.client, length: OUCHOutbound.modified(e, to: out))
        case .cancelRejected(let e):
            commitMessage(account: e.client, length: OUCHOutbound.cancelRejected(e, to: out))
            noteReject(account: e.client, reason: e.reason, answer: .cancelReject, token: e.token)
        case .executed(let e):
            commitMessage(account: e.takerClient, length: OUCHOutbound.executed(e, as: .taker, to: out))
            commitMessage(account: e.makerClient, length: OUCHOutbound.executed(e, as: .maker, to: out))
        case .bookAdd, .bookReduce, .bookReplace, .tradingState:
            break
        case .systemEvent:
            break  // announced by the gateway itself until the day's events are journaled (issue 11)
        }
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
        var start: UnsafeRawPointer?
        var length = 0
        var fromControl = false
        if connections[slot].controlSent < connections[slot].controlLength {
            start = UnsafeRawPointer(control + slot &* Self.controlBytes + Int(connections[slot].controlSent))
            length = Int(connections[slot].controlLength &- connections[slot].controlSent)
            fromControl = true
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
        switch table.send(slot, bytes: bytes, count: length, ring: ring) {
        case .started:
            break
        case .submissionQueueFull:
            markDirty(slot)  // the queue is full: try again next turn, after it is submitted
            return
        case .busy, .notOpen:
            return
        }
        connections[slot].sendingControl = fromControl
        connections[slot].lastSendAt = now
    }

    // MARK: Closing

    /// Starts closing a connection. With `flush`, what is queued (and a Debug packet naming
    /// the reason, where there is one) is sent first, for at most a second; without, the
    /// socket is shut down at once. The reason is counted once.
    mutating func beginClose(_ slot: Int, _ reason: DisconnectReason, flush: Bool) {
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
                releaseSession(account)
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
            beginClose(slot, .logout, flush: true)
            finished &+= 1
            if loggingOut == 0 { break }
        }
        return finished
    }

    mutating func releaseSession(_ account: Int) {
        accounts.connections[account] = -1
        counts[GatewayCounters.activeSessions.index] &-= 1
        if accounts.cancelOnDisconnect[account] && !accounts.cancelAllPending[account] {
            accounts.cancelAllPending[account] = true
            pendingCancelAlls &+= 1
            sendPendingCancelAlls()
        }
    }

    /// Cancel-on-disconnect: a cancel-all per account that asked for it, retried each
    /// millisecond while the command ring is full.
    mutating func sendPendingCancelAlls() {
        guard pendingCancelAlls > 0 else { return }
        for account in 0..<accounts.count where accounts.cancelAllPending[account] {
            let command = EngineCommand.cancelAll(ClientAction(timestamp: now, client: ClientID(account)))
            guard commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: command)) else { return }
            accounts.cancelAllPending[account] = false
            pendingCancelAlls &-= 1
            lastCommandAt = now
        }
    }
}
