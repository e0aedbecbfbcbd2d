import ExchangeCore
import ExchangeRisk

/// A validated configuration, in engine units.
public struct ExchangeConfiguration: Sendable, Equatable {
    public var exchange: ExchangeSettings
    /// `symbols`, in configuration order (an instrument's index is its position).
    public var symbols: [InstrumentSpec]
    public var risk: RiskSettings
    public var performance: PerformanceSettings
    public var gateway: GatewaySettings
    public var marketData: MarketDataSettings
    public var admin: AdminSettings
    public var auth: AuthSettings
    public var durability: DurabilitySettings
    /// Read by `ExchangeLeadership` and `rtes-leader`; the appliance campaigns when it is present.
    public var leadership: LeadershipSettings
    /// The FIX 4.4 acceptor (`fix.port`; off when 0).
    public var fix: FIXSettings
    /// The replication link's role and addresses (used when `durability.replication` is not none).
    public var replication: ReplicationSettings
    /// The trading day's schedule (`trading_day`; off unless `enabled`).
    public var tradingDay: TradingDaySettings
    /// Limit-up/limit-down bands and pauses (`luld`; off when absent).
    public var luld: LULDSettings
    /// Emergency triggers (`emergency`; every condition off by default).
    public var emergency = EmergencySettings()

    public init(
        exchange: ExchangeSettings = ExchangeSettings(), symbols: [InstrumentSpec], risk: RiskSettings = RiskSettings(),
        performance: PerformanceSettings = PerformanceSettings(), gateway: GatewaySettings = GatewaySettings(),
        marketData: MarketDataSettings = MarketDataSettings(), admin: AdminSettings = AdminSettings(),
        auth: AuthSettings = AuthSettings(), durability: DurabilitySettings = DurabilitySettings(),
        leadership: LeadershipSettings = LeadershipSettings(), fix: FIXSettings = FIXSettings(),
        replication: ReplicationSettings = ReplicationSettings(), tradingDay: TradingDaySettings = TradingDaySettings(),
        luld: LULDSettings = LULDSettings()
    ) {
        self.exchange = exchange
        self.symbols = symbols
        self.risk = risk
        self.performance = performance
        self.gateway = gateway
        self.marketData = marketData
        self.admin = admin
        self.auth = auth
        self.durability = durability
        self.leadership = leadership
        self.tradingDay = tradingDay
        self.fix = fix
        self.replication = replication
        self.luld = luld
    }

    /// The matching engine's sizes and rules.
    public func engineConfiguration() -> EngineConfiguration {
        EngineConfiguration(
            instruments: symbols,
            orderPoolSize: performance.orderPoolSize,
            maxClients: performance.maxClients,
            priceLevels: performance.priceLevels,
            selfTradePrevention: risk.selfTradePrevention,
            collarMarketOrders: risk.priceCollarEnabled,
            luld: luld.enabled ? luld.rules : nil)
    }

    /// The pre-trade risk limits.
    public var riskLimits: RiskLimits {
        RiskLimits(
            maxOrderShares: risk.maxOrderSize,
            maxOpenNotional: risk.maxNotionalPerClient,
            maxOrdersPerSecond: risk.maxOrdersPerSecond,
            priceCollarsEnabled: risk.priceCollarEnabled)
    }
}
