import ExchangeCore
import ExchangeWire

/// One SoupBinTCP packet from the exchange, decoded.
public enum ServerPacket: Equatable, Sendable, CustomStringConvertible {
    /// Sequenced Data: an OUCH message and its sequence number in the session.
    case sequenced(SequencedMessage)
    /// Server Heartbeat (after about a second of silence).
    case heartbeat
    /// Debug: free text (the exchange explains a disconnect with one).
    case debug(String)
    /// End of Session: the exchange is closing the session for the day.
    case endOfSession
    /// Login Accepted (seen only through `OrderEntryClient.login`, or a second one, which
    /// would be a protocol error on the exchange's side).
    case loginAccepted(session: String, sequence: UInt64)
    /// Login Rejected.
    case loginRejected(LoginRejection)

    /// The OUCH message of a Sequenced Data packet.
    public var message: OUCHMessage? {
        if case .sequenced(let m) = self { return m.message }
        return nil
    }

    public var description: String { MessageText.line(self) }
}

/// An OUCH message the exchange sent, with its sequence number.
public struct SequencedMessage: Equatable, Sendable, CustomStringConvertible {
    public var sequence: UInt64
    public var message: OUCHMessage

    public init(sequence: UInt64, message: OUCHMessage) {
        self.sequence = sequence
        self.message = message
    }

    public var description: String { "#\(sequence) " + MessageText.line(message) }
}

/// What a Login Request came to.
public enum LoginOutcome: Equatable, Sendable {
    /// The session's name and the sequence number of the next sequenced message.
    case accepted(session: String, nextSequence: UInt64)
    /// The reason and the Debug text sent with it, if any.
    case rejected(LoginRejection, debug: String?)
}
