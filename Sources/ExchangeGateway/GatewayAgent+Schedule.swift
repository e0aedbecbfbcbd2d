import ExchangeCore
import ExchangeEngine

// The trading day's phase commands: the schedule's and the operators' (halt, resume), sent
// to the engine for journaling like any command. Run every millisecond tick; allocates nothing.
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
            while let action = queue.take() {
                let command = PhaseCommand(timestamp: now, symbol: action.symbol, action: action.action)
                guard pushPhase(command) else {
                    heldPhaseCommand = command
                    return
                }
            }
        }
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
