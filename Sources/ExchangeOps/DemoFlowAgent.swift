import CExchangeShim
import ExchangeCore
import ExchangeRisk
import ExchangeRuntime
import OrderFlow

/// Stands in for order-entry clients until the gateway exists (`trading_exchange
/// --demo-flow RATE`): a seeded order stream, recorded at start in closed loop against a
/// private copy of the engine, fed into the command ring at `rate` commands per second.
/// The live engine sees the same commands in the same order, so it does what the recording
/// did. The stream stops when it runs out.
public struct DemoFlowAgent: Agent, ~Copyable {
    let commands: UnsafeMutableBufferPointer<EngineCommand>
    var producer: SPSCRing<CommandEnvelope>.Producer
    let ticksPerCommand: Double
    let cells: CounterCells
    var next = 0
    var start: UInt64 = 0
    var draining = false

    public static func recordedStream(configuration: EngineConfiguration, limits: RiskLimits, count: Int, seed: UInt64) -> [EngineCommand] {
        var recorder = RiskCheckedEngine(configuration: configuration, limits: limits)
        let hint = RiskLimitsHint(maxOrderShares: limits.maxOrderShares, maxOpenNotional: limits.maxOpenNotional)
        var profile = OrderFlowProfile.realistic(
            instruments: configuration.instruments, clients: min(configuration.maxClients, 32), limits: hint)
        profile.firms = min(profile.firms, profile.clients)
        return OrderFlowGenerator.record(profile: profile, seed: seed, count: count) { recorder.runCollecting($0) }
    }

    public init(commands stream: [EngineCommand], producer: consuming SPSCRing<CommandEnvelope>.Producer,
                rate: Int, ticksPerSecond: UInt64, cells: CounterCells) {
        commands = .allocate(capacity: stream.count)
        _ = commands.initialize(from: stream)
        self.producer = producer
        ticksPerCommand = Double(ticksPerSecond) / Double(max(1, rate))
        self.cells = cells
    }

    deinit { commands.deallocate() }

    public mutating func doWork() -> Int {
        guard !draining && next < commands.count else { return 0 }
        let now = rtes_rdtsc()
        if start == 0 { start = now }
        let due = min(commands.count, Int(Double(now &- start) / ticksPerCommand) &+ 1)
        var pushed = 0
        while next < due && pushed < 256 {
            guard producer.tryPush(CommandEnvelope(enqueuedAt: now, command: commands[next])) else { break }
            next &+= 1
            pushed &+= 1
        }
        if pushed > 0 || producer.fullCount > 0 {
            let ring = CountersLayout.RingSlot.commands.offset
            cells.store(ring + CountersLayout.RingCell.produced, producer.published)
            cells.store(ring + CountersLayout.RingCell.full, producer.fullCount)
        }
        return pushed
    }

    public mutating func beginDrain() { draining = true }

    public var isDrained: Bool { true }
}
