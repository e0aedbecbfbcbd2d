import ExchangeCore

/// A command as the engine agent hands it to the journal agent: the sequence the engine
/// gave it (1, 2, 3 … for the day, in the order the engine processed it, whichever ring it
/// came from) and the command. The journal writes exactly these, in this order; replaying
/// them through an engine in the same state reproduces every event byte for byte.
public struct SequencedCommand: BitwiseCopyable, Sendable, Equatable {
    public var sequence: UInt64
    public var command: EngineCommand

    @inlinable
    public init(sequence: UInt64, command: EngineCommand) {
        self.sequence = sequence
        self.command = command
    }
}

/// An event with the sequence of the command that caused it: the gateway and the
/// market-data agent release it to the network only once `DurablePosition` has reached that
/// sequence (`durability.mode` sync).
public struct SequencedEvent: BitwiseCopyable, Sendable, Equatable {
    public var sequence: UInt64
    public var event: EngineEvent

    @inlinable
    public init(sequence: UInt64, event: EngineEvent) {
        self.sequence = sequence
        self.event = event
    }
}
