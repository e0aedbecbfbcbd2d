import ExchangeCore

/// What one inbound OUCH message (a Soup Unsequenced Data payload) turned into.
public enum OUCHDecodeResult: Equatable, Sendable, BitwiseCopyable {
    /// A command for the engine.
    case command(EngineCommand)
    /// The right type and length, but a field outside its OUCH 4.2 set or one the engine's
    /// vocabulary cannot hold (`.invalidSide`, `.invalidDisplay`, `.invalidCapacity`,
    /// `.invalidIntermarketSweep`, `.invalidCrossType`, `.invalidCustomerType`,
    /// `.marketPriceOnReplace`). The gateway refuses it through the engine
    /// (`EngineCommand.refuse`) with the token (for Replace: the replacement token).
    case rejectable(token: OrderToken, reason: RejectReason)
    /// Not an OUCH 4.2 client message: a protocol violation.
    case malformed(OUCHDecodeError)
}

public enum OUCHDecodeError: Error, Equatable, Sendable, BitwiseCopyable {
    /// An empty payload.
    case empty
    /// A type byte that is not `O U X M`.
    case unknownType(UInt8)
    /// A known type with the wrong number of bytes.
    case wrongLength(type: UInt8, expected: Int, got: Int)
}
