/// `durability.mode`: what an acknowledgement promises. The one mode type: ExchangeConfig
/// parses it; the engine agent, the journal agent, the gateway and the market-data agent
/// apply it; it lives here, in a target that depends on nothing.
public enum DurabilityMode: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// No journal: a restart starts an empty day.
    case none
    /// Journaled, output not gated: an acknowledgement may precede its record on disk by a
    /// bounded window (the journal ring's capacity and one group commit's interval).
    case async
    /// Nothing a command caused leaves the exchange before its record is durable.
    case sync

    public var description: String { rawValue }

    /// Whether commands are journaled at all.
    public var journals: Bool { self != .none }
    /// Whether output waits for the durable position.
    public var gatesOutput: Bool { self == .sync }
}
