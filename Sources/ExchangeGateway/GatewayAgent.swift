import CExchangeShim
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeRuntime
import ExchangeWire
import Glibc

/// The order-entry gateway: SoupBinTCP 3.0 sessions carrying OUCH 4.2, served with io_uring
/// by one agent that never blocks.
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
/// once (counted), never silence. Connection and session state lives in tables allocated
/// at start; nothing on these paths allocates, locks or logs. docs/GATEWAY.md describes
/// every outcome.
public struct GatewayAgent: Agent, ~Copyable {
    public var roleName: String { "gateway" }

    /// Everything the gateway needs besides its rings and memory.
    public struct Options: Sendable {
        public var settings: GatewaySettings
        public var tcpNoDelay: Bool
        public var session: SoupSessionName
        /// Symbols by instrument index (for Accepted and Replaced).
        public var symbols: [Symbol]
        public var keys: APIKeys
        public var clock: WallClock

        public init(settings: GatewaySettings, tcpNoDelay: Bool, session: SoupSessionName, symbols: [Symbol], keys: APIKeys, clock: WallClock) {
            self.settings = settings
            self.tcpNoDelay = tcpNoDelay
            self.session = session
            self.symbols = symbols
            self.keys = keys
            self.clock = clock
        }
    }

    /// Bytes per connection for unsequenced packets (Login Accepted, Debug, Heartbeat, …).
    static let controlBytes = 256
    /// SoupBinTCP packets a client may send are at most this long (length field value): a
    /// Debug packet with up to 1,023 characters of text; anything longer is a malformed frame.
    public static let maximumInboundPacket = 1_024
    static let completionBatch = 256
    static let eventBatch = 256
    static let maximumSendBytes = 256 * 1_024
    static let timerIntervalNanoseconds: UInt64 = 1_000_000
    static let clockAdvanceNanoseconds: UInt64 = 10_000_000
    static let flushTimeoutNanoseconds: UInt64 = 1_000_000_000

    /// The memory the gateway needs from its region: session logs, token history, receive
    /// buffers and control buffers.
    public static func requiredBytes(settings: GatewaySettings, accounts: Int) -> Int {
        Layout(settings: settings, accounts: accounts).totalBytes
    }

    struct Layout {
        let logs: Int
        let tokens: Int
        let receiveBuffers: Int
        let control: Int
        let totalBytes: Int

        init(settings: GatewaySettings, accounts: Int) {
            func aligned(_ n: Int) -> Int { (n + 4_095) & ~4_095 }
            logs = 0
            let tokensAt = aligned(AccountBook.logMemoryBytes(accounts: accounts, historyMessages: settings.sessionHistoryMessages))
            tokens = tokensAt
            receiveBuffers = tokensAt + aligned(TokenHistory.requiredBytes(capacity: settings.tokenHistory))
            control = receiveBuffers + aligned(settings.receiveBufferCount * settings.receiveBufferSize)
            totalBytes = control + aligned(settings.maxConnections * GatewayAgent.controlBytes)
        }
    }

    // I/O
    var ring: IOUring
    var buffers: ProvidedBuffers
    var listener: Int32
    var accepting = false
    var started = false
    let completions: UnsafeMutableBufferPointer<io_uring_cqe>

    // Tables
    let connections: UnsafeMutablePointer<Connection>
    let readers: UnsafeMutablePointer<SoupFrameReader>
    let maxConnections: Int
    let control: UnsafeMutableRawPointer
    let freeSlots: UnsafeMutablePointer<Int32>
    var freeCount: Int
    let dirtySlots: UnsafeMutablePointer<Int32>
    var dirtyCount = 0
    var accounts: AccountBook
    var tokens: TokenHistory
    /// Tokens one account may use in a day (its share of the token history).
    let tokensPerAccount: Int
    let symbols: UnsafeMutablePointer<Symbol>
    let symbolCount: Int
    let scratch: UnsafeMutableRawPointer

    // Rings to and from the engine
    var commands: SPSCRing<CommandEnvelope>.Producer
    var orderEvents: SPSCRing<EngineEvent>.Consumer

    // Settings
    let session: SoupSessionName
    let clock: WallClock
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
    var lastCommandAt: UInt64 = 0

    // Counters: kept here, copied to the shared cells every millisecond.
    let counts: UnsafeMutablePointer<UInt64>
    let cells: CounterCells
    var pendingCancelAlls = 0

    // Shutdown
    enum DrainPhase { case running, waitingForEngine, endingSessions, done }
    var drainPhase = DrainPhase.running
    var drainDeadline: UInt64 = 0

    /// - Parameters:
    ///   - listener: a bound, listening, non-blocking TCP socket (`rtes_tcp_listen`); the
    ///     gateway owns it from now on.
    ///   - memory: `requiredBytes(settings:accounts:)` bytes from a start-up region.
    public init(
        options: Options, listener: Int32, memory: UnsafeMutableRawPointer,
        commands: consuming SPSCRing<CommandEnvelope>.Producer, orderEvents: consuming SPSCRing<EngineEvent>.Consumer,
        cells: CounterCells
    ) throws(SystemError) {
        let settings = options.settings
        let layout = Layout(settings: settings, accounts: options.keys.accounts.count)
        // Submission slots: a receive and a send per connection can be prepared in one turn.
        var entries: UInt32 = 256
        while entries < UInt32(min(settings.maxConnections * 2, 4_096)) { entries <<= 1 }
        let ring = try IOUring(entries: entries, submissionQueuePolling: settings.submissionQueuePolling, startDisabled: true)
        let buffers = try ProvidedBuffers(ring: ring, group: 1, count: settings.receiveBufferCount, size: settings.receiveBufferSize,
                                          memory: memory + layout.receiveBuffers)
        self.ring = ring
        self.buffers = buffers
        self.listener = listener
        completions = .allocate(capacity: Self.completionBatch)
        maxConnections = settings.maxConnections
        connections = .allocate(capacity: maxConnections)
        connections.initialize(repeating: Connection(), count: maxConnections)
        readers = .allocate(capacity: maxConnections)
        for i in 0..<maxConnections { (readers + i).initialize(to: SoupFrameReader(maximumPacketLength: Self.maximumInboundPacket)) }
        control = memory + layout.control
        freeSlots = .allocate(capacity: maxConnections)
        for i in 0..<maxConnections { freeSlots[i] = Int32(maxConnections - 1 - i) }
        freeCount = maxConnections
        dirtySlots = .allocate(capacity: 2 * maxConnections)
        accounts = AccountBook(keys: options.keys, historyMessages: settings.sessionHistoryMessages, logMemory: memory + layout.logs)
        tokens = TokenHistory(capacity: settings.tokenHistory, memory: memory + layout.tokens)
        let accountCount = max(1, options.keys.accounts.count)
        tokensPerAccount = settings.maxTokensPerAccount > 0 ? settings.maxTokensPerAccount : max(1, settings.tokenHistory / accountCount)
        symbolCount = options.symbols.count
        symbols = .allocate(capacity: max(1, symbolCount))
        _ = UnsafeMutableBufferPointer(start: symbols, count: symbolCount).initialize(from: options.symbols)
        scratch = .allocate(byteCount: 512, alignment: 64)
        self.commands = commands
        self.orderEvents = orderEvents
        session = options.session
        clock = options.clock
        tcpNoDelay = options.tcpNoDelay
        heartbeatNanoseconds = UInt64(settings.heartbeatIntervalMilliseconds) * 1_000_000
        idleNanoseconds = UInt64(settings.idleTimeoutMilliseconds) * 1_000_000
        loginNanoseconds = UInt64(settings.loginTimeoutMilliseconds) * 1_000_000
        floodRate = UInt64(settings.maxMessagesPerSecond)
        floodCapacity = UInt64(settings.maxMessagesPerSecond) * 1_000_000_000
        sendQueueBytes = UInt64(settings.sendQueueBytes)
        graceNanoseconds = UInt64(settings.shutdownGraceMilliseconds) * 1_000_000
        counts = .allocate(capacity: 64)
        counts.initialize(repeating: 0, count: 64)
        self.cells = cells
        // The start of the day, as the first sequenced message of every session.
        let start = clock.nanoseconds(atTicks: rtes_rdtsc())
        for account in 0..<accounts.count {
            let length = OUCHOutbound.systemEvent(timestamp: start % WallClock.nanosecondsPerDay,
                                                  eventCode: OUCH.SystemEventCode.startOfDay, to: scratch + SoupBinTCP.headerLength)
            commitMessage(account: ClientID(account), length: length)
        }
    }

    deinit {
        for slot in 0..<maxConnections where connections[slot].phase != .free {
            _ = rtes_close(connections[slot].fd)
        }
        if listener >= 0 { _ = rtes_close(listener) }
        readers.deinitialize(count: maxConnections)
        readers.deallocate()
        connections.deallocate()
        freeSlots.deallocate()
        dirtySlots.deallocate()
        completions.deallocate()
        symbols.deallocate()
        scratch.deallocate()
        counts.deallocate()
        accounts.deallocate()
    }

    /// The io_uring set-up flags obtained, for the start-up log.
    public var ringSetup: String { ring.setupDescription }

    // MARK: The loop

    public mutating func doWork() -> Int {
        nowTicks = rtes_rdtsc()
        now = clock.nanoseconds(atTicks: nowTicks)
        if !started { start() }
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
        buffers.publishRecycled()

        // 2. The engine's order events.
        work &+= routeOrderEvents()

        // 3. Timers.
        if now >= nextTimerAt {
            nextTimerAt = now &+ Self.timerIntervalNanoseconds
            runTimers()
        }
        if drainPhase != .running {
            work &+= advanceDrain()
            // Drained, but events (e.g. of the demo flow) may still arrive: keep the counters true.
            if drainPhase == .done && work > 0 { publishCounters() }
        }

        // 4. Sends, then one submission for everything prepared this turn.
        flushSends()
        if ring.pendingSubmissions > 0 { ring.submitAndPoll() }
        return work
    }

    /// The first turn, on the agent's own thread: take the ring over and start accepting.
    mutating func start() {
        started = true
        nextTimerAt = now
        lastCommandAt = now
        do {
            try ring.adopt()  // a failure shows in submitFailures (published with the timers)
        } catch {
            closeListener()
            return
        }
        armAccept()
        cells.store(CountersLayout.gatewayOffset + CountersLayout.GatewayCell.listening, listener >= 0 && accepting ? 1 : 0)
    }

    // MARK: Completions

    mutating func handleCompletion(_ cqe: io_uring_cqe) {
        let tag = cqe.user_data
        switch CompletionTag.kind(tag) {
        case CompletionTag.accept:
            handleAccept(result: cqe.res, flags: cqe.flags)
        case CompletionTag.receive:
            handleReceive(slot: CompletionTag.slot(tag), generation: CompletionTag.generation(tag), result: cqe.res, flags: cqe.flags)
        case CompletionTag.send:
            handleSend(slot: CompletionTag.slot(tag), generation: CompletionTag.generation(tag), result: cqe.res)
        default:
            break
        }
    }

    mutating func armAccept() {
        guard listener >= 0, let sqe = ring.submissionEntry() else { return }
        io_uring_prep_multishot_accept(sqe, listener, nil, nil, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
        sqe.pointee.user_data = CompletionTag.make(CompletionTag.accept, slot: 0, generation: 0)
        accepting = true
    }

    mutating func handleAccept(result: Int32, flags: UInt32) {
        if flags & IORING_CQE_F_MORE == 0 {
            // Stopped: at once again after a success; after a failure (e.g. EMFILE, out of
            // descriptors) at the next millisecond tick, so that a lasting one cannot spin.
            accepting = false
            if result >= 0 && drainPhase == .running && listener >= 0 { armAccept() }
        }
        guard result >= 0 else {  // e.g. ECONNABORTED (the client gave up first) or EMFILE
            count(CountersLayout.GatewayCell.acceptErrors)
            return
        }
        let fd = result
        guard freeCount > 0, drainPhase == .running else {
            _ = rtes_close(fd)
            count(CountersLayout.GatewayCell.refusedConnections)
            countDisconnect(.tableFull)
            return
        }
        freeCount &-= 1
        let slot = Int(freeSlots[freeCount])
        if tcpNoDelay { _ = rtes_tcp_set_nodelay(fd, 1) }
        let generation = connections[slot].generation
        connections[slot] = Connection()
        connections[slot].generation = generation
        connections[slot].fd = fd
        connections[slot].phase = .awaitingLogin
        connections[slot].connectedAt = now
        connections[slot].lastReceiveAt = now
        connections[slot].lastSendAt = now
        connections[slot].floodTokens = floodCapacity
        connections[slot].floodRefilledAt = now
        count(CountersLayout.GatewayCell.acceptedConnections)
        armReceive(slot)
    }

    mutating func armReceive(_ slot: Int) {
        guard let sqe = ring.submissionEntry() else {
            beginClose(slot, .connectionError, flush: false)
            return
        }
        io_uring_prep_recv_multishot(sqe, connections[slot].fd, nil, 0, 0)
        rtes_sqe_set_flags(sqe, rtes_iosqe_buffer_select())
        sqe.pointee.buf_group = buffers.group
        sqe.pointee.user_data = CompletionTag.make(CompletionTag.receive, slot: slot, generation: connections[slot].generation)
        connections[slot].receiving = true
    }

    mutating func handleReceive(slot: Int, generation: UInt32, result: Int32, flags: UInt32) {
        let hasBuffer = flags & IORING_CQE_F_BUFFER != 0
        let bufferID = rtes_cqe_buffer_id(flags)
        defer { if hasBuffer { buffers.recycle(bufferID) } }
        guard slot < maxConnections, connections[slot].generation & 0xFF_FFFF == generation,
              connections[slot].phase != .free else { return }
        let more = flags & IORING_CQE_F_MORE != 0
        if !more { connections[slot].receiving = false }
        if result > 0 && hasBuffer {
            count(CountersLayout.GatewayCell.bytesIn, by: UInt64(result))
            let phase = connections[slot].phase
            if phase == .awaitingLogin || phase == .active {
                receive(slot, UnsafeRawBufferPointer(start: buffers.buffer(bufferID), count: Int(result)))
            }
        } else if result == 0 {
            beginClose(slot, .peerClosed, flush: false)
        } else if result == -ENOBUFS {
            // Every receive buffer is in use: this receive stopped; start it again once
            // buffers come back (they are recycled at the end of this batch).
            count(CountersLayout.GatewayCell.receiveBuffersExhausted)
        } else if result < 0 {
            beginClose(slot, .connectionError, flush: false)
        }
        if !connections[slot].receiving {
            switch connections[slot].phase {
            case .awaitingLogin, .active:
                // A receive that stopped for want of buffers (or for no stated reason) starts
                // again; one that saw the end of the stream or an error began the close above.
                if result == -ENOBUFS || result > 0 { armReceive(slot) }
            case .closing:
                finishIfIdle(slot)
            case .flushing, .free:
                break
            }
        }
    }

    mutating func handleSend(slot: Int, generation: UInt32, result: Int32) {
        guard slot < maxConnections, connections[slot].generation & 0xFF_FFFF == generation,
              connections[slot].phase != .free else { return }
        let wasControl = connections[slot].sendingControl
        connections[slot].sendInFlight = 0
        if result > 0 {
            count(CountersLayout.GatewayCell.bytesOut, by: UInt64(result))
            if wasControl {
                connections[slot].controlSent &+= result
                if connections[slot].controlSent >= connections[slot].controlLength {
                    connections[slot].controlSent = 0
                    connections[slot].controlLength = 0
                }
            } else {
                connections[slot].logOffset &+= UInt64(result)
            }
            markDirty(slot)
        } else if connections[slot].phase != .closing {
            beginClose(slot, .connectionError, flush: false)
        }
        if connections[slot].phase == .closing { finishIfIdle(slot) }
    }

    // MARK: Helpers shared by the facets

    @inline(__always)
    func count(_ cell: Int, by amount: UInt64 = 1) {
        counts[cell >> 3] &+= amount
    }

    @inline(__always)
    func countDisconnect(_ reason: DisconnectReason) {
        count(CountersLayout.GatewayCell.disconnectsByReason + 8 * Int(reason.rawValue))
        if reason.isProtocolError { count(CountersLayout.GatewayCell.protocolErrors) }
    }

    @inline(__always)
    mutating func markDirty(_ slot: Int) {
        guard !connections[slot].dirty else { return }
        connections[slot].dirty = true
        dirtySlots[dirtyCount] = Int32(slot)
        dirtyCount &+= 1
    }

    mutating func closeListener() {
        if listener >= 0 {
            _ = rtes_close(listener)
            listener = -1
        }
        cells.store(CountersLayout.gatewayOffset + CountersLayout.GatewayCell.listening, 0)
    }
}
