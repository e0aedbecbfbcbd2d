import ExchangeAccess
import ExchangeClock
import ExchangeCore
import ExchangeEngine
import ExchangeMarketData
import ExchangeRisk
import ExchangeRuntime
import ExchangeTestSupport
import ExchangeWire
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
        for _ in 0..<10 { turn(&agent, &engine) }  // the opening (today at start: not a command)
        let opened = agent.publisher.nextSequence
        let messagesAtOpen = agent.publisher.counters.messages

        // Two resting orders, then one (another client's) that trades with both: three commands.
        let stream = [enter(.sell, 100, at: 1_000_100, token: "S1"), enter(.sell, 100, at: 1_000_200, token: "S2"),
                      enter(.buy, 200, at: 1_000_200, token: "B1", client: 2)]
        for command in stream { #expect(commands.tryPush(CommandEnvelope(enqueuedAt: 0, command: command))) }
        for _ in 0..<10 { turn(&agent, &engine) }
        var records: [SequencedCommand] = []
        while let record = journal.tryPop() { records.append(record) }
        #expect(records.map(\.sequence) == [1, 2, 3])
        // Processed by the engine, journaled, not durable: nothing on the feed, in the
        // history or in the snapshot service's books.
        #expect(agent.publisher.nextSequence == opened)
        #expect(agent.publisher.counters.messages == messagesAtOpen)
        #expect(agent.publisher.replica.orderCount == 0)

        durable.publish(1)
        turn(&agent, &engine)
        #expect(agent.publisher.nextSequence == opened + 1, "the first Add Order, nothing of command 2")
        #expect(agent.publisher.replica.orderCount == 1)

        durable.publish(3)
        turn(&agent, &engine)
        // Add Order (2), two executions (3): the book is empty again.
        #expect(agent.publisher.nextSequence == opened + 4)
        #expect(agent.publisher.replica.orderCount == 0)
        agent.onClose()
        _ = consume agent
        _ = consume engine
    }
}
