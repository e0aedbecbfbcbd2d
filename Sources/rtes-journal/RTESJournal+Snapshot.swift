import ArgumentParser
import ExchangeJournal
import ExchangeOps
import ExchangeWire
import Foundation

extension RTESJournal {
    struct Snapshot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a day snapshot offline: the state after the journal's last record (or --to), as the running exchange's snapshot agent writes it.",
            discussion: """
                CONFIG and RTES_API_KEYS_FILE are read as for `replay`. Starts from the newest usable day snapshot \
                already in DIRECTORY (or from sequence 1 when there is none), applies the records after it to a \
                replica of the day — engine, sessions, tokens, feed — and publishes snapshot-<sequence>.rtsnap in \
                DIRECTORY (temporary file, fdatasync, rename, directory fsync). Prints the file, the sequence it covers, \
                its size and the time taken. Nothing else in DIRECTORY changes (no snapshot or segment is removed).

                Exit status: 0 written; 1 a torn tail — the snapshot covers the whole records before it; 2 the journal \
                is corrupt or unreadable, its first segments are retired and no snapshot covers them, or the snapshot \
                cannot be written; 64 a usage error, as for `replay`.
                """)

        @Argument(help: "The journal directory of one trading day.")
        var directory: String
        @Option(help: ArgumentHelp("The exchange configuration (JSON) the journal was written under.", valueName: "config"))
        var config: String
        @Option(help: "Cover the records up to this sequence only.")
        var to: UInt64?

        func run() throws {
            let (configuration, keys) = try Replay.loadConfiguration(path: config)
            let reader = try openJournal(directory, command: "snapshot")
            let day = reader.day.trimmingCharacters(in: .whitespaces)
            let session = SoupSessionName(configuration.gateway.sessionName.isEmpty
                ? "MA" + day.replacingOccurrences(of: "-", with: "") : configuration.gateway.sessionName)
                ?? SoupSessionName("MA")!
            let last = reader.lastSequence ?? (reader.firstSequence &- 1)
            let found = DaySnapshot.newestUsable(in: directory, day: day, needsFeed: configuration.marketData.enabled,
                                                 covers: (reader.firstSequence &- 1)...min(last, to ?? last),
                                                 accounts: keys.accounts.count, instruments: configuration.symbols.count)
            for rejected in found.rejected { printError("rtes-journal snapshot: \(rejected.path) passed over: \(rejected.reason)") }
            var replica: DayReplica
            // The FIX sessions are kept as the running exchange's snapshot agent keeps them, with
            // the configuration's FIX settings (the exchange's command-line port overrides aside).
            let fix = configuration.fix.enabled ? configuration.fix : nil
            let midnight = DaySnapshot.fixEpochMidnight(day: day, base: found.snapshot)
            if let base = found.snapshot {
                do {
                    replica = try DayReplica(configuration: configuration, keys: keys, feedSession: session, snapshot: base, fix: fix,
                                             fixEpochMidnight: midnight)
                } catch {
                    printError("rtes-journal snapshot: \(error)")
                    throw ExitCode(JournalVerification.Status.corrupt)
                }
                print("from \(base.file.path) (sequence \(base.coveredSequence))")
            } else {
                guard reader.firstSequence == 1 else {
                    printError("rtes-journal snapshot: \(directory) starts at sequence \(reader.firstSequence) and no usable snapshot covers it")
                    throw ExitCode(JournalVerification.Status.corrupt)
                }
                replica = DayReplica(configuration: configuration, keys: keys, feedSession: session, fix: fix, fixEpochMidnight: midnight)
            }
            let started = DispatchTime.now().uptimeNanoseconds
            var cursor = reader.records(from: replica.sequence &+ 1)
            var applied = 0
            do {
                while let record = try cursor.next() {
                    if let to, record.sequence > to { break }
                    replica.apply(record)
                    applied += 1
                }
            } catch {
                printError("rtes-journal snapshot: \(error); applied up to sequence \(replica.sequence), nothing written")
                throw ExitCode(JournalVerification.Status.corrupt)
            }
            let replayed = DispatchTime.now().uptimeNanoseconds &- started
            let written: DaySnapshot.Written
            do {
                written = try DaySnapshot.write(replica, day: day, directory: directory)
            } catch {
                printError("rtes-journal snapshot: \(error)")
                throw ExitCode(JournalVerification.Status.corrupt)
            }
            print("applied \(applied) records in \(String(format: "%.3f", Double(replayed) / 1e9)) s")
            print("wrote \(written.path): sequence \(written.coveredSequence), \(written.bytes) bytes, "
                + "\(String(format: "%.3f", Double(written.nanoseconds) / 1e9)) s")
            if let torn = cursor.tornTail {
                printError("rtes-journal snapshot: \(torn); the snapshot covers the whole records before it")
                throw ExitCode(JournalVerification.Status.tornTail)
            }
        }
    }
}
