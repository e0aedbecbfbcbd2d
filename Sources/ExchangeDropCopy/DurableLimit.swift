import ExchangeJournal
import ExchangeRuntime

/// How far the trade store may read the journal: never past a record that is not yet durable,
/// because a record the exchange had not synced may be lost in a crash and its sequence given
/// to another command when the day recovers.
public enum DurableLimitSource: Sendable, Equatable, CustomStringConvertible {
    /// A journal no exchange writes any more: its last whole record (a torn tail is not read).
    case finished
    /// A journal being written: the durable sequence the exchange's journal agent publishes in
    /// its counters file (`journal.durable_sequence`; rtes-stat shows it).
    case live(countersPath: String)

    public var description: String {
        switch self {
        case .finished: "a finished journal, through its last whole record"
        case .live(let path): "a live journal, up to the durable sequence in \(path)"
        }
    }
}

/// Reads the limit: for a live journal from the counters file, opened again whenever it does
/// not answer or its value has not moved for a while (the exchange restarted and made a new
/// one); for a finished one, once, from the journal itself.
struct DurableLimit: ~Copyable {
    let source: DurableLimitSource
    let directory: String
    var region: CountersRegion?
    var last: UInt64 = 0
    var unchangedSince: UInt64 = 0
    /// A finished journal's last whole record and its torn tail, once read.
    var finishedLast: UInt64?
    var tornTail: String?

    init(source: DurableLimitSource, directory: String) {
        self.source = source
        self.directory = directory
    }

    /// The current limit; `now` in nanoseconds of any monotonic clock.
    mutating func current(now: UInt64) throws(JournalError) -> UInt64 {
        switch source {
        case .finished:
            if let finishedLast { return finishedLast }
            let reader = try JournalReader.open(directory: directory)
            finishedLast = reader.lastSequence ?? 0
            tornTail = reader.tornTail.map { "\($0)" }
            return finishedLast!
        case .live(let path):
            if region == nil || now &- unchangedSince > 2_000_000_000 {
                region = try? CountersRegion.open(path: path)
                unchangedSince = now
            }
            guard let value = region?.snapshot().block("journal")?["durable_sequence"] else { return last }
            if value != last {
                last = value
                unchangedSince = now
            }
            return last
        }
    }
}
