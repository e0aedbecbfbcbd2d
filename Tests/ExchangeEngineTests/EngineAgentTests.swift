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
        var orderEvents: SPSCRing<EngineEvent>.Consumer
        var bookEvents: SPSCRing<EngineEvent>.Consumer
        let counters: CountersRegion
        let snapshotMemory: UnsafeMutableRawPointer
        // The ends point into these rings' memory: the rig keeps them alive.
        let commandRing: SPSCRing<CommandEnvelope>
        let controlRing: SPSCRing<CommandEnvelope>
        let orderRing: SPSCRing<EngineEvent>
        let bookRing: SPSCRing<EngineEvent>
    }

    static func rig(outputCapacity: Int) -> Rig {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        var commandRing = SPSCRing<CommandEnvelope>(capacity: 256)
        var controlRing = SPSCRing<CommandEnvelope>(capacity: 256)
        var orderRing = SPSCRing<EngineEvent>(capacity: outputCapacity)
        var bookRing = SPSCRing<EngineEvent>(capacity: outputCapacity)
        let snapshotMemory = UnsafeMutableRawPointer.allocate(byteCount: OrderBookSnapshots.requiredBytes(maxLevels: 100), alignment: 128)
        snapshotMemory.initializeMemory(as: UInt8.self, repeating: 0, count: OrderBookSnapshots.requiredBytes(maxLevels: 100))
        let agent = EngineAgent(
            engine: RiskCheckedEngine(configuration: configuration, limits: limits), commands: commandRing.makeConsumer(),
            control: controlRing.makeConsumer(), orderEvents: orderRing.makeProducer(), bookEvents: bookRing.makeProducer(),
            snapshots: OrderBookSnapshotServer(base: snapshotMemory, maxLevels: 100), cells: counters.cells)
        let commands = commandRing.makeProducer()
        let control = controlRing.makeProducer()
        let orderEvents = orderRing.makeConsumer()
        let bookEvents = bookRing.makeConsumer()
        return Rig(agent: agent, commands: commands, control: control, orderEvents: orderEvents, bookEvents: bookEvents,
                   counters: counters, snapshotMemory: snapshotMemory, commandRing: commandRing, controlRing: controlRing,
                   orderRing: orderRing, bookRing: bookRing)
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
            for _ in 0..<take { guard let e = rig.orderEvents.tryPop() else { break }; orders.append(e); moved += 1 }
            for _ in 0..<take { guard let e = rig.bookEvents.tryPop() else { break }; book.append(e); moved += 1 }
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
            while let e = rig.orderEvents.tryPop() { orders.append(e) }
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

final class Answer: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<OrderBookSnapshot, OrderBookSnapshotClient.Failure>?
    func set(_ v: Result<OrderBookSnapshot, OrderBookSnapshotClient.Failure>) { lock.lock(); value = v; lock.unlock() }
    func get() -> Result<OrderBookSnapshot, OrderBookSnapshotClient.Failure>? { lock.lock(); defer { lock.unlock() }; return value }
}
