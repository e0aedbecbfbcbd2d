/// The authenticator's answer to a `LoginRequest`: the connection it is for, and the
/// account (its index in the API keys file) when the login is accepted.
public struct LoginAnswer: BitwiseCopyable, Sendable {
    public var slot: Int32
    public var generation: UInt32
    /// The account's index (client ID) when `verdict` is `.accepted`, else -1.
    public var account: Int32
    public var verdict: LoginVerdict

    @inlinable
    public init(slot: Int32, generation: UInt32, account: Int32, verdict: LoginVerdict) {
        self.slot = slot
        self.generation = generation
        self.account = account
        self.verdict = verdict
    }
}
