// Command dispatch, time, expiry and mass actions. The risk layer (ExchangeRisk) drives the
// same pieces with its admission and limit checks in between; `process` here runs the
// core alone (structural checks only, no kill switches or limits).

extension EngineState {
    /// Processes one command with the core's checks only. Drain `events` after the call;
    /// on `.suspended`, call `resume()` until `.completed`.
    mutating func process(_ command: EngineCommand) -> ProcessStatus {
        precondition(isIdle, "process(_:) called while a command is suspended: call resume()")
        precondition(eventBuffer.count == 0, "drain events (clearEvents) before process(_:)")
        if beginCommand(at: command.timestamp) == .suspended {
            pendingCommand = command
            return .suspended
        }
        return execute(command)
    }

    /// Continues a suspended command.
    mutating func resume() -> ProcessStatus {
        precondition(eventBuffer.count == 0, "drain events (clearEvents) before resume()")
        if resumeJob() == .suspended { return .suspended }
        guard let command = pendingCommand else { return .completed }
        pendingCommand = nil
        return execute(command)
    }

    private mutating func execute(_ command: EngineCommand) -> ProcessStatus {
        switch command {
        case .enter(let c):
            switch validate(c) {
            case .failure(let reason):
                reject(client: c.client, token: c.token, reason: reason, timestamp: c.timestamp)
                return .completed
            case .success(let plan):
                return enter(c, plan: plan)
            }
        case .replace(let c):
            switch validate(c) {
            case .failure(let reason):
                reject(client: c.client, token: c.replacementToken, reason: reason, timestamp: c.timestamp)
                return .completed
            case .success(let plan):
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
            return cancelAll(client: a.client, reason: .supervisory, timestamp: a.timestamp)
        case .killExchange(let t):
            return cancelAllClients(reason: .supervisory, timestamp: t)
        case .haltInstrument(let a):
            setHalted(true, symbol: a.symbol, timestamp: a.timestamp)
            return .completed
        case .resumeInstrument(let a):
            setHalted(false, symbol: a.symbol, timestamp: a.timestamp)
            return .completed
        case .refuse(let r):
            refuse(r)
            return .completed
        case .reinstateClient, .reinstateExchange, .advanceTime:
            return .completed
        }
    }

    // MARK: Time

    /// Moves engine time to `timestamp` (never backwards) and expires due orders. Leaves
    /// room in the event buffer for the command that follows, suspending if it must.
    mutating func beginCommand(at timestamp: Timestamp) -> ProcessStatus {
        counters.commands &+= 1
        if timestamp > now { now = timestamp }
        commandTimestamp = timestamp
        if (expiries.count == 0 || expiries.entries[0].deadline > now) && hasRoomForStep { return .completed }
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
// prove). AllocationTests prove the same at run time for the risk-checked path, which
// crosses a module boundary the proof cannot follow.
extension EngineState {
    @_noLocks @_noAllocation
    mutating func provenLockAndAllocationFreeProcess(_ command: EngineCommand) -> ProcessStatus { process(command) }

    @_noLocks @_noAllocation
    mutating func provenLockAndAllocationFreeResume() -> ProcessStatus { resume() }
}
#endif
