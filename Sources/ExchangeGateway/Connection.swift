import ExchangeRuntime

/// One TCP connection's state, in the gateway's preallocated connection table. Slots are
/// reused; `generation` changes with each reuse so that a completion for an earlier
/// connection in the same slot is recognised and ignored.
struct Connection {
    enum Phase: UInt8 {
        /// The slot is unused.
        case free
        /// Connected; only a Login Request is expected.
        case awaitingLogin
        /// Logged in to `account`'s session.
        case active
        /// Closing once what is queued has been sent (Login Rejected, Debug, End of Session).
        case flushing
        /// Shut down; waiting for the receive and any send to finish before closing the descriptor.
        case closing
    }

    var fd: Int32 = -1
    var generation: UInt32 = 0
    var phase: Phase = .free
    var account: Int32 = -1
    var closeReason: DisconnectReason = .peerClosed
    /// The multishot receive is armed (its last completion has not arrived).
    var receiving = false
    /// Bytes of the send in flight (0: none).
    var sendInFlight: Int32 = 0
    /// The send in flight is from the control buffer (else from the session log).
    var sendingControl = false
    /// Unsequenced packets (Login Accepted/Rejected, Heartbeat, Debug, End of Session)
    /// queued in the slot's control buffer, and how much of them has gone.
    var controlLength: Int32 = 0
    var controlSent: Int32 = 0
    /// Next byte of the account's session log to send.
    var logOffset: UInt64 = 0
    /// Unsent log bytes beyond which the connection is a slow consumer.
    var sendLimit: UInt64 = 0
    /// Times in nanoseconds (the gateway's clock).
    var connectedAt: UInt64 = 0
    var lastReceiveAt: UInt64 = 0
    var lastSendAt: UInt64 = 0
    var flushDeadline: UInt64 = 0
    /// Flood bucket: tokens in units of 1e-9 packets, refilled at the configured rate.
    var floodTokens: UInt64 = 0
    var floodRefilledAt: UInt64 = 0
    /// Queued on the list of connections that have something to send.
    var dirty = false
    /// End of Session goes out once the log has been sent (shutdown).
    var endOfSessionPending = false
}
