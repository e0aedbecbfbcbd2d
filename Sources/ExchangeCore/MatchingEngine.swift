/// Whether a command finished, or paused because its events filled the event buffer.
/// After `.suspended`, drain the events and call `resume()`; no other command may run
/// in between. Suspension changes nothing about the result: the same commands produce the
/// same events whatever the buffer size.
public enum ProcessStatus: Sendable, Equatable {
    case completed
    case suspended
}

/// A new order that passed the structural checks (docs/MATCHING.md checks 4–13).
public struct EntryPlan: Sendable {
    public let instrument: InstrumentIndex
    @usableFromInline let level: UInt32
    /// Where the token goes in the token table (nothing changes it before `enter`).
    @usableFromInline let tokenTag: UInt32
    @usableFromInline let tokenSlot: UInt32
}

/// A replace that passed the structural checks, with what risk needs of the existing order.
public struct ReplacePlan: Sendable {
    public let instrument: InstrumentIndex
    public let side: Side
    public let existingShares: Shares
    public let existingPrice: Price
    @usableFromInline let order: OrderIndex
    @usableFromInline let level: UInt32
    /// The existing token's slot (nothing changes the table before `replace`).
    @usableFromInline let existingSlot: UInt32
    @usableFromInline let replacementTag: UInt32
}

/// The price-time-priority matching engine for all configured instruments.
///
/// One agent owns it. All state lives in one region allocated at start (or handed in by
/// the runtime, hugepage-backed and locked); processing a command allocates nothing,
/// locks nothing, makes no system call and reads no clock. The rules are in
/// docs/MATCHING.md.
///
/// Use: `process(command)`, then read `events` and `clearEvents()`; if the status was
/// `.suspended`, call `resume()` and drain again until `.completed`. A layer with checks of
/// its own (ExchangeRisk) calls `process(command, checks: &itsChecks)` and
/// `resume(checks:)`: one dispatcher for both (MatchingEngine+Process.swift).
///
/// This is a handle: the state (`EngineState`) sits at the start of the region, so passing
/// the engine to a call costs two registers however large the state grows.
public struct MatchingEngine: ~Copyable {
    @usableFromInline let state: UnsafeMutablePointer<EngineState>
    let region: UnsafeMutableRawPointer
    let ownsRegion: Bool

    /// Bytes of region the configuration needs.
    public static func requiredBytes(for configuration: EngineConfiguration) -> Int {
        EngineLayout(configuration).totalBytes
    }

    /// An engine over its own heap region (tests, tools, benchmarks).
    public init(configuration: EngineConfiguration) {
        let bytes = MatchingEngine.requiredBytes(for: configuration)
        self.init(configuration: configuration, region: .allocate(byteCount: bytes, alignment: 4096), ownsRegion: true)
    }

    /// An engine over a region the caller placed (hugepages, NUMA node, locked). The region
    /// must hold `requiredBytes(for:)` bytes, aligned to 128, and outlive the engine.
    public init(configuration: EngineConfiguration, region: UnsafeMutableRawPointer) {
        self.init(configuration: configuration, region: region, ownsRegion: false)
    }

    private init(configuration: EngineConfiguration, region: UnsafeMutableRawPointer, ownsRegion: Bool) {
        let problems = configuration.problems()
        precondition(problems.isEmpty, "invalid engine configuration: \(problems.joined(separator: "; "))")
        let layout = EngineLayout(configuration)
        region.initializeMemory(as: UInt8.self, repeating: 0, count: layout.totalBytes)
        state = (region + layout.offset("engine_state")).bindMemory(to: EngineState.self, capacity: 1)
        state.initialize(to: EngineState(configuration: configuration, layout: layout, region: region))
        self.region = region
        self.ownsRegion = ownsRegion
    }

    deinit {
        state.deinitialize(count: 1)
        if ownsRegion { region.deallocate() }
    }

    // MARK: Processing

    /// Processes one command with the core's checks only (no kill switches or limits:
    /// that is ExchangeRisk). Drain `events` after the call; on `.suspended`, call
    /// `resume()` until `.completed`. The one dispatcher, `process(_:checks:)`, with checks
    /// that compile to nothing.
    public mutating func process(_ command: EngineCommand) -> ProcessStatus {
        var none = NoPreTradeChecks()
        return process(command, checks: &none)
    }

    /// Continues a suspended command.
    public mutating func resume() -> ProcessStatus {
        var none = NoPreTradeChecks()
        return resume(checks: &none)
    }

    /// Events of the last `process`/`resume` call, in order. Valid until the next call.
    public var events: UnsafeBufferPointer<EngineEvent> { state.pointee.events }

    /// Marks the events as consumed. Call before every `process` and `resume`.
    public mutating func clearEvents() { state.pointee.clearEvents() }

    /// True when no command is in progress.
    @inlinable public var isIdle: Bool { state.pointee.isIdle }

    // MARK: Steps, for the dispatcher (MatchingEngine+Process.swift)
    //
    // Each carries the no-lock/no-allocation proof in optimized builds, so that a
    // specialisation of the dispatcher in another module (ExchangeRisk) can be proven too.

    /// Moves engine time to `timestamp` (never backwards) and expires due orders.
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func beginCommand(at timestamp: Timestamp) -> ProcessStatus { state.pointee.beginCommand(at: timestamp) }

    /// Continues whatever was suspended: expiry, matching or a mass cancel.
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func resumeJob() -> ProcessStatus { state.pointee.resumeJob() }

    /// Checks 4–13 of docs/MATCHING.md, changing nothing.
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline func validate(_ order: EnterOrder) -> Result<EntryPlan, RejectReason> { state.pointee.validate(order) }

    /// Structural checks of a replace, changing nothing.
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline func validate(_ replace: ReplaceOrder) -> Result<ReplacePlan, RejectReason> { state.pointee.validate(replace) }

    /// Enters an order that passed `validate` (and the pre-trade checks).
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func enter(_ order: EnterOrder, plan: EntryPlan) -> ProcessStatus { state.pointee.enter(order, plan: plan) }

    /// Replaces an order that passed `validate` (and the pre-trade checks).
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func replace(_ replace: ReplaceOrder, plan: ReplacePlan) -> ProcessStatus { state.pointee.replace(replace, plan: plan) }

    /// Cancel: reduce to a new open size (0 cancels). Never suspends.
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func cancel(_ cancel: CancelOrder) { state.pointee.cancel(cancel) }

    /// Modify: change between sell variants and/or reduce, keeping priority. Never suspends.
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func modify(_ modify: ModifyOrder) { state.pointee.modify(modify) }

    /// Cancels every resting order of `client` in the order they came to rest.
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func cancelAll(client: ClientID, reason: CancelReason, timestamp: Timestamp) -> ProcessStatus {
        state.pointee.cancelAll(client: client, reason: reason, timestamp: timestamp)
    }

    /// Cancels every resting order, clients in ascending ID.
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func cancelAllClients(reason: CancelReason, timestamp: Timestamp) -> ProcessStatus {
        state.pointee.cancelAllClients(reason: reason, timestamp: timestamp)
    }

    /// Halts or resumes an instrument; emits `tradingState` only on a change.
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func setHalted(_ halted: Bool, symbol: Symbol, timestamp: Timestamp) {
        state.pointee.setHalted(halted, symbol: symbol, timestamp: timestamp)
    }

    /// Runs a phase command: phase changes, imbalance indications, crosses.
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func tradingPhase(_ command: PhaseCommand) -> ProcessStatus {
        state.pointee.startPhase(command)
    }

    /// The limit states of the instruments the command touched (LULD).
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func settleLimitStates() -> ProcessStatus { state.pointee.settleLimitStates() }

    /// Emits the day's `systemEvent` (start or end of day).
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func announce(_ event: DayEvent, timestamp: Timestamp) {
        state.pointee.emit(.systemEvent(SystemEventOccurred(timestamp: timestamp, event: event)))
    }

    /// Emits `rejected` and counts the reason.
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func reject(client: ClientID, token: OrderToken, reason: RejectReason, timestamp: Timestamp) {
        state.pointee.reject(client: client, token: token, reason: reason, timestamp: timestamp)
    }

    /// Answers a refusal from the gateway (`EngineCommand.refuse`).
    #if !DEBUG
    @_noLocks @_noAllocation
    #endif
    @usableFromInline mutating func refuse(_ refusal: Refusal) {
        state.pointee.refuse(refusal)
    }

    // MARK: Queries

    public var configuration: EngineConfiguration { state.pointee.configuration }
    public var layout: EngineLayout { state.pointee.layout }
    /// Engine time: the largest command timestamp seen.
    @inlinable public var now: Timestamp { state.pointee.now }
    public var counters: EngineCounters { state.pointee.counters }
    public var instrumentCount: Int { state.pointee.instrumentCount }
    public var restingOrderCount: Int { state.pointee.restingOrderCount }

    public func instrument(for symbol: Symbol) -> InstrumentIndex? { state.pointee.instrument(for: symbol) }
    public func symbol(of instrument: InstrumentIndex) -> Symbol { state.pointee.symbol(of: instrument) }
    /// Sum of leaves × price over the client's resting orders (saturated at `UInt64.max`).
    public func openNotional(client: ClientID) -> Notional { state.pointee.openNotional(client: client) }
    /// Sum of leaves × price over the client's resting orders, exactly.
    @inlinable public func exactOpenNotional(client: ClientID) -> UInt128 { state.pointee.exactOpenNotional(client: client) }
    /// Last trade price, else the configured reference price.
    @inlinable public func referencePrice(of instrument: InstrumentIndex) -> Price { state.pointee.referencePrice(of: instrument) }
    /// Last trade price, or nil before the first trade.
    public func lastTradePrice(of instrument: InstrumentIndex) -> Price? { state.pointee.lastTradePrice(of: instrument) }
    public func isHalted(_ instrument: InstrumentIndex) -> Bool { state.pointee.isHalted(instrument) }
    /// The instrument's trading phase (docs/MATCHING.md §The trading day).
    public func phase(of instrument: InstrumentIndex) -> TradingPhase { state.pointee.phase(of: instrument) }
    /// The LULD bands (lower, upper) as of the last command, or nil when LULD is off.
    public func luldBands(of instrument: InstrumentIndex) -> (lower: Price, upper: Price)? { state.pointee.luldBands(of: instrument) }
    /// The instrument's LULD limit state.
    public func limitState(of instrument: InstrumentIndex) -> LimitState { state.pointee.limitState(of: instrument) }
    /// Whether the instrument is in an LULD pause.
    public func isLULDPaused(_ instrument: InstrumentIndex) -> Bool { state.pointee.isLULDPaused(instrument) }
    /// Orders waiting for a cross off the ladder, oldest first.
    public func crossListOrders(instrument: InstrumentIndex) -> [RestingOrder] {
        state.pointee.crossListOrders(instrument: instrument)
    }
    /// The collar band around the current reference, or nil when the instrument has none.
    @inlinable public func collar(of instrument: InstrumentIndex) -> (lower: Price, upper: Price)? { state.pointee.collar(of: instrument) }
    /// Rejects of one reason so far.
    public func rejectCount(_ reason: RejectReason) -> UInt64 { state.pointee.rejectCount(reason) }

    /// Resting orders of one side in priority order (best price first, then oldest first).
    public func restingOrders(instrument: InstrumentIndex, side: BookSide) -> [RestingOrder] {
        state.pointee.restingOrders(instrument: instrument, side: side)
    }

    /// Aggregated levels of one side, best first, at most `maxLevels`.
    public func depth(instrument: InstrumentIndex, side: BookSide, maxLevels: Int = .max) -> [DepthLevel] {
        state.pointee.depth(instrument: instrument, side: side, maxLevels: maxLevels)
    }

    /// Writes up to `into.count` aggregated levels of one side, best first; returns how many.
    /// Allocates nothing (the engine agent serves order-book snapshots with it).
    public func writeDepth(instrument: InstrumentIndex, side: BookSide, into levels: UnsafeMutableBufferPointer<DepthLevel>) -> Int {
        state.pointee.writeDepth(instrument: instrument, side: side, into: levels)
    }

    /// Best bid and ask prices, if any.
    public func bestPrices(instrument: InstrumentIndex) -> (bid: Price?, ask: Price?) { state.pointee.bestPrices(instrument: instrument) }

    /// Every structural invariant that does not hold (empty when sound). O(orders + levels).
    public func invariantViolations() -> [String] { state.pointee.invariantViolations() }
}

extension MatchingEngine: CommandProcessing {}
