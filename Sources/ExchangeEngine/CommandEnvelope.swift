import ExchangeCore

/// A command as it travels from the order gateway to the engine: the command and the TSC
/// reading taken when it was put on the ring, from which the engine agent measures order
/// latency (ring wait plus processing).
public struct CommandEnvelope: BitwiseCopyable, Sendable {
    public var enqueuedAt: UInt64
    public var command: EngineCommand

    @inlinable
    public init(enqueuedAt: UInt64, command: EngineCommand) {
        self.enqueuedAt = enqueuedAt
        self.command = command
    }
}
