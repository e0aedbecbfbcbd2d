import ExchangeRuntime
import ExchangeWire

/// One connection's SoupBinTCP session state: the gateway's part of a `ConnectionTable`
/// slot (the table keeps the descriptor, generation, receive and send in flight, and resets
/// this to `Connection()` when a connection takes the slot and when it leaves).
struct Connection {
    enum Phase: UInt8 {
        /// The slot is unused.
        case free
        /// Connected; only a Login Request is expected.
        case awaitingLogin
        /// Sent a Login Request, which the authenticator is checking (off the gateway's
        /// thread); the login timeout still runs. Only heartbeats and Debug are expected.
        case authenticating
        /// Logged in to `account`'s session.
        case active
        /// Sent a Logout Request: reads nothing more, still receives the engine's answers to
        /// what it sent before; flushes and closes once the engine has handled all of it.
        case loggingOut
        /// Closing once what is queued has been sent (Login Rejected, Debug, End of Session).
        case flushing
        /// Shut down; waiting for the receive and any send to finish before closing the descriptor.
        case closing
    }

    var phase: Phase = .free
    var account: Int32 = -1
    var closeReason: DisconnectReason = .peerClosed
    /// The send in flight is from the control buffer (else from the session log).
    var sendingControl = false
    /// Unsequenced packets (Login Accepted/Rejected, Heartbeat, Debug, End of Session)
    /// queued in the slot's control buffer, and how much of them has gone.
    var controlLength: Int32 = 0
    var controlSent: Int32 = 0
    /// Next byte of the account's session log to send.
    var logOffset: UInt64 = 0
    /// The gateway's commands sent to the engine when this connection's last message was
    /// handled: its answers are all in once the engine has handled that many.
    var lastCommand: UInt64 = 0
    /// Mode sync, logging out: the order-events ring index past this connection's last
    /// answer (0: not known yet); the connection closes once the gateway has routed that far.
    var answersEnd: UInt64 = 0
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
    /// The Login Request's session and sequence number, kept while it is being checked.
    var requestedSession = SoupSessionName.blank
    var requestedSequence: UInt64 = 0
    /// Bytes received while authenticating, kept in the slot's held-input buffer until the
    /// login completes (a client may send orders right behind its Login Request).
    var heldLength: Int32 = 0
    /// Journaling modes: the ring to the engine was full at this connection's next message,
    /// which waits, with everything received after it, in the held-input buffer (and the
    /// table's parked buffers) until the ring has room, its receives paused meanwhile
    /// (nothing is answered out of the journal's order; GatewayAgent+HeldInput.swift).
    var inputHeld = false
    /// The journal archive chunk this connection is being served from (-1: none; it is
    /// served from its session log). `GatewayAgent+Archive.swift`.
    var archiveChunk: Int32 = -1
    /// The send in flight is from the archive chunk.
    var sendingArchive = false
}
