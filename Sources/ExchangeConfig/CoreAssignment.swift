/// `performance.cores`: the CPU each agent is pinned to when pinning is enabled.
public struct CoreAssignment: Sendable, Equatable {
    /// The agents that can be pinned, with their configuration keys.
    public enum Agent: String, Sendable, CaseIterable {
        case gateway
        case engine
        case marketData = "market_data"
    }

    public var gateway = 0
    public var engine = 1
    public var marketData = 1

    /// The documented defaults.
    public init() {}

    public init(gateway: Int, engine: Int, marketData: Int) {
        self.gateway = gateway
        self.engine = engine
        self.marketData = marketData
    }

    public subscript(agent: Agent) -> Int {
        get {
            switch agent {
            case .gateway: gateway
            case .engine: engine
            case .marketData: marketData
            }
        }
        set {
            switch agent {
            case .gateway: gateway = newValue
            case .engine: engine = newValue
            case .marketData: marketData = newValue
            }
        }
    }
}
