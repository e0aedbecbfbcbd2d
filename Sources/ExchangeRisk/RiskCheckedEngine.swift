import ExchangeCore

/// The engine as the engine agent runs it: pre-trade risk in front of the matching core,
/// on the same thread (docs/MATCHING.md §Risk). Admission (kill switches, rate limit) runs
/// before the core's structural checks, the limits (size, collar, notional) after them.
///
/// Like the core it allocates nothing after start: per-client risk state is a fixed
/// array sized by `maxClients`.
public struct RiskCheckedEngine: ~Copyable {
    public private(set) var engine: MatchingEngine
    public let limits: RiskLimits
    private let buckets: UnsafeMutablePointer<RateBucket>
    private let killed: UnsafeMutablePointer<Bool>
    /// Each client's size, notional and rate limits (`limits` unless set otherwise).
    private let clientLimits: UnsafeMutablePointer<ClientLimits>
    private let maxClients: ClientID
    public private(set) var exchangeKilled = false
    private var pending: EngineCommand?

    public init(configuration: EngineConfiguration, limits: RiskLimits) {
        self.init(engine: MatchingEngine(configuration: configuration), limits: limits)
    }

    /// Wraps an engine (e.g. one placed in a hugepage region by the runtime).
    public init(engine: consuming MatchingEngine, limits: RiskLimits) {
        let clients = engine.configuration.maxClients
        self.engine = engine
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

    deinit {
        buckets.deallocate()
        killed.deallocate()
        clientLimits.deallocate()
    }

    /// Gives one client its own size, notional and rate limits (an account's in the API keys
    /// file); the collar setting stays the exchange's. Call before the first command.
    public mutating func setLimits(_ own: RiskLimits, forClient client: ClientID) {
        precondition(client < maxClients, "client \(client) is beyond max_clients")
        clientLimits[Int(client)] = ClientLimits(
            maxOrderShares: own.maxOrderShares, maxOpenNotional: own.maxOpenNotional, maxOrdersPerSecond: own.maxOrdersPerSecond)
        buckets[Int(client)] = RateBucket(units: UInt64(own.maxOrdersPerSecond) &* PriceScale.nanosecondsPerSecond, lastRefill: 0)
    }

    // MARK: Processing

    /// Processes one command. Drain `events` after the call; on `.suspended`, call
    /// `resume()` until `.completed`.
    public mutating func process(_ command: EngineCommand) -> ProcessStatus {
        precondition(pending == nil && engine.isIdle, "process(_:) called while a command is suspended: call resume()")
        if engine.beginCommand(at: command.timestamp) == .suspended {
            pending = command
            return .suspended
        }
        return execute(command)
    }

    public mutating func resume() -> ProcessStatus {
        if engine.resumeJob() == .suspended { return .suspended }
        guard let command = pending else { return .completed }
        pending = nil
        return execute(command)
    }

    @inlinable public var events: UnsafeBufferPointer<EngineEvent> { engine.events }

    public mutating func clearEvents() { engine.clearEvents() }

    @inlinable public func prefetch(_ command: EngineCommand) { engine.prefetch(command) }

    public func isKilled(client: ClientID) -> Bool { client < maxClients && killed[Int(client)] }

    private mutating func execute(_ command: EngineCommand) -> ProcessStatus {
        switch command {
        case .enter(let c):
            if let reason = admit(client: c.client) {
                return rejected(c.client, c.token, reason, c.timestamp)
            }
            switch engine.validate(c) {
            case .failure(let reason):
                return rejected(c.client, c.token, reason, c.timestamp)
            case .success(let plan):
                if let reason = checkLimits(c, plan: plan) {
                    return rejected(c.client, c.token, reason, c.timestamp)
                }
                return engine.enter(c, plan: plan)
            }
        case .replace(let c):
            if let reason = admit(client: c.client) {
                return rejected(c.client, c.replacementToken, reason, c.timestamp)
            }
            switch engine.validate(c) {
            case .failure(let reason):
                return rejected(c.client, c.replacementToken, reason, c.timestamp)
            case .success(let plan):
                if let reason = checkLimits(c, plan: plan) {
                    return rejected(c.client, c.replacementToken, reason, c.timestamp)
                }
                return engine.replace(c, plan: plan)
            }
        case .cancel(let c):
            engine.cancel(c)
            return .completed
        case .modify(let c):
            engine.modify(c)
            return .completed
        case .cancelAll(let a):
            return engine.cancelAll(client: a.client, reason: .userRequested, timestamp: a.timestamp)
        case .killClient(let a):
            if a.client < maxClients { killed[Int(a.client)] = true }
            return engine.cancelAll(client: a.client, reason: .supervisory, timestamp: a.timestamp)
        case .reinstateClient(let a):
            if a.client < maxClients { killed[Int(a.client)] = false }
            return .completed
        case .killExchange(let t):
            exchangeKilled = true
            return engine.cancelAllClients(reason: .supervisory, timestamp: t)
        case .reinstateExchange:
            exchangeKilled = false
            return .completed
        case .haltInstrument(let a):
            engine.setHalted(true, symbol: a.symbol, timestamp: a.timestamp)
            return .completed
        case .resumeInstrument(let a):
            engine.setHalted(false, symbol: a.symbol, timestamp: a.timestamp)
            return .completed
        case .advanceTime:
            return .completed
        case .refuse(let r):
            engine.refuse(r)
            return .completed
        }
    }

    @inline(__always)
    private mutating func rejected(_ client: ClientID, _ token: OrderToken, _ reason: RejectReason, _ timestamp: Timestamp) -> ProcessStatus {
        engine.reject(client: client, token: token, reason: reason, timestamp: timestamp)
        return .completed
    }

    // MARK: Checks

    /// Checks 0–3: known client, kill switches, then the rate limit (charged only if it passes).
    @inline(__always)
    private mutating func admit(client: ClientID) -> RejectReason? {
        guard client < maxClients else { return .unknownClient }
        if exchangeKilled { return .exchangeKilled }
        if killed[Int(client)] { return .clientKilled }
        return buckets[Int(client)].take(at: engine.now, rate: clientLimits[Int(client)].maxOrdersPerSecond) ? nil : .rateLimited
    }

    /// Checks 14–16 for a new order.
    @inline(__always)
    private func checkLimits(_ c: EnterOrder, plan: EntryPlan) -> RejectReason? {
        if c.shares > clientLimits[Int(c.client)].maxOrderShares { return .maxOrderSizeExceeded }
        let collar = limits.priceCollarsEnabled ? engine.collar(of: plan.instrument) : nil
        var notionalPrice = c.price
        if c.orderType == .limit {
            if let collar, breaches(collar, side: c.side, price: c.price) { return .priceCollarBreached }
        } else {
            notionalPrice = collar?.upper ?? engine.referencePrice(of: plan.instrument)
        }
        return exceedsNotional(client: c.client, releasing: 0, adding: UInt64(c.shares) &* UInt64(notionalPrice))
            ? .maxNotionalExceeded : nil
    }

    /// Checks 14–16 for a replace: the replacement's notional takes the place of the existing order's.
    @inline(__always)
    private func checkLimits(_ c: ReplaceOrder, plan: ReplacePlan) -> RejectReason? {
        if c.shares > clientLimits[Int(c.client)].maxOrderShares { return .maxOrderSizeExceeded }
        if limits.priceCollarsEnabled, let collar = engine.collar(of: plan.instrument),
           breaches(collar, side: plan.side, price: c.price)
        {
            return .priceCollarBreached
        }
        return exceedsNotional(
            client: c.client,
            releasing: UInt64(plan.existingShares) &* UInt64(plan.existingPrice),
            adding: UInt64(c.shares) &* UInt64(c.price)) ? .maxNotionalExceeded : nil
    }

    /// Buys above the upper bound and sells below the lower bound breach the collar.
    @inline(__always)
    private func breaches(_ collar: (lower: Price, upper: Price), side: Side, price: Price) -> Bool {
        side == .buy ? price > collar.upper : price < collar.lower
    }

    @inline(__always)
    private func exceedsNotional(client: ClientID, releasing: Notional, adding: Notional) -> Bool {
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
