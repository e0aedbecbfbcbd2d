/// What the authenticator decided about a login. Every refusal reaches the client as Login
/// Rejected `A` (not authorized): a client is never told which check failed.
public enum LoginVerdict: UInt8, BitwiseCopyable, Sendable, CaseIterable, CustomStringConvertible {
    case accepted = 0
    /// Unknown username or wrong password.
    case notAuthorized = 1
    /// Inside the backoff after an earlier failure of the account or the address: refused
    /// without a check.
    case throttled = 2
    /// The account or the address is locked out: refused without a check.
    case lockedOut = 3

    public var description: String {
        switch self {
        case .accepted: "accepted"
        case .notAuthorized: "not_authorized"
        case .throttled: "throttled"
        case .lockedOut: "locked_out"
        }
    }
}
