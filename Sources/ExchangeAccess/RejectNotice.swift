import ExchangeCore

/// One order message a service refused, as the gateway tells the authenticator for the debug
/// log: who, why, and which order. Fixed size (24 bytes), so that it travels on an SPSC ring
/// and the gateway's loop neither allocates nor waits; it carries no secret (a token is the
/// client's own name for its order, which the client sent in the clear).
public struct RejectNotice: BitwiseCopyable, Sendable, Equatable {
    /// What the client was answered.
    public enum Answer: UInt8, BitwiseCopyable, Sendable, CustomStringConvertible {
        /// Rejected `J`: an Enter Order, or a Replace Order's replacement token.
        case rejected
        /// Cancel Reject `I`: a Cancel Order or Modify Order.
        case cancelReject

        public var description: String {
            switch self {
            case .rejected: "Rejected"
            case .cancelReject: "Cancel Reject"
            }
        }
    }

    /// The order's token (for a replace, the replacement token).
    public var token: OrderToken
    /// The account (the engine's `ClientID`) the answer went to.
    public var account: Int32
    public var reason: RejectReason
    public var answer: Answer

    @inlinable
    public init(account: Int32, reason: RejectReason, answer: Answer, token: OrderToken) {
        self.token = token
        self.account = account
        self.reason = reason
        self.answer = answer
    }
}
