import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import ExchangeOps
import ExchangeWire
import Foundation
import Logging
import NIOPosix
import Synchronization

/// The trade store (`rtes-dropcopy`): a process of its own, off the exchange's hot path, that
/// follows one trading day's journal and writes the day's orders, executions and trades into
/// PostgreSQL, exactly once across restarts of either side.
///
/// The journal holds the engine's input, not its output; the engine is deterministic, so the
/// rows come from the exchange's own replica (`DayReplica`, as the snapshot agent keeps one)
/// applying every record from sequence 1, read with `JournalFollower` never past the durable
/// sequence (`DurableLimit`). Each batch of records' rows is written in one transaction with the
/// progress row (the last sequence whose rows are stored), so a restart reads the progress row,
/// starts the replica from the newest day snapshot at or below it (else from sequence 1),
/// replays the records from there up to it without writing (the replica needs them) and writes
/// from the next one: no row twice, none missing. When PostgreSQL goes away the batch is kept, the
/// connection retried with a bounded backoff (each attempt logged), and once it is back the
/// progress row decides what of the batch still needs writing.
///
/// `run()` blocks the calling thread (the executable's main thread, or a test's own thread);
/// it returns when the journal is finished and stored, when `stop` is set, or on damage.
public final class DropCopy: @unchecked Sendable {
    public struct Settings: Sendable {
        public var directory: String
        public var configuration: ExchangeConfiguration
        public var keys: APIKeys
        public var database: DropCopyDatabase
        public var limit: DurableLimitSource
        /// The most records whose rows go into one transaction.
        public var batchRecords = 20_000
        /// The longest pause between two connection attempts (the backoff doubles from 100 ms).
        public var retryMaxMilliseconds = 5_000
        /// How long the thread parks when the journal has nothing new.
        public var pollMilliseconds = 20
        /// Seconds between two progress lines in the log.
        public var reportSeconds = 10

        public init(directory: String, configuration: ExchangeConfiguration, keys: APIKeys, database: DropCopyDatabase,
                    limit: DurableLimitSource) {
            self.directory = directory
            self.configuration = configuration
            self.keys = keys
            self.database = database
            self.limit = limit
        }
    }

    public enum Outcome: Equatable, Sendable {
        /// A finished journal's records are all stored, through this sequence.
        case finished(through: UInt64)
        /// Stopped when asked; stored through this sequence.
        case stopped(through: UInt64)
        /// The journal cannot be followed (damaged, retired, unreadable): the reason.
        case failed(String)
    }

    /// What one run wrote (for its last log line and measurements).
    public struct Totals: Sendable, Equatable {
        public var orders = 0
        public var executions = 0
        public var trades = 0
        public var transactions = 0
        public var retries = 0
        public var rows: Int { orders + executions + trades }
    }

    let settings: Settings
    let logger: Logger
    let stopping = Atomic<Bool>(false)
    public private(set) var totals = Totals()
    /// Set by `write` when the progress row is found behind what this run committed.
    var regressed: UInt64?
    /// The first sequence the journal directory still holds (above 1 when the snapshot agent
    /// retired its first segments).
    var firstSequence: UInt64 = 1

    public init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Asks `run()` to return (from any thread, or a signal handler's flag poller).
    public func stop() { stopping.store(true, ordering: .releasing) }
    var isStopping: Bool { stopping.load(ordering: .acquiring) }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Sleeps up to `milliseconds`, in slices, returning early when asked to stop.
    func pause(milliseconds: Int) {
        var left = milliseconds
        while left > 0 && !isStopping {
            let slice = min(left, 50)
            usleep(UInt32(slice) * 1_000)
            left -= slice
        }
    }

    public func run() -> Outcome {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let store = DropCopyStore(database: settings.database, group: group, logger: logger)
        defer { store.close() }
        guard let found = waitForJournal() else { return .stopped(through: 0) }
        let (journal, day) = found
        var journalIdentity: String
        switch journal {
        case .success(let identity): journalIdentity = identity
        case .failure(let reason):
            logger.error("dropcopy: \(reason.description)")
            return .failed(reason.description)
        }
        if firstSequence > 1 {
            guard let named = nameRetiredJournal(store, day: day, createdAt: journalIdentity) else { return .stopped(through: 0) }
            switch named {
            case .success(let identity): journalIdentity = identity
            case .failure(let reason):
                logger.error("dropcopy: \(reason.description)")
                return .failed(reason.description)
            }
        }
        logger.info("dropcopy: following \(settings.directory) (journal \(journalIdentity)), \(settings.limit)")
        guard var committed = connect(store, journal: journalIdentity, attempt: 0) else { return .stopped(through: 0) }
        while true {
            switch follow(store: store, journal: journalIdentity, day: day, committed: committed) {
            case .done(let outcome): return outcome
            case .again(let progress): committed = progress
            }
        }
    }

    enum Pass {
        case done(Outcome)
        /// The progress row went back (PostgreSQL lost committed transactions): rows the
        /// replica has passed must be written again, so the day is replayed from a day snapshot
        /// at or below the progress row, else from sequence 1.
        case again(from: UInt64)
    }

    /// One pass over the journal from the starting replica's sequence (`startingReplica`),
    /// writing the rows of records after `start`.
    func follow(store: DropCopyStore, journal journalIdentity: String, day: String, committed start: UInt64) -> Pass {
        var committed = start
        regressed = nil
        var configuration = settings.configuration
        configuration.marketData.enabled = false  // the replica's engine is all the store needs
        var recorder = DropCopyRecorder(keys: settings.keys, symbols: settings.configuration.symbols)
        var replica = startingReplica(configuration: configuration, day: day, committed: committed, recorder: &recorder)
        guard replica.sequence + 1 >= firstSequence else {
            let reason = "\(settings.directory) starts at sequence \(firstSequence) (its first segments were retired) and no "
                + "usable day snapshot covers a sequence from \(firstSequence - 1) to \(committed), where the rows are stored "
                + "through: the replica cannot be rebuilt"
            logger.error("dropcopy: \(reason)")
            return .done(.failed(reason))
        }
        if committed > replica.sequence {
            let line = "dropcopy: rows are stored through sequence \(committed); replaying \(replica.sequence + 1)…\(committed) "
                + "without writing"
            logger.info("\(line)")
        }
        var follower = JournalFollower(directory: settings.directory, from: replica.sequence + 1)
        var limit = DurableLimit(source: settings.limit, directory: settings.directory)
        var lastReport = Self.now()
        var reportedTotals = totals
        let started = Self.now()

        while true {
            let ceiling: UInt64
            var applied = 0
            var caughtUp = false
            do throws(JournalError) {
                ceiling = try limit.current(now: Self.now())
                while applied < settings.batchRecords {
                    guard let record = try follower.next(upTo: ceiling) else {
                        caughtUp = true
                        break
                    }
                    recorder.begin(sequence: record.sequence)
                    replica.apply(record) { recorder.record($0) }
                    if record.sequence <= committed { _ = recorder.take() }
                    applied += 1
                }
            } catch {
                let reason = "the journal cannot be followed after sequence \(replica.sequence): \(error)"
                logger.error("dropcopy: \(reason); stored through \(committed)")
                return .done(.failed(reason))
            }
            if replica.sequence > committed && (applied >= settings.batchRecords || caughtUp) {
                var rows = recorder.take()
                guard let stored = write(&rows, store: store, journal: journalIdentity, day: day, committed: committed,
                                         through: replica.sequence) else {
                    if let regressed { return .again(from: regressed) }
                    return .done(.stopped(through: committed))
                }
                committed = stored
            }
            let now = Self.now()
            if now &- lastReport >= UInt64(settings.reportSeconds) * 1_000_000_000 {
                let t = totals
                let line = "dropcopy: stored through sequence \(committed): \(t.orders - reportedTotals.orders) orders, "
                    + "\(t.executions - reportedTotals.executions) executions, \(t.trades - reportedTotals.trades) trades since the last line"
                logger.info("\(line)")
                reportedTotals = t
                lastReport = now
            }
            if case .finished = settings.limit, caughtUp, replica.sequence >= ceiling, committed >= ceiling {
                let seconds = Double(Self.now() &- started) / 1e9
                let t = totals
                let line = "dropcopy: the journal is stored through its last record, sequence \(committed): \(t.orders) orders, "
                    + "\(t.executions) executions, \(t.trades) trades written in \(t.transactions) transactions, "
                    + "\(String(format: "%.2f", seconds)) s (\(Int(Double(t.rows) / max(seconds, 1e-9))) rows/s)"
                logger.info("\(line)")
                if let torn = limit.tornTail { logger.warning("dropcopy: the journal ends in a torn tail, not read: \(torn)") }
                return .done(.finished(through: committed))
            }
            if isStopping {
                logger.info("dropcopy: stopping; rows are stored through sequence \(committed)")
                return .done(.stopped(through: committed))
            }
            if applied == 0 { pause(milliseconds: settings.pollMilliseconds) }
        }
    }

    /// The replica the pass starts from: restored from the newest day snapshot in the journal's
    /// directory that covers a sequence at or below `committed` (rows of the records after it
    /// up to `committed` are stored, so only those are replayed without writing), else a fresh
    /// one for a replay from sequence 1. A snapshot that does not read back, fit or restore to
    /// the state hash it was written with is passed over, saying why. The recorder is given the
    /// firms of the orders resting in the restored books (those a later fill can name).
    func startingReplica(configuration: ExchangeConfiguration, day: String, committed: UInt64,
                         recorder: inout DropCopyRecorder) -> DayReplica {
        let session = SoupSessionName("MA")!
        guard committed > 0 else { return DayReplica(configuration: configuration, keys: settings.keys, feedSession: session) }
        guard committed >= firstSequence - 1 else {
            return DayReplica(configuration: configuration, keys: settings.keys, feedSession: session)
        }
        let found = DaySnapshot.newestUsable(in: settings.directory, day: day, needsFeed: false,
                                             covers: max(1, firstSequence - 1)...committed,
                                             accounts: settings.keys.accounts.count, instruments: configuration.symbols.count)
        for rejected in found.rejected {
            logger.info("dropcopy: snapshot \(rejected.path) passed over: \(rejected.reason)")
        }
        if let snapshot = found.snapshot {
            do throws(DaySnapshotError) {
                let replica = try DayReplica(configuration: configuration, keys: settings.keys, feedSession: session, snapshot: snapshot)
                if replica.engine.stateHash() == snapshot.file.stateHash {
                    for instrument in 0..<replica.engine.engine.instrumentCount {
                        for side in BookSide.allCases {
                            recorder.noteResting(replica.engine.engine.restingOrders(instrument: InstrumentIndex(instrument), side: side))
                        }
                    }
                    logger.info("dropcopy: starting from day snapshot \(snapshot.file.path) (sequences 1…\(snapshot.coveredSequence))")
                    return replica
                }
                logger.warning("dropcopy: snapshot \(snapshot.file.path) passed over: it does not restore to the state hash it was written with")
            } catch {
                logger.warning("dropcopy: snapshot passed over: \(error)")
            }
        }
        return DayReplica(configuration: configuration, keys: settings.keys, feedSession: session)
    }

    /// The journal's identity and day, once its first segment is there (a live journal's
    /// directory may not have one yet); nil when stopped while waiting.
    func waitForJournal() -> (Result<String, JournalFailure>, String)? {
        var said = false
        while !isStopping {
            do throws(JournalError) {
                let segments = try JournalDirectory.segments(in: settings.directory)
                if let first = segments.first {
                    let reader = try JournalReader.open(directory: settings.directory)
                    let header = reader.segments[0].header
                    let day = header.day.trimmingCharacters(in: .whitespaces)
                    // First segments retired: the name is the progress row's (`nameRetiredJournal`);
                    // this is the oldest segment's creation time, which the first's preceded.
                    firstSequence = first.firstSequence
                    return (.success(first.firstSequence == 1 ? "\(day)/\(header.createdAt)" : "\(header.createdAt)"), day)
                }
            } catch {
                if case .live = settings.limit, case .noSegments = error {} else {
                    return (.failure(JournalFailure("\(settings.directory) cannot be read: \(error)")), "")
                }
            }
            guard case .live = settings.limit else {
                return (.failure(JournalFailure("\(settings.directory) holds no journal segment")), "")
            }
            if !said {
                logger.info("dropcopy: waiting for the first journal segment in \(settings.directory)")
                said = true
            }
            pause(milliseconds: 200)
        }
        return nil
    }

    /// The name of a journal whose first segments were retired (the name is its first
    /// segment's creation time): the one progress row of its day whose journal was created no
    /// later than the oldest segment left (`createdAt`) — this store wrote its rows before the
    /// segments went. None, or more than one (another journal of the same day in this
    /// database), is a failure saying so; nil when stopped while connecting.
    func nameRetiredJournal(_ store: DropCopyStore, day: String, createdAt: String) -> Result<String, JournalFailure>? {
        var attempt = 0
        while true {
            guard connect(store, journal: "", attempt: attempt) != nil else { return nil }
            do throws(DropCopyStoreError) {
                let oldest = UInt64(createdAt) ?? 0
                let candidates = try store.progressRows(day: day).filter { row in
                    guard let time = row.journal.split(separator: "/").last.flatMap({ UInt64($0) }) else { return false }
                    return row.journal.hasPrefix(day + "/") && time <= oldest
                }
                guard candidates.count == 1 else {
                    let names = candidates.map(\.journal).joined(separator: ", ")
                    return .failure(JournalFailure("\(settings.directory) starts at sequence \(firstSequence) (its first segments "
                        + "were retired), so its name (the first segment's creation time) is known only from a progress row of "
                        + "\(day) in \(settings.database.schema).progress, and "
                        + (candidates.isEmpty ? "there is none: the day cannot be stored from sequence 1"
                                              : "there are \(candidates.count) (\(names)): which one is this journal is not known")))
                }
                let line = "dropcopy: \(settings.directory) starts at sequence \(firstSequence) (first segments retired): "
                    + "it is journal \(candidates[0].journal), stored through \(candidates[0].sequence)"
                logger.info("\(line)")
                return .success(candidates[0].journal)
            } catch {
                attempt += 1
                logger.warning("dropcopy: \(error); retrying in \(backoff(attempt)) ms (attempt \(attempt))")
                store.close()
                pause(milliseconds: backoff(attempt))
            }
        }
    }

    struct JournalFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Connects, creates the tables if absent and reads the progress row, retrying with the
    /// backoff until it succeeds; nil when stopped meanwhile.
    func connect(_ store: DropCopyStore, journal: String, attempt first: Int) -> UInt64? {
        var attempt = first
        while !isStopping {
            do throws(DropCopyStoreError) {
                try store.connect()
                try store.createTables()
                let progress = try store.progress(journal: journal)
                if attempt > 0 {
                    let line = "dropcopy: connected to \(settings.database) again after \(attempt) failed attempt(s); "
                        + "rows are stored through sequence \(progress)"
                    logger.notice("\(line)")
                } else {
                    logger.info("dropcopy: connected to \(settings.database); tables in schema \(settings.database.schema) ready")
                }
                return progress
            } catch {
                store.close()
                attempt += 1
                totals.retries += 1
                let delay = backoff(attempt)
                logger.warning("dropcopy: \(error); retrying in \(delay) ms (attempt \(attempt))")
                pause(milliseconds: delay)
            }
        }
        return nil
    }

    /// 100 ms, doubling, at most `retryMaxMilliseconds`.
    func backoff(_ attempt: Int) -> Int {
        min(settings.retryMaxMilliseconds, 100 << min(attempt - 1, 16))
    }

    /// Writes the rows of records `committed+1 … through` with the progress row, until it is
    /// stored: after any failure it reconnects and reads the progress row, which says whether
    /// the transaction committed (progress at `through`), did not (still at `committed`), or
    /// another writer moved it (what it covers is dropped from the batch). Returns the new
    /// progress; nil when stopped before the batch was stored.
    func write(_ rows: inout DropCopyRows, store: DropCopyStore, journal: String, day: String, committed start: UInt64,
               through: UInt64) -> UInt64? {
        var committed = start
        var attempt = 0
        while committed < through {
            do throws(DropCopyStoreError) {
                if !store.isConnected { throw DropCopyStoreError("the connection to \(settings.database) is closed") }
                try store.write(rows, journal: journal, day: day, committed: committed, through: through)
                totals.orders += rows.orders.count
                totals.executions += rows.executions.count
                totals.trades += rows.trades.count
                totals.transactions += 1
                if attempt > 0 { logger.notice("dropcopy: stored the batch through sequence \(through) after \(attempt) retries") }
                return through
            } catch {
                attempt += 1
                if error.progressMoved {
                    logger.warning("dropcopy: \(error): another writer? carrying on from the progress row")
                } else {
                    totals.retries += 1
                    let delay = backoff(attempt)
                    let line = "dropcopy: \(error); the batch through sequence \(through) is kept; reconnecting in \(delay) ms "
                        + "(attempt \(attempt))"
                    logger.warning("\(line)")
                    store.close()
                    pause(milliseconds: delay)
                    if isStopping { return nil }
                }
                guard let progress = store.isConnected ? readProgress(store, journal: journal) : connect(store, journal: journal, attempt: attempt)
                else { return nil }
                if progress < committed {
                    let line = "dropcopy: the progress row went back from \(committed) to \(progress): PostgreSQL lost committed "
                        + "transactions (synchronous_commit off? a restore?); replaying the day (from a day snapshot at or below it, else from sequence 1) to write from \(progress + 1)"
                    logger.error("\(line)")
                    regressed = progress
                    return nil
                }
                if progress >= through {
                    logger.notice("dropcopy: the batch through sequence \(through) had been committed (progress \(progress))")
                    return progress
                }
                if progress != committed {
                    rows = rows.dropping(through: progress)
                    committed = progress
                }
            }
        }
        return committed
    }

    func readProgress(_ store: DropCopyStore, journal: String) -> UInt64? {
        do throws(DropCopyStoreError) {
            return try store.progress(journal: journal)
        } catch {
            store.close()
            return connect(store, journal: journal, attempt: 1)
        }
    }
}
