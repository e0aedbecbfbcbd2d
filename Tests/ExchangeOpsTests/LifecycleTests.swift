import ExchangeClock
import ExchangeCore
import ExchangeEngine
@testable import ExchangeOps
import ExchangeRisk
import ExchangeRuntime
import ExchangeTestSupport
import Testing

/// The demo flow paced by a clock the test moves: no sleep decides how many commands are due.
@Suite struct DemoFlowPacing {
    @Test func feedsCommandsAtItsRateByTheInjectedClockStampingItsTime() throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        let stream = DemoFlowAgent<ManualClock>.recordedStream(
            configuration: Fixtures.configuration(), limits: RiskLimits(maxOrderShares: 5_000, maxOpenNotional: 1 << 50,
                                                                        maxOrdersPerSecond: 1_000, priceCollarsEnabled: true),
            clients: 4, count: 100, seed: 3)
        #expect(stream.count == 100)
        var ring = SPSCRing<CommandEnvelope>(capacity: 256)
        var consumer = ring.makeConsumer()
        let clock = ManualClock()
        var agent = DemoFlowAgent(commands: stream, producer: ring.makeProducer(), rate: 1_000, clock: clock,
                                  clientOffset: 10, cells: counters.cells)
        try agent.onStart()
        // 1,000 a second: the first is due at once, then one a millisecond.
        #expect(agent.doWork() == 1)
        #expect(agent.doWork() == 0)
        clock.advance(milliseconds: 10)
        #expect(agent.doWork() == 10)
        var received: [CommandEnvelope] = []
        while let envelope = consumer.tryPop() { received.append(envelope) }
        #expect(received.count == 11)
        #expect(received.last?.enqueuedAt == clock.ticks())
        #expect(received.last?.command.timestamp == clock.now())
        #expect(received.first?.command.timestamp == clock.now() - 10_000_000)
        let clients = received.compactMap { envelope -> ClientID? in
            if case .enter(let order) = envelope.command { order.client } else { nil }
        }
        #expect(!clients.isEmpty && clients.allSatisfy { $0 >= 10 })
        // Draining stops the flow whatever the clock says.
        agent.beginDrain()
        clock.advance(seconds: 1)
        #expect(agent.doWork() == 0)
        agent.onClose()
    }
}

/// A thread whose agent fails `onStart()` stops the appliance's start-up with the agent's reason.
@Suite struct ApplianceStartUp {
    struct Unstartable: Agent, ~Copyable {
        var roleName: String { "gateway" }
        mutating func onStart() throws(AgentStartError) {
            throw AgentStartError(role: roleName, reason: "io_uring_queue_init failed: Cannot allocate memory")
        }
        mutating func doWork() -> Int { 0 }
        mutating func beginDrain() {}
        var isDrained: Bool { true }
    }

    @Test func failsWithTheAgentsStartErrorWhenAThreadReportsOne() throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        let runner = AgentRunner(counters: counters.cells)
        defer { runner.drain() }
        let report = try runner.start(Unstartable(), name: "rtes-gateway", slot: .gateway, stage: 0,
                                      placement: AgentRunner.Placement(cpus: [], idle: IdleStrategy(.backoff)))
        let error = try #require(throws: ApplianceError.self) { try Appliance.started(report) }
        #expect(error.description == "thread rtes-gateway did not start: gateway agent did not start: io_uring_queue_init failed: Cannot allocate memory")
    }

    struct Idle: Agent, ~Copyable {
        var roleName: String { "idle" }
        mutating func doWork() -> Int { 0 }
        mutating func beginDrain() {}
        var isDrained: Bool { true }
    }

    @Test func passesAThreadThatStartedThroughAsItsReportLine() throws {
        let counters = CountersRegion.anonymous(name: "T", ticksPerSecond: 1_000_000_000)
        let runner = AgentRunner(counters: counters.cells)
        defer { runner.drain() }
        let report = try runner.start(Idle(), name: "rtes-md", slot: .marketData, stage: 0,
                                      placement: AgentRunner.Placement(cpus: [], idle: IdleStrategy(.backoff)))
        #expect(try Appliance.started(report) == report.description)
    }
}
