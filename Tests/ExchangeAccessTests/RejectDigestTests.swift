import ExchangeAccess
import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeRuntime
import Logging
import Testing

/// Rejected order messages reach the debug log as one line per account, reason and answer a
/// second: `RejectDigest` on its own (time as a parameter), then through the authenticator's
/// ring of reject notices on a `ManualClock`.
@Suite struct RejectDigestTests {
    static let second: UInt64 = 1_000_000_000
    static let names = ["ALICE", "BOB"]

    static func notice(_ account: Int32, _ reason: RejectReason, _ answer: RejectNotice.Answer = .rejected,
                       token: String = "T1") -> RejectNotice {
        RejectNotice(account: account, reason: reason, answer: answer, token: OrderToken(token)!)
    }

    static func name(_ account: Int32) -> String { names.indices.contains(Int(account)) ? names[Int(account)] : "#\(account)" }

    @Test func aFloodComesOutAsOneLinePerAccountAndReasonEachSecondWithItsCount() {
        var digest = RejectDigest()
        let start: UInt64 = 5 * Self.second
        for i in 0..<1_000 { digest.add(Self.notice(0, .priceCollarBreached, token: "C\(i)"), now: start + UInt64(i)) }
        for i in 0..<300 { digest.add(Self.notice(1, .maxOrderSizeExceeded, token: "S\(i)"), now: start + 1_000) }
        digest.add(Self.notice(1, .unknownOrder, .cancelReject, token: "X9"), now: start + 2_000)
        digest.add(Self.notice(0, .priceCollarBreached, .cancelReject, token: "M1"), now: start + 2_000)
        // Nothing until the window of a second that the first reject opened has ended.
        #expect(!digest.isDue(now: start + Self.second - 1))
        #expect(digest.closeWindow(now: start + Self.second - 1, service: "gateway", accountName: Self.name).isEmpty)
        let lines = digest.closeWindow(now: start + Self.second, service: "gateway", accountName: Self.name)
        #expect(lines == [
            "rejected: gateway, account ALICE, price outside the price collar (price_collar), 1000 × Rejected, first token C0",
            "rejected: gateway, account BOB, more shares than the maximum order size (max_order_size), 300 × Rejected, first token S0",
            "rejected: gateway, account BOB, \(RejectReason.unknownOrder.explanation) (unknown_order), 1 × Cancel Reject, first token X9",
            "rejected: gateway, account ALICE, price outside the price collar (price_collar), 1 × Cancel Reject, first token M1",
        ])
        // The next window starts empty, with the next reject.
        #expect(!digest.isDue(now: start + 10 * Self.second))
        digest.add(Self.notice(0, .priceCollarBreached, token: "C7"), now: start + 10 * Self.second)
        #expect(digest.closeWindow(now: start + 11 * Self.second, service: "gateway", accountName: Self.name)
            == ["rejected: gateway, account ALICE, price outside the price collar (price_collar), 1 × Rejected, first token C7"])
    }

    @Test func manyAccountsAndReasonsAreBoundedToMaxLinesAndOneLineForTheRest() {
        var digest = RejectDigest(windowNanoseconds: Self.second, maxLines: 4)
        for account in 0..<50 {
            for reason in [RejectReason.oddLot, .unknownSymbol] { digest.add(Self.notice(Int32(account), reason), now: 0) }
        }
        let lines = digest.closeWindow(now: Self.second, service: "gateway", accountName: Self.name)
        #expect(lines.count == 5)
        #expect(lines.last == "rejected: gateway, 96 more for other accounts or reasons (at most 4 lines a window)")
        #expect(lines[2].hasPrefix("rejected: gateway, account BOB, "))
        #expect(lines[3].contains("account BOB, "))  // accounts beyond the keys file would read #n
    }

    @Test func droppedNoticesAreToldInOneLineOnceAndOpenAWindowOfTheirOwn() {
        var digest = RejectDigest()
        digest.noteDropped(total: 0, now: 0)
        #expect(!digest.isDue(now: 10 * Self.second))  // nothing dropped, nothing to say
        digest.noteDropped(total: 12, now: 10 * Self.second)
        #expect(digest.closeWindow(now: 11 * Self.second - 1, service: "gateway", accountName: Self.name).isEmpty)
        #expect(digest.closeWindow(now: 11 * Self.second, service: "gateway", accountName: Self.name)
            == ["rejected: gateway, 12 rejects not logged: the ring of reject notices was full (12 since start)"])
        digest.noteDropped(total: 12, now: 12 * Self.second)
        #expect(!digest.isDue(now: 20 * Self.second))
        digest.noteDropped(total: 15, now: 20 * Self.second)
        #expect(digest.closeWindow(now: 21 * Self.second, service: "gateway", accountName: Self.name)
            == ["rejected: gateway, 3 rejects not logged: the ring of reject notices was full (15 since start)"])
    }

    @Test func aTokenWithControlBytesIsLoggedWithoutThem() {
        var digest = RejectDigest()
        // A client controls its token's bytes: a newline must not split the log line.
        let token = OrderToken(high: 0x4142_0A43_1B44_2020, low: 0x2020_2020_2020_0000)
        digest.add(RejectNotice(account: 0, reason: .oddLot, answer: .rejected, token: token), now: 0)
        let lines = digest.closeWindow(now: Self.second, service: "gateway", accountName: Self.name)
        #expect(lines.count == 1)
        #expect(lines.first?.hasSuffix("first token AB?C?D") == true)
    }

    // MARK: Through the authenticator

    @Test func theAuthenticatorDrainsTheRingLogsPerSecondAndCountsWhatAFullRingDropped() throws {
        let clock = ManualClock()
        let region = CountersRegion.anonymous(name: "AUTH-REJ", ticksPerSecond: 1_000_000_000)
        let channel = LoginChannel(service: "gateway", capacity: 16, rejectCapacity: 8)
        var client = channel.makeClient()
        let log = LogLines()
        var logger = Logger(label: "test") { _ in LogCapture(lines: log) }
        logger.logLevel = .debug
        var agent = try Authenticator(keys: AuthenticatorTests.keys, policy: AuthenticatorTests.policy, channels: [channel], clock: clock,
                                      cells: region.cells, logger: logger)
        let counters = try region.cells.register(AuthCounters.block)

        // Eight fit; the next five are dropped at once, counted, and never waited for.
        var pushed = 0
        for i in 0..<13 where client.noteReject(Self.notice(Int32(i % 2), .priceCollarBreached, token: "P\(i)")) { pushed += 1 }
        let dropped = client.droppedRejectCount
        #expect(pushed == 8)
        #expect(dropped == 5)
        #expect(agent.doWork() == 8)
        #expect(log.lines.isEmpty)  // the window is still open
        #expect(counters.load(AuthCounters.rejectNotices) == 8)
        #expect(counters.load(AuthCounters.rejectNoticesDropped) == 5)
        // The ring has room again.
        let room = client.noteReject(Self.notice(1, .priceCollarBreached, token: "P13"))
        #expect(room)
        clock.advance(nanoseconds: Self.second - 1)
        #expect(agent.doWork() == 1)
        #expect(log.lines.isEmpty)
        clock.advance(nanoseconds: 1)
        #expect(agent.doWork() == 0)
        #expect(log.lines == [
            "debug: rejected: gateway, account ALICE, price outside the price collar (price_collar), 4 × Rejected, first token P0",
            "debug: rejected: gateway, account BOB, price outside the price collar (price_collar), 5 × Rejected, first token P1",
            "debug: rejected: gateway, 5 rejects not logged: the ring of reject notices was full (5 since start)",
        ])
        clock.advance(nanoseconds: 10 * Self.second)
        _ = agent.doWork()
        #expect(log.lines.count == 3)  // quiet: nothing more
    }

    @Test func aboveDebugLevelNoticesAreDrainedAndCountedButNotLogged() throws {
        let clock = ManualClock()
        let region = CountersRegion.anonymous(name: "AUTH-REJ-INFO", ticksPerSecond: 1_000_000_000)
        let channel = LoginChannel(service: "gateway", capacity: 16, rejectCapacity: 64)
        var client = channel.makeClient()
        let log = LogLines()
        var agent = try Authenticator(keys: AuthenticatorTests.keys, policy: AuthenticatorTests.policy, channels: [channel], clock: clock,
                                      cells: region.cells, logger: Logger(label: "test") { _ in LogCapture(lines: log) })
        var pushed = 0
        for i in 0..<40 where client.noteReject(Self.notice(0, .oddLot, token: "L\(i)")) { pushed += 1 }
        #expect(pushed == 40)
        #expect(agent.doWork() == 40)
        clock.advance(nanoseconds: 2 * Self.second)
        _ = agent.doWork()
        #expect(log.lines.isEmpty)
        #expect(try region.cells.register(AuthCounters.block).load(AuthCounters.rejectNotices) == 40)
    }
}
