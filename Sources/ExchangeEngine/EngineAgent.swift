import CClock
import ExchangeCore
import ExchangeRisk
import ExchangeRuntime

/// The engine agent: drains commands from its rings in batches (prefetching a few ahead),
/// runs them through the risk-checked engine and routes the events: order events to the
/// gateway's ring, book events to the market-data ring (executions to both).
///
/// Commands come from two rings, each with one producer: `commands` from the order gateway
/// and `control` from elsewhere (the demo flow, operator actions). The gateway's ring goes
/// first; the control ring is served when the gateway's is empty, a batch at a time.
///
/// Every command it processes, from either ring, gets the next sequence of the day (1, 2,
/// 3 …, or from `nextSequence` when recovery continues a day), and every event it hands on
/// carries its command's sequence (`SequencedEvent`): the gateway and the market-data agent
/// release an event only once the journal has made that sequence durable (mode `sync`).
/// When journaling (a `journal` ring is given) each command goes onto it, sequenced, before
/// the engine processes it — so no event can reach a reader before its command is on the
/// journal's ring; when that ring is full the engine takes no new command this turn and
/// counts it (`journal_full`).
///
/// It never waits. When an output ring is full it keeps the events it could not hand on,
/// counts the condition, and tries again on the next `doWork()` — taking no new command
/// until they are out. Between batches it answers order-book snapshot requests.
public struct EngineAgent: Agent, ~Copyable {
    public var roleName: String { "engine" }

    public var engine: RiskCheckedEngine
    var commands: SPSCRing<CommandEnvelope>.Consumer
    var control: SPSCRing<CommandEnvelope>.Consumer
    var orderEvents: SPSCRing<SequencedEvent>.Producer
    var bookEvents: SPSCRing<SequencedEvent>.Producer
    /// To the journal agent: every command, sequenced, in processing order (nil: mode none).
    var journal: SPSCRing<SequencedCommand>.Producer?
    var snapshots: OrderBookSnapshotServer
    let cells: CounterCells
    let counters: CounterBlock
    let rejectCounters: CounterBlock
    let latency: LatencyRecorder
    let batchSize: Int
    let lookahead: Int

    /// Events of the last process/resume call not yet handed on: the next one's index, and
    /// whether an execution (routed to both rings) already reached the order-events ring.
    var nextEvent = 0
    var executionHalfSent = false
    var pendingEvents = false
    var suspended = false
    var lastPublished: UInt64 = .max
    var handledStored: UInt64 = 0
    var ordersReceived: UInt64 = 0
    var draining = false
    /// The sequence the next command gets.
    public private(set) var nextSequence: UInt64
    /// The sequence of the command whose events are being handed on.
    var eventSequence: UInt64 = 0
    /// Turns in which the journal ring was full and no new command was taken.
    var journalFull: UInt64 = 0
    /// The journal ring was full this turn: no other batch is tried.
    var journalBlocked = false

    /// - Parameters:
    ///   - journal: the journal agent's ring (mode async or sync): each command is pushed
    ///     onto it, sequenced, before it is processed. Nil (mode none): nothing is journaled.
    ///   - nextSequence: the sequence of the first command this agent processes: 1 for a new
    ///     day, the journal's last sequence + 1 when recovery continues one.
    public init(
        engine: consuming RiskCheckedEngine, commands: consuming SPSCRing<CommandEnvelope>.Consumer,
        control: consuming SPSCRing<CommandEnvelope>.Consumer,
        orderEvents: consuming SPSCRing<SequencedEvent>.Producer, bookEvents: consuming SPSCRing<SequencedEvent>.Producer,
        snapshots: OrderBookSnapshotServer, cells: CounterCells, batchSize: Int = 64, lookahead: Int = 8,
        journal: consuming SPSCRing<SequencedCommand>.Producer? = nil, nextSequence: UInt64 = 1
    ) {
        self.engine = engine
        self.commands = commands
        self.control = control
        self.orderEvents = orderEvents
        self.bookEvents = bookEvents
        self.journal = journal
        self.nextSequence = nextSequence
        self.snapshots = snapshots
        self.cells = cells
        let blocks = EngineCounters.register(in: cells)
        self.counters = blocks.engine
        self.rejectCounters = blocks.rejects
        self.latency = blocks.latency.latencyRecorder(EngineCounters.orderLatency)
        self.batchSize = batchSize
        self.lookahead = lookahead
        cells.store(CountersLayout.Header.poolCapacity, UInt64(self.engine.engine.configuration.orderPoolSize))
    }

    public mutating func doWork() -> Int {
        var work = 0
        // Snapshot requests are answered whatever the load (one atomic load when none waits).
        if snapshots.serveOne(engine: engine.engine) { work &+= 1 }
        if pendingEvents {
            guard forwardEvents() else { return work }
            work &+= 1
        }
        if suspended {
            suspended = engine.resume() == .suspended
            pendingEvents = true
            work &+= 1
            guard forwardEvents(), !suspended else { return work }
        }
        journalBlocked = false
        let taken = processBatch(fromControl: false)
        work &+= taken
        if taken < batchSize && !pendingEvents && !suspended && !journalBlocked { work &+= processBatch(fromControl: true) }
        // Stalled on the journal: the counters say so now, not after the next 1,024 commands.
        if journalBlocked { publish() }
        if !pendingEvents && !suspended && commands.released != handledStored {
            // Every event of the gateway's commands so far is in the rings: say so.
            handledStored = commands.released
            counters.storeReleasing(EngineCounters.commandsHandled, handledStored)
        }
        return work
    }

    /// Runs one batch from the gateway's ring or the control ring; returns how many commands
    /// were taken (0 when the ring was empty).
    @inline(__always)
    mutating func processBatch(fromControl: Bool) -> Int {
        let batch = fromControl ? control.peek(upTo: batchSize) : commands.peek(upTo: batchSize)
        if batch.isEmpty {
            if !fromControl && commandsTaken != lastPublished { publish() }
            return 0
        }
        for i in 0..<min(lookahead, batch.count) { engine.prefetch(batch[i].command) }
        var taken = 0
        while taken < batch.count {
            if taken &+ lookahead < batch.count { engine.prefetch(batch[taken &+ lookahead].command) }
            let command = batch[taken].command
            // Journaled before it is processed: its events can then never be ahead of it.
            if let pushed = journal?.tryPush(SequencedCommand(sequence: nextSequence, command: command)), !pushed {
                journalFull &+= 1
                journalBlocked = true
                break
            }
            eventSequence = nextSequence
            nextSequence &+= 1
            switch command {
            case .enter, .replace: ordersReceived &+= 1
            default: break
            }
            let status = engine.process(command)
            taken &+= 1
            suspended = status == .suspended
            pendingEvents = true
            if !forwardEvents() || suspended { break }
        }
        let done = rtes_rdtscp()
        for i in 0..<taken {
            // Order latency: commands that are orders (the clock and operator actions are not).
            switch batch[i].command {
            case .enter, .replace, .cancel, .modify: latency.record(done &- batch[i].enqueuedAt)
            default: break
            }
        }
        if fromControl { control.release(taken) } else { commands.release(taken) }
        // Every 1,024 commands under load; an emptied ring publishes the rest (above).
        if commandsTaken &- lastPublished >= 1_024 { publish() }
        return taken
    }

    /// Hands the engine's pending events to their rings. False when a ring is full (the rest
    /// stays pending); true when all are out and the engine's buffer is clear.
    @inline(__always)
    mutating func forwardEvents() -> Bool {
        let events = engine.events
        while nextEvent < events.count {
            let event = events[nextEvent]
            let sequenced = SequencedEvent(sequence: eventSequence, event: event)
            if event.isOrderEvent && !executionHalfSent {
                guard orderEvents.tryPush(sequenced) else { return false }  // counted by the ring end
                executionHalfSent = event.isBookEvent
            }
            if event.isBookEvent {
                guard bookEvents.tryPush(sequenced) else { return false }
            }
            executionHalfSent = false
            nextEvent &+= 1
        }
        engine.clearEvents()
        nextEvent = 0
        pendingEvents = false
        return true
    }

    public mutating func beginDrain() { draining = true }

    /// After the last turn: the final counters, and the state hash of what the engine holds
    /// (a logical digest; what `rtes-journal replay` prints for the same journal).
    public mutating func onClose() {
        publish()
        counters.store(EngineCounters.stateHash, engine.stateHash())
    }

    /// Drained when no command waits, none is half processed and every event is out.
    public var isDrained: Bool { !pendingEvents && !suspended && commands.depth == 0 && control.depth == 0 }

    /// Commands taken from both rings so far.
    var commandsTaken: UInt64 { commands.released &+ control.released }

    /// Copies the engine's counters to the counters region (relaxed stores, this agent's cells).
    mutating func publish() {
        lastPublished = commandsTaken
        let c = engine.engine.counters
        counters.store(EngineCounters.commands, c.commands)
        counters.store(EngineCounters.ordersReceived, ordersReceived)
        counters.store(EngineCounters.ordersAccepted, c.ordersAccepted)
        counters.store(EngineCounters.ordersReplaced, c.ordersReplaced)
        counters.store(EngineCounters.ordersCanceled, c.ordersCanceled)
        counters.store(EngineCounters.ordersExpired, c.ordersExpired)
        counters.store(EngineCounters.ordersModified, c.ordersModified)
        counters.store(EngineCounters.rejects, c.rejects)
        counters.store(EngineCounters.cancelRejects, c.cancelRejects)
        counters.store(EngineCounters.executions, c.executions)
        counters.store(EngineCounters.sharesExecuted, c.sharesExecuted)
        counters.store(EngineCounters.selfTradesPrevented, c.selfTradesPrevented)
        counters.store(EngineCounters.events, c.events)
        counters.store(EngineCounters.suspensions, c.suspensions)
        counters.store(EngineCounters.restingOrders, c.restingOrders)
        counters.store(EngineCounters.peakRestingOrders, c.peakRestingOrders)
        counters.store(EngineCounters.journalFull, journalFull)
        counters.store(EngineCounters.lastSequence, nextSequence &- 1)
        for reason in 1..<RejectReason.counterSlots {
            rejectCounters.store(CounterCell(reason), engine.engine.rejectCount(RejectReason(rawValue: UInt8(reason))!))
        }
        let commandsRing = CountersLayout.RingSlot.commands.offset
        cells.store(commandsRing + CountersLayout.RingCell.consumed, commands.released)
        cells.store(CountersLayout.RingSlot.control.offset + CountersLayout.RingCell.consumed, control.released)
        let orderRing = CountersLayout.RingSlot.orderEvents.offset
        cells.store(orderRing + CountersLayout.RingCell.produced, orderEvents.published)
        cells.store(orderRing + CountersLayout.RingCell.full, orderEvents.fullCount)
        let bookRing = CountersLayout.RingSlot.bookEvents.offset
        cells.store(bookRing + CountersLayout.RingCell.produced, bookEvents.published)
        cells.store(bookRing + CountersLayout.RingCell.full, bookEvents.fullCount)
    }
}
