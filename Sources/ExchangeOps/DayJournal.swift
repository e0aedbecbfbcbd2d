import ExchangeConfig
import ExchangeJournal
import ExchangeWire
import Foundation

/// The trading day's journal at start-up: where it lives, and whether the day starts or
/// continues. docs/DURABILITY.md, "Recovery".
///
/// The journal root (`durability.directory`) holds one directory per trading day, named by
/// the day (`2026-12-07`). At start:
/// - no directory for today, or one without segments: a new day (the gateway announces the
///   start of day as the day's first command);
/// - a directory with segments: the day continues. A torn tail (a crash mid-write) is cut
///   at the last whole record and reported — nothing after it was ever durable, so nothing
///   after it was acknowledged in `sync`. The whole day is then replayed into the engine,
///   the sessions and the feed before any port opens;
/// - damage that is not a torn tail: the exchange refuses to start, names the file, offset
///   and reason, and says how to start a new day instead (`--new-day`), never silently
///   empty;
/// - `--new-day`: today's directory, if any, is renamed aside (kept, never deleted) and a
///   new day starts.
struct DayJournal {
    /// The day's directory (where the journal agent writes).
    let directory: String
    let day: TradingDay
    /// Nil for a new day; the day's journal to replay otherwise.
    let reader: JournalReader?
    /// What start-up found and did, for the log.
    let notes: [String]
    /// Which day of the date this is: 0 for the first, then one more for each day set aside
    /// by `--new-day` (`<day>.set-aside-<time>` beside it). It names the sessions
    /// (`TradingDay.orderEntrySession(ordinal:)`): a new day on the same date gets new names,
    /// and restarts within one day keep them.
    var ordinal = 0

    /// The sequence the next command gets.
    var nextSequence: UInt64 { reader?.nextSequence ?? 1 }

    /// The index of the journal agent's first new segment: one after the last segment's — or
    /// the last one's own when it holds no record (a run that opened it and journaled nothing,
    /// e.g. a standby restarted while its primary was down): the new segment has the same
    /// first sequence, so the same file name, and replaces it; the indices stay consecutive.
    var nextSegmentIndex: UInt64 {
        guard let last = reader?.segments.last else { return 0 }
        return last.header.firstSequence == nextSequence ? last.header.segmentIndex : last.header.segmentIndex &+ 1
    }

    static func open(settings: DurabilitySettings, day: TradingDay, newDay: Bool, now: Date = Date()) throws -> DayJournal {
        var journal = try openDirectory(settings: settings, day: day, newDay: newDay, now: now)
        let aside = ((try? FileManager.default.contentsOfDirectory(atPath: settings.directory)) ?? [])
            .filter { $0.hasPrefix(day.name + ".set-aside-") }.count
        guard aside <= TradingDay.maximumOrdinal else {
            throw ApplianceError("\(aside) days of \(day.name) are set aside in \(settings.directory): at most "
                + "\(TradingDay.maximumOrdinal) new days (--new-day) fit in one date's session names; move some of them away")
        }
        journal.ordinal = aside
        return journal
    }

    static func openDirectory(settings: DurabilitySettings, day: TradingDay, newDay: Bool, now: Date) throws -> DayJournal {
        let root = settings.directory
        let directory = (root as NSString).appendingPathComponent(day.name)
        var notes: [String] = []
        let files = FileManager.default
        do {
            try files.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ApplianceError("durability.directory \(root): cannot create it (\(Self.reason(error)))")
        }
        var isDirectory: ObjCBool = false
        let exists = files.fileExists(atPath: directory, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue {
            throw ApplianceError("the journal of \(day.name) should be a directory, but \(directory) is a file: move it away")
        }
        if exists && newDay {
            let aside = directory + ".set-aside-" + String(Int(now.timeIntervalSince1970))
            do {
                try files.moveItem(atPath: directory, toPath: aside)
            } catch {
                throw ApplianceError("--new-day: cannot move \(directory) aside to \(aside) (\(Self.reason(error)))")
            }
            notes.append("journal: --new-day: the journal of \(day.name) so far is kept in \(aside); a new day starts")
        } else if exists {
            do {
                var reader = try JournalReader.open(directory: directory)
                if let torn = reader.tornTail {
                    _ = try JournalReader.repairTornTail(directory: directory)
                    notes.append("journal: torn tail cut: \(torn)")
                    reader = try JournalReader.open(directory: directory)
                }
                notes.append("journal: \(day.name) continues: \(reader.segments.count) segment(s) in \(directory), "
                    + "sequences \(reader.firstSequence)…\(reader.lastSequence.map(String.init) ?? "none") to replay")
                return DayJournal(directory: directory, day: day, reader: reader, notes: notes)
            } catch JournalError.noSegments {
                notes.append("journal: \(directory) holds no segment yet: the day starts")
            } catch {
                throw ApplianceError(
                    "the journal of \(day.name) cannot be recovered: \(error). Nothing was changed. "
                        + "Inspect it with `rtes-journal verify \(directory)` (and `rtes-journal dump`); to start a new day "
                        + "instead, start with --new-day: the damaged journal is kept aside, and every session and the feed "
                        + "start again at sequence 1")
            }
        }
        do {
            try files.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ApplianceError("cannot create the journal directory \(directory) (\(Self.reason(error)))")
        }
        notes.append("journal: a new trading day \(day.name) in \(directory)")
        return DayJournal(directory: directory, day: day, reader: nil, notes: notes)
    }

    private static func reason(_ error: Error) -> String {
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return (error as NSError).localizedDescription
    }
}
