import ExchangeClock
import ExchangeRuntime

/// The gateway on the production clock, compiled in this module.
///
/// `GatewayAgent` is generic over its clock so that tests can move time. The appliance
/// that runs it lives in another module, which cannot specialize the agent (its body is
/// not inlinable): it would run `GatewayAgent<TSCClock>` unspecialized, passing type
/// metadata to every internal call and reading fields through it (measured: +0.2 µs per
/// order at p50, benchmarks/RESULTS.md). Here `GatewayAgent<TSCClock>` is a concrete type
/// and the optimizer specializes the whole duty cycle for it.
public struct ProductionGatewayAgent: Agent, ~Copyable {
    public var agent: GatewayAgent<TSCClock>

    public init(_ agent: consuming GatewayAgent<TSCClock>) { self.agent = agent }

    public var roleName: String { agent.roleName }
    public mutating func onStart() throws(AgentStartError) { try agent.onStart() }
    public mutating func doWork() -> Int { agent.doWork() }
    public mutating func beginDrain() { agent.beginDrain() }
    public var isDrained: Bool { agent.isDrained }
    public mutating func onClose() { agent.onClose() }
    public var errorCount: UInt64 { agent.errorCount }
}
