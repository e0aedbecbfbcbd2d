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
        do {
            let answer = T.handle(&handler, T.packet(1, count: 10), now: 0)
            #expect(answer == nil)
        }
        // Within the history: an ordinary re-request.
        let near = T.handle(&handler, T.packet(50, count: 10), now: 0)
        #expect(near == FeedHandler.Request(session: T.session, sequence: 11, count: 39))
        do {
            let value = handler.snapshotNeeded
            #expect(value == nil)
        }
        // The feed moves on past the history while the gap is still open.
        do {
            let answer = T.handle(&handler, T.packet(200, count: 10), now: 1_000_000_000)
            #expect(answer == nil)
        }
        let needed = handler.snapshotNeeded
        let need = try #require(needed)
        #expect(need == .olderThanHistory(missing: 11, newest: 210, history: 100))
        #expect(need.description.contains("older than the re-request history"))
        do {
            let value = handler.pendingRequest(now: 2_000_000_000)
            #expect(value == nil)
        }

        // Rejoin: the snapshot says the feed continues at 200; the kept packet from 200 applies.
        handler.beginSnapshot()
        handler.endSnapshot(nextSequence: 200, session: T.session)
        do {
            let value = handler.snapshotNeeded
            #expect(value == nil)
        }
        do {
            let value = handler.expected
            #expect(value == 210)
        }
        do {
            let recovering = handler.isRecovering
            #expect(!recovering)
        }
        do {
            let answer = T.handle(&handler, T.packet(210, count: 1), now: 3_000_000_000)
            #expect(answer == nil)
        }
        do {
            let value = handler.expected
            #expect(value == 211)
        }
    }

    @Test func aHeartbeatBeyondTheHistoryIsEnoughToKnow() throws {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        handler.historyMessages = 64
        do {
            let answer = T.handle(&handler, T.packet(1, count: 1), now: 0)
            #expect(answer == nil)
        }
        do {
            let answer = T.handle(&handler, T.packet(1_000, count: 0), now: 0)
            #expect(answer == nil)
        }
        do {
            let value = handler.snapshotNeeded
            #expect(value == .olderThanHistory(missing: 2, newest: 1_000, history: 64))
        }
    }

    @Test func requestsThatStayUnansweredEndInASnapshotToo() throws {
        var handler = FeedHandler(instrumentCount: 1, orderCapacity: 16)
        handler.maximumUnansweredRequests = 3
        do {
            let answer = T.handle(&handler, T.packet(1, count: 1), now: 0)
            #expect(answer == nil)
        }
        do {
            let answer = T.handle(&handler, T.packet(5, count: 1), now: 0)
            #expect(answer != nil)
        }
        let retry = handler.retryNanoseconds
        do {
            let value = handler.pendingRequest(now: retry)
            #expect(value != nil)
        }
        do {
            let value = handler.pendingRequest(now: 2 * retry)
            #expect(value != nil)
        }
        do {
            let value = handler.snapshotNeeded
            #expect(value == nil)
        }
        do {
            let value = handler.pendingRequest(now: 3 * retry)
            #expect(value == nil)
        }
        do {
            let value = handler.snapshotNeeded
            #expect(value == .unanswered(missing: 2, requests: 3))
        }
    }
}
