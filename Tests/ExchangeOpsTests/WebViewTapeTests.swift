import ExchangeBookReplica
import ExchangeClient
import ExchangeCore
@testable import ExchangeOps
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Glibc
import Testing

/// The web view's tape follows the exchange's own ITCH feed (`WebViewTape`): every execution,
/// in order, with its price, shares, aggressor and match number — several between two samples
/// included — and a lost packet recovered through the re-request server, or, when it cannot
/// be, a note at its place (never a silent hole). On an in-process exchange (`TestExchange`).
@Suite(.serialized) struct WebViewTapeTests {
    static let aapl = Symbol("AAPL")!

    /// One execution as the tape shows it and as OUCH told the client.
    struct Execution: Equatable, CustomStringConvertible {
        var price: Price
        var shares: UInt64
        var aggressor: String?
        var match: UInt64
        var kind = "E"
        var description: String { "\(kind) \(shares)@\(price) \(aggressor ?? "-") #\(match)" }
    }

    /// The executions in a list of tape rows (JSON texts or parsed), AAPL's, in order.
    static func executions(_ rows: [Any]) -> [Execution] {
        rows.compactMap { row in
            guard let r = row as? [Any], r.count == 8, r[2] as? String == "AAPL", let price = r[3] as? Double,
                  let shares = r[4] as? NSNumber, let match = r[6] as? NSNumber else { return nil }
            return Execution(price: Price((price * 10_000).rounded()), shares: shares.uint64Value, aggressor: r[5] as? String,
                             match: match.uint64Value, kind: r[7] as? String ?? "?")
        }
    }

    static func parse(_ json: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) }

    /// The executions OUCH reported to `client`, waiting (bounded) until there are `count`.
    static func executed(_ client: OrderEntryClient, count: Int, aggressor: String?, timeout: Duration = .seconds(10)) -> [Execution] {
        var found: [Execution] = []
        let deadline = Deadline(after: timeout)
        while found.count < count && !deadline.hasPassed {
            guard let packet = try? client.poll(timeout: .milliseconds(50)) else { continue }
            if case .sequenced(let m) = packet, case .executed(_, _, let shares, let price, _, let match) = m.message {
                found.append(Execution(price: price, shares: UInt64(shares), aggressor: aggressor, match: match))
            }
        }
        return found
    }

    /// Waits (bounded) until `client` has its `count` orders accepted.
    static func accepted(_ client: OrderEntryClient, count: Int) -> Bool {
        var seen = 0
        let deadline = Deadline(after: .seconds(10))
        while seen < count && !deadline.hasPassed {
            guard let packet = try? client.poll(timeout: .milliseconds(50)) else { continue }
            if case .sequenced(let m) = packet, case .accepted = m.message { seen += 1 }
        }
        return seen == count
    }

    /// The server-sent events of one view, parsed as they arrive.
    final class EventStream {
        let connection: RawHTTPConnection
        var pending: [UInt8] = []
        var headerSkipped = false

        init(_ connection: RawHTTPConnection) { self.connection = connection }

        /// Reads events (history and updates) and hands each one's JSON object to `body` until
        /// it returns true; false when the deadline passed or the view closed first.
        func until(_ deadline: Deadline, _ body: ([String: Any]) -> Bool) -> Bool {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                while let end = pending.firstRange(of: Array("\n\n".utf8)) {
                    let event = String(decoding: pending[..<end.lowerBound], as: UTF8.self)
                    pending.removeSubrange(..<end.upperBound)
                    guard let data = event.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).first(where: { $0.hasPrefix("data: ") }),
                          let object = WebViewTapeTests.parse(String(data.dropFirst(6))) as? [String: Any] else { continue }
                    if body(object) { return true }
                }
                let n = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    pending += buffer[0..<n]
                    if !headerSkipped, let end = pending.firstRange(of: Array("\r\n\r\n".utf8)) {
                        pending.removeSubrange(..<end.upperBound)
                        headerSkipped = true
                    }
                } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                    return false
                } else {
                    if deadline.hasPassed { return false }
                    var p = pollfd(fd: connection.fd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&p, 1, deadline.remainingMilliseconds(cap: 100))
                }
            }
        }
    }

    @Test func eachExecutionMessageMakesItsRowAndOthersNone() throws {
        var books = BookReplica(instrumentCount: 3, orderCapacity: 16)
        #expect(books.add(instrument: 0, side: .bid, reference: 7, shares: 100, price: 2_295_000, attribution: nil) == .applied)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        defer { buffer.deallocate() }
        func row(_ message: ITCHMessage) -> Any? {
            let n = ITCHEncoder.write(message, to: buffer)
            return WebViewTape.row(sequence: 42, message: UnsafeRawBufferPointer(start: buffer, count: n), books: books,
                                   symbols: ["AAPL", "MSFT", "QUIET"], ticks: [100, 100, 100]).flatMap(Self.parse)
        }
        let t: Timestamp = 34_200_000_000_123
        // E: the resting bid's price; the seller took it.
        #expect(row(.orderExecuted(.init(locate: 1, timestamp: t, reference: 7, shares: 40, matchNumber: 9))) as? [AnyHashable]
            == [42, t, "AAPL", 229.5, 40, "S", 9, "E"] as [AnyHashable])
        // E of an order the tape never saw added: the row, without a price or an aggressor.
        let unknown = row(.orderExecuted(.init(locate: 2, timestamp: t, reference: 99, shares: 5, matchNumber: 10))) as? [Any]
        #expect(unknown?.count == 8)
        #expect(unknown?[3] is NSNull && unknown?[5] is NSNull && unknown?[2] as? String == "MSFT")
        // C printable: its own price; non-printable (a cross's fill, printed by the Q): no row.
        #expect(row(.orderExecutedWithPrice(.init(locate: 1, timestamp: t, reference: 7, shares: 10, matchNumber: 11,
                                                  printable: UInt8(ascii: "Y"), price: 2_296_000))) as? [AnyHashable]
            == [42, t, "AAPL", 229.6, 10, "S", 11, "C"] as [AnyHashable])
        #expect(row(.orderExecutedWithPrice(.init(locate: 1, timestamp: t, reference: 7, shares: 10, matchNumber: 12,
                                                  printable: UInt8(ascii: "N"), price: 2_296_000))) == nil)
        // P: the resting (non-displayed) side is the message's, the aggressor the other.
        #expect(row(.trade(.init(locate: 3, timestamp: t, side: UInt8(ascii: "S"), shares: 30, symbol: Symbol("QUIET")!,
                                 price: 500_100, matchNumber: 13))) as? [AnyHashable]
            == [42, t, "QUIET", 50.01, 30, "B", 13, "P"] as [AnyHashable])
        // Q with shares: the cross's print (no aggressor); a cross of no shares: no row.
        let cross = row(.crossTrade(.init(locate: 1, timestamp: t, shares: 1_000, symbol: Self.aapl, price: 2_300_000, matchNumber: 14,
                                          crossType: UInt8(ascii: "O")))) as? [Any]
        #expect(cross?[4] as? Int == 1_000 && cross?[5] is NSNull && cross?[7] as? String == "Q" && cross?[3] as? Double == 230)
        #expect(row(.crossTrade(.init(locate: 1, timestamp: t, shares: 0, symbol: Self.aapl, price: 2_300_000, matchNumber: 0,
                                      crossType: UInt8(ascii: "O")))) == nil)
        // Not executions: no row.
        #expect(row(.orderDelete(.init(locate: 1, timestamp: t, reference: 7))) == nil)

        // An order that rested before the tape joined, then replaced: its E has the replace's
        // price (its side stays unknown) until the order is gone.
        let replaced = Replaced(capacity: 16)
        func followed(_ message: ITCHMessage) -> [Any]? {
            let n = ITCHEncoder.write(message, to: buffer)
            let bytes = UnsafeRawBufferPointer(start: buffer, count: n)
            let price = replaced.take(bytes, books: books)
            return WebViewTape.row(sequence: 43, message: bytes, books: books, replacedPrice: price, symbols: ["AAPL", "MSFT", "QUIET"],
                                   ticks: [100, 100, 100]).flatMap(Self.parse) as? [Any]
        }
        #expect(followed(.orderReplace(.init(locate: 1, timestamp: t, originalReference: 500, newReference: 501, shares: 100,
                                             price: 2_297_000))) == nil)
        let first = followed(.orderExecuted(.init(locate: 1, timestamp: t, reference: 501, shares: 40, matchNumber: 15)))
        #expect(first?[3] as? Double == 229.7 && first?[5] is NSNull && first?[4] as? Int == 40, "\(String(describing: first))")
        #expect(replaced.orders[501]?.shares == 60)
        _ = followed(.orderDelete(.init(locate: 1, timestamp: t, reference: 501)))
        #expect(replaced.orders.isEmpty)
        #expect(followed(.orderExecuted(.init(locate: 1, timestamp: t, reference: 501, shares: 1, matchNumber: 16)))?[3] is NSNull)
    }

    @Test func everyExecutionBetweenTwoSamplesIsOnTheTapeInOrder() throws {
        var knobs = ExchangeKnobs()
        knobs.udpPort = loopbackUDPPort()
        knobs.webView = true
        knobs.webViewIntervalMilliseconds = 1_000  // a sample a second: the trades below fall between two
        let exchange = try TestExchange(knobs)
        defer { exchange.drain() }
        let view = try RawHTTPConnection(port: try #require(exchange.appliance.admin).port)
        #expect(view.sendAll("GET /view/events HTTP/1.1\r\nHost: t\r\n\r\n"))
        let stream = EventStream(view)
        var source: String?
        var feed: Any?
        var events = 0
        // The tape joins the feed with the view, and starts at the first packet (a heartbeat
        // within a second of silence).
        let joined = stream.until(Deadline(after: .seconds(20))) { event in
            let update = event["last"] as? [String: Any] ?? event
            source = update["tapeSource"] as? String
            feed = update["feed"]
            events += 1
            return (update["feed"] as? [String: Any])?["start"] is NSNumber
        }
        try #require(joined, "the tape never started following the feed (\(events) events; tapeSource \(source ?? "none"), feed \(String(describing: feed)))")
        #expect(source == "feed")

        let buyer = try exchange.client("DEMO1")
        let seller = try exchange.client("DEMO2")
        // Five bids at five prices, then one sell that sweeps them: five executions in one
        // command — what a sampled last price shows as one change.
        let bids: [(Price, Shares)] = [(2_295_000, 100), (2_294_000, 110), (2_293_000, 120), (2_292_000, 130), (2_291_000, 140)]
        for (i, bid) in bids.enumerated() {
            try buyer.enter(token: OrderToken("TB\(i)")!, side: .buy, shares: bid.1, symbol: Self.aapl, price: bid.0)
        }
        try #require(Self.accepted(buyer, count: bids.count))
        try seller.enter(token: OrderToken("TS1")!, side: .sell, shares: 610, symbol: Self.aapl, price: 2_291_000)
        var expected = Self.executed(seller, count: bids.count, aggressor: "S")
        try #require(expected.count == bids.count, "the sweep's executions: \(expected)")
        #expect(expected.map(\.price) == bids.map(\.0))
        // The rest of the sell (10) rests at 229.10; a buy takes it: the aggressor is the buyer.
        try buyer.enter(token: OrderToken("TB9")!, side: .buy, shares: 10, symbol: Self.aapl, price: 2_291_000)
        // (The buyer was told of its five bids' executions first.)
        let bought = Self.executed(buyer, count: bids.count + 1, aggressor: "B")
        try #require(bought.count == bids.count + 1)
        expected.append(bought[bids.count])
        // A non-displayed bid, sold into: an ITCH Trade (`P`), the seller the aggressor.
        try buyer.enter(token: OrderToken("TB8")!, side: .buy, shares: 50, symbol: Self.aapl, price: 2_290_000, display: .nonDisplayed)
        try #require(Self.accepted(buyer, count: 1))
        try seller.enter(token: OrderToken("TS2")!, side: .sell, shares: 50, symbol: Self.aapl, price: 2_290_000)
        // (The seller was told of its resting rest's execution by the lift first.)
        let sold = Self.executed(seller, count: 2, aggressor: "S")
        try #require(sold.count == 2)
        var hidden = sold[1]
        hidden.kind = "P"
        expected.append(hidden)

        var tape: [Execution] = []
        var updates = 0
        let all = stream.until(Deadline(after: .seconds(20))) { event in
            updates += 1
            tape += Self.executions(event["tape"] as? [Any] ?? [])
            return tape.count >= expected.count
        }
        #expect(all, "the tape after \(updates) events: \(tape), expected \(expected)")
        // Every execution, in order, each with its own price, shares, aggressor and match number.
        #expect(tape == expected)
        #expect(Set(tape.map(\.match)).count == expected.count)
    }

    // MARK: Gaps

    /// A tape on the test exchange's feed, with re-requests to `retransmitPort`; packets that
    /// carry messages in `dropper.range` are lost on purpose.
    final class Dropper: @unchecked Sendable {
        var range: Range<UInt64>?
        var dropped = 0
    }

    static func tape(udpPort: Int, retransmitPort: Int, dropper: Dropper) -> WebViewTape {
        let tape = WebViewTape(
            source: WebViewFeedSource(group: 0xEF00_0001, port: UInt16(udpPort), interface: 0x7F00_0001, retransmitHost: 0x7F00_0001,
                                      retransmitPort: UInt16(retransmitPort), instrumentCount: 3, orderCapacity: 20_000,
                                      historyMessages: 4_096),
            symbols: ["AAPL", "MSFT", "QUIET"], ticks: [100, 100, 100])
        tape.drop = { bytes in
            guard let range = dropper.range, case .success(let p) = MoldUDP64.readPacket(bytes), p.messageCount > 0 else { return false }
            let hit = p.sequence < range.upperBound && p.sequence &+ UInt64(p.messageCount) > range.lowerBound
            if hit { dropper.dropped += 1 }
            return hit
        }
        return tape
    }

    /// Follows the feed, loses the packets of one trade (its Add Order and its execution), then
    /// a second trade shows the gap. Returns the tape's rows (parsed), the two trades'
    /// executions as OUCH told the seller, and the tape itself (still following).
    static func tradeThroughAGap(retransmitPort: (TestExchange) -> Int) throws
        -> (rows: [Any], first: Execution, second: Execution, tape: WebViewTape, firstLost: UInt64, exchange: TestExchange) {
        var knobs = ExchangeKnobs()
        knobs.udpPort = loopbackUDPPort()
        let exchange = try TestExchange(knobs)
        let dropper = Dropper()
        let tape = tape(udpPort: knobs.udpPort, retransmitPort: retransmitPort(exchange), dropper: dropper)
        var rows: [Any] = []
        func take() { rows += tape.take().compactMap(parse) }
        tape.follow()
        try #require(tape.following)
        // Started (at a heartbeat), and holding everything published so far.
        let started = waitUntil(timeout: .seconds(20)) {
            tape.poll()
            take()
            let published = exchange.snapshot().marketData["next_sequence"] ?? 0
            return tape.startSequence != nil && tape.client?.handler.expected == published
        }
        try #require(started, "the tape never caught up with the feed (start \(String(describing: tape.startSequence)))")
        let expected = tape.client?.handler.expected
        let next = try #require(expected)
        dropper.range = next..<(next + 2)  // the resting buy's Add Order and its execution

        let buyer = try exchange.client("DEMO1")
        let seller = try exchange.client("DEMO2")
        try buyer.enter(token: OrderToken("GB1")!, side: .buy, shares: 100, symbol: aapl, price: 2_295_000)
        try seller.enter(token: OrderToken("GS1")!, side: .sell, shares: 100, symbol: aapl, price: 2_295_000)
        let first = try #require(executed(seller, count: 1, aggressor: "S").first)
        try buyer.enter(token: OrderToken("GB2")!, side: .buy, shares: 70, symbol: aapl, price: 2_294_000)
        try seller.enter(token: OrderToken("GS2")!, side: .sell, shares: 70, symbol: aapl, price: 2_294_000)
        let second = try #require(executed(seller, count: 1, aggressor: "S").first)
        // The tape sees the second trade (after the gap is recovered or given up).
        let done = waitUntil(timeout: .seconds(30)) {
            tape.poll()
            take()
            return executions(rows).contains { $0.match == second.match }
        }
        #expect(done, "the second trade never reached the tape: \(rows)")
        #expect(dropper.dropped >= 1, "no packet of the first trade was dropped")
        return (rows, first, second, tape, next, exchange)
    }

    @Test func aLostPacketIsRecoveredByReRequestAndItsExecutionKeepsItsPlace() throws {
        let run = try Self.tradeThroughAGap { Int($0.appliance.retransmitPort) }
        defer {
            run.tape.stop()
            run.exchange.drain()
        }
        let client = try #require(run.tape.client)
        let counters = client.handler.counters
        #expect(counters.gaps >= 1)
        #expect(counters.requests >= 1)
        #expect(run.tape.lostGaps == 0)
        // Both executions, in order; the first priced from its recovered Add Order.
        #expect(Self.executions(run.rows) == [run.first, run.second])
        #expect(!run.rows.contains { ($0 as? [String: Any])?["note"].map { "\($0)".contains("could not be recovered") } == true })
    }

    @Test func aGapTheServerCannotFillIsSaidOnTheTapeAtItsPlace() throws {
        // Re-requests go to a port nobody answers: the gap is given up (after the handler's
        // unanswered requests), with a note, and the tape goes on after it.
        let deadPort = loopbackUDPPort()
        let run = try Self.tradeThroughAGap { _ in deadPort }
        defer {
            run.tape.stop()
            run.exchange.drain()
        }
        #expect(run.tape.lostGaps == 1)
        #expect(Self.executions(run.rows) == [run.second], "the first trade was lost with its packets; the second is there")
        let noteIndex = run.rows.firstIndex { ($0 as? [String: Any])?["note"].map { "\($0)".contains("could not be recovered") } == true }
        let note = try #require(noteIndex.map { run.rows[$0] as! [String: Any] }, "no note for the gap: \(run.rows)")
        #expect((note["note"] as? String)?.contains("feed messages \(run.firstLost)–\(run.firstLost + 1) ") == true, "\(note)")
        #expect((note["sequence"] as? NSNumber)?.uint64Value == run.firstLost)
        // The note stands where the lost messages were: before the second trade's row.
        let secondIndex = run.rows.firstIndex { Self.executions([$0]).first?.match == run.second.match }
        #expect(noteIndex! < secondIndex!)
    }
}
