// How the session handles each message, and how it writes its own.

/// The caller's outbound buffer and how much of it the current step filled.
@usableFromInline struct Output {
    @usableFromInline let buffer: UnsafeMutableRawBufferPointer
    @usableFromInline var position = 0
    @usableFromInline init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }
    @usableFromInline var remaining: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: buffer[position...])
    }
}

extension FIXSession where Store: ~Copyable {
    // MARK: Writing

    /// A writer on the free part of `o`, with the standard header written.
    @usableFromInline
    func header(_ type: FIXMsgType, o: inout Output, now: UInt64, sequence: UInt64 = 0, origSendingTime: UInt64 = 0) -> FIXWriter {
        var w = FIXWriter(o.remaining)
        w.msgType(type)
        w.field(Tag.senderCompID, ourCompID)
        w.field(Tag.targetCompID, theirCompID)
        w.field(Tag.msgSeqNum, sequence != 0 ? sequence : nextOutbound)
        if origSendingTime != 0 { w.field(Tag.possDupFlag, char: UInt8(ascii: "Y")) }
        w.timestamp(Tag.sendingTime, now, precision: configuration.timestampPrecision, cache: &timestampCache.pointee)
        if origSendingTime != 0 { w.timestamp(Tag.origSendingTime, origSendingTime, precision: configuration.timestampPrecision) }
        return w
    }

    /// Finishes a message written with `header` (a new one: it takes the next MsgSeqNum).
    @usableFromInline @discardableResult
    mutating func emit(_ w: inout FIXWriter, o: inout Output, now: UInt64, resent: Bool = false) -> Bool {
        guard let n = w.finish() else { return false }
        o.position &+= n
        if !resent { nextOutbound &+= 1 }
        lastSentAt = now
        return true
    }

    mutating func sendReject(_ problem: FIXFieldProblem, refSeqNum: UInt64, refMsgType: FIXMsgType, now: UInt64, o: inout Output) {
        var w = header(.reject, o: &o, now: now)
        w.field(Tag.refSeqNum, refSeqNum)
        if problem.tag != 0 { w.field(Tag.refTagID, UInt64(problem.tag)) }
        if refMsgType.rawValue != 0 {
            withUnsafeBytes(of: refMsgType.rawValue.bigEndian) { bytes in
                w.field(Tag.refMsgType, UnsafeRawBufferPointer(rebasing: bytes[(2 - refMsgType.length)...]))
            }
        }
        w.field(Tag.sessionRejectReason, UInt64(problem.reason.rawValue))
        w.field(Tag.text, text: problem.reason.text)
        emit(&w, o: &o, now: now)
        counters.rejectsSent &+= 1
    }

    mutating func sendLogout(_ text: StaticString, now: UInt64, o: inout Output) {
        var w = header(.logout, o: &o, now: now)
        w.field(Tag.text, text: text)
        emit(&w, o: &o, now: now)
    }

    mutating func sendResendRequest(from: UInt64, now: UInt64, o: inout Output) {
        var w = header(.resendRequest, o: &o, now: now)
        w.field(Tag.beginSeqNo, from)
        w.field(Tag.endSeqNo, 0)
        emit(&w, o: &o, now: now)
        counters.resendRequestsSent &+= 1
    }

    /// Logout with the reason (when logged on) and disconnect.
    mutating func terminate(_ reason: FIXDisconnectReason, now: UInt64, o: inout Output) -> FIXSessionEvent {
        if state == .active || state == .loggingOut { sendLogout(reason.text, now: now, o: &o) }
        return .disconnect(reason)
    }

    // MARK: Reading

    mutating func handle<V: FIXLogonVerifier & ~Copyable>(
        _ bytes: UnsafeRawBufferPointer, now: UInt64, verifier: inout V, o: inout Output
    ) -> FIXSessionEvent {
        let failure = message.parse(bytes)
        let type = message.msgType
        let sequence = message.msgSeqNum
        if state == .disconnected { return .none }
        if state == .verifyingLogon { return .none }  // the initiator must wait for our Logon
        if state == .awaitingLogon {
            guard type == .logon else { return .disconnect(.firstMessageNotLogon) }
            guard failure == nil, compIDsMatch() else {
                sendLogout("invalid Logon", now: now, o: &o)
                return .disconnect(.invalidLogon)
            }
            return logon(now: now, verifier: &verifier, o: &o)
        }
        if failure == .missingMsgSeqNum { return terminate(.missingMsgSeqNum, now: now, o: &o) }
        // CompIDs and SendingTime: Reject, then Logout (FIX 4.4 Vol. 2).
        if message.has(Tag.senderCompID), message.has(Tag.targetCompID), !compIDsMatch() {
            sendReject(FIXFieldProblem(.compIDProblem, tag: Tag.senderCompID), refSeqNum: sequence, refMsgType: type, now: now, o: &o)
            return terminate(.compIDProblem, now: now, o: &o)
        }
        if message.sendingTime != 0 {
            let t = message.sendingTime
            let off = t > now ? t &- now : now &- t
            if off > configuration.sendingTimeTolerance {
                sendReject(FIXFieldProblem(.sendingTimeAccuracyProblem, tag: Tag.sendingTime), refSeqNum: sequence, refMsgType: type,
                           now: now, o: &o)
                return terminate(.sendingTimeAccuracy, now: now, o: &o)
            }
        }
        // SequenceReset-Reset ignores MsgSeqNum.
        if type == .sequenceReset, failure == nil, !isGapFill() {
            return sequenceReset(gapFill: false, now: now, o: &o)
        }
        // MsgSeqNum.
        if sequence < nextInbound {
            if message.possDup {
                counters.possDupIgnored &+= 1
                return .none
            }
            return terminate(.msgSeqNumTooLow, now: now, o: &o)
        }
        if sequence > nextInbound {
            if type == .resendRequest, failure == nil { acceptResendRequest(now: now, o: &o) }
            if type == .logout {
                sendLogout("Logout", now: now, o: &o)
                return .disconnect(state == .loggingOut ? .logoutCompleted : .logoutByCounterparty)
            }
            if resendTarget == 0 {
                sendResendRequest(from: nextInbound, now: now, o: &o)
            }
            resendTarget = max(resendTarget, sequence)
            return .none
        }
        // In sequence: it counts, whatever follows.
        nextInbound &+= 1
        if resendTarget != 0, nextInbound > resendTarget { resendTarget = 0 }
        if case .reject(let problem) = failure {
            sendReject(problem, refSeqNum: sequence, refMsgType: type, now: now, o: &o)
            return .none
        }
        if message.possDup {
            guard let orig = message.value(Tag.origSendingTime) else {
                sendReject(FIXFieldProblem(.requiredTagMissing, tag: Tag.origSendingTime), refSeqNum: sequence, refMsgType: type,
                           now: now, o: &o)
                return .none
            }
            guard let t = FIXTimestamp.parse(orig) else {
                sendReject(FIXFieldProblem(.incorrectDataFormat, tag: Tag.origSendingTime), refSeqNum: sequence, refMsgType: type,
                           now: now, o: &o)
                return .none
            }
            if t > message.sendingTime {
                sendReject(FIXFieldProblem(.sendingTimeAccuracyProblem, tag: Tag.origSendingTime), refSeqNum: sequence,
                           refMsgType: type, now: now, o: &o)
                return terminate(.sendingTimeAccuracy, now: now, o: &o)
            }
        }
        return dispatch(type, sequence: sequence, now: now, o: &o)
    }

    func compIDsMatch() -> Bool {
        guard let sender = message.value(Tag.senderCompID), let target = message.value(Tag.targetCompID) else { return false }
        return theirCompID.elementsEqual(sender) && ourCompID.elementsEqual(target)
    }

    func isGapFill() -> Bool {
        guard let v = message.value(Tag.gapFillFlag) else { return false }
        return v.count == 1 && v[0] == UInt8(ascii: "Y")
    }

    /// A yes/no field: nil when absent, .some(nil) when neither Y nor N.
    func flag(_ tag: FIXTag) -> Bool?? {
        guard let v = message.value(tag) else { return .none }
        guard v.count == 1, v[0] == UInt8(ascii: "Y") || v[0] == UInt8(ascii: "N") else { return .some(nil) }
        return .some(v[0] == UInt8(ascii: "Y"))
    }

    mutating func dispatch(_ type: FIXMsgType, sequence: UInt64, now: UInt64, o: inout Output) -> FIXSessionEvent {
        switch type {
        case .heartbeat:
            return .none
        case .testRequest:
            guard let id = message.value(Tag.testReqID) else {
                sendReject(FIXFieldProblem(.requiredTagMissing, tag: Tag.testReqID), refSeqNum: sequence, refMsgType: type, now: now, o: &o)
                return .none
            }
            var w = header(.heartbeat, o: &o, now: now)
            w.field(Tag.testReqID, id)
            emit(&w, o: &o, now: now)
            return .none
        case .resendRequest:
            acceptResendRequest(now: now, o: &o)
            return .none
        case .reject:
            return .none
        case .sequenceReset:
            return sequenceReset(gapFill: true, now: now, o: &o)
        case .logout:
            if state == .loggingOut { return .disconnect(.logoutCompleted) }
            sendLogout("Logout", now: now, o: &o)
            return .disconnect(.logoutByCounterparty)
        case .logon:
            return terminate(.unexpectedLogon, now: now, o: &o)
        case .newOrderSingle, .orderCancelRequest, .orderCancelReplaceRequest, .orderStatusRequest, .orderMassCancelRequest:
            return .application(type)
        default:
            if Self.isFIX44MsgType(type) {
                // A valid FIX 4.4 message this acceptor does not take: BusinessMessageReject(3).
                var w = header(.businessMessageReject, o: &o, now: now)
                w.field(Tag.refSeqNum, sequence)
                withUnsafeBytes(of: type.rawValue.bigEndian) { bytes in
                    w.field(Tag.refMsgType, UnsafeRawBufferPointer(rebasing: bytes[(2 - type.length)...]))
                }
                w.field(Tag.businessRejectReason, 3)
                w.field(Tag.text, text: "Unsupported Message Type")
                emit(&w, o: &o, now: now)
                return .none
            }
            sendReject(FIXFieldProblem(.invalidMsgType, tag: Tag.msgType), refSeqNum: sequence, refMsgType: type, now: now, o: &o)
            return .none
        }
    }

    /// FIX 4.4's message types: 0–9, single letters except I, O and U, AA–AZ, BA–BH.
    static func isFIX44MsgType(_ type: FIXMsgType) -> Bool {
        let r = type.rawValue
        if r <= 0xFF {
            let c = UInt8(r)
            if c >= 0x30 && c <= 0x39 { return true }
            if c >= 0x61 && c <= 0x7A { return true }
            return c >= 0x41 && c <= 0x5A && c != 0x49 && c != 0x4F && c != 0x55
        }
        let a = UInt8(r >> 8), b = UInt8(r & 0xFF)
        return (a == 0x41 && b >= 0x41 && b <= 0x5A) || (a == 0x42 && b >= 0x41 && b <= 0x48)
    }

    // MARK: Logon

    mutating func logon<V: FIXLogonVerifier & ~Copyable>(now: UInt64, verifier: inout V, o: inout Output) -> FIXSessionEvent {
        guard let method = message.value(Tag.encryptMethod), method.count == 1, method[0] == UInt8(ascii: "0"),
              let hbText = message.value(Tag.heartBtInt), let hb = FIXNumbers.unsigned(hbText),
              configuration.heartBtIntRange.contains(hb)
        else {
            sendLogout("Logon needs EncryptMethod(98)=0 and a HeartBtInt(108) in range", now: now, o: &o)
            return .disconnect(.invalidLogon)
        }
        var reset = false
        switch flag(Tag.resetSeqNumFlag) {
        case .none: break
        case .some(.none):
            sendLogout("ResetSeqNumFlag(141) must be Y or N", now: now, o: &o)
            return .disconnect(.invalidLogon)
        case .some(.some(let y)): reset = y
        }
        if reset {
            guard configuration.allowResetSeqNumFlag else {
                sendLogout("ResetSeqNumFlag(141)=Y is not allowed", now: now, o: &o)
                return .disconnect(.resetSeqNumNotAllowed)
            }
            guard message.msgSeqNum == 1 else {
                sendLogout("ResetSeqNumFlag(141)=Y needs MsgSeqNum 1", now: now, o: &o)
                return .disconnect(.invalidLogon)
            }
        } else if message.msgSeqNum < nextInbound {
            sendLogout("MsgSeqNum too low", now: now, o: &o)
            return .disconnect(.msgSeqNumTooLow)
        }
        heartbeatInterval = hb &* 1_000_000_000
        pendingLogonSeq = message.msgSeqNum
        pendingReset = reset
        state = .verifyingLogon
        switch verifier.verify(username: message.value(Tag.username), password: message.value(Tag.password)) {
        case .accept: return finishLogon(accepted: true, now: now, o: &o)
        case .reject: return finishLogon(accepted: false, now: now, o: &o)
        case .pending: return .none
        }
    }

    mutating func finishLogon(accepted: Bool, now: UInt64, o: inout Output) -> FIXSessionEvent {
        guard accepted else {
            sendLogout("Logon rejected", now: now, o: &o)
            return .disconnect(.logonRejected)
        }
        if pendingReset {
            nextInbound = 1
            nextOutbound = 1
            store.reset()
            didResetSequenceNumbers = true
        }
        var w = header(.logon, o: &o, now: now)
        w.field(Tag.encryptMethod, 0)
        w.field(Tag.heartBtInt, heartbeatInterval / 1_000_000_000)
        if pendingReset { w.field(Tag.resetSeqNumFlag, char: UInt8(ascii: "Y")) }
        emit(&w, o: &o, now: now)
        state = .active
        lastReceivedAt = now
        if pendingLogonSeq > nextInbound {
            sendResendRequest(from: nextInbound, now: now, o: &o)
            resendTarget = pendingLogonSeq
        } else {
            nextInbound = pendingLogonSeq &+ 1
        }
        return .loggedOn
    }

    // MARK: Recovery

    mutating func sequenceReset(gapFill: Bool, now: UInt64, o: inout Output) -> FIXSessionEvent {
        let sequence = message.msgSeqNum
        guard let text = message.value(Tag.newSeqNo) else {
            sendReject(FIXFieldProblem(.requiredTagMissing, tag: Tag.newSeqNo), refSeqNum: sequence, refMsgType: .sequenceReset,
                       now: now, o: &o)
            return .none
        }
        guard let newSeqNo = FIXNumbers.unsigned(text) else {
            sendReject(FIXFieldProblem(.incorrectDataFormat, tag: Tag.newSeqNo), refSeqNum: sequence, refMsgType: .sequenceReset,
                       now: now, o: &o)
            return .none
        }
        // Gap fill: this message already counted (nextInbound is sequence + 1).
        if newSeqNo < nextInbound {
            sendReject(FIXFieldProblem(.valueIsIncorrect, tag: Tag.newSeqNo), refSeqNum: sequence, refMsgType: .sequenceReset,
                       now: now, o: &o)
            return .none
        }
        nextInbound = newSeqNo
        if resendTarget != 0, nextInbound > resendTarget { resendTarget = 0 }
        return .none
    }

    mutating func acceptResendRequest(now: UInt64, o: inout Output) {
        counters.resendRequestsReceived &+= 1
        let sequence = message.msgSeqNum
        guard let b = message.value(Tag.beginSeqNo), let e = message.value(Tag.endSeqNo) else {
            sendReject(FIXFieldProblem(.requiredTagMissing, tag: message.has(Tag.beginSeqNo) ? Tag.endSeqNo : Tag.beginSeqNo),
                       refSeqNum: sequence, refMsgType: .resendRequest, now: now, o: &o)
            return
        }
        guard let begin = FIXNumbers.unsigned(b), let requestedEnd = FIXNumbers.unsigned(e) else {
            sendReject(FIXFieldProblem(.incorrectDataFormat, tag: FIXNumbers.unsigned(b) == nil ? Tag.beginSeqNo : Tag.endSeqNo),
                       refSeqNum: sequence, refMsgType: .resendRequest, now: now, o: &o)
            return
        }
        let last = nextOutbound &- 1
        let end = requestedEnd == 0 || requestedEnd > last ? last : requestedEnd
        guard begin >= 1, requestedEnd == 0 || begin <= requestedEnd else {
            sendReject(FIXFieldProblem(.valueIsIncorrect, tag: Tag.beginSeqNo), refSeqNum: sequence, refMsgType: .resendRequest,
                       now: now, o: &o)
            return
        }
        guard begin <= end else { return }  // nothing sent in that range yet
        resendNext = begin
        resendEnd = end
        resend(now: now, o: &o)
    }

    /// Writes resent messages and gap fills from `resendNext` while they fit.
    mutating func resend(now: UInt64, o: inout Output) {
        while resendNext != 0, resendNext <= resendEnd {
            if let stored = store.message(sequence: resendNext) {
                guard o.buffer.count &- o.position >= stored.body.count &+ 256 else { return }
                var w = header(stored.msgType, o: &o, now: now, sequence: resendNext, origSendingTime: stored.sendingTime)
                w.raw(stored.body)
                guard emit(&w, o: &o, now: now, resent: true) else { return }
                counters.messagesResent &+= 1
                resendNext &+= 1
            } else {
                // A run of session messages (or ones no longer kept): one gap fill over it.
                var runEnd = resendNext
                while runEnd < resendEnd, store.message(sequence: runEnd &+ 1) == nil { runEnd &+= 1 }
                guard o.buffer.count &- o.position >= 256 else { return }
                var w = header(.sequenceReset, o: &o, now: now, sequence: resendNext, origSendingTime: now)
                w.field(Tag.gapFillFlag, char: UInt8(ascii: "Y"))
                w.field(Tag.newSeqNo, runEnd &+ 1)
                guard emit(&w, o: &o, now: now, resent: true) else { return }
                counters.gapFillsSent &+= 1
                resendNext = runEnd &+ 1
            }
        }
        resendNext = 0
        resendEnd = 0
    }
}
