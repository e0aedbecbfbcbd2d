// The FIX 4.4 session layer, acceptor side, as a pure state machine: the caller hands it
// framed messages and the time, and sends the bytes it writes; no I/O, no clock, no
// allocation after `init`. Rules from FIX 4.4 Volume 2 (Session Protocol): Logon, Heartbeat
// and TestRequest, ResendRequest answered from the message store (PossDupFlag and
// OrigSendingTime; session messages replaced by SequenceReset-GapFill), SequenceReset in
// both modes, MsgSeqNum too high (ResendRequest) and too low (Logout), Reject, Logout.

public struct FIXSession<Store: FIXMessageStore & ~Copyable>: ~Copyable {
    public let configuration: FIXSessionConfiguration
    @usableFromInline var store: Store
    /// The message the last `receive` parsed (read it on `.application`).
    public var message: FIXMessage
    public internal(set) var state: FIXSessionState = .awaitingLogon
    public internal(set) var counters = FIXSessionCounters()
    /// The MsgSeqNum we expect next from the counterparty.
    public internal(set) var nextInbound: UInt64 = 1
    /// The MsgSeqNum of our next message.
    public internal(set) var nextOutbound: UInt64 = 1
    /// HeartBtInt agreed at Logon, nanoseconds.
    public internal(set) var heartbeatInterval: UInt64 = 30_000_000_000
    @usableFromInline var connectedAt: UInt64
    @usableFromInline var lastReceivedAt: UInt64
    @usableFromInline var lastSentAt: UInt64
    @usableFromInline var testRequestSentAt: UInt64 = 0
    @usableFromInline var testRequestCounter: UInt64 = 0
    @usableFromInline var logoutSentAt: UInt64 = 0
    /// While > 0, our ResendRequest is outstanding until nextInbound passes this.
    @usableFromInline var resendTarget: UInt64 = 0
    /// An answer to a ResendRequest still being written (`drainResend`).
    public internal(set) var resendNext: UInt64 = 0
    @usableFromInline var resendEnd: UInt64 = 0
    // Logon waiting for its verdict.
    @usableFromInline var pendingLogonSeq: UInt64 = 0
    @usableFromInline var pendingReset = false
    /// Set when a Logon with ResetSeqNumFlag numbers both sides from 1 again; the caller that
    /// keeps account of the numbers used (a journal) clears it.
    public var didResetSequenceNumbers = false
    /// Our CompID then the counterparty's, each a length byte and 32 bytes: read on every
    /// message, so kept out of the configuration's arrays.
    @usableFromInline let compIDs: UnsafeMutablePointer<UInt8>
    /// SendingTime's date and time of day, written once per second (a pointer: `header` does
    /// not mutate the session).
    @usableFromInline let timestampCache: UnsafeMutablePointer<FIXTimestampCache>

    /// A session for a connection accepted at `now` (nanoseconds since the epoch).
    public init(configuration: FIXSessionConfiguration, store: consuming Store, now: UInt64, maximumFields: Int = 128) {
        precondition(configuration.problem == nil, configuration.problem ?? "")
        self.configuration = configuration
        self.store = store
        message = FIXMessage(capacity: maximumFields)
        compIDs = .allocate(capacity: 66)
        compIDs.initialize(repeating: 0, count: 66)
        timestampCache = .allocate(capacity: 1)
        timestampCache.initialize(to: FIXTimestampCache())
        for (offset, id) in [(0, configuration.senderCompID), (33, configuration.targetCompID)] {
            compIDs[offset] = UInt8(id.count)
            for (i, b) in id.enumerated() { compIDs[offset + 1 + i] = b }
        }
        connectedAt = now
        lastReceivedAt = now
        lastSentAt = now
    }

    deinit {
        compIDs.deallocate()
        timestampCache.deallocate()
    }

    /// Our SenderCompID.
    @usableFromInline var ourCompID: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: compIDs + 1, count: Int(compIDs[0])) }
    /// The counterparty's SenderCompID.
    @usableFromInline var theirCompID: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: compIDs + 34, count: Int(compIDs[33])) }

    /// Continues a day: the sequence numbers a restart recovered (from the journal).
    public mutating func restore(nextInbound: UInt64, nextOutbound: UInt64) {
        self.nextInbound = max(1, nextInbound)
        self.nextOutbound = max(1, nextOutbound)
    }

    /// Replay of a journaled `outbound` fact (`FIXSessionFact`): MsgSeqNums `first ..< first +
    /// count` went out as messages that replay does not regenerate (resent as a gap fill);
    /// reports replay already numbered from `first` on move up by `count`. `reset`: a Logon
    /// with ResetSeqNumFlag reset both sides and the store first. Cold path (allocates).
    public mutating func replayOutbound(first: UInt64, count: UInt64, nextInbound inbound: UInt64, reset: Bool)
    where Store == FIXMessageRing {
        if reset {
            store.reset()
            nextOutbound = 1
            nextInbound = 1
        }
        if first < nextOutbound {
            store.shift(from: first, through: nextOutbound &- 1, by: count)
            nextOutbound &+= count
        } else {
            nextOutbound = first &+ count
        }
        nextInbound = max(nextInbound, inbound)
    }

    /// Replay: keeps an answer the journal holds whole (`FIXSessionFact.reply`) as sent.
    public mutating func replayStore(sequence: UInt64, msgType: FIXMsgType, sendingTime: UInt64, body: UnsafeRawBufferPointer) {
        if !store.record(sequence: sequence, msgType: msgType, sendingTime: sendingTime, body: body) { counters.storeFailures &+= 1 }
    }

    /// Replay: the counterparty's next MsgSeqNum was at least `inbound`.
    public mutating func replayInbound(_ inbound: UInt64) { nextInbound = max(nextInbound, inbound) }

    /// A new connection for the same session (a gateway keeps one session per account for
    /// the day): the sequence numbers and the message store stay, the connection's state
    /// (Logon, timers, a resend under way) starts afresh at `now`.
    public mutating func reconnect(now: UInt64) {
        state = .awaitingLogon
        connectedAt = now
        lastReceivedAt = now
        lastSentAt = now
        testRequestSentAt = 0
        logoutSentAt = 0
        resendTarget = 0
        resendNext = 0
        resendEnd = 0
        pendingLogonSeq = 0
        pendingReset = false
    }

    /// Binds the session to another counterparty CompID (1–32 bytes), for a gateway that
    /// hands a preallocated session to the account that logs on first. Also forgets the
    /// sequence numbers and the store: it is a new session.
    public mutating func rebind(counterparty: UnsafeRawBufferPointer) {
        precondition((1...32).contains(counterparty.count))
        compIDs[33] = UInt8(counterparty.count)
        for i in 0..<counterparty.count { compIDs[34 + i] = counterparty[i] }
        nextInbound = 1
        nextOutbound = 1
        store.reset()
        state = .disconnected
    }

    // MARK: Input

    /// Handles what `FIXFrameReader.next` found at the start of the input. For `.message`,
    /// `bytes` are exactly the message.
    public mutating func receive<V: FIXLogonVerifier & ~Copyable>(
        _ frame: FIXFrame, bytes: UnsafeRawBufferPointer, now: UInt64, verifier: inout V, out: UnsafeMutableRawBufferPointer
    ) -> FIXSessionStep {
        var o = Output(out)
        let event: FIXSessionEvent
        switch frame {
        case .needMore:
            event = .none
        case .garbled:
            // Ignored, and the expected MsgSeqNum does not move (FIX 4.4 Vol. 2).
            counters.garbled &+= 1
            event = state == .awaitingLogon ? .disconnect(.firstMessageNotLogon) : .none
        case .fatal(let f):
            let reason: FIXDisconnectReason = f == .wrongBeginString ? .wrongBeginString : .messageTooLong
            event = terminate(reason, now: now, o: &o)
        case .message:
            lastReceivedAt = now
            testRequestSentAt = 0
            event = handle(bytes, now: now, verifier: &verifier, o: &o)
        }
        if case .disconnect = event { state = .disconnected }
        return FIXSessionStep(written: o.position, event: event)
    }

    /// The verdict on a Logon the verifier answered `.pending` for.
    public mutating func completeLogon(accepted: Bool, now: UInt64, out: UnsafeMutableRawBufferPointer) -> FIXSessionStep {
        guard state == .verifyingLogon else { return FIXSessionStep(written: 0, event: .none) }
        var o = Output(out)
        let event = finishLogon(accepted: accepted, now: now, o: &o)
        if case .disconnect = event { state = .disconnected }
        return FIXSessionStep(written: o.position, event: event)
    }

    // MARK: Time

    /// Heartbeats, TestRequests and the timeouts; call whenever time passes (at least every
    /// second or so).
    public mutating func tick(now: UInt64, out: UnsafeMutableRawBufferPointer) -> FIXSessionStep {
        var o = Output(out)
        var event = FIXSessionEvent.none
        switch state {
        case .awaitingLogon, .verifyingLogon:
            if now &- connectedAt >= configuration.logonTimeout { event = .disconnect(.logonTimeout) }
        case .active:
            let silence = now &- lastReceivedAt
            let limit = heartbeatInterval &+ heartbeatInterval / 5
            if testRequestSentAt != 0 {
                if now &- testRequestSentAt >= limit { event = .disconnect(.heartbeatTimeout) }
            } else if silence >= limit {
                testRequestCounter &+= 1
                testRequestSentAt = now
                var w = header(.testRequest, o: &o, now: now)
                w.field(Tag.testReqID, testRequestCounter)
                emit(&w, o: &o, now: now)
            }
            if case .none = event, now &- lastSentAt >= heartbeatInterval {
                var w = header(.heartbeat, o: &o, now: now)
                emit(&w, o: &o, now: now)
            }
        case .loggingOut:
            if now &- logoutSentAt >= configuration.logoutTimeout { event = .disconnect(.logoutTimeout) }
        case .disconnected:
            break
        }
        if case .disconnect = event { state = .disconnected }
        return FIXSessionStep(written: o.position, event: event)
    }

    // MARK: Output the caller asks for

    /// Sends an application message whose body (fields after the standard header) is `body`:
    /// stamps the header, keeps it for resends, and writes it to `out`. Returns the byte
    /// count, or nil when `out` is too small (nothing is sent then, no number used).
    public mutating func send(
        _ type: FIXMsgType, body: UnsafeRawBufferPointer, now: UInt64, out: UnsafeMutableRawBufferPointer
    ) -> Int? {
        send(type, body: body, sendingTime: now, now: now, out: out)
    }

    /// `send` with a SendingTime of the caller's: a message that replay must write again
    /// byte for byte (an ExecutionReport of an engine event) is stamped with its event's time,
    /// which the journal keeps, rather than the moment it went out.
    public mutating func send(
        _ type: FIXMsgType, body: UnsafeRawBufferPointer, sendingTime: UInt64, now: UInt64, out: UnsafeMutableRawBufferPointer
    ) -> Int? {
        var o = Output(out)
        var w = header(type, o: &o, now: sendingTime)
        w.raw(body)
        let sequence = nextOutbound
        guard emit(&w, o: &o, now: now) else { return nil }
        if !store.record(sequence: sequence, msgType: type, sendingTime: sendingTime, body: body) { counters.storeFailures &+= 1 }
        return o.position
    }

    /// Starts a Logout from our side (end of day, an operator): the session waits for the
    /// counterparty's Logout, or `logoutTimeout`.
    public mutating func logout(now: UInt64, out: UnsafeMutableRawBufferPointer, text: StaticString? = nil) -> FIXSessionStep {
        guard state == .active else { return FIXSessionStep(written: 0, event: .none) }
        var o = Output(out)
        var w = header(.logout, o: &o, now: now)
        if let text { w.field(Tag.text, text: text) }
        emit(&w, o: &o, now: now)
        state = .loggingOut
        logoutSentAt = now
        return FIXSessionStep(written: o.position, event: .none)
    }

    /// Writes more of the answer to a ResendRequest, as much as fits in `out`; returns the
    /// byte count (0 when nothing is pending). `hasPendingResend` says whether to call again.
    public mutating func drainResend(now: UInt64, out: UnsafeMutableRawBufferPointer) -> Int {
        var o = Output(out)
        resend(now: now, o: &o)
        return o.position
    }

    public var hasPendingResend: Bool { resendNext != 0 }

    /// A session-level Reject (3) of the current message, for problems the application layer
    /// finds (a required field missing, a value out of range). Returns the byte count.
    public mutating func reject(_ problem: FIXFieldProblem, now: UInt64, out: UnsafeMutableRawBufferPointer) -> Int {
        var o = Output(out)
        sendReject(problem, refSeqNum: message.msgSeqNum, refMsgType: message.msgType, now: now, o: &o)
        return o.position
    }

    /// BusinessMessageReject (35=j, 380=3 Unsupported Message Type) of the current message: a
    /// read-only session (a drop copy) answers every application message with it. Returns the
    /// byte count.
    public mutating func rejectUnsupported(text: StaticString, now: UInt64, out: UnsafeMutableRawBufferPointer) -> Int {
        var o = Output(out)
        let type = message.msgType
        var w = header(.businessMessageReject, o: &o, now: now)
        w.field(Tag.refSeqNum, message.msgSeqNum)
        withUnsafeBytes(of: type.rawValue.bigEndian) { bytes in
            w.field(Tag.refMsgType, UnsafeRawBufferPointer(rebasing: bytes[(2 - type.length)...]))
        }
        w.field(Tag.businessRejectReason, 3)
        w.field(Tag.text, text: text)
        emit(&w, o: &o, now: now)
        return o.position
    }

    /// The message store (for the caller to inspect or back up).
    public var messageStore: Store {
        _read { yield store }
    }
}
