import ExchangeRuntime

/// The order gateway's counter blocks, registered in the counters region by the gateway
/// agent: `gateway` (its totals and gauges) and `gateway_disconnects` (connections closed,
/// one cell per `DisconnectReason`, named by its metric label). The agent counts into a
/// private tally indexed by the same cells and copies it to the blocks every millisecond.
public enum GatewayCounters {
    public static let activeConnections = CounterCell(0)
    public static let acceptedConnections = CounterCell(1)
    public static let closedConnections = CounterCell(2)
    /// SoupBinTCP packets received from clients.
    public static let messagesIn = CounterCell(3)
    /// Sequenced messages put in session logs.
    public static let messagesOut = CounterCell(4)
    /// Disconnects for a protocol violation (framing, packet or OUCH message).
    public static let protocolErrors = CounterCell(5)
    /// Orders rejected because the command ring to the engine was full.
    public static let backpressureRejects = CounterCell(6)
    public static let bytesIn = CounterCell(7)
    public static let bytesOut = CounterCell(8)
    public static let loginsAccepted = CounterCell(9)
    /// Login Rejected `A`: unknown username or wrong password.
    public static let loginsRejectedNotAuthorized = CounterCell(10)
    /// Login Rejected `S`: unknown session, session in use, or a sequence number older
    /// than the history.
    public static let loginsRejectedSession = CounterCell(11)
    /// Connections closed at once because the connection table was full.
    public static let refusedConnections = CounterCell(12)
    /// Sequenced messages sent again to clients that logged in asking for them.
    public static let replayedMessages = CounterCell(13)
    public static let heartbeatsSent = CounterCell(14)
    public static let duplicateTokenRejects = CounterCell(15)
    public static let tokenHistoryFullRejects = CounterCell(16)
    /// Messages answered with a reject because a field could not be represented.
    public static let fieldRejects = CounterCell(17)
    /// Enter, Replace, Cancel and Modify messages handed to the engine.
    public static let ordersIn = CounterCell(18)
    /// Multishot receives stopped because every receive buffer was in use.
    public static let receiveBuffersExhausted = CounterCell(19)
    /// The largest number of unsent bytes any connection had.
    public static let sendQueuePeakBytes = CounterCell(20)
    /// Accounts logged in.
    public static let activeSessions = CounterCell(21)
    /// Order events for clients that are not gateway accounts (e.g. the demo flow).
    public static let unroutedEvents = CounterCell(22)
    /// Orders refused because the exchange was shutting down.
    public static let shutdownRejects = CounterCell(23)
    /// Failed io_uring submissions.
    public static let submitFailures = CounterCell(24)
    /// 1 while the gateway accepts connections (stored directly, not from the tally).
    public static let listening = CounterCell(25)
    /// Accepts that failed (the client gave up first, or the process is out of descriptors).
    public static let acceptErrors = CounterCell(26)
    /// Enter Orders refused because they named a firm the account may not use.
    public static let firmRejects = CounterCell(27)
    /// Login Rejected `A` at once because the ring to the authenticator was full.
    public static let loginsRejectedBusy = CounterCell(30)
    /// Journaling modes: times a connection's input was held because the ring to the engine
    /// was full (its messages wait, in order, instead of being answered at once).
    public static let inputHolds = CounterCell(28)
    /// gateway.tls on: TLS sessions that failed (handshake refused, or a bad record); each
    /// closed the connection (`tls_failed`).
    public static let tlsFailures = CounterCell(37)
    /// Mode sync: Enter Orders and Replaces refused because the journal stalled past
    /// `durability.stall_budget_ms` (GatewayAgent+StallBudget.swift).
    public static let stallRefusals = CounterCell(29)
    /// Mode sync: 1 while new orders are refused for a stalled journal.
    public static let refusingNewOrders = CounterCell(31)
    /// Logins served from the journal archive (asking for messages older than the history).
    public static let archiveSessions = CounterCell(32)
    /// Chunk requests handed to the journal archive.
    public static let archiveRequests = CounterCell(33)
    /// Messages sent from the journal archive's chunks.
    public static let archiveMessages = CounterCell(34)
    /// Logins refused because the archive was busy (the session's earlier request, or every chunk in use).
    public static let archiveRefusals = CounterCell(35)
    /// Archive requests that failed (the connection was closed, `journal_archive`).
    public static let archiveFailures = CounterCell(36)
    /// fix.port: FIX connections accepted, refused at once (table or pre-login share full) and closed.
    public static let fixConnectionsAccepted = CounterCell(38)
    public static let fixConnectionsRefused = CounterCell(39)
    public static let fixConnectionsClosed = CounterCell(40)
    /// FIX connections open (logged on or not).
    public static let fixActiveConnections = CounterCell(41)
    /// FIX Logons accepted (also counted in `loginsAccepted`; refusals in the `logins_rejected_*` cells).
    public static let fixLogons = CounterCell(42)
    /// Whole FIX messages received, and application messages written to FIX sessions.
    public static let fixMessagesIn = CounterCell(43)
    public static let fixMessagesOut = CounterCell(44)
    /// FIX connections closed, whatever the reason (also counted by reason in `gateway_disconnects`).
    public static let fixDisconnects = CounterCell(45)
    /// fix.drop_copy_port: connections accepted there (also in `fix_connections_accepted`),
    /// drop-copy Logons accepted, ExecutionReports written to drop-copy sessions (one per
    /// session a report goes to, logged on or not), application messages refused with
    /// BusinessMessageReject, reports of orders the drop copy's book had no room for, and
    /// drop-copy sessions logged on now.
    public static let dropCopyConnectionsAccepted = CounterCell(46)
    public static let dropCopyLogons = CounterCell(47)
    public static let dropCopyMessagesOut = CounterCell(48)
    public static let dropCopyRejects = CounterCell(49)
    public static let dropCopyUntracked = CounterCell(50)
    public static let dropCopyActiveSessions = CounterCell(51)
    /// Phase commands sent to the engine: the trading day's schedule and operators' halts and
    /// resumes (`trading_day`, the admin plane's `/trading/…`).
    public static let phaseCommands = CounterCell(52)
    /// Other commands the admin plane's operators sent to the engine: kill switches and their
    /// reinstatements, mass cancels, start and end of day, and the notes of who and why.
    public static let operatorCommands = CounterCell(53)

    public static let block = CounterBlockDescriptor(name: "gateway", counters: [
        .init("active_connections", .gauge, activeConnections, help: "Order-entry TCP connections open."),
        .init("accepted_connections", .counter, acceptedConnections, help: "Connections accepted."),
        .init("closed_connections", .counter, closedConnections, help: "Connections closed."),
        .init("messages_in", .counter, messagesIn, help: "SoupBinTCP packets received from clients."),
        .init("messages_out", .counter, messagesOut, help: "Sequenced messages written to sessions."),
        .init("protocol_errors", .counter, protocolErrors, help: "Disconnects for protocol violations."),
        .init("backpressure_rejects", .counter, backpressureRejects, help: "Orders rejected because the ring to the engine was full."),
        .init("bytes_in", .counter, bytesIn, help: "Bytes received from clients."),
        .init("bytes_out", .counter, bytesOut, help: "Bytes sent to clients."),
        .init("logins_accepted", .counter, loginsAccepted, help: "Logins accepted."),
        .init("logins_rejected_not_authorized", .counter, loginsRejectedNotAuthorized, help: "Logins rejected: not authorized."),
        .init("logins_rejected_session", .counter, loginsRejectedSession, help: "Logins rejected: session not available."),
        .init("refused_connections", .counter, refusedConnections, help: "Connections refused: the table was full."),
        .init("replayed_messages", .counter, replayedMessages, help: "Sequenced messages sent again on re-login."),
        .init("heartbeats_sent", .counter, heartbeatsSent, help: "Server Heartbeats sent."),
        .init("duplicate_token_rejects", .counter, duplicateTokenRejects, help: "Orders rejected for a duplicate token."),
        .init("token_history_full_rejects", .counter, tokenHistoryFullRejects, help: "Orders rejected: the token history was full."),
        .init("field_rejects", .counter, fieldRejects, help: "Messages rejected for a field that could not be represented."),
        .init("orders_in", .counter, ordersIn, help: "Order messages handed to the engine."),
        .init("receive_buffers_exhausted", .counter, receiveBuffersExhausted, help: "Receives stopped: every receive buffer in use."),
        .init("send_queue_peak_bytes", .gauge, sendQueuePeakBytes, help: "Most unsent bytes any connection has had."),
        .init("active_sessions", .gauge, activeSessions, help: "Accounts logged in."),
        .init("unrouted_events", .counter, unroutedEvents, help: "Order events for clients that are not gateway accounts."),
        .init("shutdown_rejects", .counter, shutdownRejects, help: "Orders refused while shutting down."),
        .init("submit_failures", .counter, submitFailures, help: "Failed io_uring submissions."),
        .init("listening", .gauge, listening, help: "1 while the order gateway accepts connections."),
        .init("accept_errors", .counter, acceptErrors, help: "Accepts that failed."),
        .init("firm_rejects", .counter, firmRejects, help: "Enter Orders refused: a firm the account may not use."),
        .init("logins_rejected_busy", .counter, loginsRejectedBusy, help: "Logins rejected: the authenticator's ring was full."),
        .init("input_holds", .counter, inputHolds, help: "Connections whose input was held: the ring to the engine was full (journaling)."),
        .init("tls_failures", .counter, tlsFailures, help: "TLS sessions that failed: handshake refused or a bad record (gateway.tls on)."),
        .init("stall_refusals", .counter, stallRefusals, help: "Enter Orders and Replaces refused: the journal stalled past durability.stall_budget_ms (sync)."),
        .init("refusing_new_orders", .gauge, refusingNewOrders, help: "1 while new orders are refused for a stalled journal (sync)."),
        .init("archive_sessions", .counter, archiveSessions, help: "Logins served from the journal archive (older than the history)."),
        .init("archive_requests", .counter, archiveRequests, help: "Chunk requests handed to the journal archive."),
        .init("archive_messages", .counter, archiveMessages, help: "Messages sent from the journal archive."),
        .init("archive_refusals", .counter, archiveRefusals, help: "Logins refused: the journal archive was busy."),
        .init("archive_failures", .counter, archiveFailures, help: "Journal archive requests that failed."),
        .init("fix_connections_accepted", .counter, fixConnectionsAccepted, help: "FIX connections accepted (fix.port)."),
        .init("fix_connections_refused", .counter, fixConnectionsRefused, help: "FIX connections refused at once: table or pre-login share full."),
        .init("fix_connections_closed", .counter, fixConnectionsClosed, help: "FIX connections closed."),
        .init("fix_active_connections", .gauge, fixActiveConnections, help: "FIX connections open."),
        .init("fix_logons", .counter, fixLogons, help: "FIX Logons accepted."),
        .init("fix_messages_in", .counter, fixMessagesIn, help: "Whole FIX messages received."),
        .init("fix_messages_out", .counter, fixMessagesOut, help: "FIX application messages written to sessions."),
        .init("fix_disconnects", .counter, fixDisconnects, help: "FIX connections closed by the gateway or the peer."),
        .init("drop_copy_connections_accepted", .counter, dropCopyConnectionsAccepted, help: "Connections accepted on fix.drop_copy_port."),
        .init("drop_copy_logons", .counter, dropCopyLogons, help: "Drop-copy Logons accepted."),
        .init("drop_copy_messages_out", .counter, dropCopyMessagesOut, help: "ExecutionReports written to drop-copy sessions."),
        .init("drop_copy_rejects", .counter, dropCopyRejects, help: "Application messages a drop-copy client sent, refused with BusinessMessageReject."),
        .init("drop_copy_untracked", .counter, dropCopyUntracked, help: "Drop-copy reports of orders its book had no room for (fix.drop_copy_orders)."),
        .init("drop_copy_active_sessions", .gauge, dropCopyActiveSessions, help: "Drop-copy sessions logged on."),
        .init("phase_commands", .counter, phaseCommands, help: "Phase commands sent to the engine (the trading day's schedule, operators' halts and resumes)."),
        .init("operator_commands", .counter, operatorCommands, help: "Other commands operators sent to the engine through the admin plane (kill switches, reinstatements, mass cancels, start and end of day, notes of who and why)."),
    ], cellCount: 56)

    /// Connections closed for `reason`: cell `reason.rawValue` of `gateway_disconnects`.
    @inlinable public static func disconnected(_ reason: DisconnectReason) -> CounterCell { CounterCell(Int(reason.rawValue)) }

    public static let disconnectsBlock = CounterBlockDescriptor(
        name: "gateway_disconnects",
        counters: DisconnectReason.allCases.map { .init($0.description, .counter, disconnected($0), help: "Connections closed: \($0).") },
        cellCount: 32)
}
