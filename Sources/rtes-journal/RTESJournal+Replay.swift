import ArgumentParser
import ExchangeConfig
import ExchangeCore
import ExchangeJournal
import ExchangeRisk
import Foundation

extension RTESJournal {
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the state offline: run every record through an engine built as the exchange builds it; print the books and the state hash.",
            discussion: """
                CONFIG is the exchange configuration the journal was written under, read as trading_exchange reads it \
                (the RTES_* environment overrides apply), except that the checks of this machine — CPU indices for \
                pinning, interface addresses — are skipped: they do not change the engine, and a journal may be \
                replayed on another machine. The API keys file comes from RTES_API_KEYS_FILE, as for trading_exchange: \
                each account's risk limits change outcomes.

                The journal must start at sequence 1 (a day whose first segments were retired needs its snapshot). \
                Each record runs to completion as in the exchange. Prints the records replayed, the time and commands \
                per second, commands and events by kind, each symbol's book (price levels best first with total shares \
                and order count; --orders lists the resting orders of each level in time priority), and \
                `state hash 0x…`: the engine's and the risk layer's state hash (RiskCheckedEngine.stateHash()), 16 hex digits.

                Exit status: 0 replayed the whole journal (or up to --to); 1 a torn tail — replayed up to the last \
                whole record and printed, the tail reported on standard error; 2 the journal is corrupt or unreadable, \
                or does not start at sequence 1 (nothing printed but the error); 64 a usage error, including a \
                configuration or API keys file that cannot be used or RTES_API_KEYS_FILE not set.
                """)

        @Argument(help: "The journal directory of one trading day.")
        var directory: String
        @Argument(help: ArgumentHelp("The exchange configuration (JSON) the journal was written under.", valueName: "config"))
        var config: String
        @Option(help: "Stop after the record of this sequence.")
        var to: UInt64?
        @Flag(help: "List every resting order under its price level.")
        var orders = false
        @Flag(help: "Print JSON on standard output instead of text.")
        var json = false

        func validate() throws {
            if let to, to == 0 { throw ValidationError("--to must be a sequence, 1 or above") }
        }

        func run() throws {
            let (configuration, keys) = try Self.loadConfiguration(path: config)
            let reader = try openJournal(directory, command: "replay")
            guard reader.firstSequence == 1 else {
                printError("rtes-journal replay: \(directory) starts at sequence \(reader.firstSequence), not 1: its first segments "
                    + "were retired under a snapshot, and replaying from an empty engine would not give the exchange's state")
                throw ExitCode(JournalVerification.Status.corrupt)
            }
            var engine = configuration.makeRiskCheckedEngine(keys: keys)
            var replay = JournalReplay()
            do {
                try JournalReplay.run(reader, to: to, into: &engine, partial: &replay)
            } catch {
                let reached = replay.lastSequence.map { "replayed up to sequence \($0)" } ?? "replayed nothing"
                printError("rtes-journal replay: \(error); \(reached), stopped")
                throw ExitCode(JournalVerification.Status.corrupt)
            }
            let books = BookReport(engine, orders: orders)
            let hash = engine.stateHash()
            var output = OutputBuffer()
            if json {
                output.line(Self.json(replay, reader: reader, books: books, hash: hash))
            } else {
                output.line(Self.text(replay, reader: reader, to: to, books: books, hash: hash))
            }
            output.flush()
            if let torn = replay.tornTail {
                printError("rtes-journal replay: \(torn); replayed the whole records before it; "
                    + "`rtes-journal repair \(reader.directory)` discards it")
                throw ExitCode(JournalVerification.Status.tornTail)
            }
        }

        /// The configuration and the API keys, as trading_exchange loads them; a problem with
        /// either is said on standard error, exit 64.
        static func loadConfiguration(path: String) throws -> (ExchangeConfiguration, APIKeys) {
            let environment = ProcessInfo.processInfo.environment
            let loaded: LoadedConfiguration
            do {
                // This machine's facts are not the exchange's: skip the checks that depend on them.
                loaded = try ConfigurationLoader.load(path: path, environment: environment,
                                                      host: HostFacts(cpuCount: Int(Int32.max), localAddresses: nil))
            } catch {
                printError("rtes-journal replay: the configuration \(path) cannot be used:\n\(error)")
                throw ExitCode(JournalVerification.Status.usage)
            }
            guard let keysPath = loaded.secrets.apiKeysFile?.reveal() else {
                printError("rtes-journal replay: RTES_API_KEYS_FILE is not set: replay needs the API keys file the exchange ran with "
                    + "(each account's risk limits change outcomes), e.g. RTES_API_KEYS_FILE=configs/api_keys.dev.json")
                throw ExitCode(JournalVerification.Status.usage)
            }
            do {
                let (keys, _) = try APIKeys.load(path: keysPath, allowPlainPasswords: loaded.configuration.auth.allowUnhashedAccounts)
                return (loaded.configuration, keys)
            } catch {
                printError("rtes-journal replay: the API keys file (RTES_API_KEYS_FILE) cannot be used:\n\(error)")
                throw ExitCode(JournalVerification.Status.usage)
            }
        }

        static func kindCounts(_ replay: JournalReplay) -> (commands: [(String, Int)], events: [(String, Int)]) {
            let commands = JournalRecord.Kind.allCases.compactMap { kind in
                replay.commands[Int(kind.rawValue)] == 0 ? nil : (kind.description, replay.commands[Int(kind.rawValue)])
            }
            let events = zip(JournalReplay.eventKinds, replay.events).filter { $0.1 != 0 }
            return (commands, events)
        }

        static func text(_ replay: JournalReplay, reader: JournalReader, to: UInt64?, books: BookReport, hash: UInt64) -> String {
            var lines: [String] = []
            lines.append("\(reader.directory): trading day \(reader.day)")
            let range = replay.firstSequence.map { first in " (sequences \(first) to \(replay.lastSequence ?? first))" } ?? ""
            let seconds = Double(replay.nanoseconds) / 1e9
            lines.append("replayed \(replay.records) records\(range) in \(String(format: "%.3f", seconds)) s: "
                + "\(String(format: "%.0f", replay.commandsPerSecond)) commands/s")
            if let to, (replay.lastSequence ?? 0) < to {
                lines.append("the journal ends before --to \(to)")
            }
            let counts = kindCounts(replay)
            lines.append("commands: " + (counts.commands.isEmpty ? "none" : counts.commands.map { "\($0.0) \($0.1)" }.joined(separator: ", ")))
            lines.append("events: " + (counts.events.isEmpty ? "none" : counts.events.map { "\($0.0) \($0.1)" }.joined(separator: ", ")))
            lines.append(books.text)
            lines.append("state hash \(StateHasher.text(hash))")
            return lines.joined(separator: "\n")
        }

        static func json(_ replay: JournalReplay, reader: JournalReader, books: BookReport, hash: UInt64) -> String {
            let counts = kindCounts(replay)
            func object(_ pairs: [(String, Int)]) -> String {
                "{" + pairs.map { "\(JSONText.string($0.0)):\($0.1)" }.joined(separator: ",") + "}"
            }
            func number(_ value: UInt64?) -> String { value.map(String.init) ?? "null" }
            return "{\"directory\":\(JSONText.string(reader.directory)),\"day\":\(JSONText.string(reader.day)),"
                + "\"records\":\(replay.records),\"first_sequence\":\(number(replay.firstSequence)),"
                + "\"last_sequence\":\(number(replay.lastSequence)),"
                + "\"torn_tail\":\(replay.tornTail.map { JSONText.string($0.description) } ?? "null"),"
                + "\"seconds\":\(String(format: "%.6f", Double(replay.nanoseconds) / 1e9)),"
                + "\"commands_per_second\":\(String(format: "%.0f", replay.commandsPerSecond)),"
                + "\"commands\":\(object(counts.commands)),\"events\":\(object(counts.events)),"
                + "\"books\":\(books.json),\"state_hash\":\(JSONText.string(StateHasher.text(hash)))}"
        }
    }
}
