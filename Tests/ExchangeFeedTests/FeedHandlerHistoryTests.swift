import ExchangeCore
import ExchangeFeed
import ExchangeWire
import Testing

/// A gap the re-request server can no longer fill: the handler says so and rejoins through
/// a snapshot (packets built by `FeedHandlerTests`, time passed in by the test).
@Suite struct FeedHandlerHistoryTests {
    typealias T = FeedHandlerTests

    @Test func aGapOlderThanTheHistoryAsksForNoResendAndSaysASnapshotIsNeeded() throws {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        handler.historyMessages = 100
        #expect(T.handle(&handler, T.packet(1, count: 10), now: 0) == nil)
        // Within the history: an ordinary re-request.
        let near = T.handle(&handler, T.packet(50, count: 10), now: 0)
        #expect(near == FeedHandler.Request(session: T.session, sequence: 11, count: 39))
        #expect(handler.snapshotNeeded == nil)
        // The feed moves on past the history while the gap is still open.
        #expect(T.handle(&handler, T.packet(200, count: 10), now: 1_000_000_000) == nil)
        let need = try #require(handler.snapshotNeeded)
        #expect(need == .olderThanHistory(missing: 11, newest: 210, history: 100))
        #expect(need.description.contains("older than the re-request history"))
        #expect(handler.pendingRequest(now: 2_000_000_000) == nil)

        // Rejoin: the snapshot says the feed continues at 200; the kept packet from 200 applies.
        handler.beginSnapshot()
        handler.endSnapshot(nextSequence: 200, session: T.session)
        #expect(handler.snapshotNeeded == nil)
        #expect(handler.expected == 210)
        #expect(!handler.isRecovering)
        #expect(T.handle(&handler, T.packet(210, count: 1), now: 3_000_000_000) == nil)
        #expect(handler.expected == 211)
    }

    @Test func aHeartbeatBeyondTheHistoryIsEnoughToKnow() throws {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        handler.historyMessages = 64
        #expect(T.handle(&handler, T.packet(1, count: 1), now: 0) == nil)
        #expect(T.handle(&handler, T.packet(1_000, count: 0), now: 0) == nil)
        #expect(handler.snapshotNeeded == .olderThanHistory(missing: 2, newest: 1_000, history: 64))
    }

    @Test func requestsThatStayUnansweredEndInASnapshotToo() throws {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        handler.maximumUnansweredRequests = 3
        #expect(T.handle(&handler, T.packet(1, count: 1), now: 0) == nil)
        #expect(T.handle(&handler, T.packet(5, count: 1), now: 0) != nil)
        let retry = handler.retryNanoseconds
        #expect(handler.pendingRequest(now: retry) != nil)
        #expect(handler.pendingRequest(now: 2 * retry) != nil)
        #expect(handler.snapshotNeeded == nil)
        #expect(handler.pendingRequest(now: 3 * retry) == nil)
        #expect(handler.snapshotNeeded == .unanswered(missing: 2, requests: 3))
    }
}
