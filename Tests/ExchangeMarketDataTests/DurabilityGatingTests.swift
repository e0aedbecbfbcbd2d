import ExchangeAccess
import ExchangeClock
import ExchangeCore
import ExchangeEngine
@testable import ExchangeMarketData
import ExchangeRisk
import ExchangeRuntime
import ExchangeTestSupport
import ExchangeWire
import OrderFlow
import Testing

/// `durability.mode` sync at the market-data agent: the engine agent and the agent turned on
/// the test's thread, the test playing the journal agent. No ITCH message caused by command s
/// is numbered, packed or kept for re-requests before the durable position reaches s; it is
/// published on the next turn after.
@Suite struct MarketDataDurabilityGating {
    @Test func publishesNothingOfACommandBeforeItIsDurableAndAllOfItRightAfter() throws {
        let instruments = FeedRig.makeInstruments()
        let configuration = EngineConfiguration(instruments: instruments, orderPoolSize: 1_000, maxClients: 16, priceLevels: 4_096)
        let limits = RiskLimits(maxOrderShares: 100_000, maxOpenNotional: .max / 2, maxOrdersPerSecond: 1_000_000, priceCollarsEnabled: true)
        var commandRing = SPSCRing<CommandEnvelope>(capacity: 64)
        var controlRing = SPSCRing<CommandEnvelope>(capacity: 64)
        var orderRing = SPSCRing<SequencedEvent>(capacity: 1_024)
        var bookRing = SPSCRing<SequencedEvent>(capacity: 1_024)
        var journalRing = SPSCRing<SequencedCommand>(capacity: 64)
        let durable = DurablePosition(initial: 0)
        defer { durable.deallocate() }
        let countersMemory = UnsafeMutableRawPointer.allocate(byteCount: CountersLayout.totalBytes, alignment: 4_096)
        defer { countersMemory.deallocate() }
        countersMemory.initializeMemory(as: UInt8.self, repeating: 0, count: CountersLayout.totalBytes)
        let cells = CounterCells(base: countersMemory)
        let snapshotMemory = UnsafeMutableRawPointer.allocate(byteCount: OrderBookSnapshots.requiredBytes(maxLevels: 10), alignment: 128)
        defer { snapshotMemory.deallocate() }
        snapshotMemory.initializeMemory(as: UInt8.self, repeating: 0, count: OrderBookSnapshots.requiredBytes(maxLevels: 10))
        var engine = EngineAgent(
            engine: RiskCheckedEngine(configuration: configuration, limits: limits), commands: commandRing.makeConsumer(),
            control: controlRing.makeConsumer(), orderEvents: orderRing.makeProducer(), bookEvents: bookRing.makeProducer(),
            snapshots: OrderBookSnapshotServer(base: snapshotMemory, maxLevels: 10), cells: cells, journal: journalRing.makeProducer())
        var commands = commandRing.makeProducer()
        var orderEvents = orderRing.makeConsumer()
        var journal = journalRing.makeConsumer()
        let md = MarketDataConfiguration(
            session: SoupSessionName("GATED")!, instruments: instruments, orderCapacity: 1_000, group: FeedRig.uniqueGroup() &+ 2,
            port: UInt16(freeUDPPort()), interface: 0x7F00_0001, ttl: 0, loopback: true, sendBufferBytes: 1 << 20,
            maxPayloadBytes: 1_400, heartbeatIntervalNanoseconds: 1_000_000_000, bindAddress: 0x7F00_0001, retransmitPort: 0,
            retransmitHistoryMessages: 1 << 10, retransmitMaxRequestsPerSecond: 1_000, snapshotPort: 0, snapshotLoginRequired: false)
        let clock = ManualClock()
        var agent = try MarketDataAgent(configuration: md, clock: clock, events: bookRing.makeConsumer(),
                                        logins: LoginChannel(service: "snapshot", capacity: 16).makeClient(), cells: cells,
                                        durability: .sync, durable: durable, upstreamFinished: { true })
        try agent.onStart()
        func turn(_ agent: inout MarketDataAgent<ManualClock>, _ engine: inout EngineAgent) {
            _ = engine.doWork()
            _ = agent.doWork()
            while orderEvents.tryPop() != nil {}
        }
        // The start of the day, two resting orders, then one (another client's) that trades
        // with both: four commands.
        let stream = [EngineCommand.startOfDay(1_000), enter(.sell, 100, at: 1_000_100, token: "S1"),
                      enter(.sell, 100, at: 1_000_200, token: "S2"), enter(.buy, 200, at: 1_000_200, token: "B1", client: 2, firm: Fixtures.firmB)]
        for command in stream {
            let pushed = commands.tryPush(CommandEnvelope(enqueuedAt: 0, command: command))
            #expect(pushed)
        }
        for _ in 0..<10 { turn(&agent, &engine) }
        var records: [SequencedCommand] = []
        while let record = journal.tryPop() { records.append(record) }
        #expect(records.map(\.sequence) == [1, 2, 3, 4])
        // Processed by the engine and journaled, not durable: not even the opening is out,
        // nothing is numbered, kept for re-requests or in the snapshot service's books.
        #expect(agent.publisher.nextSequence == 1)
        #expect(agent.publisher.counters.messages == 0)
        #expect(agent.publisher.counters.packets == 0)
        #expect(agent.publisher.replica.orderCount == 0)

        durable.publish(1)
        for _ in 0..<5 { turn(&agent, &engine) }
        // The opening: System Events O, S, Q, a Stock Directory and a Trading Action per symbol.
        let opened = agent.publisher.nextSequence
        #expect(opened == UInt64(1 + 3 + 2 * instruments.count))
        #expect(agent.publisher.phase == .live)
        #expect(agent.publisher.replica.orderCount == 0)

        durable.publish(2)
        turn(&agent, &engine)
        #expect(agent.publisher.nextSequence == opened + 1, "the first Add Order, nothing of command 3")
        #expect(agent.publisher.replica.orderCount == 1)

        durable.publish(4)
        turn(&agent, &engine)
        // Add Order (3), two executions (4): the book is empty again.
        #expect(agent.publisher.nextSequence == opened + 4)
        #expect(agent.publisher.replica.orderCount == 0)
        agent.onClose()
        _ = consume agent
        _ = consume engine
    }
}

/// Recovery's hook at the market-data agent: an agent fed the day by `replay` before
/// `onStart` has the sequence number, the re-request history and the books of the agent that
/// published the same events live, and both go on identically.
@Suite struct MarketDataReplay {
    static func configuration(port: UInt16) -> MarketDataConfiguration {
        MarketDataConfiguration(
            session: SoupSessionName("REPLAY")!, instruments: FeedRig.makeInstruments(), orderCapacity: 20_000,
            group: FeedRig.uniqueGroup() &+ 3, port: port, interface: 0x7F00_0001, ttl: 0, loopback: true,
            sendBufferBytes: 1 << 20, maxPayloadBytes: 1_400, heartbeatIntervalNanoseconds: 1_000_000_000,
            bindAddress: 0x7F00_0001, retransmitPort: 0, retransmitHistoryMessages: 1 << 16, retransmitMaxRequestsPerSecond: 1_000,
            snapshotPort: 0, snapshotLoginRequired: false)
    }

    /// Every message the history holds, as bytes.
    static func history(_ agent: borrowing MarketDataAgent<ManualClock>) -> [UInt8] {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var out: [UInt8] = []
        var sequence = agent.publisher.history.oldestSequence
        while sequence < agent.publisher.nextSequence {
            let (count, bytes) = agent.publisher.history.copyBlocks(from: sequence, maxCount: 1_000, maxBytes: 1 << 20, to: buffer)
            guard count > 0 else { break }
            out += UnsafeRawBufferPointer(start: buffer, count: bytes)
            sequence += UInt64(count)
        }
        return out
    }

    @Test func anAgentFedByReplayContinuesTheLiveAgentsSequenceHistoryAndBooks() throws {
        let instruments = FeedRig.makeInstruments()
        let engineConfiguration = EngineConfiguration(instruments: instruments, orderPoolSize: 20_000, maxClients: 16, priceLevels: 4_096)
        let limits = RiskLimits(maxOrderShares: 100_000, maxOpenNotional: .max / 2, maxOrdersPerSecond: 1_000_000, priceCollarsEnabled: true)
        var recorder = RiskCheckedEngine(configuration: engineConfiguration, limits: limits)
        let stream = [EngineCommand.startOfDay(5_000)]
            + OrderFlowGenerator.record(profile: .realistic(instruments: instruments, clients: 8), seed: 17, count: 3_000) {
                recorder.runCollecting($0)
            }
        var engine = RiskCheckedEngine(configuration: engineConfiguration, limits: limits)
        var events: [SequencedEvent] = []
        for (i, command) in stream.enumerated() {
            for event in engine.runCollecting(command) where event.isBookEvent { events.append(SequencedEvent(sequence: UInt64(i + 1), event: event)) }
        }
        let split = events.count * 2 / 3  // the "crash": the first two thirds, then both go on

        let countersMemory = UnsafeMutableRawPointer.allocate(byteCount: CountersLayout.totalBytes, alignment: 4_096)
        defer { countersMemory.deallocate() }
        countersMemory.initializeMemory(as: UInt8.self, repeating: 0, count: CountersLayout.totalBytes)
        let cells = CounterCells(base: countersMemory)
        let clock = ManualClock()
        var liveRing = SPSCRing<SequencedEvent>(capacity: 4_096)
        var replayRing = SPSCRing<SequencedEvent>(capacity: 4_096)
        var liveProducer = liveRing.makeProducer()
        var replayProducer = replayRing.makeProducer()
        var live = try MarketDataAgent(configuration: Self.configuration(port: UInt16(freeUDPPort())), clock: clock,
                                       events: liveRing.makeConsumer(), logins: LoginChannel(service: "snapshot", capacity: 4).makeClient(),
                                       cells: cells, upstreamFinished: { true })
        var restarted = try MarketDataAgent(configuration: Self.configuration(port: UInt16(freeUDPPort())), clock: clock,
                                            events: replayRing.makeConsumer(), logins: LoginChannel(service: "snapshot", capacity: 4).makeClient(),
                                            cells: cells, upstreamFinished: { true })
        try live.onStart()
        var next = 0
        func feed(_ agent: inout MarketDataAgent<ManualClock>, _ producer: inout SPSCRing<SequencedEvent>.Producer, upTo end: Int,
                  from start: inout Int) {
            var turns = 0
            while (start < end || agent.events.depth > 0) && turns < 100_000 {
                while start < end && producer.tryPush(events[start]) { start += 1 }
                _ = agent.doWork()
                turns += 1
            }
        }
        feed(&live, &liveProducer, upTo: split, from: &next)
        for event in events[..<split] { restarted.replay(event.event) }
        try restarted.onStart()
        #expect(restarted.publisher.nextSequence == live.publisher.nextSequence)
        #expect(restarted.publisher.replica.orderCount == live.publisher.replica.orderCount)
        #expect(Self.history(restarted) == Self.history(live))

        // Both go on with the rest of the day: still the same.
        var rest = split
        feed(&live, &liveProducer, upTo: events.count, from: &next)
        feed(&restarted, &replayProducer, upTo: events.count, from: &rest)
        #expect(restarted.publisher.nextSequence == live.publisher.nextSequence)
        #expect(Self.history(restarted) == Self.history(live))
        for i in 0..<instruments.count {
            let instrument = InstrumentIndex(i)
            #expect(restarted.publisher.replica.depth(instrument: instrument, side: .bid) == live.publisher.replica.depth(instrument: instrument, side: .bid))
            #expect(restarted.publisher.replica.depth(instrument: instrument, side: .ask) == live.publisher.replica.depth(instrument: instrument, side: .ask))
        }
        live.onClose()
        restarted.onClose()
        _ = consume live
        _ = consume restarted
    }
}
