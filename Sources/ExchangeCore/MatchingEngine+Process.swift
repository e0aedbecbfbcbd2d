// The one command dispatcher (time, expiry, the command itself, suspension and resumption),
// then time, expiry and mass actions. The risk layer (ExchangeRisk) runs through the same
// dispatcher with its admission and limit checks in between (`PreTradeChecks`); `process`
// without checks runs the core alone (structural checks only, no kill switches or limits).

extension MatchingEngine {
    /// Processes one command, running `checks` where docs/MATCHING.md puts them. Drain
    /// `events` after the call; on `.suspended`, call `resume(checks:)` with the same checks
    /// until `.completed`.
    ///
    /// Generic and inlinable so that each kind of checks gets its own specialised copy (the
    /// core's own `process(_:)` uses `NoPreTradeChecks`, whose checks compile to nothing).
    @inlinable
    public mutating func process<Checks: PreTradeChecks>(_ command: EngineCommand, checks: inout Checks) -> ProcessStatus {
        precondition(state.pointee.isIdle, "process(_:) called while a command is suspended: call resume()")
        precondition(state.pointee.eventBuffer.count == 0, "drain events (clearEvents) before process(_:)")
        if beginCommand(at: command.timestamp) == .suspended {
            // Expiry filled the buffer before the command could start: keep it for `resume`.
            // The only place a command is copied into the engine, and a rare one.
            state.pointee.pendingCommand = command
            state.pointee.hasPendingCommand = true
            return .suspended
        }
        return settle(execute(command, checks: &checks))
    }

    /// Continues a suspended command with the checks it started with.
    @inlinable
    public mutating func resume<Checks: PreTradeChecks>(checks: inout Checks) -> ProcessStatus {
        precondition(state.pointee.eventBuffer.count == 0, "drain events (clearEvents) before resume()")
        if resumeJob() == .suspended { return .suspended }
        guard state.pointee.hasPendingCommand else { return settle(.completed) }
        state.pointee.hasPendingCommand = false
        return settle(execute(state.pointee.pendingCommand, checks: &checks))
    }

    /// The end of a command: the limit states of the instruments it touched (LULD on only).
    @inlinable @inline(__always)
    mutating func settle(_ status: ProcessStatus) -> ProcessStatus {
        guard _slowPath(state.pointee.luldDirtyAny), status == .completed else { return status }
        return settleLimitStates()
    }

    @inlinable
    mutating func execute<Checks: PreTradeChecks>(_ command: EngineCommand, checks: inout Checks) -> ProcessStatus {
        switch command {
        case .enter(let c):
            if let reason = checks.admit(client: c.client, engine: self) {
                return rejected(c.client, c.token, reason, c.timestamp)
            }
            switch validate(c) {
            case .failure(let reason):
                return rejected(c.client, c.token, reason, c.timestamp)
            case .success(let plan):
                if let reason = checks.checkLimits(c, plan: plan, engine: self) {
                    return rejected(c.client, c.token, reason, c.timestamp)
                }
                return enter(c, plan: plan)
            }
        case .replace(let c):
            if let reason = checks.admit(client: c.client, engine: self) {
                return rejected(c.client, c.replacementToken, reason, c.timestamp)
            }
            switch validate(c) {
            case .failure(let reason):
                return rejected(c.client, c.replacementToken, reason, c.timestamp)
            case .success(let plan):
                if let reason = checks.checkLimits(c, plan: plan, engine: self) {
                    return rejected(c.client, c.replacementToken, reason, c.timestamp)
                }
                return replace(c, plan: plan)
            }
        case .cancel(let c):
            cancel(c)
            return .completed
        case .modify(let c):
            modify(c)
            return .completed
        case .cancelAll(let a):
            return cancelAll(client: a.client, reason: .userRequested, timestamp: a.timestamp)
        case .killClient(let a):
            checks.setKilled(true, client: a.client)
            return cancelAll(client: a.client, reason: .supervisory, timestamp: a.timestamp)
        case .reinstateClient(let a):
            checks.setKilled(false, client: a.client)
            return .completed
        case .killExchange(let t):
            checks.setExchangeKilled(true)
            return cancelAllClients(reason: .supervisory, timestamp: t)
        case .reinstateExchange:
            checks.setExchangeKilled(false)
            return .completed
        case .haltInstrument(let a):
            setHalted(true, symbol: a.symbol, timestamp: a.timestamp)
            return .completed
        case .resumeInstrument(let a):
            setHalted(false, symbol: a.symbol, timestamp: a.timestamp)
            return .completed
        case .refuse(let r):
            refuse(r)
            return .completed
        case .advanceTime, .session, .fixSession, .leadership, .operatorNote:
            return .completed
        case .startOfDay(let t):
            announce(.startOfDay, timestamp: t)
            return .completed
        case .endOfDay(let t):
            announce(.endOfDay, timestamp: t)
            return .completed
        case .tradingPhase(let p):
            return tradingPhase(p)
        }
    }

    @inlinable @inline(__always)
    mutating func rejected(_ client: ClientID, _ token: OrderToken, _ reason: RejectReason, _ timestamp: Timestamp) -> ProcessStatus {
        reject(client: client, token: token, reason: reason, timestamp: timestamp)
        return .completed
    }
}

extension EngineState {
    // MARK: Time

    /// Moves engine time to `timestamp` (never backwards) and expires due orders. Leaves
    /// room in the event buffer for the command that follows, suspending if it must.
    mutating func beginCommand(at timestamp: Timestamp) -> ProcessStatus {
        counters.commands &+= 1
        if timestamp > now { now = timestamp }
        commandTimestamp = timestamp
        if startLULDTimers() == .suspended { return .suspended }
        // The common case, inline: nothing due and room for the command (job stays idle).
        if (expiries.count == 0 || expiries.entries[0].deadline > now) && hasRoomForStep { return .completed }
        return startExpiry()
    }

    /// Expires due orders (after the LULD deadlines), leaving room for the command.
    private mutating func startExpiry() -> ProcessStatus {
        if (expiries.count == 0 || expiries.entries[0].deadline > now) && hasRoomForStep {
            job = .idle
            return .completed
        }
        job = .expiring
        return continueExpiry()
    }

    /// Continues whatever was suspended: expiry, matching or a mass cancel.
    mutating func resumeJob() -> ProcessStatus {
        switch job {
        case .idle: return .completed
        case .expiring: return continueExpiry()
        case .matching: return continueMatching()
        case .massCancel: return continueMassCancel()
        case .phase:
            if continuePhase() == .suspended { return .suspended }
            // An LULD reopening cross finished: the deadline scan, then expiry, go on.
            guard job == .luldTimers else { return .completed }
            if continueLULDTimers() == .suspended { return .suspended }
            return startExpiry()
        case .luldTimers:
            if continueLULDTimers() == .suspended { return .suspended }
            return startExpiry()
        case .luldSettle: return settleLimitStates()
        }
    }

    private mutating func continueExpiry() -> ProcessStatus {
        while let due = expiries.earliest, due.deadline <= now {
            guard hasRoomForStep else { return suspend() }
            cancelResting(due.order, shares: orders[Int(due.order)].leaves, reason: .timeout, timestamp: commandTimestamp)
            counters.ordersExpired &+= 1
        }
        // The command itself needs room for its first events.
        guard hasRoomForStep else { return suspend() }
        job = .idle
        return .completed
    }

    @inline(__always)
    private mutating func suspend() -> ProcessStatus {
        counters.suspensions &+= 1
        return .suspended
    }

    // MARK: Mass actions

    /// Cancels every resting order of `client` in the order they came to rest.
    mutating func cancelAll(client: ClientID, reason: CancelReason, timestamp: Timestamp) -> ProcessStatus {
        guard client < maxClients else { return .completed }
        massCancel = MassCancelState(client: client, lastClient: client, reason: reason, timestamp: timestamp)
        job = .massCancel
        return continueMassCancel()
    }

    /// Cancels every resting order, clients in ascending ID.
    mutating func cancelAllClients(reason: CancelReason, timestamp: Timestamp) -> ProcessStatus {
        massCancel = MassCancelState(client: 0, lastClient: maxClients - 1, reason: reason, timestamp: timestamp)
        job = .massCancel
        return continueMassCancel()
    }

    private mutating func continueMassCancel() -> ProcessStatus {
        while true {
            let client = Int(massCancel.client)
            while accounts[client].head != nullOrder {
                guard hasRoomForStep else { return suspend() }
                let index = accounts[client].head
                cancelResting(index, shares: orders[Int(index)].leaves, reason: massCancel.reason, timestamp: massCancel.timestamp)
            }
            if massCancel.client == massCancel.lastClient { break }
            massCancel.client += 1
        }
        job = .idle
        return .completed
    }

    /// Halts or resumes an instrument; emits `tradingState` only on a change.
    mutating func setHalted(_ halted: Bool, symbol: Symbol, timestamp: Timestamp) {
        guard let instrument = symbols.instrument(for: symbol), books[Int(instrument)].halted != halted else { return }
        books[Int(instrument)].halted = halted
        emit(.tradingState(TradingStateChanged(timestamp: timestamp, instrument: instrument, halted: halted)))
    }
}

#if !DEBUG
// The compiler proves that processing a command takes no lock, allocates nothing and calls
// nothing it cannot see: these wrappers exist only to carry the annotations, which are
// checked on optimized builds (a debug build keeps generic metadata and calls it cannot
// prove). The steps the dispatcher calls (MatchingEngine.swift) carry the annotations
// themselves, so that the risk layer's specialisation of the dispatcher, in another module,
// is proven too (RiskCheckedEngine.swift); the allocation tests in ExchangeRiskTests prove it at run time as well.
extension MatchingEngine {
    @_noLocks @_noAllocation
    mutating func provenLockAndAllocationFreeProcess(_ command: EngineCommand) -> ProcessStatus { process(command) }

    @_noLocks @_noAllocation
    mutating func provenLockAndAllocationFreeResume() -> ProcessStatus { resume() }
}
#endif
