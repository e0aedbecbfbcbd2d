import ExchangeCore

/// The engine as the engine agent runs it: pre-trade risk in front of the matching core,
/// on the same thread (docs/MATCHING.md §Risk). The core's one dispatcher runs the
/// commands; `RiskChecks` is what it calls in between: admission (kill switches, rate
/// limit) before the core's structural checks, the limits (size, collar, notional) after.
///
/// Like the core it allocates nothing after start: per-client risk state is a fixed
/// array sized by `maxClients`.
public struct RiskCheckedEngine: ~Copyable {
    public internal(set) var engine: MatchingEngine
    public let limits: RiskLimits
    var checks: RiskChecks

    public init(configuration: EngineConfiguration, limits: RiskLimits) {
        self.init(engine: MatchingEngine(configuration: configuration), limits: limits)
    }

    /// Wraps an engine (e.g. one placed in a hugepage region by the runtime).
    public init(engine: consuming MatchingEngine, limits: RiskLimits) {
        checks = RiskChecks(clients: engine.configuration.maxClients, limits: limits)
        self.engine = engine
        self.limits = limits
    }

    deinit { checks.deallocate() }

    /// Gives one client its own size, notional and rate limits (an account's in the API keys
    /// file); the collar setting stays the exchange's. Call before the first command.
    public mutating func setLimits(_ own: RiskLimits, forClient client: ClientID) {
        checks.setLimits(own, forClient: client)
    }

    // MARK: Processing

    /// Processes one command. Drain `events` after the call; on `.suspended`, call
    /// `resume()` until `.completed`.
    public mutating func process(_ command: EngineCommand) -> ProcessStatus {
        engine.process(command, checks: &checks)
    }

    public mutating func resume() -> ProcessStatus {
        engine.resume(checks: &checks)
    }

    @inlinable public var events: UnsafeBufferPointer<EngineEvent> { engine.events }

    public mutating func clearEvents() { engine.clearEvents() }

    @inlinable public func prefetch(_ command: EngineCommand) { engine.prefetch(command) }

    /// The exchange kill switch.
    public var exchangeKilled: Bool { checks.exchangeKilled }

    public func isKilled(client: ClientID) -> Bool { checks.isKilled(client: client) }
}

/// The risk layer's checks and their state, run by the core's dispatcher.
struct RiskChecks: PreTradeChecks {
    let limits: RiskLimits
    let buckets: UnsafeMutablePointer<RateBucket>
    let killed: UnsafeMutablePointer<Bool>
    /// Each client's size, notional and rate limits (`limits` unless set otherwise).
    let clientLimits: UnsafeMutablePointer<ClientLimits>
    let maxClients: ClientID
    var exchangeKilled = false

    init(clients: Int, limits: RiskLimits) {
        self.limits = limits
        maxClients = ClientID(clients)
        let capacity = UInt64(limits.maxOrdersPerSecond) &* PriceScale.nanosecondsPerSecond
        buckets = .allocate(capacity: clients)
        buckets.initialize(repeating: RateBucket(units: capacity, lastRefill: 0), count: clients)
        killed = .allocate(capacity: clients)
        killed.initialize(repeating: false, count: clients)
        clientLimits = .allocate(capacity: clients)
        clientLimits.initialize(
            repeating: ClientLimits(maxOrderShares: limits.maxOrderShares, maxOpenNotional: limits.maxOpenNotional,
                                    maxOrdersPerSecond: limits.maxOrdersPerSecond),
            count: clients)
    }

    /// Frees the per-client arrays (the owning `RiskCheckedEngine`'s deinit).
    func deallocate() {
        buckets.deallocate()
        killed.deallocate()
        clientLimits.deallocate()
    }

    mutating func setLimits(_ own: RiskLimits, forClient client: ClientID) {
        precondition(client < maxClients, "client \(client) is beyond max_clients")
        clientLimits[Int(client)] = ClientLimits(
            maxOrderShares: own.maxOrderShares, maxOpenNotional: own.maxOpenNotional, maxOrdersPerSecond: own.maxOrdersPerSecond)
        buckets[Int(client)] = RateBucket(units: UInt64(own.maxOrdersPerSecond) &* PriceScale.nanosecondsPerSecond, lastRefill: 0)
    }

    func isKilled(client: ClientID) -> Bool { client < maxClients && killed[Int(client)] }

    // MARK: Kill switches

    @inline(__always)
    mutating func setKilled(_ killed: Bool, client: ClientID) {
        if client < maxClients { self.killed[Int(client)] = killed }
    }

    @inline(__always)
    mutating func setExchangeKilled(_ killed: Bool) { exchangeKilled = killed }

    // MARK: Checks

    /// Checks 0–3: known client, kill switches, then the rate limit (charged only if it passes).
    @inline(__always)
    mutating func admit(client: ClientID, engine: borrowing MatchingEngine) -> RejectReason? {
        guard client < maxClients else { return .unknownClient }
        if exchangeKilled { return .exchangeKilled }
        if killed[Int(client)] { return .clientKilled }
        return buckets[Int(client)].take(at: engine.now, rate: clientLimits[Int(client)].maxOrdersPerSecond) ? nil : .rateLimited
    }

    /// Checks 14–16 for a new order.
    @inline(__always)
    func checkLimits(_ c: EnterOrder, plan: EntryPlan, engine: borrowing MatchingEngine) -> RejectReason? {
        if c.shares > clientLimits[Int(c.client)].maxOrderShares { return .maxOrderSizeExceeded }
        let collar = limits.priceCollarsEnabled ? engine.collar(of: plan.instrument) : nil
        var notionalPrice = c.price
        if c.orderType == .limit {
            if let collar, breaches(collar, side: c.side, price: c.price) { return .priceCollarBreached }
        } else {
            notionalPrice = collar?.upper ?? engine.referencePrice(of: plan.instrument)
        }
        return exceedsNotional(client: c.client, releasing: 0, adding: UInt64(c.shares) &* UInt64(notionalPrice), engine: engine)
            ? .maxNotionalExceeded : nil
    }

    /// Checks 14–16 for a replace: the replacement's notional takes the place of the existing order's.
    @inline(__always)
    func checkLimits(_ c: ReplaceOrder, plan: ReplacePlan, engine: borrowing MatchingEngine) -> RejectReason? {
        if c.shares > clientLimits[Int(c.client)].maxOrderShares { return .maxOrderSizeExceeded }
        if limits.priceCollarsEnabled, let collar = engine.collar(of: plan.instrument),
           breaches(collar, side: plan.side, price: c.price)
        {
            return .priceCollarBreached
        }
        return exceedsNotional(
            client: c.client,
            releasing: UInt64(plan.existingShares) &* UInt64(plan.existingPrice),
            adding: UInt64(c.shares) &* UInt64(c.price), engine: engine) ? .maxNotionalExceeded : nil
    }

    /// Buys above the upper bound and sells below the lower bound breach the collar.
    @inline(__always)
    private func breaches(_ collar: (lower: Price, upper: Price), side: Side, price: Price) -> Bool {
        side == .buy ? price > collar.upper : price < collar.lower
    }

    @inline(__always)
    private func exceedsNotional(client: ClientID, releasing: Notional, adding: Notional, engine: borrowing MatchingEngine) -> Bool {
        engine.exactOpenNotional(client: client) - UInt128(releasing) + UInt128(adding) > UInt128(clientLimits[Int(client)].maxOpenNotional)
    }
}

/// One client's limits, packed (16 bytes) for the hot path.
struct ClientLimits {
    var maxOrderShares: Shares
    var maxOrdersPerSecond: UInt32
    var maxOpenNotional: Notional

    init(maxOrderShares: Shares, maxOpenNotional: Notional, maxOrdersPerSecond: UInt32) {
        self.maxOrderShares = maxOrderShares
        self.maxOpenNotional = maxOpenNotional
        self.maxOrdersPerSecond = maxOrdersPerSecond
    }
}

/// Per-client token bucket in units of 10⁻⁹ order, refilled from command time.
struct RateBucket {
    var units: UInt64
    var lastRefill: Timestamp

    /// Refills for the time since the last check, then takes one order if there is one.
    @inline(__always)
    mutating func take(at now: Timestamp, rate: UInt32) -> Bool {
        let perOrder = PriceScale.nanosecondsPerSecond
        let capacity = UInt64(rate) &* perOrder
        let elapsed = min(now &- lastRefill, perOrder)
        units = min(capacity, units &+ elapsed &* UInt64(rate))
        lastRefill = now
        guard units >= perOrder else { return false }
        units &-= perOrder
        return true
    }
}
extension RiskCheckedEngine: CommandProcessing {}

#if !DEBUG
// The compiler proves the risk-checked path too (optimized builds, as the core's proof in
// MatchingEngine+Process.swift): the dispatcher is specialised here, and the core steps it
// calls across the module boundary carry the same annotations, proven in ExchangeCore.
extension RiskCheckedEngine {
    @_noLocks @_noAllocation
    mutating func provenLockAndAllocationFreeProcess(_ command: EngineCommand) -> ProcessStatus { process(command) }

    @_noLocks @_noAllocation
    mutating func provenLockAndAllocationFreeResume() -> ProcessStatus { resume() }
}
#endif
