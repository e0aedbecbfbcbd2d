/// Why the order gateway closed a connection. Each is counted in the gateway's counter
/// cells (`GatewayCounters.disconnectsBlock`, `rtes_gateway_disconnects_total`)
/// and, where the client can still be told, named in a SoupBinTCP Debug packet sent just
/// before the close. docs/GATEWAY.md lists the outcome of every kind of bad input.
public enum DisconnectReason: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    /// The client closed its end.
    case peerClosed = 1
    /// The client sent Logout Request.
    case logout
    /// A SoupBinTCP length field of 0 or longer than the gateway accepts.
    case malformedFrame
    /// A packet type a client may not send, a second Login Request, or a known packet
    /// with the wrong length.
    case protocolViolation
    /// An OUCH message with an unknown type or the wrong length.
    case malformedMessage
    /// Anything but Login Request (or Debug/Heartbeat) before logging in.
    case notLoggedIn
    /// The Login Request was refused (Login Rejected was sent).
    case loginRejected
    /// No Login Request within `gateway.login_timeout_ms`.
    case loginTimeout
    /// Nothing received within `gateway.idle_timeout_ms`.
    case idleTimeout
    /// More packets per second than `gateway.max_messages_per_second`.
    case flood
    /// The client fell more than `gateway.send_queue_bytes` behind.
    case slowConsumer
    /// The connection failed (reset, broken pipe, other socket error).
    case connectionError
    /// The exchange shut down (End of Session was sent).
    case shutdown
    /// The connection table was full (closed at once, before any packet).
    case tableFull
    /// Connections not yet logged in held `gateway.max_pre_login_connections` slots
    /// (closed at once, before any packet).
    case preLoginFull
    /// Connections not yet logged in from the same source address held
    /// `gateway.max_pre_login_per_address` slots (closed at once, before any packet).
    case addressLimit
    /// Journaling modes: the input held for room in the ring to the engine outgrew its
    /// buffer. A bound kept for safety: the connection's receives are paused while its input
    /// is held, so at most one receive buffer and one packet are ever held.
    case inputBacklog
    /// gateway.tls on: the TLS handshake failed (protocol version too old, a refused client
    /// certificate, bytes that are not TLS) or a record did not decrypt. The client is told
    /// by the TLS alert sent before the close; `tls_failures` counts them.
    case tlsFailed
    /// The session was being served messages older than its in-memory history from the
    /// journal archive, and the archive could not serve them (the journal could not be read,
    /// or does not reach them).
    case journalArchive
    /// `leadership` configured: the primary's lease lapsed (etcd unreachable within it, the
    /// lease or key gone). It acknowledges nothing more, so its sessions are closed and new
    /// logins refused: clients log in at the standby (docs/FAILOVER.md).
    case leadershipLost

    public var description: String {
        switch self {
        case .peerClosed: "peer_closed"
        case .logout: "logout"
        case .malformedFrame: "malformed_frame"
        case .protocolViolation: "protocol_violation"
        case .malformedMessage: "malformed_message"
        case .notLoggedIn: "not_logged_in"
        case .loginRejected: "login_rejected"
        case .loginTimeout: "login_timeout"
        case .idleTimeout: "idle_timeout"
        case .flood: "flood"
        case .slowConsumer: "slow_consumer"
        case .connectionError: "connection_error"
        case .shutdown: "shutdown"
        case .tableFull: "table_full"
        case .preLoginFull: "pre_login_full"
        case .addressLimit: "address_limit"
        case .inputBacklog: "input_backlog"
        case .tlsFailed: "tls_failed"
        case .journalArchive: "journal_archive"
        case .leadershipLost: "leadership_lost"
        }
    }

    /// The text of the Debug packet sent before closing, when one is sent.
    public var debugText: StaticString {
        switch self {
        case .peerClosed, .logout, .connectionError, .tableFull, .preLoginFull, .addressLimit, .slowConsumer, .shutdown,
             .loginRejected, .tlsFailed: ""
        case .malformedFrame: "RTES: disconnected: malformed SoupBinTCP packet length"
        case .protocolViolation: "RTES: disconnected: SoupBinTCP protocol violation"
        case .malformedMessage: "RTES: disconnected: malformed OUCH 4.2 message"
        case .notLoggedIn: "RTES: disconnected: Login Request expected first"
        case .loginTimeout: "RTES: disconnected: no Login Request in time"
        case .idleTimeout: "RTES: disconnected: no heartbeat from client"
        case .flood: "RTES: disconnected: message rate above the limit"
        case .inputBacklog: "RTES: disconnected: too much input while the exchange was busy"
        case .journalArchive: "RTES: disconnected: the journal archive could not serve the messages asked for"
        case .leadershipLost: "RTES: disconnected: this exchange is no longer the primary (its leadership lapsed); log in at the standby"
        }
    }

    /// Whether it counts as a protocol error (`protocolErrors`).
    public var isProtocolError: Bool {
        switch self {
        case .malformedFrame, .protocolViolation, .malformedMessage, .notLoggedIn: true
        default: false
        }
    }
}
