import ExchangeBookReplica
import ExchangeCore
import ExchangeMarketData
import ExchangeRisk
import ExchangeTestSupport
import ExchangeWire
import OrderFlow
import Testing

/// The publisher's replica against the engine's own books.
@Suite struct PublisherReplicaTests {
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

    /// Through random trading days (phase commands, crosses, cross-only orders): the
    /// publisher's replica and a receiver's replica (decoding every packet, as the feed
    /// handler does) both match the engine's displayed book, and every message decodes.
    @Test(arguments: [1, 2] as [UInt64])
    func followsTheEngineThroughTradingDays(seed: UInt64) throws {
        let instruments = [spec("AAPL", reference: 1_000_000), spec("MSFT", reference: 2_000_000)]
        let configuration = EngineConfiguration(instruments: instruments, orderPoolSize: 20_000, maxClients: 16, priceLevels: 1_024)
        let limits = RiskLimits(maxOrderShares: 1_000_000, maxOpenNotional: .max / 2, maxOrdersPerSecond: 1_000_000, priceCollarsEnabled: true)
        var profile = OrderFlowProfile.randomized(instruments: instruments)
        profile.tradingPhasePerMille = 8
        profile.crossOrderPerMille = 120
        var engine = RiskCheckedEngine(configuration: configuration, limits: limits)
        var publisher = FeedPublisher(session: testSession, maxPayload: 1_400, instruments: instruments, packetSlots: 64,
                                      historyMessages: 1 << 16, orderCapacity: 20_000)
        var receiver = BookReplica(instrumentCount: instruments.count, orderCapacity: 20_000)
        var engineForStream = RiskCheckedEngine(configuration: configuration, limits: limits)
        let commands = OrderFlowGenerator.record(profile: profile, seed: seed, count: 10_000) { engineForStream.runCollecting($0) }
        var types = Set<UInt8>()
        var problems: [String] = []
        func drain(_ publisher: inout FeedPublisher, all: Bool) throws {
            while all || publisher.packets.free < 2, let slot = publisher.packets.takeReady() {
                let packet = try MoldUDP64.readPacket(UnsafeRawBufferPointer(start: publisher.packets.bytes(slot),
                                                                             count: publisher.packets.length(slot))).get()
                packet.forEachMessage { _, bytes in
                    switch ITCHDecoder.decode(bytes) {
                    case .success(let message):
                        types.insert(bytes[0])
                        let outcome = receiver.apply(message)
                        if outcome != .applied && outcome != .ignored { problems.append("\(outcome) for \(message)") }
                    case .failure(let error):
                        problems.append("\(error)")
                    }
                }
                publisher.packets.complete(slot)
            }
        }
        for command in commands {
            for event in engine.runCollecting(command) {
                publisher.publish(event)
                try drain(&publisher, all: false)
            }
        }
        publisher.flush()
        try drain(&publisher, all: true)
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(publisher.counters.replicaMismatches == 0)
        for letter in "SHIQC".utf8 { #expect(types.contains(letter), "no \(UnicodeScalar(letter)) message") }
        for i in 0..<instruments.count {
            for side in [BookSide.bid, .ask] {
                let displayed = engine.engine.restingOrders(instrument: InstrumentIndex(i), side: side).filter { $0.display.isDisplayed }
                #expect(receiver.restingOrders(instrument: InstrumentIndex(i), side: side).map(\.reference) == displayed.map(\.reference))
                #expect(publisher.replica.restingOrders(instrument: InstrumentIndex(i), side: side).map(\.shares) == displayed.map(\.shares))
            }
        }
    }

    /// With limit up, limit down on: pauses publish `H` with reason `LUDP` and a `J` each,
    /// the reopening `T` with `LUDP`, and the replicas still follow the engine.
    @Test func publishesLULDPausesAndFollowsTheEngine() throws {
        let instruments = [spec("AAPL", reference: 1_000_000), spec("MSFT", reference: 2_000_000)]
        let configuration = EngineConfiguration(
            instruments: instruments, orderPoolSize: 20_000, maxClients: 16, priceLevels: 1_024,
            luld: LULDRules(limitStateNanoseconds: 5_000_000_000, pauseNanoseconds: 30_000_000_000))
        let limits = RiskLimits(maxOrderShares: 1_000_000, maxOpenNotional: .max / 2, maxOrdersPerSecond: 1_000_000, priceCollarsEnabled: true)
        var profile = OrderFlowProfile.randomized(instruments: instruments)
        profile.luldRunPerMille = 60
        var engine = RiskCheckedEngine(configuration: configuration, limits: limits)
        var publisher = FeedPublisher(session: testSession, maxPayload: 1_400, instruments: instruments, packetSlots: 64,
                                      historyMessages: 1 << 16, orderCapacity: 20_000)
        var receiver = BookReplica(instrumentCount: instruments.count, orderCapacity: 20_000)
        var engineForStream = RiskCheckedEngine(configuration: configuration, limits: limits)
        let commands = OrderFlowGenerator.record(profile: profile, seed: 7, count: 10_000) { engineForStream.runCollecting($0) }
        var collars: [ITCHMessage.LULDAuctionCollar] = []
        var pauseActions: [UInt8] = []
        var problems: [String] = []
        func drain(_ publisher: inout FeedPublisher, all: Bool) throws {
            while all || publisher.packets.free < 2, let slot = publisher.packets.takeReady() {
                let packet = try MoldUDP64.readPacket(UnsafeRawBufferPointer(start: publisher.packets.bytes(slot),
                                                                             count: publisher.packets.length(slot))).get()
                packet.forEachMessage { _, bytes in
                    switch ITCHDecoder.decode(bytes) {
                    case .success(let message):
                        if case .luldAuctionCollar(let j) = message { collars.append(j) }
                        if case .tradingAction(let h) = message, h.reason == ITCH.Reason.luldPause { pauseActions.append(h.state) }
                        let outcome = receiver.apply(message)
                        if outcome != .applied && outcome != .ignored { problems.append("\(outcome) for \(message)") }
                    case .failure(let error):
                        problems.append("\(error)")
                    }
                }
                publisher.packets.complete(slot)
            }
        }
        var pauses = 0
        for command in commands {
            for event in engine.runCollecting(command) {
                if case .auctionCollar = event { pauses += 1 }
                publisher.publish(event)
                try drain(&publisher, all: false)
            }
        }
        publisher.flush()
        try drain(&publisher, all: true)
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(publisher.counters.replicaMismatches == 0)
        #expect(pauses > 0)
        #expect(collars.count == pauses)
        #expect(collars.allSatisfy { $0.lowerPrice < $0.referencePrice || $0.referencePrice < $0.upperPrice })
        // Each pause: H (halted) then, when it ends, T; both with LUDP.
        #expect(pauseActions.filter { $0 == ITCH.TradingState.halted.rawValue }.count == pauses)
        #expect(pauseActions.contains(ITCH.TradingState.trading.rawValue))
        for i in 0..<instruments.count {
            for side in [BookSide.bid, .ask] {
                let displayed = engine.engine.restingOrders(instrument: InstrumentIndex(i), side: side).filter { $0.display.isDisplayed }
                #expect(receiver.restingOrders(instrument: InstrumentIndex(i), side: side).map(\.reference) == displayed.map(\.reference))
            }
        }
    }
}
