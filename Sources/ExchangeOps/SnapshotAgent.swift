import ExchangeConfig
import ExchangeJournal
import ExchangeRuntime
import ExchangeWire
import Foundation
import Logging
import Synchronization

/// Takes day snapshots while the exchange runs, without stopping the engine: on a thread of
/// its own (normal priority, never pinned; it parks between polls — not a hot path), it
/// follows the day's journal up to the durable sequence the journal agent publishes
/// (`JournalFollower`, `DurablePosition`) and applies every record to its own `DayReplica`.
/// The engine is deterministic, so the replica after sequence S is the exchange's state
/// after S; a snapshot of it is written every `durability.snapshot_interval_seconds` (0:
/// never on a timer) and whenever one is asked for (`request()`: SIGUSR1), each time only
/// once the replica has caught up with the durable sequence it last read. With no periodic
/// snapshots the replica follows only when one is asked for, so it costs no CPU until then.
///
/// After each snapshot it keeps the two newest snapshots (removing older ones and temporary
/// files a crash left) and retires the journal segments wholly covered by the older of those
/// two, beyond the newest `durability.retain` (`JournalSegmentFile.retire`): should the newest
/// snapshot not read back at the next start, the one before it still has every record after it.
///
/// Counters (block `snapshots`): written, failures, failing (1 while the last attempt
/// failed), last sequence, last duration, last bytes, segments retired, the replica's
/// sequence. A failing snapshot changes neither the answers nor their durability — the
/// journal still holds every record — so `/health` is not degraded by it; the log names the
/// file and the error, and recovery replays more.
public final class SnapshotAgent: @unchecked Sendable {
    public struct Settings: Sendable {
        public var directory: String
        public var day: String
        public var intervalSeconds: Int
        public var retainSegments: Int
        public var configuration: ExchangeConfiguration
        public var keys: APIKeys
        public var feedSession: SoupSessionName
        /// The gateway's FIX settings (nil: no FIX port) and its midnight
        /// (`GatewayAgent.fixEpochMidnight`): the replica keeps the FIX sessions with them.
        public var fix: FIXSettings? = nil
        public var fixEpochMidnight: UInt64 = 0
        /// How long the thread parks when it has nothing to do.
        public var pollMicroseconds: UInt32 = 2_000
    }

    public static let snapshotsKept = 2
    /// The most records applied between two looks at the stop flag and the requests.
    static let batch = 65_536

    let settings: Settings
    let durable: DurablePosition
    let counters: CounterBlock
    let logger: Logger
    let stopping = Atomic<Bool>(false)
    let requests = Atomic<Int>(0)
    let finished = DispatchSemaphore(value: 0)
    private var thread: Thread?

    public init(settings: Settings, durable: DurablePosition, cells: CounterCells, logger: Logger) throws(SystemError) {
        self.settings = settings
        self.durable = durable
        counters = try cells.register(SnapshotCounters.block)
        self.logger = logger
    }

    /// Starts the thread.
    public func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "rtes-snapshots"
        thread.qualityOfService = .utility
        self.thread = thread
        thread.start()
    }

    /// Asks for a snapshot as soon as the replica has caught up (SIGUSR1).
    public func request() { requests.add(1, ordering: .releasing) }

    /// Stops the thread (a snapshot being written is finished first) and waits for it.
    public func stop() {
        guard thread != nil else { return }
        stopping.store(true, ordering: .releasing)
        finished.wait()
        thread = nil
    }

    func run() {
        guard var replica = makeReplica() else {
            counters.store(SnapshotCounters.failing, 1)
            return
        }
        var follower = JournalFollower(directory: settings.directory, from: replica.sequence &+ 1)
        var lastSnapshot = replica.sequence
        var lastTime = DispatchTime.now().uptimeNanoseconds
        let interval = UInt64(settings.intervalSeconds) * 1_000_000_000
        var broken = false
        while !stopping.load(ordering: .acquiring) {
            var applied = 0
            var caughtUp = false
            // With no periodic snapshots the replica follows only when one is asked for: no
            // CPU spent on it until then (the request waits while it catches up).
            let following = interval > 0 || requests.load(ordering: .acquiring) > 0
            if !broken && following {
                let limit = durable.load()
                do throws(JournalError) {
                    while applied < Self.batch {
                        guard let record = try follower.next(upTo: limit) else {
                            caughtUp = true
                            break
                        }
                        replica.apply(record)
                        applied &+= 1
                    }
                } catch {
                    // The journal it follows cannot be read: no more snapshots this run.
                    broken = true
                    counters.store(SnapshotCounters.failing, 1)
                    counters.store(SnapshotCounters.failures, counters.load(SnapshotCounters.failures) &+ 1)
                    let reached = replica.sequence
                    logger.error("snapshots: stopped following the journal after sequence \(reached): \(error); no more snapshots until restart")
                }
                counters.store(SnapshotCounters.replicaSequence, replica.sequence)
            }
            let now = DispatchTime.now().uptimeNanoseconds
            let due = interval > 0 && now &- lastTime >= interval && replica.sequence > lastSnapshot
            if caughtUp && (due || requests.load(ordering: .acquiring) > 0) {
                let asked = requests.exchange(0, ordering: .acquiring) > 0
                if write(replica, asked: asked) { lastSnapshot = replica.sequence }
                lastTime = DispatchTime.now().uptimeNanoseconds
            } else if broken && requests.exchange(0, ordering: .acquiring) > 0 {
                logger.error("snapshots: a snapshot was asked for, but the journal could not be followed (see above)")
            }
            if applied == 0 { usleep(following ? settings.pollMicroseconds : 10 * settings.pollMicroseconds) }
        }
    }

    /// The replica to start from: the newest usable snapshot's state, else a new day's (the
    /// journal from sequence 1). Nil, logged, when neither can be (the journal's first
    /// segments are retired and no snapshot is usable).
    func makeReplica() -> DayReplica? {
        let s = settings
        let found = DaySnapshot.newestUsable(in: s.directory, day: s.day, needsFeed: s.configuration.marketData.enabled,
                                             covers: 0...UInt64.max, accounts: s.keys.accounts.count,
                                             instruments: s.configuration.symbols.count)
        if let snapshot = found.snapshot {
            do throws(DaySnapshotError) {
                return try DayReplica(configuration: s.configuration, keys: s.keys, feedSession: s.feedSession, snapshot: snapshot,
                                      fix: s.fix, fixEpochMidnight: s.fixEpochMidnight)
            } catch {
                logger.warning("snapshots: \(error); following the journal from sequence 1 instead")
            }
        }
        let first = (try? JournalDirectory.segments(in: s.directory).first?.firstSequence) ?? 1
        guard first <= 1 else {
            logger.error("snapshots: the journal in \(s.directory) starts at sequence \(first) and no snapshot is usable: none will be taken")
            return nil
        }
        return DayReplica(configuration: s.configuration, keys: s.keys, feedSession: s.feedSession, fix: s.fix,
                          fixEpochMidnight: s.fixEpochMidnight)
    }

    /// Writes one snapshot of `replica`, keeps the newest two, retires what they cover;
    /// counts and logs. True when the snapshot was written.
    func write(_ replica: borrowing DayReplica, asked: Bool) -> Bool {
        let written: DaySnapshot.Written
        do throws(DaySnapshotError) {
            written = try DaySnapshot.write(replica, day: settings.day, directory: settings.directory)
        } catch {
            counters.store(SnapshotCounters.failing, 1)
            counters.store(SnapshotCounters.failures, counters.load(SnapshotCounters.failures) &+ 1)
            let sequence = replica.sequence
            logger.error("snapshots: writing the snapshot of sequence \(sequence) failed: \(error)")
            return false
        }
        counters.store(SnapshotCounters.lastSequence, written.coveredSequence)
        counters.store(SnapshotCounters.lastNanoseconds, written.nanoseconds)
        counters.store(SnapshotCounters.lastBytes, UInt64(written.bytes))
        counters.store(SnapshotCounters.failing, 0)
        let line = "snapshots: \(asked ? "asked for: " : "")wrote \(written.path) (sequence \(written.coveredSequence), "
            + "\(written.bytes) B) in \(written.nanoseconds / 1_000_000) ms"
        logger.info("\(line)")
        retire()
        // Counted last: once `written` moves, the older snapshots and segments are gone too.
        counters.store(SnapshotCounters.written, counters.load(SnapshotCounters.written) &+ 1)
        return true
    }

    /// Keeps the two newest snapshots and retires the segments the older of them covers,
    /// beyond the newest `retainSegments`.
    func retire() {
        do throws(SnapshotFileError) {
            try SnapshotDirectory.retain(newest: Self.snapshotsKept, in: settings.directory)
            let kept = try SnapshotDirectory.list(settings.directory)
            guard kept.count >= Self.snapshotsKept else { return }
            let covered = kept[kept.count - Self.snapshotsKept].coveredSequence
            do throws(SystemError) {
                let retired = try JournalSegmentFile.retire(directoryPath: settings.directory, coveredThrough: covered,
                                                            retain: settings.retainSegments)
                if !retired.isEmpty {
                    counters.store(SnapshotCounters.segmentsRetired, counters.load(SnapshotCounters.segmentsRetired) &+ UInt64(retired.count))
                    let line = "snapshots: retired \(retired.count) journal segment(s) covered by the snapshot of sequence \(covered): "
                        + retired.joined(separator: ", ")
                    logger.info("\(line)")
                }
            } catch {
                logger.error("snapshots: retiring journal segments failed: \(error)")
            }
        } catch {
            logger.error("snapshots: removing older snapshots failed: \(error)")
        }
    }
}

/// The snapshot agent's counter block, `snapshots`.
public enum SnapshotCounters {
    public static let written = CounterCell(0)
    public static let failures = CounterCell(1)
    public static let failing = CounterCell(2)
    public static let lastSequence = CounterCell(3)
    public static let lastNanoseconds = CounterCell(4)
    public static let lastBytes = CounterCell(5)
    public static let segmentsRetired = CounterCell(6)
    public static let replicaSequence = CounterCell(7)

    public static let block = CounterBlockDescriptor(name: "snapshots", counters: [
        .init("written", .counter, written, help: "Day snapshots written."),
        .init("failures", .counter, failures, help: "Day snapshots that could not be written (or the journal could not be followed)."),
        .init("failing", .gauge, failing, help: "1 while the last snapshot attempt failed."),
        .init("last_sequence", .gauge, lastSequence, help: "Journal sequence the last snapshot covers."),
        .init("last_duration_ns", .gauge, lastNanoseconds, help: "Nanoseconds the last snapshot took to write and publish."),
        .init("last_bytes", .gauge, lastBytes, help: "Size of the last snapshot file."),
        .init("segments_retired", .counter, segmentsRetired, help: "Journal segments removed once snapshots covered them."),
        .init("replica_sequence", .gauge, replicaSequence, help: "Last journal sequence the snapshot replica applied."),
    ], cellCount: 16)
}
