import ExchangeClock
import ExchangeCore
import ExchangeEngine
import ExchangeRisk
import ExchangeRuntime
import OrderFlow

/// Background activity for a demonstration (`trading_exchange --demo-flow RATE`): a seeded
/// order stream, recorded at start in closed loop against a private copy of the engine,
/// fed into the engine's control ring at `rate` commands per second beside the gateway's
/// clients. Each command is stamped with the live clock and its client moved past the
/// gateway's accounts, so demo orders trade with real clients' orders but their replies go
/// nowhere. The stream stops when it runs out.
///
/// Time comes from the injected clock `C` (`TSCClock` in the appliance, `ManualClock` in
/// tests): the rate is paced in its ticks, counted from `onStart()`, and commands carry its
/// nanoseconds as their timestamp and its ticks as their enqueue time.
public struct DemoFlowAgent<C: Clock>: Agent, ~Copyable {
    public var roleName: String { "demo-flow" }

    let commands: UnsafeMutableBufferPointer<EngineCommand>
    var producer: SPSCRing<CommandEnvelope>.Producer
    let ticksPerCommand: Double
    let cells: CounterCells
    let clock: C
    let clientOffset: ClientID
    var next = 0
    var start: UInt64 = 0
    var draining = false

    /// A stream for `clients` clients numbered from 0 (the agent moves them past the accounts).
    public static func recordedStream(configuration: EngineConfiguration, limits: RiskLimits, clients: Int, count: Int, seed: UInt64) -> [EngineCommand] {
        var recorder = RiskCheckedEngine(configuration: configuration, limits: limits)
        let hint = RiskLimitsHint(maxOrderShares: limits.maxOrderShares, maxOpenNotional: limits.maxOpenNotional)
        var profile = OrderFlowProfile.realistic(
            instruments: configuration.instruments, clients: max(1, min(configuration.maxClients, clients)), limits: hint)
        profile.firms = min(profile.firms, profile.clients)
        return OrderFlowGenerator.record(profile: profile, seed: seed, count: count) { recorder.runCollecting($0) }
    }

    public init(commands stream: [EngineCommand], producer: consuming SPSCRing<CommandEnvelope>.Producer,
                rate: Int, clock: C, clientOffset: ClientID, cells: CounterCells) {
        let ticksPerSecond = clock.ticksPerSecond
        commands = .allocate(capacity: stream.count)
        _ = commands.initialize(from: stream)
        self.producer = producer
        ticksPerCommand = Double(ticksPerSecond) / Double(max(1, rate))
        self.cells = cells
        self.clock = clock
        self.clientOffset = clientOffset
    }

    deinit { commands.deallocate() }

    /// The pace counts from here: the first command is due at once.
    public mutating func onStart() throws(AgentStartError) {
        start = clock.ticks()
    }

    public mutating func doWork() -> Int {
        guard !draining && next < commands.count else { return 0 }
        let now = clock.ticks()
        let due = min(commands.count, Int(Double(now &- start) / ticksPerCommand) &+ 1)
        var pushed = 0
        let timestamp = clock.nanoseconds(atTicks: now)
        while next < due && pushed < 256 {
            let command = commands[next].rebased(timestamp: timestamp, clientOffset: clientOffset)
            guard producer.tryPush(CommandEnvelope(enqueuedAt: now, command: command)) else { break }
            next &+= 1
            pushed &+= 1
        }
        if pushed > 0 || producer.fullCount > 0 {
            let ring = CountersLayout.RingSlot.control.offset
            cells.store(ring + CountersLayout.RingCell.produced, producer.published)
            cells.store(ring + CountersLayout.RingCell.full, producer.fullCount)
        }
        return pushed
    }

    public mutating func beginDrain() { draining = true }

    public var isDrained: Bool { true }
}
