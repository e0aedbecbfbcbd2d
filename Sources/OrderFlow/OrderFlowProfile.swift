import ExchangeCore

/// What kind of order flow to generate. Weights are relative (per mille by convention);
/// the generator also steers toward `depthTarget` resting orders per side.
public struct OrderFlowProfile: Sendable {
    public struct Weights: Sendable {
        /// Day or timed limit orders placed away from the market.
        public var passive = 0
        /// Limit orders priced through the market (a third are day orders that may rest).
        public var aggressive = 0
        /// Immediate-or-cancel limit orders through the market, some fill-or-kill.
        public var immediateOrCancel = 0
        public var market = 0
        public var cancel = 0
        /// Replace to a new price (exchange-core's "move"), sometimes in place.
        public var replace = 0
        public var modify = 0
        /// Orders that break a rule: bad symbol, size, tick, lot, TIF, display, token, collar, notional.
        public var invalid = 0
        /// Kill switches, halts, cancel-all.
        public var admin = 0
        /// Time jumps of up to a minute, so timed orders expire.
        public var timeJump = 0

        public init(passive: Int = 0, aggressive: Int = 0, immediateOrCancel: Int = 0, market: Int = 0, cancel: Int = 0,
                    replace: Int = 0, modify: Int = 0, invalid: Int = 0, admin: Int = 0, timeJump: Int = 0) {
            self.passive = passive
            self.aggressive = aggressive
            self.immediateOrCancel = immediateOrCancel
            self.market = market
            self.cancel = cancel
            self.replace = replace
            self.modify = modify
            self.invalid = invalid
            self.admin = admin
            self.timeJump = timeJump
        }

        var total: Int { passive + aggressive + immediateOrCancel + market + cancel + replace + modify + invalid + admin + timeJump }
    }

    public var instruments: [InstrumentSpec]
    public var clients: Int
    /// Clients share firms (`firm = client % firms`), so fewer firms means more self-trades.
    public var firms: Int
    public var weights: Weights
    /// Resting orders per side per instrument the flow hovers around.
    public var depthTarget: Int
    /// Passive orders land within this many ticks of the market.
    public var spreadTicks: Int
    public var lotsPerOrder: ClosedRange<Int>
    /// Mean gap between commands; a quarter of gaps are zero (bursts that test rate limits).
    public var meanGapNanoseconds: UInt64
    /// Per-mille shares of passive orders that are timed, non-displayed, post-only, attributable.
    public var timedPerMille = 0
    public var nonDisplayedPerMille = 0
    public var postOnlyPerMille = 0
    public var attributablePerMille = 0
    /// Per-mille share of orders reusing a live or recent token.
    public var duplicateTokenPerMille = 0
    /// Commands per mille that move the trading day (`EngineCommand.tradingPhase`: pre-open,
    /// crosses, halt, resume, imbalance; for one instrument or all), and orders per mille
    /// (passive and market) that are cross-only. 0 draws nothing, so streams without them are
    /// unchanged.
    public var tradingPhasePerMille = 0
    public var crossOrderPerMille = 0
    /// Commands per mille that push an instrument toward its limit-up/limit-down bands: orders
    /// (and replaces) priced up to an eighth of the reference away from the market, through
    /// it, so that books reach the bands, limit states begin and pauses follow. 0 draws
    /// nothing, so streams without it are unchanged.
    public var luldRunPerMille = 0
    /// The risk limits the flow is meant to probe (invalid orders are sized against them).
    public var limits: RiskLimitsHint

    public init(instruments: [InstrumentSpec], clients: Int, firms: Int, weights: Weights, depthTarget: Int,
                spreadTicks: Int, lotsPerOrder: ClosedRange<Int>, meanGapNanoseconds: UInt64,
                limits: RiskLimitsHint = RiskLimitsHint()) {
        self.instruments = instruments
        self.clients = clients
        self.firms = firms
        self.weights = weights
        self.depthTarget = depthTarget
        self.spreadTicks = spreadTicks
        self.lotsPerOrder = lotsPerOrder
        self.meanGapNanoseconds = meanGapNanoseconds
        self.limits = limits
    }
}

/// The limits the generator aims its rule-breaking orders at.
public struct RiskLimitsHint: Sendable {
    public var maxOrderShares: UInt32
    public var maxOpenNotional: UInt64
    public init(maxOrderShares: UInt32 = 1_000_000, maxOpenNotional: UInt64 = 1_000_000_000 * 10_000) {
        self.maxOrderShares = maxOrderShares
        self.maxOpenNotional = maxOpenNotional
    }
}

extension OrderFlowProfile {
    /// Everything, often: every order type, every reject reason, self-trades, kill
    /// switches, halts and expiries, on shallow books so that orders interact. The
    /// differential tests run this.
    public static func randomized(instruments: [InstrumentSpec], clients: Int = 8, limits: RiskLimitsHint = RiskLimitsHint()) -> OrderFlowProfile {
        var p = OrderFlowProfile(
            instruments: instruments, clients: clients, firms: max(1, clients * 2 / 3),
            weights: Weights(passive: 300, aggressive: 90, immediateOrCancel: 60, market: 30, cancel: 160,
                             replace: 200, modify: 40, invalid: 70, admin: 6, timeJump: 4),
            depthTarget: 12, spreadTicks: 6, lotsPerOrder: 1...20, meanGapNanoseconds: 2_000_000, limits: limits)
        p.timedPerMille = 150
        p.nonDisplayedPerMille = 100
        p.postOnlyPerMille = 100
        p.attributablePerMille = 100
        p.duplicateTokenPerMille = 10
        return p
    }

    /// A trading day's flow: mostly quotes and requotes away from the market, some
    /// aggressive orders that trade, the occasional mistake. `rtes-replay` runs this.
    public static func realistic(instruments: [InstrumentSpec], clients: Int, limits: RiskLimitsHint = RiskLimitsHint()) -> OrderFlowProfile {
        var p = OrderFlowProfile(
            instruments: instruments, clients: clients, firms: max(1, clients / 2),
            weights: Weights(passive: 430, aggressive: 80, immediateOrCancel: 50, market: 10, cancel: 220,
                             replace: 180, modify: 10, invalid: 18, admin: 1, timeJump: 1),
            depthTarget: 200, spreadTicks: 25, lotsPerOrder: 1...10, meanGapNanoseconds: 50_000, limits: limits)
        p.timedPerMille = 50
        p.nonDisplayedPerMille = 50
        p.postOnlyPerMille = 50
        p.attributablePerMille = 50
        p.duplicateTokenPerMille = 2
        return p
    }

    /// exchange-core's published benchmark mix on one symbol: 9 % resting limit (GTC),
    /// 3 % IOC, 6 % cancel, 82 % move (replace to a new price), about 1,000 resting orders
    /// per side.
    public static func exchangeCoreMix(instrument: InstrumentSpec) -> OrderFlowProfile {
        OrderFlowProfile(
            instruments: [instrument], clients: 1_000, firms: 1_000,
            weights: Weights(passive: 90, immediateOrCancel: 30, cancel: 60, replace: 820),
            depthTarget: 1_000, spreadTicks: 100, lotsPerOrder: 1...10, meanGapNanoseconds: 200)
    }

    /// 70 % add, 20 % cancel, 10 % aggressive, across many instruments.
    public static func multiSymbol(instruments: [InstrumentSpec]) -> OrderFlowProfile {
        OrderFlowProfile(
            instruments: instruments, clients: 1_000, firms: 1_000,
            weights: Weights(passive: 700, aggressive: 100, cancel: 200),
            depthTarget: 50, spreadTicks: 20, lotsPerOrder: 1...10, meanGapNanoseconds: 200)
    }
}

public enum SyntheticInstruments {
    /// `count` instruments `SYM0001`…, 1-cent ticks, lots of 1, 10 % collars, reference
    /// prices from $20 upward.
    public static func make(count: Int) -> [InstrumentSpec] {
        (0..<count).map { i in
            let digits = String(i + 1)
            let name = "SYM" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
            return InstrumentSpec(
                symbol: Symbol(name)!, tickSize: 100, lotSize: 1, collarBasisPoints: 1_000,
                referencePrice: Price(200_000 + 10_000 * (i % 400)))
        }
    }
}
