/// One tradable instrument, from configuration.
public struct InstrumentSpec: Equatable, Sendable {
    public var symbol: Symbol
    /// Minimum price increment, in price units (0.01 is 100).
    public var tickSize: Price
    /// Orders must be a multiple of this many shares.
    public var lotSize: Shares
    /// Price collar half-width in basis points of the reference price (10 % is 1_000);
    /// 0 disables the collar for this instrument.
    public var collarBasisPoints: UInt32
    /// The collar's reference until the first trade; the ladder is centred on it.
    public var referencePrice: Price

    public init(symbol: Symbol, tickSize: Price, lotSize: Shares, collarBasisPoints: UInt32, referencePrice: Price) {
        self.symbol = symbol
        self.tickSize = tickSize
        self.lotSize = lotSize
        self.collarBasisPoints = collarBasisPoints
        self.referencePrice = referencePrice
    }
}

/// Sizes and rules of a matching engine, fixed at start.
public struct EngineConfiguration: Equatable, Sendable {
    public var instruments: [InstrumentSpec]
    /// Orders that can rest at once, across all instruments (`performance.order_pool_size`).
    public var orderPoolSize: Int
    /// Trading accounts; client IDs are 0..<maxClients.
    public var maxClients: Int
    /// Price levels per instrument ladder, a power of two from 64 to 262_144. The ladder
    /// spans `priceLevels` ticks centred on the reference price; orders priced outside it
    /// are rejected with `priceOutOfRange`.
    public var priceLevels: Int
    /// Events buffered before the engine pauses a command and asks to be drained (≥ 64).
    public var eventBufferCapacity: Int
    public var selfTradePrevention: SelfTradePrevention
    /// Whether market orders stop at the collar (`risk.price_collar_enabled`).
    public var collarMarketOrders: Bool
    /// Limit-up/limit-down bands and pauses (configuration `luld`); nil: off.
    public var luld: LULDRules?

    public init(
        instruments: [InstrumentSpec], orderPoolSize: Int = 1_000_000, maxClients: Int = 1_024,
        priceLevels: Int = 65_536, eventBufferCapacity: Int = 4_096,
        selfTradePrevention: SelfTradePrevention = .cancelNewest, collarMarketOrders: Bool = true,
        luld: LULDRules? = nil
    ) {
        self.instruments = instruments
        self.orderPoolSize = orderPoolSize
        self.maxClients = maxClients
        self.priceLevels = priceLevels
        self.eventBufferCapacity = eventBufferCapacity
        self.selfTradePrevention = selfTradePrevention
        self.collarMarketOrders = collarMarketOrders
        self.luld = luld
    }

    /// Problems that would make the engine unable to start, each stated in full.
    public func problems() -> [String] {
        var problems: [String] = []
        if instruments.isEmpty { problems.append("at least one instrument is required") }
        if instruments.count > Int(InstrumentIndex.max) {
            problems.append("at most \(InstrumentIndex.max) instruments are supported, got \(instruments.count)")
        }
        var seen = Set<Symbol>()
        for (i, spec) in instruments.enumerated() {
            if !seen.insert(spec.symbol).inserted { problems.append("instrument \(i): symbol \(spec.symbol) appears twice") }
            if spec.tickSize == 0 { problems.append("instrument \(spec.symbol): tick size must be positive") }
            if spec.lotSize == 0 { problems.append("instrument \(spec.symbol): lot size must be positive") }
            if spec.referencePrice == 0 { problems.append("instrument \(spec.symbol): reference price must be positive") }
            if spec.tickSize > 0 && spec.referencePrice % spec.tickSize != 0 {
                problems.append("instrument \(spec.symbol): reference price is not a multiple of the tick size")
            }
            if spec.collarBasisPoints >= 10_000 {
                problems.append("instrument \(spec.symbol): collar must be below 100 %")
            }
        }
        if orderPoolSize < 1 || orderPoolSize >= Int(UInt32.max / 2) {
            problems.append("order pool size must be between 1 and \(UInt32.max / 2 - 1), got \(orderPoolSize)")
        }
        if maxClients < 1 || maxClients > 1 << 24 {
            problems.append("max clients must be between 1 and \(1 << 24), got \(maxClients)")
        }
        if priceLevels < 64 || priceLevels > 1 << 18 || priceLevels & (priceLevels - 1) != 0 {
            problems.append("price levels must be a power of two from 64 to 262144, got \(priceLevels)")
        }
        if eventBufferCapacity < 64 {
            problems.append("event buffer capacity must be at least 64, got \(eventBufferCapacity)")
        }
        if let luld { problems += luld.problems() }
        return problems
    }
}
