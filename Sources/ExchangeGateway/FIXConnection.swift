import ExchangeRuntime

/// One FIX connection's state: the gateway's part of a slot of the FIX port's
/// `ConnectionTable` (reset to `FIXConnection()` when a connection takes the slot and when it
/// leaves). The FIX session itself (sequence numbers, resend store, ClOrdIDs) is the
/// account's for the day (`FIXPort`), bound to the connection once it has named its account.
struct FIXConnection {
    enum Phase: UInt8 {
        case free
        /// Connected; the first message must be a Logon.
        case awaitingLogon
        /// Sent a Logon whose password the authenticator is checking; what follows it is kept.
        case authenticating
        /// Logged on: application messages go to the engine.
        case active
        /// Closing once what is queued (a Logout) has been sent.
        case flushing
        /// Shut down; waiting for the kernel to finish with the socket.
        case closing
    }

    /// Why a Logon is refused before any session is bound: told in its Logout (58) only when
    /// the password was right, otherwise the Logout says "Logon rejected".
    enum Refusal: UInt8 {
        case none
        case unknownAccount
        case shuttingDown
        case alreadyLoggedOn
        case noSessionLeft
        /// Drop-copy port: the account is not entitled to it (`drop_copy` in the keys file).
        case notEntitled
        /// The exchange's leadership lapsed: it is no longer the primary (docs/FAILOVER.md).
        case notLeader
    }

    var phase: Phase = .free
    /// Came through the drop-copy listener: a read-only session of the account's firm's
    /// ExecutionReports (GatewayAgent+DropCopy.swift), never the account's trading session.
    var dropCopy = false
    var account: Int32 = -1
    /// The account's FIX state (`FIXPort`) bound to this connection, -1 none.
    var state: Int32 = -1
    var refusal: Refusal = .none
    var closeReason: DisconnectReason = .peerClosed
    /// Bytes received and not yet handled, at the start of the slot's inbound buffer.
    var inboundLength: Int32 = 0
    /// A refused Logon's length, kept at the start of the inbound buffer until the
    /// authenticator's answer (its CompIDs address the Logout).
    var logonLength: Int32 = 0
    /// Outbound bytes queued in the slot's outbound buffer, and how many of them went.
    var outboundLength: Int32 = 0
    var outboundSent: Int32 = 0
    var dirty = false
    var connectedAt: UInt64 = 0
    var flushDeadline: UInt64 = 0
    var floodTokens: UInt64 = 0
    var floodRefilledAt: UInt64 = 0
    /// Journaling modes: the ring to the engine had no room for this connection's next
    /// message, which waits at the start of the inbound buffer, the connection's receives
    /// paused, until it has (never answered out of the journal's order).
    var inputHeld = false
}
