import CMallocCounter
import ExchangeAccess
import ExchangeCore
import Testing

/// What the gateway's loop does to tell of a reject — one push on the ring of reject notices,
/// or a counted drop when it is full — touches no heap, either way.
@Suite struct RejectNoticeAllocation {
    @Test func notingRejectsAllocatesNothingWhetherTheRingHasRoomOrIsFull() {
        let channel = LoginChannel(service: "gateway", capacity: 16, rejectCapacity: 8)
        var client = channel.makeClient()
        let notice = RejectNotice(account: 0, reason: .priceCollarBreached, answer: .rejected, token: OrderToken("TOKEN1")!)
        // Warm-up on another channel: a debug build instantiates the generic ring's metadata on
        // first use (a one-time runtime cost, on whichever thread comes first), not per push.
        let warmChannel = LoginChannel(service: "warm-up", capacity: 2, rejectCapacity: 1)
        var warm = warmChannel.makeClient()
        _ = warm.noteReject(notice)
        _ = warm.noteReject(notice)
        var went = 0
        rtes_malloc_counter_start()
        for _ in 0..<100 where client.noteReject(notice) { went += 1 }
        let counted = rtes_malloc_counter_stop()
        let dropped = client.droppedRejectCount
        #expect(went == 8)
        #expect(dropped == 92)
        #expect(counted.allocations == 0, "\(counted.allocations) allocations, \(counted.bytes) bytes")
    }
}
