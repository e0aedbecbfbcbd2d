// A parsed SoupBinTCP Login Request. Credentials stay fixed-width values: no String is
// built on the login path, and the password is compared with `constantTimeEquals`.

public struct SoupLoginRequest: Sendable, BitwiseCopyable {
    public var username: SoupUsername
    public var password: SoupPassword
    /// Blank: the current session.
    public var session: SoupSessionName
    /// The next sequenced message the client wants; 0: start with the newest.
    public var sequence: UInt64

    @inlinable
    public init(username: SoupUsername, password: SoupPassword, session: SoupSessionName, sequence: UInt64) {
        self.username = username
        self.password = password
        self.session = session
        self.sequence = sequence
    }
}

/// Why a Login Request payload was not accepted as one.
public enum SoupLoginRequestError: Error, Equatable, Sendable, BitwiseCopyable {
    /// The payload (after the type byte) was not 46 bytes.
    case wrongLength(Int)
    /// RequestedSequenceNumber held something other than spaces around decimal digits, or
    /// a number above UInt64.max.
    case nonNumericSequence
}
