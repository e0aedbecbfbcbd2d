import ExchangeConfig
import ExchangeCore
import ExchangeRuntime
import ExchangeTLS
import ExchangeWire

/// Everything the gateway needs besides its rings and memory.
public struct GatewayOptions: Sendable {
    public var settings: GatewaySettings
    public var tcpNoDelay: Bool
    public var session: SoupSessionName
    /// Symbols by instrument index (for Accepted and Replaced).
    public var symbols: [Symbol]
    public var keys: APIKeys
    /// Slots that connections not yet logged in may hold (nil: from
    /// `settings.maxPreLoginConnections`, where 0 means every slot, and never the slots the
    /// keys file's accounts need for their sessions), so that sockets that
    /// never log in cannot lock traders out; beyond it a new connection is closed at once
    /// (`pre_login_full`).
    public var preLoginConnections: Int?
    /// Whether this run starts the trading day: `onStart` sends the engine `.startOfDay` as
    /// its very first command (whose System Event `S` then opens every session). False when
    /// recovery continues a day whose start is already in the journal.
    public var startsDay: Bool
    /// gateway.tls on: where each new connection's TLS context comes from (nil: plaintext).
    /// Under mutual TLS (its settings name a client CA) a login's username must be the
    /// client certificate's CN.
    public var tls: TLSContextSource?
    /// Mode sync: how long answers may wait for the journal (its durable position not
    /// moving while answers wait) before new orders are refused (`durability.stall_budget_ms`);
    /// 0 never refuses (and other modes never do).
    public var stallBudgetMilliseconds = 0
    /// fix.port on: the FIX acceptor's settings (its listener is `GatewayAgent.init`'s
    /// `fixListener`); nil: no FIX.
    public var fix: FIXSettings?
    /// fix.tls on: where each new FIX connection's TLS context comes from (nil: plain FIX).
    /// Under mutual TLS a Logon's Username must be the client certificate's CN.
    public var fixTLS: TLSContextSource?
    /// UTC midnight before the gateway clock's start, nanoseconds since the epoch (FIX
    /// writes absolute times); nil: today's, from the system clock at start.
    public var epochMidnight: UInt64?
    /// `leadership` configured: the term this primary won (journaled by `onStart` as the day's
    /// next command, before anything else it sends the engine; its timestamp is set there), and
    /// the gate answers are released through: while it is closed (the lease not confirmed in
    /// time) nothing is routed to a session (docs/FAILOVER.md). The appliance keeps the gate
    /// alive as long as the gateway.
    public var leadershipTerm: LeadershipTerm?
    public var leadershipGate: LeadershipGate?
    /// `trading_day` enabled: the schedule the gateway sends the engine as phase commands for
    /// every symbol (`TradingSchedule`), with the time zone's offsets (unused by an
    /// accelerated day); nil: instruments stay as they are (continuous, unless an operator
    /// halts them).
    public var tradingDay: TradingDaySettings?
    public var zoneOffsets = ZoneOffsets.utc
    /// Where the admin plane leaves operator actions (halt, resume) for the gateway to send
    /// the engine; nil: none come.
    public var operatorActions: OperatorActionQueue?

    public init(settings: GatewaySettings, tcpNoDelay: Bool, session: SoupSessionName, symbols: [Symbol], keys: APIKeys,
                preLoginConnections: Int? = nil, startsDay: Bool = true, tls: TLSContextSource? = nil) {
        self.startsDay = startsDay
        self.tls = tls
        self.settings = settings
        self.tcpNoDelay = tcpNoDelay
        self.session = session
        self.symbols = symbols
        self.keys = keys
        self.preLoginConnections = preLoginConnections
    }
}
