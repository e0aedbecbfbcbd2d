/// What a completion meant for a `ConnectionTable`'s service, as `handle(_:ring:)` reports
/// it. The table has already done its part (slot accounting, re-arming, recycling); the
/// service does its protocol's.
public enum ConnectionEvent {
    /// Nothing for the service: a completion with a stale generation, a cancel, a receive
    /// re-armed after buffer exhaustion, the last of a closing slot's operations not yet in.
    case none
    /// A new connection holds `slot` (not logged in yet); its receive is armed.
    case accepted(slot: Int)
    /// A connection was accepted and closed at once, for the reason given (counted in
    /// `ConnectionStats`).
    case refused(ConnectionRefusal)
    /// The accept failed (`errno`, e.g. ECONNABORTED or EMFILE); counted. A multishot accept
    /// that stopped on a failure is re-armed by the next `tick(ring:)`.
    case acceptFailed(errno: Int32)
    /// Bytes arrived on `slot`. They lie in a provided buffer that goes back to the kernel
    /// at the next `handle` or `finishBatch()`: use them before then.
    case received(slot: Int, bytes: UnsafeRawBufferPointer)
    /// The peer ended the stream (a receive returned 0).
    case peerClosed(slot: Int)
    /// `bytes` of the send started with `send(_:bytes:count:ring:)` went (possibly fewer
    /// than asked: send the rest).
    case sent(slot: Int, bytes: Int)
    /// A receive or send on `slot` failed with `errno`: close the connection.
    case failed(slot: Int, errno: Int32)
    /// `slot`'s descriptor is closed and the slot is free (its generation moved on): the
    /// last operation of a closing connection completed.
    case released(slot: Int)
}

/// Why an accepted connection was closed at once.
public enum ConnectionRefusal: UInt8, Sendable, CaseIterable {
    /// Every slot is taken.
    case tableFull
    /// Connections that have not logged in hold their whole share of slots
    /// (`Configuration.preLoginLimit`): sockets that never log in cannot lock traders out.
    case preLoginFull
    /// Connections that have not logged in from the same source IPv4 address hold their
    /// address's share (`Configuration.preLoginPerAddressLimit`): one host cannot take the
    /// whole pre-login share.
    case addressLimit
    /// The table stopped accepting (shutdown) and a connection was still in the backlog.
    case notAccepting
    /// No submission queue entry for its receive.
    case submissionQueueFull
}
