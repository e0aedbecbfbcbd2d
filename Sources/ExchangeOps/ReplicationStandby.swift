import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import ExchangeRuntime
import ExchangeWire
import Foundation
import Logging
import Synchronization

/// The standby's end of replication: a warm standby on a thread of its own (normal
/// priority, never pinned, waiting between turns as `ReplicationIdle` says). At start it rebuilds its state from its
/// own journal (a `DayReplica`, as the snapshot agent's: the engine, the sessions' and the
/// feed's day state); then it connects to the primary, says the last sequence it holds, and
/// for each record the primary streams: checks it (CRC, fields, the next sequence), hands it
/// to its own journal agent (the ring `journal`: the standby's journal is written in the same
/// segment format by the same agent, so `rtes-journal verify` reads it) and applies it to its
/// replica. It acknowledges what it received and what its journal made durable
/// (`DurablePosition`), at once when they move and every `heartbeatMilliseconds` otherwise.
///
/// A refusal from the primary is logged with its reason and the standby tries again every
/// `retryMilliseconds` (a primary that is down or restarting is simply not there yet); a
/// garbled stream or a silent primary (nothing for `silenceTimeoutMilliseconds`) closes the
/// connection, and the standby reconnects from what it holds. Counters: block `replication`
/// (`role` 2), with the replica's state hash after `state_hash_sequence` (recomputed when the
/// replica is idle and has moved, at most every `hashIntervalMilliseconds`).
public final class ReplicationStandby: @unchecked Sendable {
    public struct Settings: Sendable {
        public var primary: ReplicationSettings.Endpoint
        public var day: String
        public var mode: ReplicationMode
        public var configuration: ExchangeConfiguration
        public var keys: APIKeys
        public var feedSession: SoupSessionName
        /// The standby's day directory (its journal agent writes there).
        public var directory: String
        public var pollMicroseconds: UInt32 = 50
        /// After a turn that moved something, how long the thread yields before it blocks
        /// (`replication.yield_us`; used in sync only: `ReplicationIdle`).
        public var yieldMicroseconds: UInt32 = 0
        public var retryMilliseconds: UInt64 = 200
        public var heartbeatMilliseconds: UInt64 = 1_000
        public var silenceTimeoutMilliseconds: UInt64 = 10_000
        public var hashIntervalMilliseconds: UInt64 = 100

        public init(primary: ReplicationSettings.Endpoint, day: String, mode: ReplicationMode, configuration: ExchangeConfiguration,
                    keys: APIKeys, feedSession: SoupSessionName, directory: String) {
            self.primary = primary
            self.day = day
            self.mode = mode
            self.configuration = configuration
            self.keys = keys
            self.feedSession = feedSession
            self.directory = directory
        }
    }

    let settings: Settings
    /// The last sequence the standby's journal holds at start (recovery's).
    let recovered: UInt64
    var journal: SPSCRing<SequencedCommand>.Producer
    let durable: DurablePosition
    let counters: CounterBlock
    let logger: Logger
    let stopping = Atomic<Bool>(false)
    let finished = DispatchSemaphore(value: 0)
    private var thread: Thread?
    /// The replica's state hash and its sequence when the thread ended (tests, the log).
    public private(set) var finalState: (sequence: UInt64, hash: UInt64)?
    private let divergedReason = Mutex<String?>(nil)
    /// The primary refused this standby as diverged (the reason, `ReplicationFrame.divergedPrefix`
    /// first): its journal holds records the primary lacks. The thread has stopped following;
    /// the owner stops or moves the journal aside (`replication.on_divergence`). Nil otherwise.
    public var divergence: String? { divergedReason.withLock { $0 } }

    public init(settings: Settings, recovered: UInt64, journal: consuming SPSCRing<SequencedCommand>.Producer, durable: DurablePosition,
                cells: CounterCells, logger: Logger) throws(SystemError) {
        self.settings = settings
        self.recovered = recovered
        self.journal = journal
        self.durable = durable
        counters = try cells.register(ReplicationCounters.block)
        counters.store(ReplicationCounters.role, ReplicationCounters.standbyRole)
        counters.store(ReplicationCounters.mode, settings.mode == .sync ? 2 : 1)
        self.logger = logger
    }

    /// The last sequence applied to the replica (and handed to the journal agent).
    public var appliedSequence: UInt64 { counters.load(ReplicationCounters.appliedSequence) }

    public func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "rtes-standby"
        thread.qualityOfService = .userInitiated
        self.thread = thread
        thread.start()
    }

    /// Stops the thread (closing the connection) and waits for it.
    public func stop() {
        guard thread != nil else { return }
        stopping.store(true, ordering: .releasing)
        finished.wait()
        thread = nil
    }

    static func nowNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// The connection and what it has said.
    final class Link {
        let socket: ReplicationSocket
        var welcomed = false
        var lastHeard: UInt64
        var lastAcknowledged: (received: UInt64, durable: UInt64) = (0, 0)
        var lastSent: UInt64 = 0

        init(socket: ReplicationSocket, now: UInt64) {
            self.socket = socket
            lastHeard = now
        }
    }

    func run() {
        ReplicationIdle.prepareThread()
        var idle = ReplicationIdle(pollMicroseconds: settings.pollMicroseconds,
                                   yieldMicroseconds: settings.mode == .sync ? settings.yieldMicroseconds : 0)
        guard var replica = rebuild() else { return }
        var link: Link?
        var retryAt: UInt64 = 0
        var lastFailure = ""
        var hashedSequence = UInt64.max
        var hashedAt: UInt64 = 0
        var bytesClosed: (sent: UInt64, received: UInt64) = (0, 0)
        defer {
            link?.socket.close()
            finalState = (replica.sequence, replica.engine.stateHash())
        }
        while !stopping.load(ordering: .acquiring) {
            var progressed = false
            let now = Self.nowNanoseconds()
            if link == nil && now >= retryAt {
                let primary = settings.primary
                switch ReplicationSocket.connect(address: primary.address.rawValue, port: primary.port, timeoutMilliseconds: 1_000) {
                case .success(let socket):
                    let opened = Link(socket: socket, now: now)
                    let has = replica.sequence
                    socket.queue {
                        ReplicationFrame.writeHello(.init(version: ReplicationFrame.version, lastSequence: has, day: settings.day,
                                                         epoch: replica.epoch), to: $0)
                    }
                    opened.lastAcknowledged = (has, has)
                    link = opened
                    lastFailure = ""
                case .failure(let error):
                    if error.description != lastFailure { logger.warning("replication: \(error); retrying every \(settings.retryMilliseconds) ms") }
                    lastFailure = error.description
                    retryAt = now &+ settings.retryMilliseconds * 1_000_000
                }
            }
            if let current = link {
                switch turn(current, replica: &replica, now: now) {
                case .success(let moved): progressed = moved
                case .failure(let failure) where failure.diverged:
                    current.socket.close()
                    let reason = failure.error.description
                    let line = "replication: the primary \(current.socket.peer) refused this standby as diverged: \(reason); "
                        + "this standby's journal holds sequence \(replica.sequence) under fencing token \(replica.epoch); it stops following"
                    logger.critical("\(line)")
                    counters.store(ReplicationCounters.connected, 0)
                    counters.store(ReplicationCounters.refused, counters.load(ReplicationCounters.refused) &+ 1)
                    link = nil
                    divergedReason.withLock { $0 = reason }
                    return
                case .failure(let failure):
                    let reason = failure.error.description
                    if failure.refuse { current.socket.refuse(reason) } else { current.socket.close() }
                    logger.error("replication: the link to the primary \(current.socket.peer) closed: \(reason); reconnecting from sequence \(replica.sequence)")
                    bytesClosed.sent &+= current.socket.bytesSent
                    bytesClosed.received &+= current.socket.bytesReceived
                    counters.store(ReplicationCounters.connected, 0)
                    counters.store(ReplicationCounters.refused, counters.load(ReplicationCounters.refused) &+ 1)
                    link = nil
                    retryAt = Self.nowNanoseconds() &+ settings.retryMilliseconds * 1_000_000
                }
            }
            counters.store(ReplicationCounters.appliedSequence, replica.sequence)
            counters.store(ReplicationCounters.bytesSent, bytesClosed.sent &+ (link?.socket.bytesSent ?? 0))
            counters.store(ReplicationCounters.bytesReceived, bytesClosed.received &+ (link?.socket.bytesReceived ?? 0))
            if !progressed {
                if replica.sequence != hashedSequence && now &- hashedAt >= settings.hashIntervalMilliseconds * 1_000_000 {
                    // The sequence is 0 while the hash changes: a reader that sees the same
                    // non-zero sequence before and after reading the hash has a matching pair.
                    counters.store(ReplicationCounters.stateHashSequence, 0)
                    counters.store(ReplicationCounters.stateHash, replica.engine.stateHash())
                    counters.store(ReplicationCounters.stateHashSequence, replica.sequence)
                    hashedSequence = replica.sequence
                    hashedAt = now
                }
            }
            // Blocks on the link (the primary's next records wake the thread at once); what
            // the standby's journal made durable is seen within a yield while busy.
            idle.idle(progressed: progressed, now: now, descriptor: link?.socket.descriptor)
        }
    }

    /// Why a turn ended the link: the error, and whether to send the primary a refusal.
    struct Failure: Error {
        var error: ReplicationProtocolError
        var refuse: Bool
        /// The primary refused this standby as diverged.
        var diverged = false
    }

    /// One turn: frames in (welcome, records, heartbeats), acknowledgements out.
    func turn(_ link: Link, replica: inout DayReplica, now: UInt64) -> Result<Bool, Failure> {
        let socket = link.socket
        var progressed = false
        switch socket.receive() {
        case .endOfStream: return .failure(Failure(error: ReplicationProtocolError("the primary closed the connection"), refuse: false))
        case .failed(let error): return .failure(Failure(error: error, refuse: false))
        case .progressed: progressed = true
        case .nothing: break
        }
        while true {
            let next: ReplicationFrame.Frame?
            switch socket.nextFrame() {
            case .failure(let error): return .failure(Failure(error: error, refuse: true))
            case .success(let frame): next = frame
            }
            guard let frame = next else { break }
            link.lastHeard = now
            switch frame.kind {
            case .refuse:
                let reason = ReplicationFrame.readRefuse(frame.payload)
                if reason.hasPrefix(ReplicationFrame.divergedPrefix) {
                    return .failure(Failure(error: ReplicationProtocolError(reason), refuse: false, diverged: true))
                }
                return .failure(Failure(error: ReplicationProtocolError("the primary refused: \(reason)"), refuse: false))
            case .welcome where !link.welcomed:
                let welcome = ReplicationFrame.readWelcome(frame.payload)
                guard welcome.version == ReplicationFrame.version, welcome.day == settings.day else {
                    return .failure(Failure(error: ReplicationProtocolError(
                        "the primary speaks version \(welcome.version) of trading day \"\(welcome.day)\"; this standby version "
                            + "\(ReplicationFrame.version) of \"\(settings.day)\""), refuse: true))
                }
                guard welcome.epoch >= replica.epoch else {
                    return .failure(Failure(error: ReplicationProtocolError(
                        "the primary's fencing token is \(welcome.epoch), lower than \(replica.epoch), which this standby's journal holds: "
                            + "the primary is deposed (a newer leader wrote here); not following it"), refuse: true))
                }
                link.welcomed = true
                counters.store(ReplicationCounters.connected, 1)
                counters.store(ReplicationCounters.primarySequence, welcome.durableSequence)
                counters.store(ReplicationCounters.connections, counters.load(ReplicationCounters.connections) &+ 1)
                logger.info("replication: following the primary \(socket.peer) from sequence \(replica.sequence &+ 1) (its durable: \(welcome.durableSequence))")
            case .records where link.welcomed:
                var pushed = 0
                var fenced: String?
                let result = ReplicationFrame.readRecords(frame.payload, expecting: replica.sequence &+ 1) { command in
                    guard fenced == nil else { return }
                    // A leadership record of a lower token than this journal holds: a deposed
                    // primary's term. Nothing from it is journaled.
                    if case .leadership(let term) = command.command, term.token < replica.epoch {
                        fenced = "the record of sequence \(command.sequence) starts a leadership term of fencing token \(term.token), "
                            + "lower than \(replica.epoch), which this standby's journal holds: the primary is deposed"
                        return
                    }
                    push(command)
                    replica.apply(command)
                    pushed += 1
                }
                counters.store(ReplicationCounters.records, counters.load(ReplicationCounters.records) &+ UInt64(pushed))
                if let fenced { return .failure(Failure(error: ReplicationProtocolError(fenced), refuse: true)) }
                if case .failure(let error) = result { return .failure(Failure(error: error, refuse: true)) }
                let sequence = replica.sequence
                if sequence > counters.load(ReplicationCounters.primarySequence) {
                    counters.store(ReplicationCounters.primarySequence, sequence)
                }
            case .heartbeat where link.welcomed:
                counters.store(ReplicationCounters.primarySequence, ReplicationFrame.readHeartbeat(frame.payload))
            default:
                return .failure(Failure(error: ReplicationProtocolError(
                    "a \(frame.kind) frame \(link.welcomed ? "after the welcome" : "before the welcome")"), refuse: true))
            }
            progressed = true
        }
        if now &- link.lastHeard > settings.silenceTimeoutMilliseconds * 1_000_000 {
            return .failure(Failure(error: ReplicationProtocolError("nothing from the primary for \(settings.silenceTimeoutMilliseconds) ms"), refuse: true))
        }
        if link.welcomed {
            let acknowledgement = (received: replica.sequence, durable: min(durable.load(), replica.sequence))
            let due = now &- link.lastSent > settings.heartbeatMilliseconds * 1_000_000
            if acknowledgement != link.lastAcknowledged || due {
                if socket.queue({ ReplicationFrame.writeAcknowledge(received: acknowledgement.received, durable: acknowledgement.durable, to: $0) }) {
                    link.lastAcknowledged = acknowledgement
                    link.lastSent = now
                    counters.store(ReplicationCounters.acknowledgedReceived, acknowledgement.received)
                    counters.store(ReplicationCounters.acknowledgedDurable, acknowledgement.durable)
                    let primary = counters.load(ReplicationCounters.primarySequence)
                    counters.store(ReplicationCounters.lagRecords, primary > acknowledgement.received ? primary &- acknowledgement.received : 0)
                }
            }
        }
        if socket.hasPendingSend {
            if let error = socket.flush() { return .failure(Failure(error: error, refuse: false)) }
        }
        return .success(progressed)
    }

    /// Hands a record to the standby's journal agent, waiting while its ring is full (the
    /// journal is behind: the standby stops reading the socket, and the primary's buffer for
    /// it fills — backpressure, nothing dropped).
    func push(_ command: SequencedCommand) {
        while !journal.tryPush(command) {
            if stopping.load(ordering: .acquiring) { return }
            usleep(settings.pollMicroseconds)
        }
    }

    /// The replica of what the standby's journal holds (replayed from its first record). Nil,
    /// logged, when the journal cannot be read.
    func rebuild() -> DayReplica? {
        let s = settings
        var replica = DayReplica(configuration: s.configuration, keys: s.keys, feedSession: s.feedSession)
        guard recovered > 0 else { return replica }
        do {
            let reader = try JournalReader.open(directory: s.directory)
            var cursor = reader.records(from: 0)
            while let record = try cursor.next(), record.sequence <= recovered { replica.apply(record) }
        } catch {
            logger.error("replication: the standby's journal in \(s.directory) cannot be replayed: \(error); not following the primary")
            return nil
        }
        logger.info("replication: the standby's replica holds the journal through sequence \(replica.sequence); state hash \(StateHasher.text(replica.engine.stateHash()))")
        return replica
    }
}
