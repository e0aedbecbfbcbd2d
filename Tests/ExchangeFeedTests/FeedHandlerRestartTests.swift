import ExchangeCore
import ExchangeFeed
import ExchangeWire
import Testing

/// The exchange restarts under the handler (packets built by `FeedHandlerTests`): a new
/// session, or the sequence going back within one, on the live feed; never a repeated answer.
@Suite struct FeedHandlerRestartTests {
    typealias T = FeedHandlerTests

    @Test func aNewSessionOnTheLiveFeedIsARestartAndFromItsSequenceOneTheBookIsWhole() {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        _ = T.handle(&handler, T.packet(1, count: 5), now: 0)
        _ = T.handle(&handler, T.packet(9, count: 1), now: 0)  // a gap 6–8 is open
        let recovering = handler.isRecovering
        #expect(recovering)
        _ = T.handle(&handler, T.packet(1, count: 3, session: T.other), now: 0)
        let restart = FeedHandler.Restart(kind: .newSession, previousSession: T.session, previousSequence: 6, session: T.other, sequence: 1)
        let (taken, again, last, incomplete, count) = (handler.takeRestart(), handler.takeRestart(), handler.lastRestart,
                                                       handler.incompleteSince, handler.counters.restarts)
        #expect(taken == restart && again == nil && last == restart)
        #expect(incomplete == nil && count == 1)
        let h = T.look(handler)
        #expect(!h.isRecovering && h.expected == 4 && h.session == T.other)
        #expect(restart.description.contains("from 2611211730 (next sequence 6) to 2611211731 (at sequence 1)"))
    }

    @Test func theSequenceGoingBackWithinTheSessionIsARestartAndTheFreshBookIsIncompleteUntilASnapshot() {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        _ = T.handle(&handler, T.packet(1, count: 10), now: 0)
        _ = T.handle(&handler, T.packet(11, count: 0), now: 0)  // heartbeat: the feed is at 11
        // The restarted exchange publishes from 8: before the last packet's end.
        let request = T.handle(&handler, T.packet(8, count: 2), now: 0)
        #expect(request == nil)
        let restart = FeedHandler.Restart(kind: .sequenceBackwards, previousSession: T.session, previousSequence: 11, session: T.session,
                                          sequence: 8)
        let (last, incomplete) = (handler.lastRestart, handler.incompleteSince)
        #expect(last == restart && incomplete == restart)
        let h = T.look(handler)
        #expect(h.expected == 10 && h.counters.restarts == 1)
        #expect(restart.description == "the exchange restarted: session 2611211730 went back from sequence 11 to 8")
        // The fresh book goes on from there; a snapshot makes it whole.
        _ = T.handle(&handler, T.packet(10, count: 1), now: 0)
        let on = T.look(handler)
        #expect(on.expected == 11 && on.counters.restarts == 1)
        handler.beginSnapshot()
        handler.endSnapshot(nextSequence: 11, session: T.session)
        let repaired = handler.incompleteSince
        #expect(repaired == nil)
        // A new session from its first message ends an incomplete book too.
        _ = T.handle(&handler, T.packet(5, count: 1), now: 0)
        let again = handler.incompleteSince
        let second = T.look(handler).counters.restarts
        #expect(again != nil && second == 2)
        _ = T.handle(&handler, T.packet(1, count: 1, session: T.other), now: 0)
        let whole = handler.incompleteSince
        let third = T.look(handler).counters.restarts
        #expect(whole == nil && third == 3)
    }

    @Test func aNewSessionSeenPastItsStartIsIncomplete() {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        _ = T.handle(&handler, T.packet(1, count: 3), now: 0)
        _ = T.handle(&handler, T.packet(40, count: 2, session: T.other), now: 0)
        let incomplete = handler.incompleteSince
        #expect(incomplete?.kind == .newSession && incomplete?.sequence == 40)
        let h = T.look(handler)
        #expect(h.expected == 42 && h.counters.gaps == 0 && h.counters.requests == 0)
    }

    @Test func repeatedAnswersOtherSessionsAnswersAndAContinuingFeedAreNoRestart() {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        _ = T.handle(&handler, T.packet(1, count: 3), now: 0)
        _ = T.handle(&handler, T.packet(1, count: 3), now: 0, source: .retransmission)
        _ = T.handle(&handler, T.packet(2, count: 1, session: T.other), now: 0, source: .retransmission)
        // Heartbeat at the next sequence, then the feed continues there (a restart that lost nothing).
        _ = T.handle(&handler, T.packet(4, count: 0), now: 0)
        _ = T.handle(&handler, T.packet(4, count: 2), now: 0)
        // A live loss, then the answer behind it.
        _ = T.handle(&handler, T.packet(8, count: 1), now: 0)
        _ = T.handle(&handler, T.packet(6, count: 2), now: 0, source: .retransmission)
        let last = handler.lastRestart
        let h = T.look(handler)
        #expect(last == nil && h.counters.restarts == 0)
        #expect(h.expected == 9 && h.counters.duplicates == 1 && h.counters.otherSession == 1)
    }

    @Test func afterEndOfSessionTheNextDaysSessionIsFollowedAgain() {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        _ = T.handle(&handler, T.packet(1, count: 2), now: 0)
        _ = T.handle(&handler, T.packet(3, count: MoldUDP64.endOfSessionCount), now: 0)
        let ended = T.look(handler).ended
        #expect(ended)
        _ = T.handle(&handler, T.packet(1, count: 2, session: T.other), now: 0)
        let incomplete = handler.incompleteSince
        let kind = handler.lastRestart?.kind
        let h = T.look(handler)
        #expect(!h.ended && h.expected == 3 && h.session == T.other && incomplete == nil)
        #expect(kind == .newSession)
    }
}
