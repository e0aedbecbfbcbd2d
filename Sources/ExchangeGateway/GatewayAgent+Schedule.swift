import ExchangeCore
import ExchangeEngine

// The trading day's phase commands — the schedule's and the operators' (halt, resume) — and the
// operators' other commands (OperatorActionQueue), sent to the engine for journaling like any
// command. Run every millisecond tick; allocates nothing.
extension GatewayAgent {
    mutating func runTradingDay() {
        if let held = heldPhaseCommand {
            guard pushPhase(held) else { return }
            heldPhaseCommand = nil
        }
        if schedule != nil {
            while scheduleEstablished < scheduleEstablishing.count {
                guard pushPhase(PhaseCommand(timestamp: now, symbol: .everySymbol, action: scheduleEstablishing[scheduleEstablished])) else { return }
                scheduleEstablished += 1
            }
            while let action = schedule!.take(now: now) {
                let command = PhaseCommand(timestamp: now, symbol: .everySymbol, action: action)
                guard pushPhase(command) else {
                    heldPhaseCommand = command
                    return
                }
            }
        }
        if let queue = operatorActions {
            // Taken from the queue only once in the ring: one that does not fit now goes next time, in order.
            while let action = queue.peek() {
                guard pushOperator(action.command) else { return }
                queue.drop()
            }
        }
    }

    private mutating func pushOperator(_ command: EngineCommand) -> Bool {
        if case .tradingPhase(let phase) = command { return pushPhase(phase) }
        guard commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: command.stamped(now))) else { return false }
        lastCommandAt = now
        count(GatewayCounters.operatorCommands)
        return true
    }

    private mutating func pushPhase(_ command: PhaseCommand) -> Bool {
        var command = command
        command.timestamp = now
        guard commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: .tradingPhase(command))) else { return false }
        lastCommandAt = now
        count(GatewayCounters.phaseCommands)
        return true
    }
}
