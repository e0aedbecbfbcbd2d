import CExchangeShim
import ExchangeClock
import ExchangeCore
import ExchangeEngine
import ExchangeRuntime
import ExchangeWire

// What happens with time: heartbeats, timeouts, the engine's clock, counters, shutdown.
extension GatewayAgent {
    /// Up to this many connection slots are looked at per millisecond tick, so that a large
    /// table costs a bounded amount per turn (about a microsecond): 1,024 slots are all seen
    /// every 4 ms, 65,536 every 256 ms — well within a heartbeat interval.
    static var slotsPerTick: Int { 256 }

    mutating func runTimers() {
        if let gate = leadershipGate, leadership != .lapsed, drainPhase == .running {
            if gate.mayAcknowledge(atTicks: nowTicks) {
                leadership = .open
            } else if leadership == .open {
                leadershipLapsed()
            }
        }
        let scan = min(maxConnections, Self.slotsPerTick)
        for _ in 0..<scan {
            let slot = timerCursor
            timerCursor = timerCursor &+ 1 == maxConnections ? 0 : timerCursor &+ 1
            switch connections[slot].phase {
            case .awaitingLogin, .authenticating:
                if now &- connections[slot].connectedAt > loginNanoseconds { beginClose(slot, .loginTimeout, flush: true) }
            case .active:
                // Held input (receives paused) is the gateway's wait, not the client's silence.
                if now &- connections[slot].lastReceiveAt > idleNanoseconds && !connections[slot].inputHeld {
                    beginClose(slot, .idleTimeout, flush: true)
                } else if now &- connections[slot].lastSendAt >= heartbeatNanoseconds && !table.isSending(slot)
                            && connections[slot].controlSent == connections[slot].controlLength {
                    let length = SoupBinTCP.serverHeartbeat(to: scratch)
                    if queueControl(slot, scratch, length) { count(GatewayCounters.heartbeatsSent) }
                }
            case .flushing:
                if now > connections[slot].flushDeadline { beginClose(slot, connections[slot].closeReason, flush: false) }
            case .loggingOut, .closing, .free:
                break
            }
        }
        settleOwedSessions()
        if drainPhase == .running { table.tick(ring: ring) }
        if drainPhase == .running { runTradingDay() }
        // Time moves in the engine only with commands: without any for a while, send the
        // clock so that orders with a time in force expire on time.
        if now &- lastCommandAt >= Self.clockAdvanceNanoseconds && drainPhase == .running {
            if commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: .advanceTime(now))) { lastCommandAt = now }
        }
        publishCounters()
    }

    /// The lease lapsed: this gateway acknowledges nothing more, ever (a new term would need a
    /// restart). Its sessions are closed with the reason, so that their clients log in at the
    /// standby instead of waiting on a connection that will never answer again.
    mutating func leadershipLapsed() {
        leadership = .lapsed
        for slot in 0..<maxConnections {
            switch connections[slot].phase {
            case .awaitingLogin, .authenticating, .active, .loggingOut: beginClose(slot, .leadershipLost, flush: true)
            case .flushing, .closing, .free: break
            }
        }
        if fixOn { fixLeadershipLapsed() }
    }

    mutating func publishCounters() {
        counts[GatewayCounters.activeConnections.index] = UInt64(table.occupied)
        let stats = table.stats
        counts[GatewayCounters.bytesIn.index] = stats.bytesIn
        counts[GatewayCounters.bytesOut.index] = stats.bytesOut
        counts[GatewayCounters.receiveBuffersExhausted.index] = stats.receiveBuffersExhausted
        counts[GatewayCounters.sendQueuePeakBytes.index] = stats.sendQueuePeakBytes
        counts[GatewayCounters.submitFailures.index] = ring.submitFailures
        for cell in 0..<counters.cellCount where cell != GatewayCounters.listening.index {
            counters.store(CounterCell(cell), counts[cell])
        }
        for cell in 0..<disconnectCounters.cellCount { disconnectCounters.store(CounterCell(cell), disconnects[cell]) }
        let commandsRing = CountersLayout.RingSlot.commands.offset
        cells.store(commandsRing + CountersLayout.RingCell.produced, commands.published)
        cells.store(commandsRing + CountersLayout.RingCell.full, commands.fullCount)
        let orderRing = CountersLayout.RingSlot.orderEvents.offset
        cells.store(orderRing + CountersLayout.RingCell.consumed, orderEvents.released)
    }

    // MARK: Shutdown

    /// Stops accepting connections and orders (orders get Rejected `C`, logins `S`), and
    /// starts the drain: send the engine `.endOfDay`, wait until it has handled every command
    /// sent and its End of Day System Event has come back into every session, deliver the
    /// last events, send End of Session, close.
    public mutating func beginDrain() {
        guard drainPhase == .running else { return }
        drainPhase = .waitingForEngine
        drainDeadline = now &+ graceNanoseconds
        endOfDayOwed = true
        // An operator's End of Day earlier in the run is not the drain's.
        endOfDayRouted = false
        stopAccepting()
    }

    public var isDrained: Bool { drainPhase == .done }

    mutating func advanceDrain() -> Int {
        switch drainPhase {
        case .running, .done:
            return 0
        case .waitingForEngine:
            // FIX sessions are logged out first, so that the journal has their Logouts before the End of Day.
            if endOfDayOwed && fixOn { fixLogoutAll() }
            if endOfDayOwed && fixFlushFacts() && commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: .endOfDay(now))) {
                endOfDayOwed = false
            }
            // The End of Day is in every session once its event was routed (in sync: durable);
            // an engine that does not answer within the grace period gets no more time.
            let handled = engineCounters.loadAcquiring(EngineCounters.commandsHandled)
            let caughtUp = !endOfDayOwed && endOfDayRouted && handled >= commands.published && orderEvents.depth == 0
            guard caughtUp || now > drainDeadline else { return 0 }
            _ = routeOrderEvents()
            for slot in 0..<maxConnections {
                switch connections[slot].phase {
                case .active:
                    connections[slot].endOfSessionPending = true
                    markDirty(slot)
                case .awaitingLogin, .authenticating:
                    beginClose(slot, .shutdown, flush: false)
                default:
                    break
                }
            }
            drainPhase = .endingSessions
            drainDeadline = now &+ max(graceNanoseconds, Self.flushTimeoutNanoseconds)
            return 1
        case .endingSessions:
            if table.occupied == 0 {
                publishCounters()
                drainPhase = .done
                return 1
            }
            if now > drainDeadline {
                // Clients that do not read get no more time: shut everything down, and give
                // the kernel a moment to report the last completions.
                for slot in 0..<maxConnections where connections[slot].phase != .free && connections[slot].phase != .closing {
                    beginClose(slot, .shutdown, flush: false)
                }
                if now > drainDeadline &+ Self.flushTimeoutNanoseconds {
                    publishCounters()
                    drainPhase = .done
                    return 1
                }
            }
            return 0
        }
    }
}

/// What the gateway's timers have seen of the leadership gate.
enum LeadershipSeen {
    case notYet
    case open
    case lapsed
}
