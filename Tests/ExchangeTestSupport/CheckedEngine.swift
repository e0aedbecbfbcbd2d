import ExchangeCore
import ExchangeRisk

/// A risk-checked engine that runs every command to completion and checks the engine's
/// invariants after each one, failing loudly on a violation.
public struct CheckedEngine: ~Copyable {
    public var engine: RiskCheckedEngine
    public private(set) var violations: [String] = []

    public init(configuration: EngineConfiguration = Fixtures.configuration(), limits: RiskLimits = .unlimited) {
        engine = RiskCheckedEngine(configuration: configuration, limits: limits)
    }

    /// Processes the command and returns its events.
    @discardableResult
    public mutating func send(_ command: EngineCommand) -> [EngineEvent] {
        let events = engine.runCollecting(command)
        let problems = engine.engine.invariantViolations()
        if !problems.isEmpty {
            violations += problems
            preconditionFailure("engine invariants broken after \(command): \(problems)")
        }
        return events
    }

    /// Processes each command, returning all events.
    @discardableResult
    public mutating func send(_ commands: [EngineCommand]) -> [EngineEvent] {
        commands.flatMap { send($0) }
    }

    public var core: MatchingEngine {
        _read { yield engine.engine }
    }

    public func bids(_ instrument: InstrumentIndex = 0) -> [RestingOrder] { engine.engine.restingOrders(instrument: instrument, side: .bid) }
    public func asks(_ instrument: InstrumentIndex = 0) -> [RestingOrder] { engine.engine.restingOrders(instrument: instrument, side: .ask) }
}
