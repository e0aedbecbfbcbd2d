import CExchangeShim
import ExchangeClock
import ExchangeConfig
import ExchangeEngine
import ExchangeJournal
import ExchangeRuntime
import ExchangeWire
import Foundation

extension Appliance {
    /// `replication.role` standby: a warm standby. It does not listen on the client ports (no
    /// order gateway, no market data): a client that connects is refused by the kernel, and
    /// `/health` says the exchange is a standby. It runs its own journal agent (its day
    /// directory under its own `durability.directory`; the day continues from what it holds),
    /// the replication thread (`ReplicationStandby`: follows the primary, feeds the journal,
    /// applies every record to its own engine) and the admin plane (/metrics, /health).
    func assembleStandby(_ configuration: ExchangeConfiguration, keys: APIKeys, options: Options, ticksPerSecond: UInt64,
                         region: (String) throws -> UnsafeMutableRawPointer, stopIfRequested: () throws -> Void) throws {
        let settings = configuration.durability
        tradingDay = TradingDay(utcSecondsSinceEpoch: Int64(Date().timeIntervalSince1970))
        let dayJournal = try DayJournal.open(settings: settings, day: tradingDay, newDay: options.newDay)
        for line in dayJournal.notes { note(line) }
        let nextSequence = dayJournal.nextSequence
        let gatewaySettings = configuration.gateway
        feedSessionName = gatewaySettings.sessionName.isEmpty
            ? (tradingDay.marketDataSession(ordinal: dayJournal.ordinal) ?? tradingDay.marketDataSession).description
            : gatewaySettings.sessionName
        let memory = UnsafeMutableRawBufferPointer(start: try region("ring_journal"),
                                                   count: SPSCRing<SequencedCommand>.requiredBytes(capacity: settings.ringCapacity))
        var ring = SPSCRing<SequencedCommand>(capacity: settings.ringCapacity, memory: memory)
        let consumer = ring.makeConsumer()
        let producer = ring.makeProducer()
        journalRing = consume ring
        let position = DurablePosition(initial: nextSequence &- 1)
        durable = position
        let clock = TSCClock(ticksPerSecond: ticksPerSecond, ticks: rtes_rdtsc(), realtimeNanoseconds: rtes_realtime_ns())
        let journalConfiguration = JournalAgent<TSCClock>.Configuration(
            directory: dayJournal.directory, segmentBytes: settings.segmentBytes, groupCommitMaxBytes: settings.groupCommitMaxBytes,
            ioMode: settings.io, preallocation: settings.preallocate, syncMethod: settings.syncMethod, day: dayJournal.day.name,
            firstSegmentIndex: dayJournal.nextSegmentIndex)
        let journal: JournalAgent<TSCClock>
        do {
            journal = try JournalAgent(configuration: journalConfiguration, nextSequence: nextSequence, input: consumer,
                                       durable: position, clock: clock, cells: counters.cells)
        } catch {
            throw ApplianceError("the standby's journal cannot start in \(dayJournal.directory): \(error)")
        }
        note("\(journal.ioChoice.description); standby journal in \(dayJournal.directory) from sequence \(nextSequence)")
        note(journal.syncChoice.description + " (durability.sync_method \(settings.syncMethod))")
        let primary = configuration.replication.primary
        var standbySettings = ReplicationStandby.Settings(
            primary: primary, day: dayJournal.day.name, mode: settings.replication, configuration: configuration, keys: keys,
            feedSession: SoupSessionName(feedSessionName)!, directory: dayJournal.directory)
        standbySettings.pollMicroseconds = 50
        standbySettings.yieldMicroseconds = configuration.replication.yieldMicroseconds
        let standby: ReplicationStandby
        do {
            standby = try ReplicationStandby(settings: standbySettings, recovered: nextSequence &- 1,
                                             journal: producer, durable: position, cells: counters.cells, logger: logger)
        } catch {
            throw ApplianceError("the standby cannot register its counters: \(error)")
        }
        try stopIfRequested()
        counters.registerAgent(.engine, name: "standby_journal")
        let placement = AgentRunner.Placement(cpus: [], idle: IdleStrategy(configuration.performance.idleStrategy))
        note(try Self.started(runner.start(journal, name: "rtes-journal", slot: .engine, stage: 1, placement: placement)))
        replicationStandby = standby
        standby.start()
        try campaignAsStandby(configuration, ticksPerSecond: ticksPerSecond)
        note("replication: standby (\(settings.replication)) of the primary \(primary): client ports are not opened; "
            + "its journal is written to \(dayJournal.directory) and applied to this standby's own engine")
        let snapshotMemory = try region("orderbook_snapshots")
        try openAdminAndPublish(configuration, snapshots: OrderBookSnapshotClient(base: snapshotMemory, maxLevels: MemoryPlan.snapshotLevels),
                                cpus: Self.adminCPUs(pinned: []), stopIfRequested: stopIfRequested)
    }
}

extension Appliance {
    /// A standby its primary refused as diverged (the reason), else nil: its journal holds
    /// records the primary lacks — typically an old primary restarted as the new primary's
    /// standby, whose journal has a tail that never reached the standby that was promoted. Its
    /// replication thread has stopped following; the owner either stops (`on_divergence`
    /// refuse) or calls `rejoinAfterDivergence` (move_aside).
    public var divergence: String? { replicationStandby?.divergence }

    /// `replication.on_divergence` move_aside: stops this standby (its seat first, then the
    /// journal agent), moves the day's directory — journal segments and day snapshots — aside
    /// to `<day>.diverged-<unix time>` beside it (renamed, never deleted; the log names it and
    /// the sequence it held), and starts the standby again from an empty day, which follows
    /// the primary from sequence 1. The directory's name is not `<day>.set-aside-…`, so the
    /// day's session names (its ordinal) stay the primary's. This appliance is stopped
    /// afterwards, whatever the outcome.
    public func rejoinAfterDivergence(_ configuration: ExchangeConfiguration, options: Options, now: Date = Date()) throws -> Appliance {
        guard let standby = replicationStandby, let reason = standby.divergence else {
            throw ApplianceError("rejoin: this appliance is not a standby refused as diverged")
        }
        let directory = standby.settings.directory
        let held = standby.appliedSequence
        _ = drain()
        instanceLock = nil
        let files = FileManager.default
        var aside = directory + ".diverged-" + String(Int(now.timeIntervalSince1970))
        var attempt = 1
        while files.fileExists(atPath: aside) {
            attempt += 1
            aside = directory + ".diverged-" + String(Int(now.timeIntervalSince1970)) + "-\(attempt)"
        }
        do {
            try files.moveItem(atPath: directory, toPath: aside)
        } catch {
            throw ApplianceError("replication.on_divergence move_aside: cannot move \(directory) aside to \(aside) (\(error)); "
                + "the primary refused this standby: \(reason)")
        }
        let line = "replication.on_divergence move_aside: the standby's journal and snapshots (through sequence \(held)) were moved "
            + "aside to \(aside) (kept, not deleted; inspect them with `rtes-journal dump \(aside)`); following the primary from sequence 1. "
            + "The primary's refusal: \(reason)"
        logger.notice("\(line)")
        var again = options
        again.newDay = false
        again.leadership = nil
        return try Appliance.start(configuration, options: again, logger: logger)
    }
}
