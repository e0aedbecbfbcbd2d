import ExchangeWire

/// A Login Request a service hands to the authenticator: fixed size, so that it travels on
/// an SPSC ring and the service's loop neither allocates nor waits. `slot` and `generation`
/// name the connection, so that an answer for a connection that has gone (its slot reused)
/// is recognised and ignored; `descriptor` is the connection's socket, which the
/// authenticator asks for the source address (off the service's thread).
///
/// The same ring carries the end of a logged-in session (`sessionEnded`), so that logouts
/// and disconnects are logged at debug off the service's thread, as logins are.
public struct LoginRequest: BitwiseCopyable, Sendable {
    public enum Kind: UInt8, BitwiseCopyable, Sendable {
        /// A Login Request to check and answer.
        case login
        /// A logged-in session of `account` ended for `endReason` (the service's code, told
        /// in words by the channel's `describeEnd`); nothing is answered.
        case sessionEnded
        /// A line for the log from the service (`notice`, in `endReason`); nothing is answered.
        case notice
    }

    public var kind: Kind = .login
    public var account: Int32 = -1
    public var endReason: UInt8 = 0
    public var username: SoupUsername
    public var password: SoupPassword
    public var descriptor: Int32
    public var slot: Int32
    public var generation: UInt32

    @inlinable
    public init(username: SoupUsername, password: SoupPassword, descriptor: Int32, slot: Int32, generation: UInt32) {
        self.username = username
        self.password = password
        self.descriptor = descriptor
        self.slot = slot
        self.generation = generation
    }

    /// The end of `account`'s session on connection `slot`, for `reason`.
    @inlinable
    public static func sessionEnded(account: Int32, reason: UInt8, slot: Int32) -> LoginRequest {
        var request = LoginRequest(username: SoupUsername(rawValue: 0), password: SoupPassword(high: 0, low: 0),
                                   descriptor: -1, slot: slot, generation: 0)
        request.kind = .sessionEnded
        request.account = account
        request.endReason = reason
        return request
    }

    /// A line for the log, written at notice level by the authenticator's thread.
    @inlinable
    public static func notice(_ notice: ServiceNotice) -> LoginRequest {
        var request = LoginRequest(username: SoupUsername(rawValue: 0), password: SoupPassword(high: 0, low: 0),
                                   descriptor: -1, slot: -1, generation: 0)
        request.kind = .notice
        request.endReason = notice.rawValue
        return request
    }
}

/// What a service's loop has to say in the log, which it may not write itself (no logging on
/// a hot path): posted on its login ring, written by the authenticator's thread.
public enum ServiceNotice: UInt8, BitwiseCopyable, Sendable, CaseIterable {
    /// Mode sync: the journal made nothing durable for longer than the stall budget while
    /// answers waited: new orders are refused.
    case refusingNewOrders = 1
    /// The journal is making records durable again: new orders are taken again.
    case takingNewOrders = 2

    public var text: String {
        switch self {
        case .refusingNewOrders:
            "refusing new orders (Enter Order, Replace; reject reason journal_stalled, OUCH 'O'): the journal has made "
                + "nothing durable for longer than durability.stall_budget_ms while answers wait for it; cancels are taken"
        case .takingNewOrders:
            "taking new orders again: the journal is making records durable"
        }
    }
}
