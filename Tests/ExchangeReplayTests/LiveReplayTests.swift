import ExchangeClient
import ExchangeCore
import ExchangeFeed
import ExchangeReplay
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Glibc
import Testing

/// The replay against in-process exchanges, through the gateway and the multicast feed:
/// the round trip (RTES's own feed captured while a seeded flow runs, replayed into a
/// fresh exchange, the same books) and the reconciliation with a user's order.
@Suite(.serialized) struct LiveReplayTests {
    static let symbols = [Symbol("AAPL")!, Symbol("MSFT")!, Symbol("QUIET")!]


    /// A feed client on `port` (joined before the exchange starts, so it sees the day from
    /// its first message) and the exchange.
    static func exchange(_ knobs: ExchangeKnobs) throws -> (TestExchange, FeedClient) {
        let feed = try FeedClient(group: 0xEF00_0001, port: UInt16(knobs.udpPort), interface: 0x7F00_0001, retransmitHost: 0x7F00_0001,
                                  retransmitPort: 9, instrumentCount: symbols.count, orderCapacity: 20_000)
        return (try TestExchange(knobs), feed)
    }

    static func books(_ feed: FeedClient) -> [[DepthLevel]] {
        symbols.indices.flatMap { i in
            [feed.handler.replica.depth(instrument: InstrumentIndex(i), side: .bid),
             feed.handler.replica.depth(instrument: InstrumentIndex(i), side: .ask)]
        }
    }

    @Test func aCaptureOfTheFeedReplayedIntoAFreshExchangeGivesTheSameBooks() throws {
        var first = ExchangeKnobs(demoFlowRate: 20_000, demoFlowCommands: 3_000)
        first.udpPort = loopbackUDPPort()
        let (source, capture) = try Self.exchange(first)
        defer { source.drain() }
        capture.handler.recording = true
        var recorded: [[UInt8]] = []
        var lastMessage = monotonicNanoseconds()
        // The flow is done when the feed has been quiet for a second (at most 60 s).
        let quiet = waitUntil(timeout: .seconds(60), pollInterval: .microseconds(1)) {
            capture.poll(timeoutMilliseconds: 5)
            let taken = capture.handler.takeRecorded()
            if !taken.isEmpty {
                recorded += taken
                lastMessage = monotonicNanoseconds()
            }
            return recorded.count > 1_000 && monotonicNanoseconds() - lastMessage > 1_000_000_000
        }
        #expect(quiet, "captured \(recorded.count) messages")
        #expect(capture.handler.counters.gaps == 0, "the capture has gaps: \(capture.handler.counters)")
        let expected = Self.books(capture)
        #expect(expected.contains { !$0.isEmpty }, "the flow left empty books")
        let types = Set(recorded.map { $0[0] })
        for t in "AEXDU".utf8 { #expect(types.contains(t), "the capture has no \(Character(UnicodeScalar(t))) message") }

        let path = try ITCHFiles.write(recorded, gzip: true, name: "capture.itch")
        defer { unlink(path) }

        var second = ExchangeKnobs()
        second.udpPort = loopbackUDPPort()
        let (target, follower) = try Self.exchange(second)
        defer { target.drain() }
        let client = try target.client("REPLAY")
        defer { client.close() }
        var options = ITCHReplay.Options(speed: nil)
        options.tokenPrefix = "RT"
        let replay = ITCHReplay(reader: try ITCHFileReader(path: path), client: client, symbols: Self.symbols, options: options)
        try replay.run(clock: monotonicNanoseconds)
        #expect(replay.messagesRead == UInt64(recorded.count))
        #expect(try replay.settle(clock: monotonicNanoseconds, timeout: 30_000_000_000))
        #expect(replay.book.counters.rejected == 0, "rejects: \(replay.book.counters.rejectReasons)")
        let same = waitUntil(timeout: .seconds(30)) {
            follower.poll(timeoutMilliseconds: 5)
            return Self.books(follower) == expected
        }
        #expect(same, "books differ:\nsource \(expected)\nreplay \(Self.books(follower))")
        #expect(follower.handler.counters.gaps == 0)
    }

    @Test func sharesAUserTookAreNotTakenAgainByTheFilesLaterExecutionsAndCancels() throws {
        let second: UInt64 = 1_000_000_000
        let file = [
            ITCHFiles.add(7, .sell, 100, "AAPL", 2_300_000, time: 1 * second),
            ITCHFiles.add(8, .buy, 40, "AAPL", 2_290_000, time: 1 * second),
            ITCHFiles.cancel(7, 20, time: 2 * second),
            ITCHFiles.executed(7, 60, time: 3 * second),
            ITCHFiles.executed(8, 40, time: 3 * second, withPrice: true),
            ITCHFiles.executed(7, 20, time: 4 * second),
        ]
        var knobs = ExchangeKnobs()
        knobs.udpPort = loopbackUDPPort()
        let (exchange, feed) = try Self.exchange(knobs)
        defer { exchange.drain() }
        let client = try exchange.client("REPLAY")
        defer { client.close() }
        let user = try exchange.client("DEMO1")
        defer { user.close() }
        var options = ITCHReplay.Options(speed: nil)
        options.tokenPrefix = "RC"
        let replay = ITCHReplay(reader: ITCHFileReader(bytes: ITCHFiles.framed(file)), client: client, symbols: Self.symbols, options: options)
        let aapl = InstrumentIndex(0)
        func asks() -> [DepthLevel] { feed.handler.replica.depth(instrument: aapl, side: .ask) }
        func bids() -> [DepthLevel] { feed.handler.replica.depth(instrument: aapl, side: .bid) }
        func settle(_ check: () -> Bool) throws -> Bool {
            #expect(try replay.settle(clock: monotonicNanoseconds, timeout: 10_000_000_000))
            return waitUntil(timeout: .seconds(10)) {
                feed.poll(timeoutMilliseconds: 2)
                return check()
            }
        }

        try replay.advance(throughFileTime: 1 * second)
        #expect(try settle { asks() == [DepthLevel(price: 2_300_000, shares: 100, orders: 1)] && bids().count == 1 })
        // The user takes 50 of order 7 and all 40 of order 8.
        try user.enter(token: OrderToken("U1")!, side: .buy, shares: 50, symbol: Symbol("AAPL")!, price: 2_300_000, timeInForce: .immediateOrCancel)
        try user.enter(token: OrderToken("U2")!, side: .sell, shares: 40, symbol: Symbol("AAPL")!, price: 2_290_000, timeInForce: .immediateOrCancel)
        let took = waitUntil(timeout: .seconds(10)) {
            try? replay.read(waitingUpTo: 2_000_000)
            return replay.book.order(locate: 1, reference: 7)?.owed == 50 && replay.book.order(locate: 1, reference: 8)?.owed == 40
        }
        #expect(took, "the replay saw \(replay.book.counters.sharesTakenOnExchange) shares taken")
        #expect(try settle { asks() == [DepthLevel(price: 2_300_000, shares: 50, orders: 1)] && bids().isEmpty })

        // The file cancels 20 of order 7: paid by what the user took, nothing sent.
        let cancelsBefore = replay.book.counters.cancelsSent
        try replay.advance(throughFileTime: 2 * second)
        #expect(replay.book.counters.cancelsSent == cancelsBefore)
        #expect(try settle { asks() == [DepthLevel(price: 2_300_000, shares: 50, orders: 1)] })
        // The file executes 60 of order 7: 30 still owed, 30 come off (80 - 50 = 20 left after
        // the file's 80); and all 40 of order 8, which the user already took: nothing sent.
        try replay.advance(throughFileTime: 3 * second)
        #expect(replay.book.counters.cancelsSent == cancelsBefore + 1)
        #expect(try settle { asks() == [DepthLevel(price: 2_300_000, shares: 20, orders: 1)] && bids().isEmpty })
        #expect(replay.book.order(locate: 1, reference: 8) == nil)
        // The file's last 20: the order leaves the book.
        try replay.advance(throughFileTime: 4 * second)
        #expect(try settle { asks().isEmpty })
        #expect(replay.book.orders.isEmpty)
        let c = replay.book.counters
        #expect(c.sharesTakenOnExchange == 90 && c.sharesAbsorbed == 90 && c.cancelRejects == 0 && c.rejected == 0, "\(c)")
    }
}
