/// The `fix` section: the FIX 4.4 order-entry port (docs/FIX.md). It is served by the order
/// gateway's agent beside SoupBinTCP/OUCH, into the same engine, with the same accounts.
public struct FIXSettings: Sendable, Equatable {
    /// `port`: the FIX acceptor's TCP port; 0 (the default): no FIX port.
    public var port: UInt16 = 0
    /// `sender_comp_id`: our SenderCompID (49), the counterparty's TargetCompID (56).
    public var senderCompID = "RTES"
    /// `max_sessions`: accounts that may trade over FIX in one day; each gets its FIX state
    /// (sequence numbers, resend store, ClOrdID table) at its first Logon and keeps it for the day.
    public var maxSessions = 8
    /// `max_connections`: FIX connections open at once (logged on or not).
    public var maxConnections = 64
    /// `resend_store_messages`: application messages each FIX session keeps to answer ResendRequest.
    public var resendStoreMessages = 8_192
    /// `max_cl_ord_ids`: ClOrdIDs (orders, cancels and replaces) a FIX session may use in a day.
    public var maxClOrdIDs = 65_536
    /// `tls`: off (plain FIX) or on (TLS 1.2/1.3 on every FIX connection, with gateway.tls's
    /// certificate, key and client CA from the environment; mutual TLS binds the client
    /// certificate's CN to the Logon's Username).
    public var tls = TLSMode.off
    /// `drop_copy_port`: the drop-copy acceptor's TCP port (read-only FIX 4.4 sessions that
    /// receive an ExecutionReport for every order event of their firm, docs/FIX.md "Drop
    /// copy"); 0 (the default): none. Served with the FIX port (it needs `port`), with its
    /// connections, TLS and resend store size.
    public var dropCopyPort: UInt16 = 0
    /// `drop_copy_orders`: live orders of firms with a drop copy whose state (CumQty,
    /// LeavesQty, AvgPx, ClOrdID) the drop copy keeps at once; beyond it a report carries
    /// only its event's own fields (counted).
    public var dropCopyOrders = 65_536

    public init() {}

    /// Whether the exchange listens for FIX.
    public var enabled: Bool { port != 0 }

    /// Whether the exchange listens for drop-copy sessions.
    public var dropCopyEnabled: Bool { port != 0 && dropCopyPort != 0 }

    /// 1–32 printable ASCII characters without spaces (FIX CompIDs as this acceptor takes them).
    public static func isValidCompID(_ text: String) -> Bool {
        (1...32).contains(text.utf8.count) && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
