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
            ioMode: settings.io, preallocation: settings.preallocate, day: dayJournal.day.name,
            firstSegmentIndex: dayJournal.reader.map { $0.segments[$0.segments.count - 1].header.segmentIndex &+ 1 } ?? 0)
        let journal: JournalAgent<TSCClock>
        do {
            journal = try JournalAgent(configuration: journalConfiguration, nextSequence: nextSequence, input: consumer,
                                       durable: position, clock: clock, cells: counters.cells)
        } catch {
            throw ApplianceError("the standby's journal cannot start in \(dayJournal.directory): \(error)")
        }
        note("\(journal.ioChoice.description); standby journal in \(dayJournal.directory) from sequence \(nextSequence)")
        let primary = configuration.replication.primary
        var standbySettings = ReplicationStandby.Settings(
            primary: primary, day: dayJournal.day.name, mode: settings.replication, configuration: configuration, keys: keys,
            feedSession: SoupSessionName(feedSessionName)!, directory: dayJournal.directory)
        standbySettings.pollMicroseconds = 50
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
