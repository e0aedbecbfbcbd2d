import ExchangeBookReplica
import ExchangeCore
import ExchangeMarketData
import ExchangeRisk
import OrderFlow
import Testing

@Suite struct BookReplicaTests {
    @Test func keepsPriorityOrderThroughPartialFillsCancelsAndReplaces() {
        var book = BookReplica(instrumentCount: 2, orderCapacity: 16)
        #expect(book.add(instrument: 0, side: .bid, reference: 1, shares: 100, price: 1_000, attribution: nil) == .applied)
        #expect(book.add(instrument: 0, side: .bid, reference: 2, shares: 200, price: 1_000, attribution: Firm("ALCE")) == .applied)
        #expect(book.add(instrument: 0, side: .bid, reference: 3, shares: 300, price: 1_100, attribution: nil) == .applied)
        #expect(book.add(instrument: 0, side: .ask, reference: 4, shares: 50, price: 1_200, attribution: nil) == .applied)
        #expect(book.add(instrument: 0, side: .bid, reference: 1, shares: 1, price: 1, attribution: nil) == .duplicateReference)
        // In place: same price, fewer shares, keeps its place ahead of 2.
        #expect(book.replace(reference: 1, with: 5, shares: 80, price: 1_000) == .applied)
        #expect(book.restingOrders(instrument: 0, side: .bid).map(\.reference) == [3, 5, 2])
        // Not in place: more shares go to the back.
        #expect(book.replace(reference: 5, with: 6, shares: 90, price: 1_000) == .applied)
        #expect(book.restingOrders(instrument: 0, side: .bid).map(\.reference) == [3, 2, 6])
        #expect(book.reduce(reference: 3, by: 100) == .applied)
        #expect(book.reduce(reference: 3, by: 500) == .tooManyShares)
        #expect(book.reduce(reference: 3, by: 200) == .applied)
        #expect(book.shares(of: 3) == nil)
        #expect(book.depth(instrument: 0, side: .bid) == [DepthLevel(price: 1_000, shares: 290, orders: 2)])
        #expect(book.restingOrders(instrument: 0, side: .bid).first?.attribution == Firm("ALCE"))
        #expect(book.delete(reference: 9) == .unknownReference)
        #expect(book.add(instrument: 2, side: .bid, reference: 10, shares: 1, price: 1, attribution: nil) == .unknownInstrument)
        book.removeAll()
        #expect(book.orderCount == 0 && book.levelCount == 0)
    }

    @Test func saysWhenItIsFull() {
        var book = BookReplica(instrumentCount: 1, orderCapacity: 2)
        #expect(book.add(instrument: 0, side: .bid, reference: 1, shares: 1, price: 1, attribution: nil) == .applied)
        #expect(book.add(instrument: 0, side: .bid, reference: 2, shares: 1, price: 2, attribution: nil) == .applied)
        #expect(book.add(instrument: 0, side: .bid, reference: 3, shares: 1, price: 3, attribution: nil) == .full)
    }

    /// Every order of the engine, in the engine's priority order, after a seeded randomized
    /// session — including hidden orders' `P` prints, post-only repricing and replaces.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func matchesTheEnginesBooksOrderByOrderAfterARandomizedSession(seed: UInt64) {
        let instruments = [spec("AAPL", reference: 1_000_000), spec("MSFT", reference: 2_000_000)]
        let configuration = EngineConfiguration(instruments: instruments, orderPoolSize: 20_000, maxClients: 16, priceLevels: 1_024)
        let limits = RiskLimits(maxOrderShares: 1_000_000, maxOpenNotional: .max / 2, maxOrdersPerSecond: 1_000_000, priceCollarsEnabled: true)
        var engine = RiskCheckedEngine(configuration: configuration, limits: limits)
        var publisher = FeedPublisher(session: testSession, maxPayload: 1_400, instruments: instruments, packetSlots: 64,
                                      historyMessages: 1 << 16, orderCapacity: 20_000)
        var engineForStream = RiskCheckedEngine(configuration: configuration, limits: limits)
        let commands = OrderFlowGenerator.record(profile: .randomized(instruments: instruments), seed: seed, count: 20_000) {
            engineForStream.runCollecting($0)
        }
        var trades = 0
        var compared = 0
        func compare(_ engine: borrowing RiskCheckedEngine, _ replica: borrowing BookReplica) {
            for i in 0..<instruments.count {
                for side in [BookSide.bid, .ask] {
                    let engineOrders = engine.engine.restingOrders(instrument: InstrumentIndex(i), side: side).filter { $0.display.isDisplayed }
                    let replicaOrders = replica.restingOrders(instrument: InstrumentIndex(i), side: side)
                    #expect(replicaOrders.map(\.reference) == engineOrders.map(\.reference))
                    #expect(replicaOrders.map(\.shares) == engineOrders.map(\.shares))
                    #expect(replicaOrders.map(\.price) == engineOrders.map(\.price))
                    compared += engineOrders.count
                }
            }
        }
        for (n, command) in commands.enumerated() {
            for event in engine.runCollecting(command) {
                if case .executed(let e) = event, !e.makerDisplay.isDisplayed { trades += 1 }
                publisher.publish(event)
                while publisher.packets.free < 2, let slot = publisher.packets.takeReady() { publisher.packets.complete(slot) }
            }
            if n % 1_000 == 999 { compare(engine, publisher.replica) }
        }
        #expect(trades > 0)
        #expect(publisher.counters.replicaMismatches == 0)
        #expect(compared > 200)
    }
}
