import Dispatch
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeGateway
import ExchangeJournal
import ExchangeMarketData
import ExchangeRisk
import ExchangeRuntime
import ExchangeWire
import Logging

/// The journal archive: the in-memory histories (each session's `SessionLog`, market data's
/// re-request history) are a cache in front of the journal, and this agent serves what
/// they no longer hold. docs/DURABILITY.md, "The journal archive".
///
/// The gateway hands it a request (an account and a sequence range, with a chunk buffer)
/// through a ring (`SessionArchiveChannel`); the archive replays the day's journal from its
/// first record through a scratch engine built as the exchange builds its own
/// (`ExchangeConfiguration.makeRiskCheckedEngine`), routes every order event through the
/// gateway's own routing and encoding (`SessionRouting`), keeps the account's messages in
/// the range — each a Sequenced Data packet, exactly as the live gateway sent it — until the
/// chunk is full, and replies. Only durable records are replayed (the durable sequence when
/// the replay starts), only from the current day's directory.
///
/// It runs off the hot threads (on the authenticator's thread) and never holds them up: each
/// turn replays at most `recordsPerTurn` records, so the thread it shares goes on. Requests
/// are served one at a time, in order; a session that asks for its next chunk right after
/// the last continues the same replay (no second pass from the start of the day), any other
/// request starts a new one. Memory: one engine region, allocated at the first request and
/// reused.
public struct JournalArchive: Agent, ~Copyable {
    public var roleName: String { "journal_archive" }

    /// Records replayed per turn at most.
    public static let recordsPerTurn = 16_384
    /// How long a request waits for the journal's durable position to reach what it asks for
    /// before it fails (the disk may be behind the engine, in `async`).
    static let durableWaitNanoseconds: UInt64 = 5_000_000_000

    let directory: String
    /// The trading day the directory holds (its day snapshots name it).
    let day: String
    let durable: DurablePosition
    let configuration: ExchangeConfiguration
    let keys: APIKeys
    let symbols: UnsafeMutablePointer<Symbol>
    let symbolCount: Int
    let scratch: UnsafeMutableRawPointer
    let logger: Logger
    var gateway: SessionArchivePort
    /// Market data's re-requests older than its history, and the feed's settings (nil: no feed).
    var feed: FeedArchivePort
    let feedConfiguration: MarketDataConfiguration?
    var feedJob: FeedJob?
    var regenerator: FeedRegenerator?
    let engineBytes: Int
    var engineRegion: UnsafeMutableRawPointer?

    /// The request being served, and the replay it is served from (kept after the reply,
    /// for the same session's next chunk).
    var job: SessionJob?
    var replay: JournalReplay?
    /// The sequence the current replay began after (a day snapshot's; 0: the start of the day).
    var replayAfter: UInt64 = 0
    var draining = false

    /// Requests served, messages and bytes regenerated, failures (for tests and the final log).
    public private(set) var served: UInt64 = 0
    public private(set) var messagesServed: UInt64 = 0
    public private(set) var failures: UInt64 = 0

    /// - Parameters:
    ///   - directory: the current day's journal directory.
    ///   - day: the trading day it holds (a day snapshot of another is never used).
    ///   - durable: the journal agent's durable sequence (nothing beyond it is read).
    ///   - configuration, keys: the exchange's, to build the engine as it does.
    public init(directory: String, day: String, durable: DurablePosition, configuration: ExchangeConfiguration, keys: APIKeys,
                gateway: consuming SessionArchivePort, feed: consuming FeedArchivePort = FeedArchiveChannel.unavailable().makePort(),
                feedConfiguration: MarketDataConfiguration? = nil, logger: Logger) {
        self.directory = directory
        self.day = day
        self.durable = durable
        self.configuration = configuration
        self.keys = keys
        let symbolList = configuration.symbols.map(\.symbol)
        symbolCount = symbolList.count
        symbols = .allocate(capacity: max(1, symbolCount))
        symbols.initialize(from: symbolList, count: symbolCount)
        scratch = .allocate(byteCount: 512, alignment: 64)
        self.logger = logger
        self.gateway = gateway
        self.feed = feed
        self.feedConfiguration = feedConfiguration
        engineBytes = MatchingEngine.requiredBytes(for: configuration.engineConfiguration())
    }

    /// `onClose` must have run (the agent runner runs it): the replay's engine lives in the
    /// engine region freed here, and `onClose` drops it.
    deinit {
        symbols.deallocate()
        scratch.deallocate()
        engineRegion?.deallocate()
    }

    public mutating func doWork() -> Int {
        if let feedJob, !feedJob.parked { return feedStep() }
        if let job, !job.parked { return step() }
        guard !draining else { return 0 }
        if let request = gateway.nextRequest() {
            start(request)
            return step()
        }
        if let request = feed.nextRequest() {
            startFeed(request)
            return feedStep()
        }
        return 0
    }

    public mutating func beginDrain() { draining = true }
    public var isDrained: Bool { draining }

    public mutating func onClose() {
        // A request still being served is answered (failed) so that the gateway frees its chunk.
        if let job = job.take(), !job.parked { gateway.reply(SessionArchiveReply(chunk: job.request.chunk, failure: .notDurable, count: 0, bytes: 0, from: job.request.from)) }
        if let feedJob = feedJob.take(), !feedJob.parked { feed.reply(FeedArchiveReply(chunk: feedJob.request.chunk, count: 0, bytes: 0, sequence: feedJob.request.sequence)) }
        replay = nil
        regenerator = nil
    }

    // MARK: Serving a request

    mutating func start(_ request: SessionArchiveRequest, started: UInt64 = DispatchTime.now().uptimeNanoseconds) {
        // The same session's next chunk continues the replay that served the last one.
        if let parked = job.take(), parked.continues(to: request), let records = replay?.records {
            job = parked.next(request, started: started, records: records)
            return
        }
        job = nil
        feedJob = nil
        regenerator = nil
        let account = Int(request.account)
        let snapshot = open { loaded in
            account < loaded.gateway.nextSequences.count && loaded.gateway.nextSequences[account] <= request.from
        }
        job = SessionJob(request: request, started: started, records: 0)
        if let snapshot { job!.nextSequence = snapshot.gateway.nextSequences[account] }
    }

    /// A new replay up to the durable sequence now: from the newest day snapshot at or below
    /// it that `usable` accepts (the engine restored from it; returned), else from the start of
    /// the day (nil). A snapshot saves replaying every record it covers — and is the only way
    /// to reach messages once `durability.retain` has retired the day's first segments.
    @discardableResult
    mutating func open(from usable: (DaySnapshot.Loaded) -> Bool) -> DaySnapshot.Loaded? {
        replay = nil
        let limit = durable.load()
        if engineRegion == nil { engineRegion = .allocate(byteCount: engineBytes, alignment: 128) }
        var engine = configuration.makeRiskCheckedEngine(keys: keys, region: engineRegion!)
        if let snapshot = newestSnapshot(atMost: limit, usable) {
            do throws(EngineSnapshotError) {
                try engine.restoreSnapshot(engine: snapshot.engineBytes, risk: snapshot.riskBytes)
                replay = JournalReplay(directory: directory, limit: limit, engine: engine, after: snapshot.coveredSequence)
                replayAfter = snapshot.coveredSequence
                return snapshot
            } catch {
                // The engine may be half restored: start again from an empty one.
                logger.warning("journal archive: the day snapshot \(snapshot.file.path) does not restore (\(error)); replaying from the start of the day")
                engine = configuration.makeRiskCheckedEngine(keys: keys, region: engineRegion!)
            }
        }
        replay = JournalReplay(directory: directory, limit: limit, engine: engine)
        replayAfter = 0
        return nil
    }

    /// The newest day snapshot of this day in the journal directory that covers a sequence in
    /// 1…`limit` (the journal holds the records after it up to the durable position), reads
    /// back whole and that `usable` accepts. A day with FIX sessions is no exception: the
    /// archive serves OUCH sessions and the feed, whose messages are the engine's events and
    /// the gateway section's sequences alone (a FIX order's events reach its account's OUCH
    /// log as any order's do), so the `fix` section is not needed here. Reads each candidate
    /// file (the snapshot agent keeps two).
    func newestSnapshot(atMost limit: UInt64, _ usable: (DaySnapshot.Loaded) -> Bool) -> DaySnapshot.Loaded? {
        guard let candidates = try? SnapshotDirectory.list(directory) else { return nil }
        for candidate in candidates.reversed() where candidate.coveredSequence >= 1 && candidate.coveredSequence <= limit {
            guard let loaded = try? DaySnapshot.load(path: candidate.path, day: day, needsFeed: false),
                  loaded.coveredSequence == candidate.coveredSequence,
                  loaded.gateway.nextSequences.count == keys.accounts.count else { continue }
            if usable(loaded) { return loaded }
        }
        return nil
    }

    /// Replays up to `recordsPerTurn` records into the current job; replies when it is done.
    mutating func step() -> Int {
        guard var current = job.take() else { return 0 }
        guard var active = replay.take() else {
            fail(current.request, .journalUnreadable, started: current.started, "no replay")
            return 1
        }
        let budget = active.records &+ Self.recordsPerTurn
        let account = current.request.account
        let chunk = gateway.chunk(Int(current.request.chunk))
        let out = scratch + SoupBinTCP.headerLength
        var outcome: SessionJob.Outcome?
        do {
            turn: while active.records < budget {
                if current.pending == nil {
                    guard let event = try active.nextEvent() else {
                        outcome = .endOfJournal
                        break turn
                    }
                    guard event.isOrderEvent else { continue }
                    current.pending = event
                    current.part = 0
                }
                let event = current.pending!
                while let message = SessionRouting.encode(event, part: current.part, symbols: symbols, symbolCount: symbolCount, to: out) {
                    if message.everySession || message.client == ClientID(UInt32(account)) {
                        if current.nextSequence > current.request.through {
                            outcome = .through
                            break turn
                        }
                        if current.nextSequence >= current.request.from {
                            let packet = SoupBinTCP.headerLength &+ message.length
                            if current.bytes &+ packet > gateway.chunkBytes {
                                outcome = .chunkFull
                                break turn
                            }
                            _ = SoupBinTCP.sequencedDataHeader(payloadLength: message.length, to: scratch)
                            (chunk + current.bytes).copyMemory(from: scratch, byteCount: packet)
                            current.bytes &+= packet
                            current.count &+= 1
                        }
                        current.nextSequence &+= 1
                    }
                    current.part &+= 1
                }
                current.pending = nil
            }
        } catch {
            fail(current.request, .journalUnreadable, started: current.started, "\(error)")
            return 1
        }
        let records = active.records
        let limit = active.limit
        let exhausted = outcome == .endOfJournal
        replay = consume active
        guard let outcome else {
            job = current  // the turn's budget is spent: more next turn
            return 1
        }
        if exhausted && current.count == 0 && durable.load() <= limit
            && DispatchTime.now().uptimeNanoseconds &- current.started < Self.durableWaitNanoseconds {
            // The durable journal does not reach the messages yet (the disk is behind): wait for it.
            job = current
            return 0
        }
        if exhausted && current.count == 0 && durable.load() > limit {
            // The replay ends at the durable sequence of its start: a new one reaches further.
            job = nil
            start(current.request, started: current.started)
            return 1
        }
        finish(current, outcome: outcome, records: records)
        if !exhausted {
            job = current
            job!.parked = true
        } else {
            replay = nil
        }
        return 1
    }

    mutating func finish(_ job: SessionJob, outcome: SessionJob.Outcome, records: Int) {
        let request = job.request
        guard job.count > 0 else {
            fail(request, .notDurable, started: job.started,
                 "the durable journal holds no message \(request.from) for the session (it ends at \(job.nextSequence &- 1))")
            return
        }
        gateway.reply(SessionArchiveReply(chunk: request.chunk, count: UInt32(job.count), bytes: UInt32(job.bytes), from: request.from))
        served &+= 1
        messagesServed &+= UInt64(job.count)
        let elapsed = DispatchTime.now().uptimeNanoseconds &- job.started
        let name = Int(request.account) < keys.accounts.count ? keys.accounts[Int(request.account)].username : "account \(request.account)"
        logger.info("""
            journal archive: session \(name): messages \(request.from)…\(request.from &+ UInt64(job.count) &- 1) \
            (\(job.count) messages, \(job.bytes) B) regenerated in \(Self.milliseconds(elapsed)) ms, \
            \(records &- job.recordsAtStart) journal records replayed\(job.recordsAtStart != 0 ? " (continuing)" : replayAfter == 0 ? " from the start of the day" : " from the day snapshot at sequence \(replayAfter)")\
            \(outcome == .chunkFull ? "; the chunk is full, the session asks for more" : "")
            """)
    }

    mutating func fail(_ request: SessionArchiveRequest, _ failure: SessionArchiveReply.Failure, started: UInt64, _ reason: String) {
        job = nil
        failures &+= 1
        gateway.reply(SessionArchiveReply(chunk: request.chunk, failure: failure, count: 0, bytes: 0, from: request.from))
        logger.warning("journal archive: cannot serve messages \(request.from)… of account \(request.account): \(reason)")
    }

    static func milliseconds(_ nanoseconds: UInt64) -> String {
        let tenths = nanoseconds / 100_000
        return "\(tenths / 10).\(tenths % 10)"
    }
}

// MARK: Re-requests of the feed

extension JournalArchive {
    mutating func startFeed(_ request: FeedArchiveRequest) {
        let started = DispatchTime.now().uptimeNanoseconds
        // A re-request that the regenerated history still holds, or that lies ahead of it,
        // continues the replay that served the last one.
        if let parked = feedJob.take(), parked.parked, let records = replay?.records,
           let oldest = regenerator?.oldestSequence, request.sequence >= oldest {
            feedJob = FeedJob(request: request, started: started, recordsAtStart: records)
            return
        }
        job = nil
        feedJob = nil
        regenerator = nil
        guard let feedConfiguration else {
            failFeed(request, started: started, "market data is not enabled")
            return
        }
        let historyMessages = FeedRegenerator.historyMessages(for: feedConfiguration)
        let snapshot = open { loaded in loaded.feed.map { $0.nextSequence <= request.sequence } ?? false }
        if let snapshot, let state = snapshot.feed {
            do throws(FeedDayStateError) {
                regenerator = try FeedRegenerator(configuration: feedConfiguration, historyMessages: historyMessages, restoring: state)
            } catch {
                logger.warning("journal archive: the day snapshot \(snapshot.file.path)'s feed does not restore (\(error)); replaying from the start of the day")
                open { _ in false }
            }
        }
        if regenerator == nil { regenerator = FeedRegenerator(configuration: feedConfiguration, historyMessages: historyMessages) }
        feedJob = FeedJob(request: request, started: started, recordsAtStart: 0)
    }

    /// Replays up to `recordsPerTurn` records into the regenerated feed; answers once it has
    /// published past what the re-request asks for (or reached the durable end).
    mutating func feedStep() -> Int {
        guard let current = feedJob.take() else { return 0 }
        guard var active = replay.take(), var feedCopy = regenerator.take() else {
            failFeed(current.request, started: current.started, "no replay")
            return 1
        }
        let request = current.request
        let wanted = request.sequence &+ UInt64(request.count)
        let budget = active.records &+ Self.recordsPerTurn
        var finished = false
        var exhausted = false
        do {
            while active.records < budget {
                if feedCopy.nextSequence >= wanted {
                    finished = true
                    break
                }
                guard let event = try active.nextEvent() else {
                    finished = true
                    exhausted = true
                    break
                }
                feedCopy.publish(event)
            }
        } catch {
            failFeed(request, started: current.started, "\(error)")
            return 1
        }
        let records = active.records
        let limit = active.limit
        replay = consume active
        guard finished else {
            regenerator = consume feedCopy
            feedJob = current
            return 1
        }
        if exhausted && feedCopy.nextSequence <= request.sequence && durable.load() <= limit
            && DispatchTime.now().uptimeNanoseconds &- current.started < Self.durableWaitNanoseconds {
            // The durable journal does not reach the messages yet: wait for it.
            regenerator = consume feedCopy
            feedJob = current
            return 0
        }
        if exhausted && feedCopy.nextSequence <= request.sequence && durable.load() > limit {
            // A continued replay ends at the durable sequence of its start: a new one reaches further.
            feedJob = nil
            replay = nil
            startFeed(request)
            return 1
        }
        let chunk = feed.chunk(Int(request.chunk))
        let (count, bytes) = feedCopy.copyBlocks(from: request.sequence, maxCount: Int(request.count), maxBytes: Int(request.maxBytes), to: chunk)
        regenerator = consume feedCopy
        guard count > 0 else {
            failFeed(request, started: current.started,
                     "the durable journal does not reach feed message \(request.sequence) (it regenerates up to \((regenerator?.nextSequence ?? 1) &- 1))")
            return 1
        }
        feed.reply(FeedArchiveReply(chunk: request.chunk, count: UInt32(count), bytes: UInt32(bytes), sequence: request.sequence))
        served &+= 1
        messagesServed &+= UInt64(count)
        let elapsed = DispatchTime.now().uptimeNanoseconds &- current.started
        logger.info("""
            journal archive: feed re-request from \(Self.dotted(request.address)):\(UInt16(bigEndian: request.port)): \
            messages \(request.sequence)…\(request.sequence &+ UInt64(count) &- 1) (\(count) messages, \(bytes) B) regenerated in \
            \(Self.milliseconds(elapsed)) ms, \(records &- current.recordsAtStart) journal records replayed\
            \(current.recordsAtStart != 0 ? " (continuing)" : replayAfter == 0 ? " from the start of the day" : " from the day snapshot at sequence \(replayAfter)")
            """)
        if exhausted {
            replay = nil
            regenerator = nil
        } else {
            var parked = current
            parked.parked = true
            feedJob = parked
        }
        return 1
    }

    mutating func failFeed(_ request: FeedArchiveRequest, started _: UInt64, _ reason: String) {
        feedJob = nil
        failures &+= 1
        feed.reply(FeedArchiveReply(chunk: request.chunk, count: 0, bytes: 0, sequence: request.sequence))
        logger.warning("journal archive: cannot serve feed re-request for messages \(request.sequence)…: \(reason)")
    }

    static func dotted(_ networkOrder: UInt32) -> String {
        let a = UInt32(bigEndian: networkOrder)
        return "\(a >> 24).\(a >> 16 & 0xFF).\(a >> 8 & 0xFF).\(a & 0xFF)"
    }
}

/// One feed re-request being served (or, parked, served, its replay kept for the next).
struct FeedJob {
    var request: FeedArchiveRequest
    var started: UInt64
    var recordsAtStart: Int
    var parked = false
}

/// One session request being served (or, parked, the position after the last one served).
struct SessionJob {
    enum Outcome: Equatable {
        case chunkFull
        case through
        case endOfJournal
    }

    var request: SessionArchiveRequest
    var started: UInt64
    /// Records the replay had when this request started (0: a replay from the start of the day).
    var recordsAtStart: Int
    /// The sequence number the account's next message gets.
    var nextSequence: UInt64 = 1
    /// An event whose parts from `part` on are still to route (the chunk filled in its middle).
    var pending: EngineEvent?
    var part = 0
    var count = 0
    var bytes = 0
    /// Served; kept for the same session's next chunk.
    var parked = false

    init(request: SessionArchiveRequest, started: UInt64, records: Int) {
        self.request = request
        self.started = started
        recordsAtStart = records
    }

    /// Whether `request` picks up where this one stopped.
    func continues(to request: SessionArchiveRequest) -> Bool {
        parked && request.account == self.request.account && request.from == nextSequence
    }

    /// The next request of the same session, from where this one stopped.
    func next(_ request: SessionArchiveRequest, started: UInt64, records: Int) -> SessionJob {
        var job = self
        job.request = request
        job.started = started
        job.recordsAtStart = records
        job.count = 0
        job.bytes = 0
        job.parked = false
        return job
    }
}
