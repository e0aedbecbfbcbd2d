import ExchangeAccess
import ExchangeCore

// Rejects for the debug log: the gateway logs nothing itself; it tells the authenticator,
// off this thread, of every order message a client was refused, and the authenticator writes
// the lines (aggregated per account and reason per second; `RejectDigest`).
extension GatewayAgent {
    /// Tells the authenticator that `account` was answered `answer` for `reason`. One ring
    /// push, or — when that ring is full — a dropped notice the channel counts; never a wait.
    /// Both kinds of reject pass here: the engine's (risk, validation), and the gateway's own
    /// refusals, which come back from the engine as Rejected or Cancel Reject events (or are
    /// answered at once when the ring to the engine is full).
    @inline(__always)
    mutating func noteReject(account: ClientID, reason: RejectReason, answer: RejectNotice.Answer, token: OrderToken) {
        guard Int(account) < accounts.count else { return }  // not a gateway account (the demo flow's): no session to speak of
        logins.noteReject(RejectNotice(account: Int32(truncatingIfNeeded: account), reason: reason, answer: answer, token: token))
    }
}
