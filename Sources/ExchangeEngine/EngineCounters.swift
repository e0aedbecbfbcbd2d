import ExchangeCore
import ExchangeRuntime

/// The engine's counter blocks, registered in the counters region by the engine agent:
/// `engine` (its totals and gauges), `engine_rejects` (orders rejected, one cell per
/// `RejectReason`, named by its metric label) and `engine_latency` (the order latency
/// histogram: command enqueued by the gateway to processed, in TSC ticks).
public enum EngineCounters {
    public static let commands = CounterCell(0)
    public static let ordersReceived = CounterCell(1)
    public static let ordersAccepted = CounterCell(2)
    public static let ordersReplaced = CounterCell(3)
    public static let ordersCanceled = CounterCell(4)
    public static let ordersExpired = CounterCell(5)
    public static let ordersModified = CounterCell(6)
    public static let rejects = CounterCell(7)
    public static let cancelRejects = CounterCell(8)
    public static let executions = CounterCell(9)
    public static let sharesExecuted = CounterCell(10)
    public static let selfTradesPrevented = CounterCell(11)
    public static let events = CounterCell(12)
    public static let suspensions = CounterCell(13)
    public static let restingOrders = CounterCell(14)
    public static let peakRestingOrders = CounterCell(15)
    /// Commands from the gateway's ring whose events are all handed on (stored with
    /// release ordering: a reader that sees N also sees those events in the rings).
    public static let commandsHandled = CounterCell(16)
    /// Turns in which the journal agent's ring was full, so the engine took no new command.
    public static let journalFull = CounterCell(17)
    /// The sequence of the last command processed (0 before the first of the day).
    public static let lastSequence = CounterCell(18)
    /// The engine's state hash (`RiskCheckedEngine.stateHash()`), stored when the agent
    /// closes; 0 while it runs. `rtes-journal replay` of the day's journal prints the same.
    public static let stateHash = CounterCell(19)

    public static let block = CounterBlockDescriptor(name: "engine", counters: [
        .init("commands", .counter, commands, help: "Commands the engine processed."),
        .init("orders_received", .counter, ordersReceived, help: "Enter and replace messages that reached the engine."),
        .init("orders_accepted", .counter, ordersAccepted, help: "Orders accepted."),
        .init("orders_replaced", .counter, ordersReplaced, help: "Orders replaced."),
        .init("orders_canceled", .counter, ordersCanceled, help: "Orders canceled."),
        .init("orders_expired", .counter, ordersExpired, help: "Orders expired by their time in force."),
        .init("orders_modified", .counter, ordersModified, help: "Orders modified."),
        .init("rejects", .counter, rejects, help: "Orders rejected."),
        .init("cancel_rejects", .counter, cancelRejects, help: "Cancels rejected."),
        .init("trades", .counter, executions, help: "Executions (one per fill)."),
        .init("shares_traded", .counter, sharesExecuted, help: "Shares executed."),
        .init("self_trades_prevented", .counter, selfTradesPrevented, help: "Self-trades prevented."),
        .init("events", .counter, events, help: "Events the engine emitted."),
        .init("suspensions", .counter, suspensions, help: "Times the engine suspended a command because its event buffer was full."),
        .init("resting_orders", .gauge, restingOrders, help: "Orders resting in the book."),
        .init("peak_resting_orders", .gauge, peakRestingOrders, help: "Most orders ever resting at once."),
        .init("commands_handled", .counter, commandsHandled, help: "Gateway commands whose events are all handed on."),
        .init("journal_full", .counter, journalFull, help: "Turns in which the journal ring was full and the engine took no new command."),
        .init("last_sequence", .gauge, lastSequence, help: "Sequence of the last command processed (journal order)."),
        .init("state_hash", .gauge, stateHash, help: "The engine's state hash, stored when it stops (0 while running)."),
    ])

    /// Orders rejected by `reason`: cell `reason.rawValue` of the `engine_rejects` block.
    @inlinable public static func rejected(_ reason: RejectReason) -> CounterCell { CounterCell(Int(reason.rawValue)) }

    public static let rejectsBlock = CounterBlockDescriptor(
        name: "engine_rejects",
        counters: RejectReason.allCases.map { .init($0.description, .counter, rejected($0), help: "Orders rejected: \($0).") },
        cellCount: RejectReason.counterSlots)

    /// The order latency histogram's first cell in the `engine_latency` block.
    public static let orderLatency = CounterCell(0)

    public static let latencyBlock = CounterBlockDescriptor(name: "engine_latency", counters: [
        .init("order_latency", .histogram, orderLatency, help: "Enter/replace/cancel/modify: gateway enqueue to engine processed, TSC ticks."),
    ])

    /// The engine's blocks in `cells`, registered now or found (registering is idempotent:
    /// the gateway finds `commandsHandled` the same way).
    public static func register(in cells: CounterCells) -> (engine: CounterBlock, rejects: CounterBlock, latency: CounterBlock) {
        do {
            return (try cells.register(block), try cells.register(rejectsBlock), try cells.register(latencyBlock))
        } catch {
            // The region is sized for every module's blocks: running out is a build error.
            preconditionFailure("\(error)")
        }
    }
}
