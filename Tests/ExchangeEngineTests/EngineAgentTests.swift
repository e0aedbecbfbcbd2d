import CMallocCounter
import ExchangeCore
import ExchangeRisk
@testable import ExchangeEngine
import ExchangeRuntime
import ExchangeTestSupport
import Foundation
import OrderFlow
import Testing

/// The engine agent between real rings: commands in, order and book events out, compared
/// with what the risk-checked engine produces on its own.
@Suite struct EngineAgentRouting {
    static let configuration = Fixtures.configuration(eventBufferCapacity: 64)
    static let limits = RiskLimits(maxOrderShares: 5_000, maxOpenNotional: 400_000 * 10_000, maxOrdersPerSecond: 40,
                                   priceCollarsEnabled: true)
    static let commands: [EngineCommand] = {
        var engine = RiskCheckedEngine(configuration: configuration, limits: limits)
        let profile = OrderFlowProfile.randomized(instruments: Fixtures.instruments, clients: 8,
                                                  limits: RiskLimitsHint(maxOrderShares: 5_000, maxOpenNotional: 400_000 * 10_000))
        return OrderFlowGenerator.record(profile: profile, seed: 11, count: 6_000) { engine.runCollecting($0) }
    }()
    static let expected: [EngineEvent] = {
        var engine = RiskCheckedEngine(configuration: configuration, limits: limits)
        return commands.flatMap { engine.runCollecting($0) }
    }()

    struct Rig: ~Copyable {
        var agent: EngineAgent
        var commands: SPSCRing<CommandEnvelope>.Producer
        var control: SPSCRing<CommandEnvelope>.Producer
        var orderEvents: SPSCRing<SequencedEvent>.Consumer
        var bookEvents: SPSCRing<SequencedEvent>.Consumer
        let counters: CountersRegion
        let snapshotMemory: UnsafeMutableRawPointer
        // The ends point into these rings' memory: the rig keeps them alive.
        let commandRing: SPSCRing<CommandEnvelope>
        let controlRing: SPSCRing<CommandEnvelope>
        let orderRing: SPSCRing<SequencedEvent>
        let bookRing: SPSCRing<SequencedEvent>
        /// The journal's end, when the rig journals: the test plays the journal agent.
        var journal: SPSCRing<SequencedCommand>.Consumer?
        let journalRing: SPSCRing<SequencedCommand>?
    }

    static func rig(outputCapacity: Int, journalCapacity: Int? = nil, nextSequence: UInt64 = 1) -> Rig {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        var commandRing = SPSCRing<CommandEnvelope>(capacity: 256)
        var controlRing = SPSCRing<CommandEnvelope>(capacity: 256)
        var orderRing = SPSCRing<SequencedEvent>(capacity: outputCapacity)
        var bookRing = SPSCRing<SequencedEvent>(capacity: outputCapacity)
        let snapshotMemory = UnsafeMutableRawPointer.allocate(byteCount: OrderBookSnapshots.requiredBytes(maxLevels: 100), alignment: 128)
        snapshotMemory.initializeMemory(as: UInt8.self, repeating: 0, count: OrderBookSnapshots.requiredBytes(maxLevels: 100))
        var journalRing: SPSCRing<SequencedCommand>? = nil
        if let journalCapacity { journalRing = SPSCRing<SequencedCommand>(capacity: journalCapacity) }
        let journalProducer = journalRing?.makeProducer()
        let journal = journalRing?.makeConsumer()
        let agent = EngineAgent(
            engine: RiskCheckedEngine(configuration: configuration, limits: limits), commands: commandRing.makeConsumer(),
            control: controlRing.makeConsumer(), orderEvents: orderRing.makeProducer(), bookEvents: bookRing.makeProducer(),
            snapshots: OrderBookSnapshotServer(base: snapshotMemory, maxLevels: 100), cells: counters.cells,
            journal: journalProducer, nextSequence: nextSequence)
        let commands = commandRing.makeProducer()
        let control = controlRing.makeProducer()
        let orderEvents = orderRing.makeConsumer()
        let bookEvents = bookRing.makeConsumer()
        return Rig(agent: agent, commands: commands, control: control, orderEvents: orderEvents, bookEvents: bookEvents,
                   counters: counters, snapshotMemory: snapshotMemory, commandRing: commandRing, controlRing: controlRing,
                   orderRing: orderRing, bookRing: bookRing, journal: journal, journalRing: journalRing)
    }

    /// Feeds every command, stepping the agent and taking at most `take` events per ring per step.
    static func drive(_ rig: inout Rig, take: Int) -> (orders: [EngineEvent], book: [EngineEvent]) {
        var orders: [EngineEvent] = []
        var book: [EngineEvent] = []
        var next = 0
        var idleSteps = 0
        while idleSteps < 3 {
            while next < commands.count && rig.commands.tryPush(CommandEnvelope(enqueuedAt: 0, command: commands[next])) { next += 1 }
            let work = rig.agent.doWork()
            var moved = 0
            for _ in 0..<take { guard let e = rig.orderEvents.tryPop() else { break }; orders.append(e.event); moved += 1 }
            for _ in 0..<take { guard let e = rig.bookEvents.tryPop() else { break }; book.append(e.event); moved += 1 }
            idleSteps = work == 0 && moved == 0 && next == commands.count ? idleSteps + 1 : 0
        }
        return (orders, book)
    }

    @Test func routesOrderEventsToTheGatewayAndBookEventsToMarketDataInOrder() {
        var rig = Self.rig(outputCapacity: 4_096)
        let (orders, book) = Self.drive(&rig, take: .max)
        #expect(orders == Self.expected.filter(\.isOrderEvent))
        #expect(book == Self.expected.filter(\.isBookEvent))
        let drained = rig.agent.isDrained
        #expect(drained)
        #expect(rig.counters.snapshot().engine["commands"] == UInt64(Self.commands.count))
        rig.snapshotMemory.deallocate()
    }

    @Test func takesCommandsFromTheControlRingTooInTheSameOrderOfEvents() {
        // Every fourth command through the control ring: the engine sees one stream.
        var rig = Self.rig(outputCapacity: 4_096)
        var orders: [EngineEvent] = []
        for (i, command) in Self.commands.enumerated() {
            let envelope = CommandEnvelope(enqueuedAt: 0, command: command)
            let pushed = i % 4 == 3 ? rig.control.tryPush(envelope) : rig.commands.tryPush(envelope)
            #expect(pushed)
            while rig.agent.doWork() > 0 {}
            while let e = rig.orderEvents.tryPop() { orders.append(e.event) }
            while rig.bookEvents.tryPop() != nil {}
        }
        #expect(orders == Self.expected.filter(\.isOrderEvent))
        #expect(rig.agent.control.released == UInt64(Self.commands.count / 4))
        rig.snapshotMemory.deallocate()
    }

    @Test func publishesHowManyGatewayCommandsAreFullyHandled() {
        var rig = Self.rig(outputCapacity: 8)
        let engine = EngineCounters.register(in: rig.counters.cells).engine
        var pushed: UInt64 = 0
        for command in Self.commands.prefix(200) {
            while !rig.commands.tryPush(CommandEnvelope(enqueuedAt: 0, command: command)) { _ = rig.agent.doWork() }
            pushed += 1
            _ = rig.agent.doWork()
            // Never ahead of what is in the output rings: the agent keeps events it could not hand on.
            #expect(engine.loadAcquiring(EngineCounters.commandsHandled) <= pushed)
            while rig.orderEvents.tryPop() != nil {}
            while rig.bookEvents.tryPop() != nil {}
        }
        for _ in 0..<10 {
            _ = rig.agent.doWork()
            while rig.orderEvents.tryPop() != nil {}
            while rig.bookEvents.tryPop() != nil {}
        }
        #expect(engine.loadAcquiring(EngineCounters.commandsHandled) == pushed)
        rig.snapshotMemory.deallocate()
    }

    @Test func keepsEventsWhenAnOutputRingIsFullAndLosesNone() {
        var rig = Self.rig(outputCapacity: 8)
        let (orders, book) = Self.drive(&rig, take: 3)
        #expect(orders == Self.expected.filter(\.isOrderEvent))
        #expect(book == Self.expected.filter(\.isBookEvent))
        let fullCounts = rig.agent.orderEvents.fullCount + rig.agent.bookEvents.fullCount
        #expect(fullCounts > 0)
        rig.snapshotMemory.deallocate()
    }

    @Test func answersAnOrderBookSnapshotRequestBetweenBatches() throws {
        var rig = Self.rig(outputCapacity: 4_096)
        _ = Self.drive(&rig, take: .max)
        let client = OrderBookSnapshotClient(base: rig.snapshotMemory, maxLevels: 100)
        let answer = Answer()
        let asked = Thread { answer.set(client.snapshot(instrument: 0, levels: 5)) }
        asked.start()
        // The agent answers between batches: turn it until the asking thread has its answer.
        let answered = waitUntil(pollInterval: .microseconds(50)) {
            _ = rig.agent.doWork()
            return answer.get() != nil
        }
        #expect(answered)
        let snapshot = try #require(try answer.get()?.get())
        #expect(snapshot.bids == rig.agent.engine.engine.depth(instrument: 0, side: .bid, maxLevels: 5))
        #expect(snapshot.asks == rig.agent.engine.engine.depth(instrument: 0, side: .ask, maxLevels: 5))
        rig.snapshotMemory.deallocate()
    }

    @Test func processesAndRoutesWithoutTouchingTheHeap() {
        var rig = Self.rig(outputCapacity: 4_096)
        let envelopes = Self.commands.map { CommandEnvelope(enqueuedAt: 0, command: $0) }
        let counts = envelopes.withUnsafeBufferPointer { stream -> rtes_malloc_counts in
            var next = 0
            func step(_ rig: inout Rig) {
                while next < stream.count && rig.commands.tryPush(stream[next]) { next += 1 }
                _ = rig.agent.doWork()
                while rig.orderEvents.tryPop() != nil {}
                while rig.bookEvents.tryPop() != nil {}
            }
            while next < stream.count / 2 { step(&rig) }  // warm-up
            rtes_malloc_counter_start()
            while next < stream.count { step(&rig) }
            for _ in 0..<10 { step(&rig) }
            return rtes_malloc_counter_stop()
        }
        #expect(counts.allocations == 0)
        rig.snapshotMemory.deallocate()
    }
}

/// Sequencing and journaling: every command gets the next sequence of the day, goes onto
/// the journal's ring before it is processed, and every event carries its sequence.
@Suite struct EngineAgentSequencing {
    typealias Routing = EngineAgentRouting

    /// What the engine emits for each command alone, stamped with the command's sequence.
    static func expected(from first: UInt64) -> [SequencedEvent] {
        var engine = RiskCheckedEngine(configuration: Routing.configuration, limits: Routing.limits)
        var out: [SequencedEvent] = []
        for (i, command) in Routing.commands.enumerated() {
            for event in engine.runCollecting(command) { out.append(SequencedEvent(sequence: first + UInt64(i), event: event)) }
        }
        return out
    }

    @Test func journalsEveryCommandFromEitherRingInOrderAndStampsItsEvents() {
        var rig = Routing.rig(outputCapacity: 4_096, journalCapacity: 8_192)
        var orders: [SequencedEvent] = []
        var book: [SequencedEvent] = []
        for (i, command) in Routing.commands.enumerated() {
            let envelope = CommandEnvelope(enqueuedAt: 0, command: command)
            let pushed = i % 4 == 3 ? rig.control.tryPush(envelope) : rig.commands.tryPush(envelope)
            #expect(pushed)
            while rig.agent.doWork() > 0 {}
            while let e = rig.orderEvents.tryPop() { orders.append(e) }
            while let e = rig.bookEvents.tryPop() { book.append(e) }
        }
        var journaled: [SequencedCommand] = []
        while let record = rig.journal?.tryPop() { journaled.append(record) }
        #expect(journaled == Routing.commands.enumerated().map { SequencedCommand(sequence: UInt64($0.offset + 1), command: $0.element) })
        let expected = Self.expected(from: 1)
        #expect(orders == expected.filter(\.event.isOrderEvent))
        #expect(book == expected.filter(\.event.isBookEvent))
        #expect(rig.agent.nextSequence == UInt64(Routing.commands.count + 1))
        rig.snapshotMemory.deallocate()
    }

    @Test func continuesTheDaysSequenceFromWhereRecoveryLeftIt() {
        var rig = Routing.rig(outputCapacity: 4_096, journalCapacity: 8_192, nextSequence: 1_001)
        let (orders, _) = Routing.drive(&rig, take: .max)
        #expect(orders == Routing.expected.filter(\.isOrderEvent))
        var first: UInt64?
        var last: UInt64 = 0
        while let record = rig.journal?.tryPop() {
            if first == nil { first = record.sequence }
            #expect(record.sequence == last + 1 || last == 0)
            last = record.sequence
        }
        #expect(first == 1_001)
        #expect(last == UInt64(1_000 + Routing.commands.count))
        rig.snapshotMemory.deallocate()
    }

    @Test func stopsTakingCommandsWhileTheJournalRingIsFullAndResumes() {
        var rig = Routing.rig(outputCapacity: 4_096, journalCapacity: 16)
        let engine = EngineCounters.register(in: rig.counters.cells).engine
        for command in Routing.commands.prefix(100) {
            let pushed = rig.commands.tryPush(CommandEnvelope(enqueuedAt: 0, command: command))
            #expect(pushed)
        }
        for _ in 0..<5 { _ = rig.agent.doWork() }
        // Sixteen commands journaled and processed; none beyond, the stall counted.
        #expect(rig.agent.commands.released == 16)
        #expect(rig.agent.nextSequence == 17)
        #expect(engine.load(EngineCounters.journalFull) >= 5)
        #expect(rig.counters.snapshot().engineJournalFull >= 5)
        var journaled: [SequencedCommand] = []
        var events: [SequencedEvent] = []
        while let e = rig.orderEvents.tryPop() { events.append(e) }
        #expect(events.allSatisfy { $0.sequence <= 16 })
        // The journal takes what it holds: the engine goes on, sixteen at a time.
        var turns = 0
        while journaled.count < 100 && turns < 1_000 {
            while let record = rig.journal?.tryPop() { journaled.append(record) }
            _ = rig.agent.doWork()
            while let e = rig.orderEvents.tryPop() { events.append(e) }
            while rig.bookEvents.tryPop() != nil {}
            turns += 1
        }
        #expect(journaled.map(\.sequence) == Array(1...100))
        #expect(journaled.map(\.command) == Array(Routing.commands.prefix(100)))
        #expect(events == Self.expected(from: 1).filter { $0.sequence <= 100 && $0.event.isOrderEvent })
        rig.snapshotMemory.deallocate()
    }

    @Test func journalsAndRoutesWithoutTouchingTheHeap() {
        var rig = Routing.rig(outputCapacity: 4_096, journalCapacity: 256)
        let envelopes = Routing.commands.map { CommandEnvelope(enqueuedAt: 0, command: $0) }
        let counts = envelopes.withUnsafeBufferPointer { stream -> rtes_malloc_counts in
            var next = 0
            func step(_ rig: inout Routing.Rig) {
                while next < stream.count && rig.commands.tryPush(stream[next]) { next += 1 }
                _ = rig.agent.doWork()
                while rig.journal?.tryPop() != nil {}
                while rig.orderEvents.tryPop() != nil {}
                while rig.bookEvents.tryPop() != nil {}
            }
            while next < stream.count / 2 { step(&rig) }  // warm-up
            rtes_malloc_counter_start()
            while next < stream.count { step(&rig) }
            for _ in 0..<10 { step(&rig) }
            return rtes_malloc_counter_stop()
        }
        #expect(counts.allocations == 0)
        rig.snapshotMemory.deallocate()
    }
}

final class Answer: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<OrderBookSnapshot, OrderBookSnapshotClient.Failure>?
    func set(_ v: Result<OrderBookSnapshot, OrderBookSnapshotClient.Failure>) { lock.lock(); value = v; lock.unlock() }
    func get() -> Result<OrderBookSnapshot, OrderBookSnapshotClient.Failure>? { lock.lock(); defer { lock.unlock() }; return value }
}
