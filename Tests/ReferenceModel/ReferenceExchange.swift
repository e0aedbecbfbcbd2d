// The naive reference model of the matching engine: the obviously-correct, slow twin of
// ExchangeCore + ExchangeRisk, written from docs/MATCHING.md only. Every block cites the
// rule it implements. Differential tests require its events to equal the fast engine's.

import ExchangeCore
import ExchangeRisk

public struct ReferenceExchange {
    let configuration: EngineConfiguration
    let limits: RiskLimits

    /// Instruments in configuration order (index = InstrumentIndex).
    var instruments: [InstrumentState] = []
    var symbolIndex: [Symbol: InstrumentIndex] = [:]

    /// MATCHING.md §Every command 1: starts at 0, never goes backwards.
    var engineTime: Timestamp = 0
    /// The timestamp of the command being processed: every event carries it (not `now`).
    var commandTime: Timestamp = 0
    /// MATCHING.md §Every command: "Order reference numbers start at 1".
    var nextReference: OrderReference = 1
    /// "Match numbers start at 1, one per fill."
    var nextMatchNumber: MatchNumber = 1
    /// Global counter stamped on an order when it comes to rest (orders mass cancels).
    var nextRestSequence: UInt64 = 1

    var exchangeKilled = false
    var killedClients: Set<ClientID> = []
    /// Token buckets; a client without an entry has a full bucket (MATCHING.md §Risk "full at start").
    var buckets: [ClientID: TokenBucket] = [:]

    /// Live tokens -> order reference (MATCHING.md §Tokens).
    var liveTokens: [TokenKey: OrderReference] = [:]

    /// The reason phase changes get (luldPause while an LULD pause begins or ends).
    var phaseReason = PhaseReason.command

    /// Events of the command being processed, in order.
    var events: [EngineEvent] = []

    public init(configuration: EngineConfiguration, limits: RiskLimits) {
        self.configuration = configuration
        self.limits = limits
        for (i, spec) in configuration.instruments.enumerated() {
            // An InstrumentIndex is a UInt16; a valid configuration has fewer instruments.
            guard i <= Int(InstrumentIndex.max) else { break }
            let index = InstrumentIndex(i)
            instruments.append(InstrumentState(spec: spec))
            // Duplicate symbols are a configuration problem; the first one wins here.
            if symbolIndex[spec.symbol] == nil { symbolIndex[spec.symbol] = index }
        }
    }

    /// Engine time (max of command timestamps seen).
    public var now: Timestamp { engineTime }

    /// Processes one command and returns every event it caused, in order.
    public mutating func process(_ command: EngineCommand) -> [EngineEvent] {
        events = []
        commandTime = command.timestamp
        // MATCHING.md §Every command 1: now = max(now, command.timestamp).
        engineTime = max(engineTime, command.timestamp)
        // MATCHING.md §Limit up, limit down: pauses and reopenings due, before expiry.
        luldTimers()
        // MATCHING.md §Every command 2: expiry, before the command itself.
        expireOrders()
        // MATCHING.md §Every command 3: the command itself.
        switch command {
        case .enter(let c): enter(c)
        case .replace(let c): replace(c)
        case .cancel(let c): cancel(c)
        case .modify(let c): modify(c)
        case .cancelAll(let c): cancelAll(client: c.client)
        case .killClient(let c): killClient(c.client)
        case .reinstateClient(let c): killedClients.remove(c.client)
        case .killExchange: killExchange()
        case .reinstateExchange: exchangeKilled = false
        case .haltInstrument(let c): setHalted(symbol: c.symbol, halted: true)
        case .resumeInstrument(let c): setHalted(symbol: c.symbol, halted: false)
        case .advanceTime: break  // "advanceTime: nothing beyond expiry."
        case .refuse(let r): refuse(r)
        case .session, .fixSession, .leadership, .operatorNote: break  // "no event"
        case .startOfDay(let t): events.append(.systemEvent(SystemEventOccurred(timestamp: t, event: .startOfDay)))
        case .endOfDay(let t): events.append(.systemEvent(SystemEventOccurred(timestamp: t, event: .endOfDay)))
        case .tradingPhase(let c): tradingPhase(c)
        }
        // MATCHING.md §Limit up, limit down: limit states at the end of every command.
        settleLimitStates()
        let out = events
        events = []
        return out
    }

    /// Resting orders of one side of one instrument in priority order (best price first, then oldest first).
    public func restingOrders(instrument: InstrumentIndex, side: BookSide) -> [RestingOrder] {
        guard Int(instrument) < instruments.count else { return [] }
        return instruments[Int(instrument)].orders(side).map(\.asRestingOrder)
    }

    /// Sum of leaves × price over the client's resting orders (saturating at UInt64.max).
    public func openNotional(client: ClientID) -> Notional {
        openNotionalWide(client: client).saturatedUInt64
    }
}

// MARK: - Small helpers shared by all commands

extension ReferenceExchange {
    mutating func emit(_ event: EngineEvent) { events.append(event) }

    /// Consumes the next order reference (MATCHING.md §Every command: "consumed by every
    /// `accepted` and every `replaced`, in event order").
    mutating func takeReference() -> OrderReference {
        let r = nextReference
        nextReference &+= 1
        return r
    }

    /// MATCHING.md §Risk "Max notional per client": sum of leaves × price over resting orders.
    func openNotionalWide(client: ClientID) -> UInt128 {
        var total: UInt128 = 0
        for inst in instruments {
            for order in inst.bids + inst.asks + inst.crossList where order.client == client {
                total += UInt128(order.leaves) * UInt128(order.price)
            }
        }
        return total
    }

    // MARK: Tokens

    /// MATCHING.md §Tokens: live from `accepted`/`replaced`.
    mutating func registerLive(_ order: ModelOrder) {
        liveTokens[TokenKey(client: order.client, token: order.token)] = order.reference
    }

    /// MATCHING.md §Tokens: when an order dies its token is free again.
    mutating func retire(client: ClientID, token: OrderToken) {
        liveTokens[TokenKey(client: client, token: token)] = nil
    }

    /// MATCHING.md §Enter check 13: "the client's token is held by one of its live orders".
    func isDuplicate(client: ClientID, token: OrderToken) -> Bool {
        liveTokens[TokenKey(client: client, token: token)] != nil
    }

    /// The live order of (client, token), located in the books.
    func findLive(client: ClientID, token: OrderToken) -> (instrument: Int, side: BookSide, index: Int)? {
        guard let reference = liveTokens[TokenKey(client: client, token: token)] else { return nil }
        return findResting(reference: reference)
    }

    func findResting(reference: OrderReference) -> (instrument: Int, side: BookSide, index: Int)? {
        for i in instruments.indices {
            if let k = instruments[i].bids.firstIndex(where: { $0.reference == reference }) { return (i, .bid, k) }
            if let k = instruments[i].asks.firstIndex(where: { $0.reference == reference }) { return (i, .ask, k) }
            if let k = instruments[i].crossList.firstIndex(where: { $0.reference == reference }) {
                return (i, instruments[i].crossList[k].bookSide, Self.crossListBase + k)
            }
        }
        return nil
    }

    /// Locations at or above this index are in the instrument's cross list (index − base).
    static let crossListBase = 1 << 40

    func order(at location: (instrument: Int, side: BookSide, index: Int)) -> ModelOrder {
        if location.index >= Self.crossListBase {
            return instruments[location.instrument].crossList[location.index - Self.crossListBase]
        }
        return instruments[location.instrument].orders(location.side)[location.index]
    }

    // MARK: Book sides (arrays in priority order)

    /// Rests an order at the back of its price level: after every order at a better or
    /// equal price (MATCHING.md §Enter "Remainder": "rest at the back of their price level").
    mutating func insertAtBackOfLevel(_ order: ModelOrder) {
        let i = Int(order.instrument)
        switch order.bookSide {
        case .bid:
            let position = instruments[i].bids.firstIndex(where: { $0.price < order.price }) ?? instruments[i].bids.count
            instruments[i].bids.insert(order, at: position)
        case .ask:
            let position = instruments[i].asks.firstIndex(where: { $0.price > order.price }) ?? instruments[i].asks.count
            instruments[i].asks.insert(order, at: position)
        }
    }

    @discardableResult
    mutating func removeResting(instrument: Int, side: BookSide, index: Int) -> ModelOrder {
        if index >= Self.crossListBase { return instruments[instrument].crossList.remove(at: index - Self.crossListBase) }
        switch side {
        case .bid: return instruments[instrument].bids.remove(at: index)
        case .ask: return instruments[instrument].asks.remove(at: index)
        }
    }

    mutating func updateResting(instrument: Int, side: BookSide, index: Int, _ body: (inout ModelOrder) -> Void) {
        if index >= Self.crossListBase { return body(&instruments[instrument].crossList[index - Self.crossListBase]) }
        switch side {
        case .bid: body(&instruments[instrument].bids[index])
        case .ask: body(&instruments[instrument].asks[index])
        }
    }

    // MARK: Prices

    /// MATCHING.md §Reference price and collar: last trade price, or the configured
    /// reference price before the first trade.
    func referencePrice(_ instrument: Int) -> UInt64 {
        let inst = instruments[instrument]
        return UInt64(inst.lastTradePrice ?? inst.spec.referencePrice)
    }

    /// MATCHING.md §Reference price and collar: `band = reference × collarBasisPoints /
    /// 10_000` (integer division), `upper = reference + band`, `lower = max(0, reference − band)`.
    /// Computed in UInt64 (a UInt32 × UInt32 product always fits).
    func collarBounds(_ instrument: Int) -> (upper: UInt64, lower: UInt64) {
        let reference = referencePrice(instrument)
        let band = reference * UInt64(instruments[instrument].spec.collarBasisPoints) / 10_000
        let upper = reference + band
        let lower = reference > band ? reference - band : 0
        return (upper, lower)
    }

    /// MATCHING.md §Ladder: base tick index `max(0, referencePrice / tickSize − priceLevels / 2)`
    /// (configured reference price); in range when `base ≤ price / tickSize < base + priceLevels`.
    /// Prices above UInt32.max (only possible for a computed post-only price) are out of range.
    func isInLadder(_ instrument: Int, price: UInt64) -> Bool {
        guard price <= UInt64(Price.max) else { return false }
        let inst = instruments[instrument]
        let tick = inst.tick
        let levels = configuration.priceLevels
        let referenceIndex = Int(UInt64(inst.spec.referencePrice) / tick)
        let base = max(0, referenceIndex - levels / 2)
        let index = Int(price / tick)
        // `index - base < levels` rather than `index < base + levels` so nothing can overflow.
        return index >= base && index - base < levels
    }

    /// A timed order's deadline: `now + TIF × 10⁹` (saturating at UInt64.max). Nil unless TIF is 1…86400.
    func deadline(for timeInForce: TimeInForce) -> Timestamp? {
        guard timeInForce.isTimed else { return nil }
        let (sum, overflow) = engineTime.addingReportingOverflow(UInt64(timeInForce.rawValue) * PriceScale.nanosecondsPerSecond)
        return overflow ? Timestamp.max : sum
    }

    // MARK: Admission

    /// MATCHING.md §Risk "Max orders per second". In integers: one order is 10⁹ units,
    /// `capacity = rate × 10⁹`; at each check `bucket = min(capacity, bucket + min(now −
    /// lastRefill, 10⁹) × rate)`, `lastRefill = now`; passes and takes 10⁹ units when
    /// `bucket ≥ 10⁹`. Returns whether the check passed.
    mutating func chargeRateLimit(client: ClientID) -> Bool {
        let unit = PriceScale.nanosecondsPerSecond
        let rate = UInt64(limits.maxOrdersPerSecond)
        let capacity = rate * unit  // ≤ (2³²−1)·10⁹ < 2⁶⁴
        var bucket = buckets[client] ?? TokenBucket(units: capacity, lastRefill: engineTime)  // full at start
        let elapsed = engineTime >= bucket.lastRefill ? engineTime - bucket.lastRefill : 0
        // bucket ≤ capacity and min(elapsed, 10⁹) × rate ≤ capacity, so the sum fits in UInt64.
        bucket.units = min(capacity, bucket.units + min(elapsed, unit) * rate)
        bucket.lastRefill = engineTime
        let passed = bucket.units >= unit
        if passed { bucket.units -= unit }
        buckets[client] = bucket
        return passed
    }

    func isKnownClient(_ client: ClientID) -> Bool {
        // Check 0: unknownClient when `client >= maxClients`.
        UInt64(client) < UInt64(max(0, configuration.maxClients))
    }
}
