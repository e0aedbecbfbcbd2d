import CExchangeShim
import ExchangeRuntime
import ExchangeWire
import Glibc

// Re-requests older than the re-request history, answered from the journal archive
// (`FeedArchiveChannel`): the agent never replays. A request the policy finds older than the
// history (and otherwise admissible: well formed, this session, within the rate limits) is
// handed to the archive with a chunk buffer — one outstanding per requester (address and
// port), at most `chunks` at once, each refusal counted — and answered, when the archive's
// reply comes in, with one packet to the requester, as any answer (the requester asks again
// for the rest).
extension MarketDataAgent {
    /// Hands an older-than-history request to the archive; false when it cannot (no journal,
    /// the requester's earlier request still outstanding, every chunk in use).
    mutating func requestFromArchive(_ i: Int, requester source: UInt64, sequence: UInt64) -> Bool {
        guard archive.available else { return false }
        let requester = source | 1 << 63  // never 0, which marks a free chunk
        guard let request = MoldUDP64.readRequest(
            UnsafeRawBufferPointer(start: requestBuffers + i * Self.requestBufferBytes, count: MoldUDP64.requestLength)) else { return false }
        var free = -1
        for chunk in 0..<archive.chunks {
            if archiveRequesters[chunk] == requester {
                archiveCounts.refused &+= 1
                return true  // one at a time per requester: dropped, counted (it asks again)
            }
            if archiveRequesters[chunk] == 0 && free < 0 { free = chunk }
        }
        guard free >= 0 else {
            archiveCounts.refused &+= 1
            return true
        }
        let source = requestSources[i]
        let maxBytes = min(archive.chunkBytes, configuration.maxPayloadBytes - MoldUDP64.headerLength)
        let posted = archive.post(FeedArchiveRequest(
            chunk: Int32(free), port: source.sin_port, address: source.sin_addr.s_addr, sequence: sequence,
            count: UInt32(min(UInt64(request.count), UInt64(UInt16.max - 1))), maxBytes: UInt32(maxBytes)))
        guard posted else {
            archiveCounts.refused &+= 1
            return true
        }
        archiveRequesters[free] = requester
        archiveDestinations[free] = source
        archiveOutstanding &+= 1
        archiveCounts.requests &+= 1
        return true
    }

    /// The archive's replies: each served one becomes an answer packet to its requester.
    mutating func takeArchiveReplies() {
        while let reply = archive.nextReply() {
            archiveOutstanding &-= 1
            let chunk = Int(reply.chunk)
            guard chunk >= 0, chunk < archive.chunks else { continue }
            archiveRequesters[chunk] = 0
            guard reply.count > 0, Int(reply.bytes) <= configuration.maxPayloadBytes - MoldUDP64.headerLength else {
                archiveCounts.failures &+= 1
                continue
            }
            guard let slot = answers.fillingSlot else {
                answerDropped &+= 1
                continue
            }
            let packet = answers.bytes(slot)
            (packet + MoldUDP64.headerLength).copyMemory(from: archive.chunk(chunk), byteCount: Int(reply.bytes))
            MoldUDP64.writeHeader(session: publisher.session, sequence: reply.sequence, count: UInt16(reply.count), to: packet)
            answerDestinations[slot] = archiveDestinations[chunk]
            answers.commit(length: MoldUDP64.headerLength + Int(reply.bytes))
            archiveCounts.answered &+= 1
            archiveCounts.messages &+= UInt64(reply.count)
            retransmitMessages &+= UInt64(reply.count)
        }
    }
}

/// What the market-data agent counts of the journal archive (`MarketDataCounters.archive*`).
struct FeedArchiveCounts {
    var requests: UInt64 = 0
    var answered: UInt64 = 0
    var refused: UInt64 = 0
    var failures: UInt64 = 0
    var messages: UInt64 = 0
}
