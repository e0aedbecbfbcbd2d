import ArgumentParser
import ExchangeCore
import ExchangeJournal
import ExchangeTools
import Glibc

/// `rtes-journal`: looks at one trading day's journal directory offline — verifies it,
/// prints its records, summarises it, discards a torn tail, and replays it through an engine
/// built as the exchange builds it. It reads with large buffered `pread`s and never writes,
/// except `repair`, which only zeroes a torn tail.
@main
struct RTESJournal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtes-journal",
        abstract: "Verify, print, summarise, repair or replay an RTES journal directory (one trading day's *.rtj segments).",
        discussion: """
            DIR is one trading day's journal directory, <durability.directory>/<day>, holding segments named \
            <first sequence, 20 digits>.rtj; other files in it are ignored. docs/DURABILITY.md describes the formats.

            A torn tail is the end of the last segment cut by a crash mid-write: a record cut short or failing its \
            CRC, followed only by zeros or the end of the file. Anything else that does not read back — a bad record \
            followed by more data or in an earlier segment, a bad segment header, a sequence gap or repeat — is \
            corruption, named by file, offset and sequence.

            Exit status: 0 the journal is whole (repair: repaired, or nothing to repair), 1 a torn tail and nothing \
            else (repairable with `rtes-journal repair DIR`; dump, stats and replay use the whole records before it), \
            2 corrupt or unreadable (no segments, an I/O error; nothing is changed), 64 a usage error (replay: also a \
            configuration or API keys file that cannot be used).
            """,
        version: RTESVersion.current,
        subcommands: [Verify.self, Dump.self, Stats.self, Repair.self, Replay.self, Snapshot.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read every record: every CRC, sequence continuity within and across segments, the torn tail.")

        @Argument(help: "The journal directory of one trading day.")
        var directory: String

        func run() throws {
            let verification = JournalVerification.run(directory: directory)
            if verification.status == JournalVerification.Status.corrupt {
                printError("rtes-journal verify: " + verification.text)
            } else {
                print(verification.text)
            }
            if verification.status != 0 { throw ExitCode(verification.status) }
        }
    }

    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the records one per line: sequence, time of day, kind, every field by name.",
            discussion: "An operator's note (kind operator_note: who took an admin action and why) takes several records; "
                + "after its last one a line `SEQ TIME operator who=NAME action=ACTION subject=S reason=\"…\" records=FIRST-LAST` "
                + "gives the whole note.")

        @Argument(help: "The journal directory of one trading day.")
        var directory: String
        @Option(help: "Only records of this account (client) number.")
        var account: UInt32?
        @Option(help: "Only records naming this order token (an Enter, Cancel, Modify, Refusal, or a Replace's old or new token).")
        var token: String?
        @Option(help: "Only records naming this symbol (an Enter, a halt, a resume).")
        var symbol: String?
        @Option(help: "Only records from this sequence on.")
        var from: UInt64?
        @Option(help: "Only records up to this sequence.")
        var to: UInt64?
        @Option(help: ArgumentHelp("Only records of this kind (repeatable): \(JournalRecord.Kind.allCases.map(\.description).joined(separator: ", ")).",
                                   valueName: "kind"))
        var kind: [String] = []

        func filter() throws -> JournalRecordFilter {
            var filter = JournalRecordFilter(account: account, fromSequence: from, toSequence: to)
            if let token {
                guard let parsed = OrderToken(token) else { throw ValidationError("--token: at most 14 printable ASCII characters, got \"\(token)\"") }
                filter.token = parsed
            }
            if let symbol {
                guard let parsed = Symbol(symbol) else { throw ValidationError("--symbol: at most 8 printable ASCII characters, got \"\(symbol)\"") }
                filter.symbol = parsed
            }
            for name in kind {
                guard let parsed = JournalRecordFilter.kind(named: name) else {
                    throw ValidationError("--kind: unknown kind \"\(name)\"; one of \(JournalRecord.Kind.allCases.map(\.description).joined(separator: ", "))")
                }
                filter.kinds.insert(parsed)
            }
            if let from, let to, from > to { throw ValidationError("--from \(from) is above --to \(to)") }
            return filter
        }

        func validate() throws { _ = try filter() }

        func run() throws {
            let filter = try filter()
            let reader = try openJournal(directory, command: "dump")
            var cursor = reader.records(from: filter.fromSequence ?? 0)
            var output = OutputBuffer()
            var notes = OperatorNote.Assembler()
            var noteStart: UInt64 = 0
            do {
                while let record = try cursor.next() {
                    if let to = filter.toSequence, record.sequence > to { break }
                    guard filter.matches(record) else { continue }
                    output.line(JournalRecord.text(record))
                    // An operator's note is several records: after its last, the whole note on one line.
                    if case .operatorNote(let note) = record.command {
                        if note.part == 0 { noteStart = record.sequence }
                        if let whole = notes.add(note) { output.line(JournalRecord.text(whole, first: noteStart, last: record)) }
                    }
                }
            } catch {
                output.flush()
                printError("rtes-journal dump: \(error)")
                throw ExitCode(JournalVerification.Status.corrupt)
            }
            output.flush()
            try reportTornTail(reader, command: "dump")
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarise: segments, records, bytes, records per kind, bytes per record, first and last sequence and time.")

        @Argument(help: "The journal directory of one trading day.")
        var directory: String

        func run() throws {
            let reader = try openJournal(directory, command: "stats")
            do {
                print("\(directory): trading day \(reader.day)")
                print(try JournalStatistics.gather(reader).text)
            } catch {
                printError("rtes-journal stats: \(error)")
                throw ExitCode(JournalVerification.Status.corrupt)
            }
            try reportTornTail(reader, command: "stats")
        }
    }

    struct Repair: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Discard a torn tail: zero the bytes after the last whole record (fdatasync); refuse corruption.")

        @Argument(help: "The journal directory of one trading day.")
        var directory: String

        func run() throws {
            do {
                if let torn = try JournalReader.repairTornTail(directory: directory) {
                    print("\(directory): repaired: zeroed \(torn.discardedBytes) bytes of \(torn.file) from offset \(torn.wholeEnd) "
                        + "to \(torn.damagedEnd) (\(torn.reason)); the journal now ends "
                        + (torn.lastWholeSequence.map { "at sequence \($0)" } ?? "before that segment's first record"))
                } else {
                    print("\(directory): no torn tail, nothing changed")
                }
            } catch {
                printError("rtes-journal repair: refused, nothing changed: \(error)")
                throw ExitCode(JournalVerification.Status.corrupt)
            }
        }
    }
}

/// Opens `directory`, or says why not and exits 2.
func openJournal(_ directory: String, command: String) throws -> JournalReader {
    do {
        return try JournalReader.open(directory: directory)
    } catch {
        printError("rtes-journal \(command): \(error)")
        throw ExitCode(JournalVerification.Status.corrupt)
    }
}

/// After printing the whole records: a torn tail is said on standard error, exit 1.
func reportTornTail(_ reader: JournalReader, command: String) throws {
    guard let torn = reader.tornTail else { return }
    printError("rtes-journal \(command): \(torn); the records above are the whole ones; `rtes-journal repair \(reader.directory)` discards it")
    throw ExitCode(JournalVerification.Status.tornTail)
}

/// Standard output through one buffer, written in large pieces: `print` per line would
/// make dumping millions of records slow.
struct OutputBuffer {
    var bytes: [UInt8] = []

    mutating func line(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        bytes.append(0x0A)
        if bytes.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            offset += n
        }
        bytes.removeAll(keepingCapacity: true)
    }
}

/// One line on standard error (descriptor 2).
func printError(_ text: String) {
    let line = Array((text + "\n").utf8)
    var offset = 0
    while offset < line.count {
        let n = line[offset...].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}
