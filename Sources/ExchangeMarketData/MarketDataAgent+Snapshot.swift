import ExchangeAccess
import ExchangeClock
import ExchangeRuntime
import ExchangeWire

// The snapshot service (Glimpse-style, SoupBinTCP 3.0 on TCP), on the runtime's connection
// layer: the table accepts (multishot), refuses what does not fit (every slot taken, or
// the pre-login share held by connections that have not logged in), receives into provided
// buffers, sends one message at a time per connection and closes; completions for an
// earlier occupant of a slot are ignored by their generation. The service does the
// protocol. A connection must send a Login Request within the login timeout; a wrong
// session gets Login Rejected `S`, an unknown account or password `A` (then the connection
// closes). What a client sends behind its Login Request while the authenticator checks it is
// held (at most `SnapshotService.heldInputBytes`; more is a protocol error) and handled once
// the login is accepted, in order. An accepted login gets Login Accepted (this feed's session, sequence 1) and the
// snapshot (`GlimpseSnapshot`), after which the client logs out (`O`); the server sends
// heartbeats while it waits and closes a connection silent for the idle timeout. Anything
// else a client sends (or a malformed frame) is a protocol error and closes the connection.
// Every outcome is counted.
extension MarketDataAgent {
    /// Does the table's part of one of its completions, then the service's.
    mutating func snapshotCompletion(_ completion: Completion) {
        switch snapshots.table.handle(completion, ring: ring) {
        case .none, .acceptFailed:  // a failed accept is counted by the table and re-armed by its tick
            break
        case .accepted(let slot):
            accepted(slot)
        case .refused:
            snapshots.refused &+= 1
        case .received(let slot, let bytes):
            if snapshots.tlsOn { snapshotReceivedTLS(slot, bytes) } else { snapshotReceived(slot, bytes) }
        case .peerClosed(let slot), .failed(let slot, _):
            closeSnapshotConnection(slot)
        case .sent(let slot, let bytes):
            if snapshots.tlsOn { snapshotSentTLS(slot, bytes: bytes) } else { snapshotSent(slot, bytes: bytes) }
        case .released(let slot):
            snapshotReleased(slot)
        }
    }

    mutating func accepted(_ slot: Int) {
        snapshots.open &+= 1
        snapshots.readers[slot].reset()
        guard publisher.phase != .ended else {
            snapshots.refused &+= 1
            return closeSnapshotConnection(slot)
        }
        let now = clock.now()
        snapshots.sessions[slot].phase = .awaitingLogin
        snapshots.sessions[slot].connectedAt = now
        snapshots.sessions[slot].receivedAt = now
        snapshots.sessions[slot].sentAt = now
        snapshots.sessions[slot].heldLength = 0
        snapshots.sessions[slot].closeWhenFlushed = false
        snapshots.connections &+= 1
        if snapshots.tlsOn { openSnapshotTLS(slot) }
    }

    mutating func snapshotReceived(_ slot: Int, _ bytes: UnsafeRawBufferPointer) {
        guard snapshots.isServing(slot) else { return }
        snapshots.sessions[slot].receivedAt = clock.now()
        if snapshots.sessions[slot].phase == .authenticating { return holdSnapshotInput(slot, bytes) }
        var input = bytes
        loop: while snapshots.isServing(slot) {
            switch snapshots.readers[slot].next(&input) {
            case .needMoreData: break loop
            case .malformed:
                snapshots.protocolErrors &+= 1
                closeSnapshotConnection(slot)
            case .frame(let frame):
                switch (frame.type, snapshots.sessions[slot].phase) {
                case (SoupPacketType.loginRequest, .awaitingLogin): login(slot, frame.payload)
                case (SoupPacketType.clientHeartbeat, _): break
                case (SoupPacketType.logoutRequest, _): closeSnapshotConnection(slot)
                default:
                    snapshots.protocolErrors &+= 1
                    closeSnapshotConnection(slot)
                }
                // The Login Request went to the authenticator: what follows waits for its answer.
                if snapshots.isServing(slot) && snapshots.sessions[slot].phase == .authenticating {
                    return holdSnapshotInput(slot, input)
                }
            }
        }
    }

    /// Keeps bytes that arrive while the connection's login is being checked, to be handled
    /// once it is accepted; more than `heldInputBytes` is a protocol error and closes it.
    mutating func holdSnapshotInput(_ slot: Int, _ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        let held = snapshots.sessions[slot].heldLength
        guard held &+ bytes.count <= SnapshotService.heldInputBytes else {
            snapshots.protocolErrors &+= 1
            return closeSnapshotConnection(slot)
        }
        (snapshots.heldInput(slot) + held).copyMemory(from: source, byteCount: bytes.count)
        snapshots.sessions[slot].heldLength = held &+ bytes.count
    }

    mutating func login(_ slot: Int, _ payload: UnsafeRawBufferPointer) {
        guard case .success(let request) = SoupBinTCP.decodeLoginRequest(payload) else {
            snapshots.protocolErrors &+= 1
            return closeSnapshotConnection(slot)
        }
        if !request.session.isBlank && request.session != publisher.session {
            return reject(slot, SoupLoginRejectReason.sessionNotAvailable)
        }
        // Mutual TLS: the client certificate names another account (or none).
        if snapshots.tlsOn && !snapshotTLSPermitsLogin(slot, username: request.username) {
            return reject(slot, SoupLoginRejectReason.notAuthorized)
        }
        guard snapshots.loginRequired else { return admit(slot) }
        // Checked by the authenticator, off this thread; a full ring is a reject at once.
        let posted = snapshots.logins.post(LoginRequest(
            username: request.username, password: request.password, descriptor: snapshots.table.descriptor(slot), slot: Int32(slot),
            generation: snapshots.table.generation(slot)))
        guard posted else {
            return reject(slot, SoupLoginRejectReason.notAuthorized)
        }
        snapshots.sessions[slot].phase = .authenticating
    }

    /// The authenticator's answers, each for a connection still waiting for it (others have
    /// gone: their slot's generation moved on).
    mutating func completeSnapshotLogins() -> Int {
        var work = 0
        while let answer = snapshots.logins.nextAnswer() {
            work &+= 1
            let slot = Int(answer.slot)
            guard slot >= 0, slot < snapshots.capacity, snapshots.isServing(slot), snapshots.table.generation(slot) == answer.generation,
                  snapshots.sessions[slot].phase == .authenticating else { continue }
            let held = snapshots.sessions[slot].heldLength
            snapshots.sessions[slot].heldLength = 0
            guard answer.verdict == .accepted else {
                reject(slot, SoupLoginRejectReason.notAuthorized)
                continue
            }
            admit(slot)
            // What the client sent behind its Login Request, now that it is logged in.
            if held > 0 { snapshotReceived(slot, UnsafeRawBufferPointer(start: snapshots.heldInput(slot), count: held)) }
        }
        return work
    }

    mutating func admit(_ slot: Int) {
        snapshots.table.markLoggedIn(slot)
        snapshots.sessions[slot].phase = .waitingForBuffer
    }

    mutating func reject(_ slot: Int, _ reason: UInt8) {
        snapshots.loginsRejected &+= 1
        let n = SoupBinTCP.loginRejected(reason: reason, to: snapshots.controlBuffer(slot))
        snapshots.sessions[slot].closeAfterSend = true
        sendControl(slot, length: n)
    }

    // MARK: Passes

    /// The snapshot service's share of a duty cycle, at most `snapshotWorkPerTurn` units of
    /// work: with a pass under way, the next chunk once every connection of the pass has sent
    /// the current one (or the end of the pass once the last chunk is out); otherwise the
    /// snapshot copy catches up with the feed, and once it has, a pass starts for every
    /// logged-in connection waiting.
    ///
    /// The copy catches up off the feed's critical path: in a duty cycle that published no
    /// events (at most `idleCatchUpMessages`, so an order arriving meanwhile waits little in
    /// shared mode), or — with the full budget — when a client waits for a snapshot or the copy
    /// lags a quarter of the history (so it never falls out of it; a pass closes its
    /// connections at half). A burst is thus applied to the copy after it, not during it.
    mutating func snapshotTurn(publishedThisTurn: Int = 0) -> Int {
        if snapshots.turnSentBytes > snapshots.maxTurnSentBytes { snapshots.maxTurnSentBytes = snapshots.turnSentBytes }
        snapshots.turnSentBytes = 0
        if snapshots.pass.active {
            refillSendBudget(now: configuration.snapshotMaxBytesPerSecond > 0 ? clock.now() : 0)
            for slot in 0..<snapshots.capacity where snapshots.sessions[slot].sendDeferred {
                snapshots.sessions[slot].sendDeferred = false
                if snapshots.sessions[slot].inPass && snapshots.isServing(slot) && !snapshots.table.isSending(slot) { sendPassChunk(slot) }
            }
            return advancePass()
        }
        if !snapshots.pass.isCaughtUp(publisher.history) {
            let lag = publisher.nextSequence &- snapshots.pass.sequence
            let limit: Int
            if !configuration.snapshotCatchUpWhenIdle || lag > UInt64(publisher.history.capacity / 4)
                || (snapshots.open > 0 && snapshotClientWaiting) {
                limit = snapshots.pass.budget
            } else if publishedThisTurn == 0 {
                limit = Self.idleCatchUpMessages
            } else {
                return 0
            }
            let t0 = clock.ticks()
            let n = snapshots.pass.catchUp(history: publisher.history, live: publisher.replica, liveState: liveMarketState, limit: limit)
            noteSnapshotWork(since: t0)
            return n
        }
        var waiting = false
        for slot in 0..<snapshots.capacity where snapshots.isServing(slot) && snapshots.sessions[slot].phase == .waitingForBuffer {
            waiting = true
            break
        }
        guard waiting else { return 0 }
        let t0 = clock.ticks()
        let now = clock.nanoseconds(atTicks: t0)
        snapshots.pass.begin(timestamp: now % Clocks.nanosecondsPerDay)
        refillSendBudget(now: now)
        snapshots.passMembers = 0
        for slot in 0..<snapshots.capacity where snapshots.isServing(slot) && snapshots.sessions[slot].phase == .waitingForBuffer {
            snapshots.passMembers &+= 1
            snapshots.sessions[slot].phase = .sending
            snapshots.sessions[slot].inPass = true
            snapshots.sessions[slot].passSent = 0
            snapshots.sessions[slot].sendStartedAt = now
        }
        return encodeAndSendChunk(startedAt: t0)
    }

    /// Messages the snapshot copy applies in a duty cycle that published nothing (a few µs).
    static var idleCatchUpMessages: Int { 64 }

    /// A logged-in snapshot connection waits for the next pass.
    var snapshotClientWaiting: Bool {
        for slot in 0..<snapshots.capacity where snapshots.isServing(slot) && snapshots.sessions[slot].phase == .waitingForBuffer {
            return true
        }
        return false
    }

    /// This duty cycle's send budget: one chunk's worth, and under the rate cap no more than
    /// its token bucket (one chunk deep, refilled at `snapshotMaxBytesPerSecond`) holds. Only
    /// a turn that can send reads the clock; an idle service refills in one step later.
    mutating func refillSendBudget(now: UInt64) {
        snapshots.sendBudget = snapshots.pass.chunkCapacity
        guard configuration.snapshotMaxBytesPerSecond > 0 else { return }
        let elapsed = now &- snapshots.rateRefilledAt
        snapshots.rateRefilledAt = now
        let refill = elapsed >= 1_000_000_000 ? snapshots.pass.chunkCapacity
            : Int(elapsed / 1_000) &* configuration.snapshotMaxBytesPerSecond / 1_000_000
        snapshots.rateTokens = min(snapshots.pass.chunkCapacity, snapshots.rateTokens &+ refill)
        snapshots.sendBudget = min(snapshots.sendBudget, snapshots.rateTokens)
    }

    /// The market state of the live feed (for a copy rebuilt from the live replica).
    var liveMarketState: ITCH.EventCode {
        switch publisher.phase {
        case .opening: .startOfSystemHours
        case .live: .startOfMarketHours
        case .closing, .ended: .endOfMarketHours
        }
    }

    mutating func noteSnapshotWork(since t0: UInt64) {
        let t1 = clock.ticks()
        if t1 &- t0 > snapshots.worstBuildTicks { snapshots.worstBuildTicks = t1 &- t0 }
    }

    /// Encodes the pass's next chunk and starts its send on every connection of the pass.
    mutating func encodeAndSendChunk(startedAt t0: UInt64) -> Int {
        let used = snapshots.pass.encodeChunk(session: publisher.session, instruments: publisher.instruments,
                                              instrumentCount: publisher.instrumentCount)
        noteSnapshotWork(since: t0)
        snapshots.chunkStartedAt = clock.nanoseconds(atTicks: t0)
        for slot in 0..<snapshots.capacity where snapshots.sessions[slot].inPass {
            snapshots.sessions[slot].chunkSent = 0
            if snapshots.isServing(slot) && !snapshots.table.isSending(slot) { sendPassChunk(slot) }
        }
        return max(used, 1)
    }

    /// Moves the pass on: waits while a connection of the pass has not sent the chunk; ends
    /// the pass when the last chunk is out or nobody is left; otherwise encodes the next chunk.
    /// A pass the feed has left more than half the history behind closes its unfinished
    /// connections (`timed_out`): the copy must stay within the history to catch up again.
    mutating func advancePass() -> Int {
        var members = 0
        var pending = false
        let length = snapshots.pass.chunkLength
        for slot in 0..<snapshots.capacity where snapshots.sessions[slot].inPass {
            members &+= 1
            if !snapshots.isServing(slot) || snapshots.sessions[slot].chunkSent < length { pending = true }
        }
        if members == 0 {
            snapshots.pass.end()
            return 1
        }
        if pending {
            if publisher.nextSequence &- snapshots.pass.sequence > UInt64(publisher.history.capacity / 2) {
                for slot in 0..<snapshots.capacity where snapshots.sessions[slot].inPass && snapshots.isServing(slot)
                    && snapshots.sessions[slot].chunkSent < length {
                    snapshots.timeouts &+= 1
                    closeSnapshotConnection(slot)
                }
            }
            return 0
        }
        if snapshots.pass.finished {
            let now = clock.now()
            for slot in 0..<snapshots.capacity where snapshots.sessions[slot].inPass {
                snapshots.sessions[slot].inPass = false
                snapshots.sessions[slot].phase = .sent
                snapshots.sessions[slot].sentAt = now
                snapshots.served &+= 1
            }
            snapshots.pass.end()
            return 1
        }
        return encodeAndSendChunk(startedAt: clock.ticks())
    }

    /// Sends what is left of the pass's current chunk on the slot, as much as the duty
    /// cycle's send budget allows; the rest (or all of it) waits for the next duty cycle.
    mutating func sendPassChunk(_ slot: Int) {
        let sent = snapshots.sessions[slot].chunkSent
        let left = snapshots.pass.chunkLength - sent
        guard left > 0 else { return }
        let count = min(left, snapshots.sendBudget)
        guard count > 0 else {
            snapshots.sessions[slot].sendDeferred = true
            return
        }
        let taken = send(slot, bytes: snapshots.pass.chunk + sent, count: count)
        if taken > 0 {
            snapshots.sendBudget &-= taken
            snapshots.rateTokens &-= taken
            snapshots.turnSentBytes &+= taken
            snapshots.sessions[slot].controlInFlight = false
        } else if taken < 0 {
            closeSnapshotConnection(slot)
        }
    }

    mutating func sendControl(_ slot: Int, length: Int) {
        guard !snapshots.table.isSending(slot), send(slot, bytes: snapshots.controlBuffer(slot), count: length) > 0 else { return }
        snapshots.sessions[slot].controlInFlight = true
    }

    /// Starts a send on the slot (after handing the prepared entries to the kernel when the
    /// submission queue is full). Returns the bytes of `bytes` it took: `count` (with TLS on,
    /// as much as one record's ciphertext send carries), 0 when nothing could be taken yet
    /// (TLS: ciphertext waits ahead of it), -1 when the send could not be started.
    mutating func send(_ slot: Int, bytes: UnsafeRawPointer, count: Int) -> Int {
        if snapshots.tlsOn { return sendEncryptedSnapshot(slot, bytes: bytes, count: count) }
        return startSnapshotSend(slot, bytes: bytes, count: count) ? count : -1
    }

    /// Starts one send of exactly these bytes. False when it could not be started.
    mutating func startSnapshotSend(_ slot: Int, bytes: UnsafeRawPointer, count: Int) -> Bool {
        switch snapshots.table.send(slot, bytes: bytes, count: count, ring: ring) {
        case .started: return true
        case .busy, .notOpen: return false
        case .submissionQueueFull:
            ring.submitAndPoll()
            return snapshots.table.send(slot, bytes: bytes, count: count, ring: ring) == .started
        }
    }

    mutating func snapshotSent(_ slot: Int, bytes: Int) {
        guard snapshots.isServing(slot) else { return }
        snapshots.sessions[slot].sentAt = clock.now()
        if snapshots.sessions[slot].controlInFlight {
            snapshots.sessions[slot].controlInFlight = false
            if snapshots.sessions[slot].closeAfterSend {
                // TLS: the Login Rejected's ciphertext may still wait behind what went out.
                if snapshots.tlsOn && snapshots.tls.hasOutbound(slot) {
                    snapshots.sessions[slot].closeWhenFlushed = true
                    return
                }
                return closeSnapshotConnection(slot)
            }
            // A chunk may have been encoded while a control message was going out.
            if snapshots.sessions[slot].inPass { sendPassChunk(slot) }
            return
        }
        guard snapshots.sessions[slot].inPass else { return }
        snapshots.sessions[slot].chunkSent &+= bytes
        snapshots.sessions[slot].passSent &+= bytes
        snapshots.bytes &+= UInt64(bytes)
        sendPassChunk(slot)
    }

    /// Shuts the connection down; the table releases its slot once nothing of the kernel's
    /// refers to it. It stays in its pass until then: a chunk in flight is never overwritten
    /// by the next one.
    mutating func closeSnapshotConnection(_ slot: Int) {
        if snapshots.table.close(slot) { snapshotReleased(slot) }
    }

    /// The slot is free: its descriptor is closed and no operation of its own is in flight.
    mutating func snapshotReleased(_ slot: Int) {
        snapshots.open &-= 1
        snapshots.sessions[slot].inPass = false
        if snapshots.tlsOn { snapshots.tls.release(slot) }
    }

    /// Login, idle and slow-reader timeouts, and heartbeats to clients that wait to log out.
    mutating func snapshotTimers(now: UInt64) -> Int {
        snapshots.table.tick(ring: ring)
        var work = closeStalledPassMembers(now: now)
        for slot in 0..<snapshots.capacity where snapshots.isServing(slot) {
            let s = snapshots.sessions[slot]
            switch s.phase {
            case .awaitingLogin where now &- s.connectedAt > configuration.snapshotLoginTimeoutNanoseconds,
                 .authenticating where now &- s.connectedAt > configuration.snapshotLoginTimeoutNanoseconds,
                 .waitingForBuffer where now &- s.receivedAt > configuration.snapshotIdleTimeoutNanoseconds,
                 .sent where now &- s.receivedAt > configuration.snapshotIdleTimeoutNanoseconds,
                 .sending where now &- s.sendStartedAt > configuration.snapshotSendTimeoutNanoseconds:
                snapshots.timeouts &+= 1
                closeSnapshotConnection(slot)
                work &+= 1
            case .sent where now &- s.sentAt >= Self.snapshotHeartbeatNanoseconds && !snapshots.table.isSending(slot):
                sendControl(slot, length: SoupBinTCP.serverHeartbeat(to: snapshots.controlBuffer(slot)))
                work &+= 1
            default: continue
            }
        }
        return work
    }

    /// A connection that has not sent the pass's current chunk `snapshotStallNanoseconds` after
    /// it was encoded, while another connection waits (one of the pass that has sent it, or a
    /// logged-in one waiting for the next pass), is closed (`stalled`): a slow reader holds
    /// the others back for at most that long.
    mutating func closeStalledPassMembers(now: UInt64) -> Int {
        guard snapshots.pass.active, now &- snapshots.chunkStartedAt > Self.snapshotStallNanoseconds else { return 0 }
        let length = snapshots.pass.chunkLength
        var someoneWaits = false
        for slot in 0..<snapshots.capacity where snapshots.isServing(slot) {
            let s = snapshots.sessions[slot]
            if s.phase == .waitingForBuffer || (s.inPass && s.chunkSent >= length) { someoneWaits = true }
        }
        guard someoneWaits else { return 0 }
        var work = 0
        for slot in 0..<snapshots.capacity where snapshots.isServing(slot) && snapshots.sessions[slot].inPass
            && snapshots.sessions[slot].chunkSent < length {
            snapshots.stalled &+= 1
            closeSnapshotConnection(slot)
            work &+= 1
        }
        return work
    }

    /// At the end of the session: stop accepting and close every connection.
    mutating func endSnapshotService() {
        snapshots.table.stopAccepting(ring: ring)
        for slot in 0..<snapshots.capacity where snapshots.isServing(slot) { closeSnapshotConnection(slot) }
    }

    /// A server heartbeat to a client that waits to log out, after this much silence.
    static var snapshotHeartbeatNanoseconds: UInt64 { 1_000_000_000 }

    /// How long a connection may hold a pass's chunk while others wait.
    static var snapshotStallNanoseconds: UInt64 { 1_000_000_000 }
}
