import ExchangeClock
import ExchangeRuntime

/// Market data on the production clock, compiled in this module.
///
/// `MarketDataAgent` is generic over its clock so that tests can move time. The appliance
/// that runs it lives in another module, which cannot specialize the agent (its body is
/// not inlinable): it would run `MarketDataAgent<TSCClock>` unspecialized, passing type
/// metadata to every internal call and reading fields through it (measured on the gateway and
/// on rtes-md's order rate, benchmarks/RESULTS.md). Here `MarketDataAgent<TSCClock>` is a concrete type
/// and the optimizer specializes the whole duty cycle for it.
public struct ProductionMarketDataAgent: Agent, ~Copyable {
    public var agent: MarketDataAgent<TSCClock>

    public init(_ agent: consuming MarketDataAgent<TSCClock>) { self.agent = agent }

    public var roleName: String { agent.roleName }
    public mutating func onStart() throws(AgentStartError) { try agent.onStart() }
    public mutating func doWork() -> Int { agent.doWork() }
    public mutating func beginDrain() { agent.beginDrain() }
    public var isDrained: Bool { agent.isDrained }
    public mutating func onClose() { agent.onClose() }
    public var errorCount: UInt64 { agent.errorCount }
}
