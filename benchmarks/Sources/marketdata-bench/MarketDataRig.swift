import ExchangeAccess
import CExchangeShim
import ExchangeClock
import ExchangeCore
import ExchangeEngine
import ExchangeMarketData
import ExchangeRisk
import ExchangeRuntime
import ExchangeWire
import Foundation
import OrderFlow

/// Consumes a ring and does nothing else: the order gateway's place, and the book-event
/// drain that stands in for market data when it is off.
struct RingSink: Agent, ~Copyable {
    var roleName: String { "sink" }
    var events: SPSCRing<SequencedEvent>.Consumer
    mutating func doWork() -> Int {
        let n = events.peek(upTo: 1_024).count
        events.release(n)
        return n
    }
    mutating func beginDrain() {}
    var isDrained: Bool { events.depth == 0 }
}

/// One engine with its rings and a counters block, and either the market-data agent or a
/// sink on the book-event ring. Built fresh for every run.
final class MarketDataRig {
    static let instruments = SyntheticInstruments.make(count: 8)
    static let orderPool = 200_000
    /// `MarketDataConfiguration.snapshotCatchUpWhenIdle` (set once from the command line).
    nonisolated(unsafe) static var catchUpWhenIdle = true
    static let configuration = EngineConfiguration(instruments: instruments, orderPoolSize: orderPool, maxClients: 64, priceLevels: 4_096)
    static let limits = RiskLimits(maxOrderShares: 1_000_000, maxOpenNotional: .max / 4, maxOrdersPerSecond: 100_000_000,
                                   priceCollarsEnabled: true)

    let countersMemory: UnsafeMutableRawPointer
    let snapshotMemory: UnsafeMutableRawPointer
    let cells: CounterCells
    let runner: AgentRunner
    var commandRing: SPSCRing<CommandEnvelope>
    var controlRing = SPSCRing<CommandEnvelope>(capacity: 64)
    var orderRing = SPSCRing<SequencedEvent>(capacity: 65_536)
    var bookRing = SPSCRing<SequencedEvent>(capacity: 65_536)
    let group: UInt32
    let port: UInt16
    var retransmitPort: UInt16 = 0

    init(commandCapacity: Int) {
        countersMemory = .allocate(byteCount: CountersLayout.totalBytes, alignment: 4_096)
        countersMemory.initializeMemory(as: UInt8.self, repeating: 0, count: CountersLayout.totalBytes)
        snapshotMemory = .allocate(byteCount: OrderBookSnapshots.requiredBytes(maxLevels: 16), alignment: 128)
        snapshotMemory.initializeMemory(as: UInt8.self, repeating: 0, count: OrderBookSnapshots.requiredBytes(maxLevels: 16))
        cells = CounterCells(base: countersMemory)
        runner = AgentRunner(counters: cells)
        commandRing = SPSCRing<CommandEnvelope>(capacity: commandCapacity)
        group = 0xEFFE_0000 | UInt32(getpid() & 0xFFFF)
        port = UInt16(40_000 + getpid() % 20_000)
    }

    deinit {
        countersMemory.deallocate()
        snapshotMemory.deallocate()
    }

    func engineAgent() -> EngineAgent {
        EngineAgent(engine: RiskCheckedEngine(configuration: Self.configuration, limits: Self.limits),
                    commands: commandRing.makeConsumer(), control: controlRing.makeConsumer(),
                    orderEvents: orderRing.makeProducer(), bookEvents: bookRing.makeProducer(),
                    snapshots: OrderBookSnapshotServer(base: snapshotMemory, maxLevels: 16), cells: cells)
    }

    /// The agent, on a TSC clock at `ticksPerSecond` anchored now (its System Events; the
    /// book messages carry the commands' own stamps). Wrapped as the appliance runs it, so
    /// that its duty cycle is the one specialized for the production clock.
    func marketDataAgent(ticksPerSecond: UInt64) throws -> ProductionMarketDataAgent {
        var settings = MarketDataConfiguration(
            session: SoupSessionName("BENCH")!, instruments: Self.instruments, orderCapacity: Self.orderPool, group: group, port: port,
            interface: 0x7F00_0001, ttl: 0, loopback: true, sendBufferBytes: 8 << 20, maxPayloadBytes: 1_400,
            heartbeatIntervalNanoseconds: 1_000_000_000, bindAddress: 0x7F00_0001, retransmitPort: 0,
            retransmitHistoryMessages: 1 << 20, retransmitMaxRequestsPerSecond: 1_000, snapshotPort: 0, snapshotLoginRequired: false)
        settings.snapshotCatchUpWhenIdle = Self.catchUpWhenIdle
        let agent = try MarketDataAgent(configuration: settings, clock: ExchangeClock.TSCClock(ticksPerSecond: ticksPerSecond), events: bookRing.makeConsumer(),
                                        logins: LoginChannel(service: "snapshot", capacity: 16).makeClient(), cells: cells, upstreamFinished: { true })
        retransmitPort = agent.retransmitPort
        return ProductionMarketDataAgent(agent)
    }

    /// Commands the engine has processed (published every 1,024 and when its ring runs dry).
    var commandsConsumed: UInt64 { cells.load(CountersLayout.RingSlot.commands.offset + CountersLayout.RingCell.consumed) }
    var bookEventsConsumed: UInt64 { cells.load(CountersLayout.RingSlot.bookEvents.offset + CountersLayout.RingCell.consumed) }
    var bookEventsProduced: UInt64 { cells.load(CountersLayout.RingSlot.bookEvents.offset + CountersLayout.RingCell.produced) }

    /// The engine's order latency histogram (ticks from a command's push to the end of its processing).
    var orderLatency: LatencyHistogram.Snapshot {
        CountersSnapshot(cells).latency
    }

    /// A seeded day of order flow across the instruments.
    static func stream(count: Int, seed: UInt64) -> [EngineCommand] {
        var recorder = RiskCheckedEngine(configuration: configuration, limits: limits)
        var profile = OrderFlowProfile.realistic(instruments: instruments, clients: 32)
        profile.weights.admin = 0
        return OrderFlowGenerator.record(profile: profile, seed: seed, count: count) { recorder.runCollecting($0) }
    }
}
