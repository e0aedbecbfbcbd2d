import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import ExchangeRisk

/// The day's journal replayed through a scratch engine, one engine event at a time: what
/// the journal archive regenerates a session's or the feed's old messages from. The engine
/// is deterministic, so the events — and the messages the gateway's routing and market data's
/// publisher make of them — are the ones the live engine made, byte for byte.
///
/// Replays the records of sequence 1 … `limit` (the durable sequence when the replay was
/// opened: nothing that was not durable then is ever read), in order, exactly as the engine
/// agent ran them (`process`, then `resume` while suspended). The engine's state lives in
/// memory the archive owns and reuses from one replay to the next.
struct JournalReplay: ~Copyable {
    var engine: RiskCheckedEngine
    var cursor: JournalCursor
    /// The last record to replay.
    let limit: UInt64
    /// The sequence of the last record replayed (0: none yet).
    private(set) var lastSequence: UInt64 = 0
    /// Records replayed.
    private(set) var records = 0
    private var eventIndex = 0
    private var haveEvents = false
    private var suspended = false

    /// - Parameters:
    ///   - reader: the day's journal, opened after `limit` was read from the durable position
    ///     (so it holds every record up to `limit`); it must start at sequence 1.
    init(reader: JournalReader, limit: UInt64, engine: consuming RiskCheckedEngine) throws(ArchiveError) {
        guard reader.firstSequence == 1 else {
            throw ArchiveError("the journal in \(reader.directory) starts at sequence \(reader.firstSequence), not 1: "
                + "the day's first segments are gone, and replaying from a snapshot is not built yet")
        }
        self.engine = engine
        cursor = reader.records(from: 1)
        self.limit = limit
    }

    /// Whether every record up to `limit` has been replayed.
    var isAtLimit: Bool { lastSequence >= limit }

    /// The next event the engine makes of the journal; nil once the records up to `limit`
    /// (or the journal's end) are all replayed.
    mutating func nextEvent() throws(ArchiveError) -> EngineEvent? {
        while true {
            if haveEvents {
                let events = engine.events
                if eventIndex < events.count {
                    eventIndex &+= 1
                    return events[eventIndex &- 1]
                }
                engine.clearEvents()
                haveEvents = false
                eventIndex = 0
                if suspended {
                    suspended = engine.resume() == .suspended
                    haveEvents = true
                    continue
                }
            }
            guard lastSequence < limit else { return nil }
            let record: SequencedCommand?
            do {
                record = try cursor.next()
            } catch {
                throw ArchiveError("reading the journal after sequence \(lastSequence) failed: \(error)")
            }
            guard let record else { return nil }
            guard record.sequence == lastSequence &+ 1 else {
                throw ArchiveError("the journal holds sequence \(record.sequence) after \(lastSequence)")
            }
            lastSequence = record.sequence
            records &+= 1
            suspended = engine.process(record.command) == .suspended
            haveEvents = true
        }
    }
}

/// Why the archive could not serve a request, for its log.
struct ArchiveError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
