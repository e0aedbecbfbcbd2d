import CExchangeShim
import ExchangeAccess
import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeFIX
import ExchangeRuntime
import ExchangeTLS
import ExchangeWire
import Glibc

/// The order-entry gateway: SoupBinTCP 3.0 sessions carrying OUCH 4.2, served with io_uring
/// by one agent that never blocks.
///
/// The connections sit on the runtime's connection layer (`ConnectionTable`: listener,
/// multishot accept, slots with generations, provided-buffer receives, one send per
/// connection, close and drain); the gateway keeps the SoupBinTCP session state per slot
/// (`Connection`). Time comes from the injected clock `C` (`TSCClock` in production,
/// `ManualClock` in tests), read once per turn. `onStart` adopts the ring and arms the
/// accept on the agent's thread; `onClose` cancels what is in flight, waits (bounded) for
/// it and closes every descriptor.
///
/// Each `doWork()` turn:
/// 1. lets the kernel post completions (one `io_uring_enter`, only when the ring's
///    TASKRUN flag says there are some) and handles them: accepted connections, received
///    bytes (multishot receives into a provided-buffer ring), finished sends;
/// 2. takes the engine's order events off its ring, encodes them as OUCH messages into the
///    owning accounts' session logs (`SessionLog`);
/// 3. every millisecond: heartbeats, timeouts, the engine's clock, counters;
/// 4. starts one send per connection that has bytes waiting — straight out of the session
///    log, so a reply costs one copy into the log — and submits them all with one
///    `io_uring_enter`.
///
/// Client messages become engine commands stamped with the gateway's clock and go to the
/// engine through the command ring; when it is full the client gets an OUCH reject at
/// once (counted), never silence. In `durability.mode` sync an event is routed only once
/// the journal's durable position has reached its command's sequence (one acquiring load
/// per turn); the rest waits in the ring, uncopied. Connection and session state lives in tables allocated
/// at start; nothing on these paths allocates, locks or logs. docs/GATEWAY.md describes
/// every outcome.
public struct GatewayAgent<C: Clock>: Agent, ~Copyable {
    public var roleName: String { "gateway" }

    public typealias Options = GatewayOptions

    static var controlBytes: Int { GatewayLayout.controlBytes }
    static var completionBatch: Int { 256 }
    static var eventBatch: Int { 256 }
    static var maximumSendBytes: Int { 256 * 1_024 }
    static var timerIntervalNanoseconds: UInt64 { 1_000_000 }
    static var clockAdvanceNanoseconds: UInt64 { 10_000_000 }
    static var flushTimeoutNanoseconds: UInt64 { 1_000_000_000 }

    // I/O
    var ring: IOUring
    var table: ConnectionTable<Connection>
    let completions: UnsafeMutableBufferPointer<Completion>

    // Tables
    /// The session state per slot: the table's `sessions`.
    let connections: UnsafeMutablePointer<Connection>
    let readers: UnsafeMutablePointer<SoupFrameReader>
    let maxConnections: Int
    let control: UnsafeMutableRawPointer
    let dirtySlots: UnsafeMutablePointer<Int32>
    var dirtyCount = 0
    var accounts: AccountBook
    var tokens: TokenHistory
    /// Tokens one account may use in a day (its share of the token history).
    let tokensPerAccount: Int
    let symbols: UnsafeMutablePointer<Symbol>
    let symbolCount: Int
    let scratch: UnsafeMutableRawPointer
    /// Per slot, `heldInputBytes` (one receive buffer and one packet) of what arrives while
    /// its Login Request is being checked (at most one receive buffer of it), or of its input
    /// from the message that found the command ring full (GatewayAgent+HeldInput.swift).
    let heldInput: UnsafeMutableRawPointer
    let heldInputBytes: Int
    /// What a connection may send behind its Login Request before it is logged in.
    let heldLoginBytes: Int

    // Rings to and from the engine
    var commands: SPSCRing<CommandEnvelope>.Producer
    var orderEvents: SPSCRing<SequencedEvent>.Consumer
    /// The journal's durable sequence, read only when `gatesOutput`.
    let durable: DurablePosition?
    /// Mode sync: events are routed only up to `durable`.
    let gatesOutput: Bool
    /// `leadership` configured: events are routed only while this gate is open (one acquiring
    /// load per turn, through a pointer: the appliance holds the gate as long as the gateway runs).
    let leadershipGate: LeadershipGate.Reader?
    /// The term `onStart` journals first (`GatewayOptions.leadershipTerm`).
    let leadershipTerm: LeadershipTerm?
    /// To and from the authenticator: Login Requests are checked off this thread.
    var logins: LoginClient
    /// To and from the journal archive: messages older than a session's history
    /// (`GatewayAgent+Archive.swift`); unavailable without a journal.
    var archive: SessionArchiveClient
    let archiveChunks: UnsafeMutablePointer<ArchiveChunk>
    /// Requests whose reply is not in yet (replies are looked for only then).
    var archiveOutstanding = 0

    // Settings
    let session: SoupSessionName
    let clock: C
    let tcpNoDelay: Bool
    let heartbeatNanoseconds: UInt64
    let idleNanoseconds: UInt64
    let loginNanoseconds: UInt64
    let floodRate: UInt64
    let floodCapacity: UInt64
    let sendQueueBytes: UInt64
    let graceNanoseconds: UInt64

    // Time: the clock is read once per turn.
    var now: UInt64 = 0
    var nowTicks: UInt64 = 0
    var nextTimerAt: UInt64 = 0
    var timerCursor = 0
    /// The leadership gate as the timers last saw it: `open` once it opened (the term began),
    /// `lapsed` once it closed after that — for good: the sessions are closed and logins
    /// refused, so that clients go to the standby (docs/FAILOVER.md).
    var leadership = LeadershipSeen.notYet
    var lastCommandAt: UInt64 = 0

    // The trading day's schedule and the operators' actions (GatewayAgent+Schedule.swift).
    var schedule: TradingSchedule?
    /// The actions that bring the engine to where the day is (`TradingSchedule.begin`), and
    /// how many of them have been sent.
    var scheduleEstablishing: [PhaseAction] = []
    var scheduleEstablished = 0
    /// A phase command the command ring had no room for, sent before anything newer.
    var heldPhaseCommand: PhaseCommand?
    let operatorActions: OperatorActionQueue?

    // Counters: tallied here by `GatewayCounters` cell, copied to the blocks every millisecond.
    let counts: UnsafeMutablePointer<UInt64>
    let disconnects: UnsafeMutablePointer<UInt64>
    let cells: CounterCells
    let counters: CounterBlock
    let disconnectCounters: CounterBlock
    /// The engine's block, for `EngineCounters.commandsHandled`.
    let engineCounters: CounterBlock
    /// Connections whose input is held for room in the command ring (`Connection.inputHeld`),
    /// oldest first: a ring of `maxConnections` slots from `heldFirst`, `heldConnections` long.
    let heldSlots: UnsafeMutablePointer<Int32>
    var heldFirst = 0
    var heldConnections = 0
    /// Mode sync: the stall budget (GatewayAgent+StallBudget.swift). 0: off.
    let stallBudgetNanoseconds: UInt64
    /// The durable position last seen, and since when answers have waited on it without it
    /// moving (0: nothing waits).
    var durableSeen: UInt64 = 0
    var waitingSince: UInt64 = 0
    /// New orders are refused (`journal_stalled`); the notice for the log not yet posted.
    var refusingNewOrders = false
    var pendingNotice: ServiceNotice?
    /// Accounts that owe the engine a session event or a cancel-all (`AccountBook.owes`).
    var accountsOwing = 0
    /// Session events (login, logout, disconnect) go to the engine: only when journaling,
    /// so that the record of the day is whole (they change no state and cause no output).
    let journalsSessions: Bool
    /// Connections that sent a Logout Request and wait for the engine's answers to what
    /// they sent before it.
    var loggingOut = 0

    // TLS (gateway.tls on; GatewayAgent+TLS.swift). Off: `tlsOn` is false, the table empty.
    let tlsOn: Bool
    var tls: TLSSessionTable
    let tlsSource: TLSContextSource?
    /// Mutual TLS: a Login Request's username must be the client certificate's CN.
    let tlsBindsAccounts: Bool
    var tlsContext: TLSContext?
    var tlsContextReloads = 0
    // TLS on the FIX port (fix.tls on; GatewayAgent+FIXTLS.swift). Off: `fixTLSOn` is false, the table empty.
    let fixTLSOn: Bool
    var fixTLS: TLSSessionTable
    let fixTLSSource: TLSContextSource?
    let fixTLSBindsAccounts: Bool
    var fixTLSContext: TLSContext?
    var fixTLSContextReloads = 0

    // FIX 4.4 on fix.port (GatewayAgent+FIX.swift): a second table on the same ring. Off:
    // `fixOn` is false, and the table (one slot, no listener) and the port's memory minimal.
    let fixOn: Bool
    var fixTable: ConnectionTable<FIXConnection>
    var fix: FIXPort

    // Shutdown
    enum DrainPhase { case running, waitingForEngine, endingSessions, done }
    var drainPhase = DrainPhase.running
    var drainDeadline: UInt64 = 0

    // The trading day: its start and end are engine commands, announced to every session
    // when their System Events come back through the ring.
    /// Whether `onStart` announces the start of the day (false: recovery continues a day). Set
    /// before `onStart` when the journal's replay decides it.
    public var startsDay: Bool
    /// Whether recovery replayed a journal of the day into this gateway before `onStart` (a
    /// restart or a promoted standby: FIX sessions of the day may exist). Set with `startsDay`.
    public var recoveredDay = false
    /// The drain's `.endOfDay` is still to be pushed (the ring was full).
    var endOfDayOwed = false
    /// The engine's end-of-day System Event has been routed to every session.
    var endOfDayRouted = false

    /// - Parameters:
    ///   - clock: the gateway's time (commands are stamped with it; timers run on it).
    ///   - listener: where clients connect; the gateway owns it from now on.
    ///   - memory: `GatewayLayout.requiredBytes(settings:accounts:)` bytes from a start-up region.
    ///   - durability: the mode; in `sync` nothing is routed to a session before `durable`
    ///     (the journal agent's position, required then) has reached its sequence.
    public init(
        options: Options, clock: C, listener: consuming TCPListener, memory: UnsafeMutableRawPointer,
        commands: consuming SPSCRing<CommandEnvelope>.Producer, orderEvents: consuming SPSCRing<SequencedEvent>.Consumer,
        logins: consuming LoginClient, cells: CounterCells,
        durability: DurabilityMode = .none, durable: DurablePosition? = nil,
        archive: consuming SessionArchiveClient = SessionArchiveChannel.unavailable().makeClient(),
        fixListener: consuming TCPListener? = nil, dropCopyListener: consuming TCPListener? = nil
    ) throws(SystemError) {
        journalsSessions = durability.journals
        precondition(!durability.gatesOutput || durable != nil, "durability.mode sync needs the journal's durable position")
        let settings = options.settings
        // The gateway's counter blocks, and the engine's for `commandsHandled` (before
        // anything that would need undoing when registration fails).
        let counters = try cells.register(GatewayCounters.block)
        let disconnectCounters = try cells.register(GatewayCounters.disconnectsBlock)
        let engineCounters = EngineCounters.register(in: cells).engine
        let layout = GatewayLayout.Regions(settings: settings, accounts: options.keys.accounts.count)
        let ring = try IOUring(entries: GatewayLayout.ringEntries(settings: settings), submissionQueuePolling: settings.submissionQueuePolling, startDisabled: true)
        let tableConfiguration = Self.tableConfiguration(
            settings: settings, accounts: options.keys.accounts.count, preLoginConnections: options.preLoginConnections,
            noDelay: options.tcpNoDelay)
        // FIX: its own buffer group and tags on the same ring.
        let fixPort = FIXPort(settings: options.fix, accounts: options.keys, sendQueueBytes: settings.sendQueueBytes,
                              epochMidnight: options.epochMidnight ?? FIXPort.todaysMidnight(clock: clock), startNanoseconds: clock.now())
        let fixConfiguration = ConnectionTable<FIXConnection>.Configuration(
            capacity: fixPort.capacity,
            preLoginLimit: max(1, fixPort.capacity / 2),
            preLoginPerAddressLimit: settings.maxPreLoginPerAddress > 0 ? settings.maxPreLoginPerAddress : nil,
            receiveBufferCount: fixPort.receiveBufferCount, receiveBufferSize: fixPort.receiveBufferSize,
            bufferGroup: 2, tagBase: 8, noDelay: options.tcpNoDelay)
        // (A failure here ends the start; the port's few allocations go with the process.)
        // The drop copy (fix.drop_copy_port) is the same table's second listener (GatewayAgent+DropCopy.swift).
        let fixConnections = try ConnectionTable(configuration: fixConfiguration, listener: fixListener, ring: ring,
                                       bufferMemory: fixPort.receiveBuffers, emptySession: FIXConnection(),
                                       secondListener: dropCopyListener)
        table = try ConnectionTable(configuration: tableConfiguration, listener: listener, ring: ring,
                                    bufferMemory: memory + layout.receiveBuffers, emptySession: Connection())
        fixOn = options.fix != nil
        if let tradingDay = options.tradingDay, tradingDay.enabled {
            schedule = TradingSchedule(settings: tradingDay, zone: options.zoneOffsets, epochMidnight: fixPort.epochMidnight)
        }
        operatorActions = options.operatorActions
        fix = fixPort
        fixTable = fixConnections
        self.ring = ring
        self.counters = counters
        self.disconnectCounters = disconnectCounters
        self.engineCounters = engineCounters
        completions = .allocate(capacity: Self.completionBatch)
        maxConnections = settings.maxConnections
        connections = table.sessions
        readers = .allocate(capacity: maxConnections)
        for i in 0..<maxConnections { (readers + i).initialize(to: SoupFrameReader(maximumPacketLength: GatewayLayout.maximumInboundPacket)) }
        control = memory + layout.control
        dirtySlots = .allocate(capacity: 2 * maxConnections)
        accounts = AccountBook(keys: options.keys, historyMessages: settings.sessionHistoryMessages, logMemory: memory + layout.logs)
        tokens = TokenHistory(capacity: settings.tokenHistory, memory: memory + layout.tokens)
        let accountCount = max(1, options.keys.accounts.count)
        tokensPerAccount = settings.maxTokensPerAccount > 0 ? settings.maxTokensPerAccount : max(1, settings.tokenHistory / accountCount)
        symbolCount = options.symbols.count
        symbols = .allocate(capacity: max(1, symbolCount))
        _ = UnsafeMutableBufferPointer(start: symbols, count: symbolCount).initialize(from: options.symbols)
        scratch = .allocate(byteCount: 512, alignment: 64)
        heldInputBytes = Self.heldInputCapacity(receiveBufferSize: settings.receiveBufferSize)
        heldLoginBytes = settings.receiveBufferSize
        heldInput = .allocate(byteCount: maxConnections * heldInputBytes, alignment: 64)
        heldSlots = .allocate(capacity: maxConnections)
        self.commands = commands
        self.orderEvents = orderEvents
        self.durable = durable
        gatesOutput = durability.gatesOutput
        leadershipGate = options.leadershipGate?.reader
        leadershipTerm = options.leadershipTerm
        self.logins = logins
        archiveChunks = .allocate(capacity: max(1, archive.chunks))
        archiveChunks.initialize(repeating: ArchiveChunk(), count: max(1, archive.chunks))
        self.archive = archive
        session = options.session
        self.clock = clock
        tcpNoDelay = options.tcpNoDelay
        heartbeatNanoseconds = UInt64(settings.heartbeatIntervalMilliseconds) * 1_000_000
        idleNanoseconds = UInt64(settings.idleTimeoutMilliseconds) * 1_000_000
        loginNanoseconds = UInt64(settings.loginTimeoutMilliseconds) * 1_000_000
        floodRate = UInt64(settings.maxMessagesPerSecond)
        floodCapacity = UInt64(settings.maxMessagesPerSecond) * 1_000_000_000
        sendQueueBytes = UInt64(settings.sendQueueBytes)
        graceNanoseconds = UInt64(settings.shutdownGraceMilliseconds) * 1_000_000
        stallBudgetNanoseconds = durability.gatesOutput ? UInt64(max(0, options.stallBudgetMilliseconds)) * 1_000_000 : 0
        counts = .allocate(capacity: counters.cellCount)
        counts.initialize(repeating: 0, count: counters.cellCount)
        disconnects = .allocate(capacity: disconnectCounters.cellCount)
        disconnects.initialize(repeating: 0, count: disconnectCounters.cellCount)
        self.cells = cells
        startsDay = options.startsDay
        tlsSource = options.tls
        tlsOn = options.tls != nil
        tlsBindsAccounts = options.tls?.settings.clientCAFile != nil
        tls = TLSSessionTable(capacity: options.tls != nil ? maxConnections : 0, plaintextBytes: settings.receiveBufferSize)
        fixTLSSource = options.fixTLS
        fixTLSOn = options.fixTLS != nil && options.fix != nil
        fixTLSBindsAccounts = options.fixTLS?.settings.clientCAFile != nil
        fixTLS = TLSSessionTable(capacity: fixTLSOn ? fixPort.capacity : 0, plaintextBytes: fixPort.receiveBufferSize)
    }

    /// Frees memory only: descriptors and operations in flight are `onClose`'s.
    deinit {
        readers.deinitialize(count: maxConnections)
        readers.deallocate()
        dirtySlots.deallocate()
        completions.deallocate()
        symbols.deallocate()
        scratch.deallocate()
        heldInput.deallocate()
        heldSlots.deallocate()
        counts.deallocate()
        disconnects.deallocate()
        archiveChunks.deallocate()
        accounts.deallocate()
        fix.deallocate()
    }

    /// The io_uring set-up flags obtained, for the start-up log.
    public var ringSetup: String { ring.setupDescription }

    /// What the gateway's io_uring and its receive buffers' ring map (for the memory plan's test).
    public var ringMappedBytes: (ioUring: Int, bufferRing: Int) { (ring.mappedBytes, table.bufferRingBytes) }

    // MARK: The loop

    public mutating func doWork() -> Int {
        nowTicks = clock.ticks()
        now = clock.nanoseconds(atTicks: nowTicks)
        var work = 0

        // 1. Completions.
        ring.submitAndPoll()
        while true {
            let n = ring.takeCompletions(into: completions)
            if n == 0 { break }
            for i in 0..<n { handleCompletion(completions[i]) }
            work &+= n
            if n < Self.completionBatch { break }
        }
        table.finishBatch()
        if fixOn { fixTable.finishBatch() }

        // 2. The authenticator's answers; the engine's order events; then the logouts whose
        // answers are all in.
        work &+= completeLogins()
        work &+= routeOrderEvents()
        if archiveOutstanding > 0 { work &+= takeArchiveReplies() }
        if heldConnections > 0 { work &+= resumeHeldInput() }
        if fix.heldConnections > 0 { work &+= fixResumeHeldInput() }
        if loggingOut > 0 { work &+= finishLogouts() }

        // 3. Timers.
        if now >= nextTimerAt {
            nextTimerAt = now &+ Self.timerIntervalNanoseconds
            if fixOn { fixTimers() }
            runTimers()
        }
        if drainPhase != .running {
            work &+= advanceDrain()
            // Drained, but events (e.g. of the demo flow) may still arrive: keep the counters true.
            if drainPhase == .done && work > 0 { publishCounters() }
        }

        // 4. Sends, then one submission for everything prepared this turn.
        flushSends()
        if fixOn { fixFlushSends() }
        if ring.pendingSubmissions > 0 { ring.submitAndPoll() }
        return work
    }

    /// On the agent's own thread, before the first turn: take the ring over (its single
    /// issuer), start the trading day (unless it continues) and start accepting.
    public mutating func onStart() throws(AgentStartError) {
        nowTicks = clock.ticks()
        now = clock.nanoseconds(atTicks: nowTicks)
        nextTimerAt = now
        lastCommandAt = now
        do {
            try ring.adopt()
        } catch {
            stopAccepting()
            throw AgentStartError(role: roleName, error)
        }
        if var term = leadershipTerm {
            // A new leadership term: the first record this primary journals (FAILOVER.md).
            term.timestamp = now
            let pushed = commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: .leadership(term)))
            precondition(pushed, "the command ring is full before the gateway pushed anything")
            // The day's FIX sessions continue one MsgSeqNum on (see the function).
            if fixOn && recoveredDay { fixSkipOneMsgSeqNumForNewTerm() }
        }
        if startsDay {
            // The day's first command: nothing else has been pushed yet, so the ring has room.
            let pushed = commands.tryPush(CommandEnvelope(enqueuedAt: nowTicks, command: .startOfDay(now)))
            precondition(pushed, "the command ring is full before the gateway pushed anything")
            // The day's drop-copy sessions, for the journal (a day snapshot does not hold them).
            dropCopyRecordSessions()
        }
        if schedule != nil { scheduleEstablishing = schedule!.begin(now: now) }
        table.startAccepting(ring: ring)
        if fixOn { _ = fixTable.startAccepting(ring: ring) }
        counters.store(GatewayCounters.listening, table.isListening && table.isAccepting ? 1 : 0)
        ring.submitAndPoll()
    }

    /// After the last turn, on the agent's own thread: cancel the accept and every receive
    /// and send in flight, wait (bounded) for their completions, close every descriptor.
    public mutating func onClose() {
        guard ring.isEnabled else {
            stopAccepting()
            return
        }
        // FIX first: a table's closeAll drops other tables' completions, and OUCH's waits longest.
        if fixOn { fixTable.closeAll(ring: &ring) }
        table.closeAll(ring: &ring)
        for slot in 0..<maxConnections { readers[slot].reset() }
        counters.store(GatewayCounters.listening, 0)
        publishCounters()
    }

    /// Failed submissions (counted by the ring).
    public var errorCount: UInt64 { ring.submitFailures }

    // MARK: Completions

    mutating func handleCompletion(_ completion: Completion) {
        if fixOn && fixTable.owns(completion) { return handleFIXCompletion(completion) }
        switch table.handle(completion, ring: ring) {
        case .none:
            break
        case .accepted(let slot):
            accepted(slot)
        case .refused(let refusal):
            count(GatewayCounters.refusedConnections)
            switch refusal {
            case .preLoginFull: countDisconnect(.preLoginFull)
            case .addressLimit: countDisconnect(.addressLimit)
            case .tableFull, .notAccepting, .submissionQueueFull: countDisconnect(.tableFull)
            }
        case .acceptFailed:  // e.g. ECONNABORTED (the client gave up first) or EMFILE
            count(GatewayCounters.acceptErrors)
        case .received(let slot, let bytes):
            let phase = connections[slot].phase
            if phase == .awaitingLogin || phase == .authenticating || phase == .active {
                if tlsOn { receiveTLS(slot, bytes) } else { receive(slot, bytes) }
            }
        case .peerClosed(let slot):
            beginClose(slot, .peerClosed, flush: false)
        case .sent(let slot, let bytes):
            if tlsOn { sentTLS(slot, bytes: bytes) } else { sent(slot, bytes: bytes) }
        case .failed(let slot, _):
            beginClose(slot, .connectionError, flush: false)
        case .released(let slot):
            released(slot)
        }
    }

    mutating func accepted(_ slot: Int) {
        connections[slot].phase = .awaitingLogin
        connections[slot].connectedAt = now
        connections[slot].lastReceiveAt = now
        connections[slot].lastSendAt = now
        connections[slot].floodTokens = floodCapacity
        connections[slot].floodRefilledAt = now
        count(GatewayCounters.acceptedConnections)
        if tlsOn { openTLS(slot) }
    }

    mutating func sent(_ slot: Int, bytes: Int) {
        if connections[slot].sendingControl {
            connections[slot].controlSent &+= Int32(truncatingIfNeeded: bytes)
            if connections[slot].controlSent >= connections[slot].controlLength {
                connections[slot].controlSent = 0
                connections[slot].controlLength = 0
            }
        } else if connections[slot].sendingArchive {
            archiveSent(slot, bytes: bytes)
        } else {
            connections[slot].logOffset &+= UInt64(bytes)
        }
        markDirty(slot)
    }

    /// The table closed the slot's descriptor and freed it (its session state is reset).
    mutating func released(_ slot: Int) {
        readers[slot].reset()
        if tlsOn { tls.release(slot) }
        if archive.available { releaseArchive(slot) }
        count(GatewayCounters.closedConnections)
    }

    // MARK: Helpers shared by the facets

    @inline(__always)
    func count(_ cell: CounterCell, by amount: UInt64 = 1) {
        counts[cell.index] &+= amount
    }

    @inline(__always)
    func countDisconnect(_ reason: DisconnectReason) {
        disconnects[GatewayCounters.disconnected(reason).index] &+= 1
        if reason.isProtocolError { count(GatewayCounters.protocolErrors) }
    }

    @inline(__always)
    mutating func markDirty(_ slot: Int) {
        guard !connections[slot].dirty else { return }
        connections[slot].dirty = true
        dirtySlots[dirtyCount] = Int32(slot)
        dirtyCount &+= 1
    }

    mutating func stopAccepting() {
        table.stopAccepting(ring: ring)
        if fixOn { fixTable.stopAccepting(ring: ring) }
        counters.store(GatewayCounters.listening, 0)
    }
}
