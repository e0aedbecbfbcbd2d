import ExchangeCore
import ExchangeFeed
import ExchangeWire
import Testing

/// The feed handler without sockets: packets built here, time passed in by the test.
@Suite struct FeedHandlerTests {
    static let session = SoupSessionName("2611211730")!
    static let other = SoupSessionName("2611211731")!

    /// A MoldUDP64 packet of `count` System Event messages starting at `sequence`
    /// (count 0: a heartbeat; 0xFFFF: End of Session).
    static func packet(_ sequence: UInt64, count: UInt16, session: SoupSessionName = session) -> [UInt8] {
        let messages = count == MoldUDP64.endOfSessionCount ? 0 : Int(count)
        var out = [UInt8](repeating: 0, count: MoldUDP64.headerLength + messages * (2 + ITCH.Length.systemEvent))
        out.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            MoldUDP64.writeHeader(session: session, sequence: sequence, count: count, to: base)
            var offset = MoldUDP64.headerLength
            for _ in 0..<messages {
                let n = ITCHEncoder.write(.systemEvent(.init(timestamp: 1, code: .startOfMessages)), to: base + offset + 2)
                BigEndian.write(UInt16(n), to: base, at: offset)
                offset += 2 + n
            }
        }
        return out
    }

    /// What a test checks of a handler (a copy: the handler itself is ~Copyable).
    struct Look {
        var expected: UInt64
        var counters: FeedHandler.Counters
        var isRecovering: Bool
        var ended: Bool
        var session: SoupSessionName?
    }

    static func look(_ handler: borrowing FeedHandler) -> Look {
        Look(expected: handler.expected, counters: handler.counters, isRecovering: handler.isRecovering, ended: handler.ended,
             session: handler.session)
    }

    /// Hands one packet to the handler: from the live feed unless `source` says it is a
    /// re-request answer (answers fill gaps behind the live feed and may repeat it).
    static func handle(_ handler: inout FeedHandler, _ bytes: [UInt8], now: UInt64,
                       source: FeedHandler.Source = .live) -> FeedHandler.Request? {
        bytes.withUnsafeBytes { handler.handle($0, now: now, source: source) }
    }

    @Test func appliesPacketsInSequenceAndAsksForNothing() {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        do {
            let answer = Self.handle(&handler, Self.packet(1, count: 2), now: 0)
            #expect(answer == nil)
        }
        do {
            let answer = Self.handle(&handler, Self.packet(3, count: 1), now: 0)
            #expect(answer == nil)
        }
        do {
            let h = Self.look(handler)
            #expect(h.expected == 4)
        }
        do {
            let h = Self.look(handler)
            #expect(h.counters.messages == 3 && h.counters.gaps == 0 && h.counters.requests == 0)
        }
        do {
            let h = Self.look(handler)
            #expect(h.session == Self.session)
        }
    }

    @Test func asksForAGapAndAsksAgainOnlyWhenTheRetryTimeHasPassed() {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        let retry = handler.retryNanoseconds
        _ = Self.handle(&handler, Self.packet(1, count: 1), now: 1_000)
        // 2 and 3 are lost; 4 arrives.
        do {
            let answer = Self.handle(&handler, Self.packet(4, count: 1), now: 2_000)
            #expect(answer == FeedHandler.Request(session: Self.session, sequence: 2, count: 2))
        }
        do {
            let h = Self.look(handler)
            #expect(h.isRecovering)
        }
        // Nothing new before the retry time, however often it is asked…
        do {
            let answer = handler.pendingRequest(now: 2_000 + retry - 1)
            #expect(answer == nil)
        }
        do {
            let answer = Self.handle(&handler, Self.packet(5, count: 1), now: 2_000 + retry - 1)
            #expect(answer == nil)
        }
        // …then the same gap again (up to the first kept packet).
        do {
            let answer = handler.pendingRequest(now: 2_000 + retry)
            #expect(answer == FeedHandler.Request(session: Self.session, sequence: 2, count: 2))
        }
        do {
            let h = Self.look(handler)
            #expect(h.counters.requests == 2 && h.counters.gaps == 1)
        }
        // The answer fills the gap and the kept packets are applied behind it.
        do {
            let answer = Self.handle(&handler, Self.packet(2, count: 2), now: 2_000 + retry, source: .retransmission)
            #expect(answer == nil)
        }
        do {
            let h = Self.look(handler)
            #expect(!h.isRecovering && h.expected == 6 && h.counters.messages == 5)
        }
        do {
            let answer = handler.pendingRequest(now: .max)
            #expect(answer == nil)
        }
    }

    @Test func countsDuplicatesOtherSessionsAndMalformedPacketsAndAppliesNoneOfThem() {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        _ = Self.handle(&handler, Self.packet(1, count: 2), now: 0)
        // A repeated answer, and a late answer for another session (on the live feed each
        // would be a restart: `FeedHandlerRestartTests`).
        do {
            let answer = Self.handle(&handler, Self.packet(1, count: 2), now: 0, source: .retransmission)
            #expect(answer == nil)
        }
        do {
            let answer = Self.handle(&handler, Self.packet(3, count: 1, session: Self.other), now: 0, source: .retransmission)
            #expect(answer == nil)
        }
        do {
            let answer = Self.handle(&handler, Array(Self.packet(3, count: 1).dropLast()), now: 0)
            #expect(answer == nil)
        }
        do {
            let h = Self.look(handler)
            #expect(h.counters.duplicates == 1 && h.counters.otherSession == 1 && h.counters.malformed == 1)
        }
        do {
            let h = Self.look(handler)
            #expect(h.expected == 3 && h.counters.messages == 2)
        }
    }

    @Test func aHeartbeatAheadOfExpectedRevealsAGapAndEndOfSessionEndsOnlyWithoutOne() {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        _ = Self.handle(&handler, Self.packet(1, count: 1), now: 0)
        do {
            let answer = Self.handle(&handler, Self.packet(2, count: MoldUDP64.heartbeatCount), now: 0)
            #expect(answer == nil)
        }
        do {
            let answer = Self.handle(&handler, Self.packet(4, count: MoldUDP64.heartbeatCount), now: 0)
            #expect(answer == FeedHandler.Request(session: Self.session, sequence: 2, count: 2))
        }
        do {
            let h = Self.look(handler)
            #expect(h.counters.heartbeats == 2 && !h.ended)
        }
        _ = Self.handle(&handler, Self.packet(2, count: 2), now: 0, source: .retransmission)
        do {
            let answer = Self.handle(&handler, Self.packet(4, count: MoldUDP64.endOfSessionCount), now: 0)
            #expect(answer == nil)
        }
        do {
            let h = Self.look(handler)
            #expect(h.ended)
        }
    }
}

