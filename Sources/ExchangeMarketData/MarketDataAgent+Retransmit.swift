import CExchangeShim
import ExchangeClock
import ExchangeRuntime
import ExchangeWire
import Glibc

// The MoldUDP64 re-request server: `retransmitReceives` receives stay armed on the
// re-request socket; each request that completes is decided by `RetransmitPolicy`, answered
// (if at all) with one packet copied from the history into an answer slot and sent back to
// the requester from the same socket, and its receive is armed again. Answers never use the
// live feed's packet slots; when every answer slot is in flight the answer is dropped and
// counted (the requester asks again).
extension MarketDataAgent {
    mutating func armRequestReceive(_ i: Int) {
        requestVectors[i].iov_len = Self.requestBufferBytes
        requestHeaders[i] = Self.datagramHeader(address: requestSources + i, vector: requestVectors + i)
        guard ring.prepareReceiveMessage(fd: retransmitFD, message: requestHeaders + i, tag: CompletionTag(kind: Self.requestKind, index: i))
        else { return }
        operationsInFlight &+= 1
    }

    mutating func requestReceived(_ i: Int, result: Int32) {
        defer { if publisher.phase != .ended || !draining { armRequestReceive(i) } }
        guard result >= 0 else {
            if result != -ECANCELED { sendErrors &+= 1 }
            return
        }
        retransmitRequests &+= 1
        let source = requestSources[i]
        let requester = UInt64(UInt32(bigEndian: source.sin_addr.s_addr)) << 16 | UInt64(UInt16(bigEndian: source.sin_port))
        let decision = policy.decide(
            UnsafeRawBufferPointer(start: requestBuffers + i * Self.requestBufferBytes, count: Int(result)),
            requester: requester, now: clock.now(), oldest: publisher.history.oldestSequence,
            next: publisher.history.nextSequence)
        switch decision.outcome {
        case .answer: retransmitCounts.0 &+= 1
        case .malformed: retransmitCounts.1 &+= 1
        case .wrongSession: retransmitCounts.2 &+= 1
        case .rateLimited: retransmitCounts.3 &+= 1
        case .beforeHistory:
            retransmitCounts.4 &+= 1
            // Older than the history: the journal archive answers it, when there is one.
            _ = requestFromArchive(i, requester: requester, sequence: decision.sequence)
        case .notYetPublished: retransmitCounts.5 &+= 1
        }
        guard decision.outcome == .answer else { return }
        guard let slot = answers.fillingSlot else {
            answerDropped &+= 1
            return
        }
        let packet = answers.bytes(slot)
        let (count, bytes) = publisher.history.copyBlocks(
            from: decision.sequence, maxCount: min(decision.count, Int(UInt16.max - 1)),
            maxBytes: configuration.maxPayloadBytes - MoldUDP64.headerLength, to: packet + MoldUDP64.headerLength)
        MoldUDP64.writeHeader(session: publisher.session, sequence: decision.sequence, count: UInt16(count), to: packet)
        answerDestinations[slot] = source
        answers.commit(length: MoldUDP64.headerLength + bytes)
        retransmitMessages &+= UInt64(count)
    }

    /// Submits every ready answer as a sendmsg to its requester.
    mutating func submitAnswers() {
        while let slot = answers.takeReady() {
            answerVectors[slot] = iovec(iov_base: answers.bytes(slot), iov_len: answers.length(slot))
            answerHeaders[slot] = Self.datagramHeader(address: answerDestinations + slot, vector: answerVectors + slot)
            guard ring.prepareSendMessage(fd: retransmitFD, message: answerHeaders + slot, tag: CompletionTag(kind: Self.answerKind, index: slot))
            else {
                answers.untake()
                return
            }
            operationsInFlight &+= 1
        }
    }

    /// A msghdr for one datagram: its peer's address and one buffer.
    static func datagramHeader(address: UnsafeMutablePointer<sockaddr_in>, vector: UnsafeMutablePointer<iovec>) -> msghdr {
        var header = msghdr()
        header.msg_name = UnsafeMutableRawPointer(address)
        header.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
        header.msg_iov = vector
        header.msg_iovlen = 1
        return header
    }
}
