import CMallocCounter
import ExchangeClient
import ExchangeCore
import ExchangeFeed
import ExchangeTestRig
import ExchangeTestSupport
import Glibc
import StrategyKit
import Testing

/// The kit's parts alone (the top of book, the risk, the portfolio, reading the feed with no
/// allocation) and an example strategy against an in-process exchange.
@Suite(.serialized) struct StrategyKitTests {
    static let instruments = [
        InstrumentSpec(symbol: Symbol("AAPL")!, tickSize: 100, lotSize: 1, collarBasisPoints: 0, referencePrice: 2_300_000),
        InstrumentSpec(symbol: Symbol("MSFT")!, tickSize: 100, lotSize: 1, collarBasisPoints: 0, referencePrice: 4_200_000),
        InstrumentSpec(symbol: Symbol("QUIET")!, tickSize: 100, lotSize: 1, collarBasisPoints: 0, referencePrice: 500_000),
    ]

    static func put(_ m: inout [UInt8], _ offset: Int, _ value: UInt64, _ width: Int) {
        for i in 0..<width { m[offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * (width - 1 - i))) }
    }

    static func add(_ reference: UInt64, locate: UInt16, buy: Bool, _ shares: UInt32, _ price: UInt32) -> [UInt8] {
        var m = [UInt8](repeating: 0x20, count: 36)
        m[0] = UInt8(ascii: "A")
        put(&m, 1, UInt64(locate), 2)
        put(&m, 3, 0, 8)
        put(&m, 11, reference, 8)
        m[19] = buy ? UInt8(ascii: "B") : UInt8(ascii: "S")
        put(&m, 20, UInt64(shares), 4)
        put(&m, 32, UInt64(price), 4)
        return m
    }

    static func reduce(_ type: Character, _ reference: UInt64, _ shares: UInt32) -> [UInt8] {
        var m = [UInt8](repeating: 0, count: type == "D" ? 19 : type == "X" ? 23 : 31)
        m[0] = type.asciiValue!
        put(&m, 1, 1, 2)
        put(&m, 11, reference, 8)
        if type != "D" { put(&m, 19, UInt64(shares), 4) }
        return m
    }

    @Test func theTopOfTheBookFollowsAddsExecutionsAndDeletes() {
        var book = MarketBook(instruments: Self.instruments, orderCapacity: 1_024)
        func apply(_ m: [UInt8]) -> FeedEvent? { m.withUnsafeBytes { book.apply($0) } }
        #expect(apply(Self.add(1, locate: 1, buy: true, 100, 2_299_000)) == .book(instrument: 0))
        _ = apply(Self.add(2, locate: 1, buy: true, 50, 2_299_500))
        _ = apply(Self.add(3, locate: 1, buy: false, 70, 2_301_000))
        var q = book.quote(0)
        #expect(q.bid == 2_299_500 && q.bidShares == 50 && q.ask == 2_301_000 && q.askShares == 70 && q.mid == 2_300_250)
        #expect(apply(Self.reduce("E", 2, 50)) == .trade(instrument: 0, price: 2_299_500, shares: 50))
        q = book.quote(0)
        #expect(q.bid == 2_299_000 && q.bidShares == 100 && q.lastTrade == 2_299_500 && q.trades == 1)
        _ = apply(Self.reduce("X", 3, 20))
        #expect(book.quote(0).askShares == 50)
        _ = apply(Self.reduce("D", 3, 0))
        #expect(!book.quote(0).hasAsk && book.orderCount == 1)
        // A replace moves the order: the best bid follows it, the old price is empty.
        var u = [UInt8](repeating: 0, count: 35)
        u[0] = UInt8(ascii: "U")
        Self.put(&u, 1, 1, 2)
        Self.put(&u, 11, 1, 8)
        Self.put(&u, 19, 9, 8)
        Self.put(&u, 27, 30, 4)
        Self.put(&u, 31, 2_298_000, 4)
        #expect(apply(u) == .book(instrument: 0))
        q = book.quote(0)
        #expect(q.bid == 2_298_000 && q.bidShares == 30 && book.orderCount == 1)
        _ = apply(Self.reduce("D", 9, 0))
        #expect(!book.quote(0).hasBid && book.orderCount == 0 && book.misses == 0)
    }

    @Test func theRiskRefusesWhatPassesALimit() {
        var portfolio = Portfolio(instrumentCount: 3, orderCapacity: 8)
        let gate = RiskGate(limits: RiskLimits(maxPosition: 300, maxOrderShares: 200, maxOpenOrders: 2, priceCollarBasisPoints: 100))
        func check(_ side: Side, _ shares: Shares, _ price: Price) -> RiskRefusal? {
            gate.check(.enter(instrument: 0, side: side, shares: shares, price: price, immediate: false), portfolio: portfolio, reference: 2_300_000)
        }
        #expect(check(.buy, 100, 2_300_000) == nil)
        #expect(check(.buy, 201, 2_300_000) == .orderTooLarge)
        #expect(check(.buy, 100, 2_330_000) == .outsideCollar)   // 1.3 % away
        #expect(check(.buy, 0, 2_300_000) == .zeroShares)
        _ = portfolio.opened(OrderToken("A")!, instrument: 0, buy: true, price: 2_300_000, shares: 200)
        #expect(check(.buy, 150, 2_300_000) == .positionLimit)   // 200 open + 150 > 300
        #expect(check(.sell, 150, 2_300_000) == nil)
        _ = portfolio.opened(OrderToken("B")!, instrument: 0, buy: false, price: 2_310_000, shares: 100)
        #expect(check(.sell, 10, 2_300_000) == .tooManyOpenOrders)
        // Fills move the position and the PnL: bought 200 at 230.00, sold 100 at 231.00.
        portfolio.filled(OrderToken("A")!, shares: 200, price: 2_300_000)
        portfolio.filled(OrderToken("B")!, shares: 100, price: 2_310_000)
        #expect(portfolio.position(0) == 100 && portfolio.openOrders == 0 && portfolio.fills == 2)
        // Marked at 232.00: 100 × 1.00 realised + 100 × 2.00 open = 300 dollars.
        #expect(portfolio.pnl(0, mark: 2_320_000) == 300 * 10_000)
    }

    @Test func readingTheFeedAllocatesNothing() {
        var book = MarketBook(instruments: Self.instruments, orderCapacity: 4_096)
        var portfolio = Portfolio(instrumentCount: 3, orderCapacity: 16)
        var strategy = MarketMakingStrategy(instrumentSpecs: Self.instruments, instruments: [0, 1], tokenPrefix: "TA")
        var momentum = MomentumStrategy(instrumentCount: 3, instruments: [0, 1], lookback: 3, thresholdBasisPoints: 1, tokenPrefix: "TB")
        let gate = RiskGate(limits: RiskLimits())
        var intents = IntentBuffer(capacity: 64)
        var messages: [[UInt8]] = []
        for n in 0..<1_000 {
            let r = UInt64(n + 1)
            messages.append(Self.add(r, locate: 1, buy: n % 2 == 0, 100, n % 2 == 0 ? 2_299_000 - UInt32(n % 7) * 100 : 2_301_000 + UInt32(n % 5) * 100))
            if n % 3 == 0 { messages.append(Self.reduce("E", r, 40)) }
            if n % 4 == 1 { messages.append(Self.reduce("X", r, 10)) }
            if n % 5 == 2 { messages.append(Self.reduce("D", r, 0)) }
        }
        // One contiguous buffer of framed messages, walked without closures (a test harness
        // that allocates per message would hide what the kit does).
        var framed: [UInt8] = []
        for m in messages { framed += [UInt8(m.count >> 8), UInt8(m.count & 0xFF)] + m }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: framed.count, alignment: 8)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: framed)
        var events = 0, intentCount = 0
        func run() {
            var offset = 0
            while offset < buffer.count {
                let length = Int(buffer[offset]) << 8 | Int(buffer[offset + 1])
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[(offset + 2)..<(offset + 2 + length)])
                offset += 2 + length
                guard let e = book.apply(bytes) else { continue }
                events += 1
                strategy.onMarket(e, book: book, portfolio: portfolio, now: UInt64(events) * 1_000_000_000, intents: &intents)
                momentum.onMarket(e, book: book, portfolio: portfolio, now: UInt64(events) * 1_000_000_000, intents: &intents)
                var i = 0
                while i < intents.count {
                    let (token, intent) = intents[i]
                    i += 1
                    if gate.check(intent, portfolio: portfolio, reference: book.quote(0).mid) == nil, case .enter(let n, let side, let shares, let price, _) = intent {
                        _ = portfolio.opened(token, instrument: n, buy: side == .buy, price: price, shares: shares)
                        portfolio.filled(token, shares: shares, price: price)
                    }
                    strategy.onOrder(.done(token: token), book: book, portfolio: portfolio, now: 0, intents: &intents)
                }
                intentCount += intents.count
                intents.removeAll()
            }
        }
        run()  // warm-up: the runtime's one-time metadata
        events = 0
        intentCount = 0
        rtes_malloc_counter_start()
        run()
        let counts = rtes_malloc_counter_stop()
        #expect(events > 1_000 && intentCount > 0, "\(events) events, \(intentCount) intents")
        #expect(counts.allocations == 0, "\(counts.allocations) allocations reading \(messages.count) messages")
    }


    @Test func theMarketMakerQuotesIsFilledAndTracksItsPositionAndPnL() throws {
        var knobs = ExchangeKnobs()
        knobs.udpPort = loopbackUDPPort()
        let feed = try FeedClient(group: 0xEF00_0001, port: UInt16(knobs.udpPort), interface: 0x7F00_0001, retransmitHost: 0x7F00_0001,
                                  retransmitPort: 9, instrumentCount: Self.instruments.count, orderCapacity: 20_000)
        let exchange = try TestExchange(knobs)
        defer { exchange.drain() }
        let client = try exchange.client("DEMO1")
        defer { client.close() }
        let other = try exchange.client("DEMO2")
        defer { other.close() }
        let strategy = MarketMakingStrategy(instrumentSpecs: Self.instruments, instruments: [0], shares: 100, halfSpreadTicks: 5,
                                            minimumIntervalNanoseconds: 0, tokenPrefix: "MMT")
        let runner = StrategyRunner(feed: feed, client: client, instruments: Self.instruments, strategy: strategy,
                                    limits: RiskLimits(maxPosition: 1_000, maxOrderShares: 500, maxOpenOrders: 4, priceCollarBasisPoints: 500),
                                    clock: monotonicNanoseconds)
        // Someone else's market: 229.00 / 231.00, so the maker quotes 229.95 / 230.05.
        try other.enter(token: OrderToken("OB")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 2_290_000)
        try other.enter(token: OrderToken("OA")!, side: .sell, shares: 100, symbol: Symbol("AAPL")!, price: 2_310_000)
        let quoted = waitUntil(timeout: .seconds(20)) {
            runner.step(waitMilliseconds: 2)
            let q = runner.book.quote(0)
            return q.bid == 2_299_500 && q.ask == 2_300_500
        }
        #expect(quoted, "book \(runner.book.quote(0)), sent \(runner.sent), failure \(runner.failure ?? "none")")
        // DEMO2 sells 100 into the maker's bid.
        try other.enter(token: OrderToken("OX")!, side: .sell, shares: 100, symbol: Symbol("AAPL")!, price: 2_299_000, timeInForce: .immediateOrCancel)
        let filled = waitUntil(timeout: .seconds(20)) {
            runner.step(waitMilliseconds: 2)
            return runner.portfolio.position(0) == 100
        }
        #expect(filled, "position \(runner.portfolio.position(0)), fills \(runner.portfolio.fills)")
        #expect(runner.portfolio.fills >= 1 && runner.portfolio.filledShares >= 100)
        // Bought 100 at 229.95; the PnL follows the mark.
        #expect(runner.portfolio.pnl(0, mark: 2_300_000) == 100 * 500)
        // It requotes, skewed one tick down for the 100 shares it holds.
        let requoted = waitUntil(timeout: .seconds(20)) {
            runner.step(waitMilliseconds: 2)
            return runner.portfolio.openOrders == 2 && runner.portfolio.openShares(0, buy: true) == 100
        }
        #expect(requoted, "open \(runner.portfolio.openOrders)")
        #expect(runner.failure == nil && runner.rejected == 0 && runner.gaps == 0)
    }
}
