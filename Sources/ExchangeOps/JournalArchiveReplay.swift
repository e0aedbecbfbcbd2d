import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import ExchangeRisk

/// The day's journal replayed through a scratch engine, one engine event at a time: what
/// the journal archive regenerates a session's or the feed's old messages from. The engine
/// is deterministic, so the events — and the messages the gateway's routing and market data's
/// publisher make of them — are the ones the live engine made, byte for byte.
///
/// Replays the records of sequence 1 … `limit` — or, from a day snapshot, `after + 1` …
/// `limit` into an engine restored from it — (the durable sequence when the replay was
/// opened: nothing that was not durable then is ever read — the bytes beyond it may be a
/// batch the journal agent is writing at that moment), in order, exactly as the engine
/// agent ran them (`process`, then `resume` while suspended). The engine's state lives in
/// memory the archive owns and reuses from one replay to the next.
struct JournalReplay: ~Copyable {
    var engine: RiskCheckedEngine
    var follower: JournalFollower
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
    ///   - directory: the day's journal directory; it must still hold the segment of record
    ///     `after + 1` and every one after it.
    ///   - limit: the durable sequence (read before the replay starts): every record up to it
    ///     is whole on the disk, and nothing beyond it is read. The journal agent may be
    ///     writing beyond it meanwhile (`JournalFollower` reads a journal being written).
    ///   - after: the sequence `engine` has already processed (a day snapshot's covered
    ///     sequence, the engine restored from it); 0 for a replay from the start of the day.
    init(directory: String, limit: UInt64, engine: consuming RiskCheckedEngine, after: UInt64 = 0) {
        self.engine = engine
        follower = JournalFollower(directory: directory, from: after &+ 1)
        self.limit = limit
        lastSequence = after
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
                record = try follower.next(upTo: limit)
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
