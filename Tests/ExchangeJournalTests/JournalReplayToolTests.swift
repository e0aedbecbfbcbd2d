import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import ExchangeRisk
import ExchangeTestSupport
import Foundation
import OrderFlow
import Testing

/// `rtes-journal replay` (the built executable): a journal of a seeded order stream with
/// crossing orders, written with the segment and record encoders, replays to the state hash
/// of an engine that processed the same commands in-process; one record fewer gives another
/// hash; the API keys file's per-account limits count; bad inputs give clear errors and the
/// documented exit codes.
@Suite struct JournalReplayToolTests {
    /// Three symbols on a small engine; `allow_unhashed_accounts` so that the keys file may
    /// hold plain passwords.
    static let configurationJSON = ThreeSymbolDay.configurationJSON(name: "REPLAY-TEST")

    /// Four accounts: client 1 may send at most 3 shares an order, client 2 at most 200
    /// orders a second; the stream trips both.
    static let keysJSON = ThreeSymbolDay.keysJSON(carolOrdersPerSecond: 200)

    static let keysWithoutLimitsJSON = """
        { "accounts": [
            { "username": "ALICE", "password": "alicepass1", "firm": "ALCE" },
            { "username": "BOB", "password": "bobpass123", "firm": "BOBS" },
            { "username": "CAROL", "password": "carolpass1", "firm": "CARL" },
            { "username": "DAVE", "password": "davepass12", "firm": "DAVE" } ] }
        """

    /// The files the tool reads besides the journal, in a directory of their own.
    struct Inputs {
        let files: JournalFixture
        var config: String { files.path("config.json") }
        var keys: String { files.path("keys.json") }
        var keysWithoutLimits: String { files.path("keys-without-limits.json") }

        init() throws {
            files = try JournalFixture()
            try files.write("config.json", Array(JournalReplayToolTests.configurationJSON.utf8))
            try files.write("keys.json", Array(JournalReplayToolTests.keysJSON.utf8))
            try files.write("keys-without-limits.json", Array(JournalReplayToolTests.keysWithoutLimitsJSON.utf8))
            // The keys file may be read by its owner only, as trading_exchange wants it.
            for name in ["keys.json", "keys-without-limits.json"] { chmod(files.path(name), 0o600) }
        }
    }

    /// The seeded stream and the hashes of the engine that processed it in-process: after
    /// every command, and after all but the last.
    struct Stream {
        var commands: [SequencedCommand] = []
        var hash: UInt64 = 0
        var hashBeforeLast: UInt64 = 0
        var trades = 0
        var rejects = 0
        var depth: [String: (bids: [DepthLevel], asks: [DepthLevel])] = [:]
    }

    /// Generates `count` commands of the realistic profile (resting and crossing orders,
    /// cancels, replaces, invalid orders, admin actions) against an engine built by hand — the
    /// configuration's engine and limits, and each account's own limits — not by the function
    /// under test.
    static func stream(_ configuration: ExchangeConfiguration, keys: APIKeys, seed: UInt64, count: Int) -> Stream {
        var engine = RiskCheckedEngine(configuration: configuration.engineConfiguration(), limits: configuration.riskLimits)
        engine.setLimits(keys.accounts[1].limits(defaults: configuration.riskLimits), forClient: 1)
        engine.setLimits(keys.accounts[2].limits(defaults: configuration.riskLimits), forClient: 2)
        var generator = OrderFlowGenerator(profile: .realistic(
            instruments: configuration.symbols, clients: keys.accounts.count,
            limits: RiskLimitsHint(maxOrderShares: 5_000, maxOpenNotional: 40_000_000 * 10_000)), seed: seed)
        var stream = Stream()
        for i in 0..<count {
            if i == count - 1 { stream.hashBeforeLast = engine.stateHash() }
            let command = generator.next()
            stream.commands.append(SequencedCommand(sequence: UInt64(i + 1), command: command))
            engine.clearEvents()
            var status = engine.process(command)
            while true {
                for event in engine.events {
                    generator.observe(event)
                    if case .executed = event { stream.trades += 1 }
                    if case .rejected = event { stream.rejects += 1 }
                }
                guard status == .suspended else { break }
                engine.clearEvents()
                status = engine.resume()
            }
        }
        stream.hash = engine.stateHash()
        for index in 0..<engine.engine.instrumentCount {
            let instrument = InstrumentIndex(index)
            stream.depth[engine.engine.symbol(of: instrument).description] =
                (engine.engine.depth(instrument: instrument, side: .bid), engine.engine.depth(instrument: instrument, side: .ask))
        }
        return stream
    }

    /// Writes `commands` as segments of `perSegment` records.
    static func writeJournal(_ commands: [SequencedCommand], perSegment: Int, into fixture: JournalFixture) throws -> [(name: String, offsets: [Int])] {
        var written: [(name: String, offsets: [Int])] = []
        var start = 0
        var index: UInt64 = 0
        while start < commands.count {
            let records = Array(commands[start..<min(commands.count, start + perSegment)])
            let segment = JournalFixture.segmentBytes(firstSequence: records[0].sequence, index: index, records: records)
            let name = JournalSegmentHeader.fileName(firstSequence: records[0].sequence)
            try fixture.write(name, segment.bytes)
            written.append((name, segment.offsets))
            start += perSegment
            index += 1
        }
        return written
    }

    static func hashLine(_ hash: UInt64) -> String {
        let digits = String(hash, radix: 16)
        return "state hash 0x" + String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Runs the executable with this process's environment less every RTES_* variable, plus `environment`.
    static func run(_ arguments: [String], environment: [String: String]) throws -> JournalToolTests.Run {
        let process = Process()
        process.executableURL = JournalToolTests.executable
        process.arguments = arguments
        var inherited = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RTES_") }
        inherited.merge(environment) { $1 }
        process.environment = inherited
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return JournalToolTests.Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                                    errors: String(decoding: errors, as: UTF8.self))
    }

    @Test(.enabled(if: JournalToolTests.built, "rtes-journal is not built: run `swift build --build-tests`"))
    func replayPrintsTheStateHashOfTheEngineThatProcessedTheSameCommands() throws {
        let inputs = try Inputs()
        defer { inputs.files.remove() }
        let journal = try JournalFixture()
        defer { journal.remove() }
        let configuration = try ConfigurationLoader.load(
            json: Self.configurationJSON, source: "config.json", environment: [:], host: .current()).configuration
        let keys = try APIKeys.load(path: inputs.keys, allowPlainPasswords: true).keys
        let stream = Self.stream(configuration, keys: keys, seed: 11, count: 6_000)
        // The stream is worth replaying: trades, rejects, and resting orders at the end.
        #expect(stream.trades > 100 && stream.rejects > 50, "\(stream.trades) trades, \(stream.rejects) rejects")
        #expect(stream.depth.values.reduce(0) { $0 + $1.bids.count + $1.asks.count } > 30,
                "\(stream.depth.mapValues { ($0.bids.count, $0.asks.count) })")
        _ = try Self.writeJournal(stream.commands, perSegment: 2_500, into: journal)
        let environment = ["RTES_API_KEYS_FILE": inputs.keys]

        let replay = try Self.run(["replay", journal.directory, inputs.config], environment: environment)
        #expect(replay.status == 0, "\(replay.errors)")
        #expect(replay.output.contains("replayed 6000 records (sequences 1 to 6000)"), "\(replay.output)")
        #expect(replay.output.contains(Self.hashLine(stream.hash) + "\n"), "\(replay.output)")
        #expect(replay.output.contains("commands/s"))
        #expect(replay.output.contains("AAPL: ") && replay.output.contains("QUIET: "))

        // One record fewer: the state before the last command, another hash.
        let shorter = try Self.run(["replay", journal.directory, inputs.config, "--to", "5999"], environment: environment)
        #expect(shorter.status == 0, "\(shorter.errors)")
        #expect(shorter.output.contains("replayed 5999 records"))
        #expect(shorter.output.contains(Self.hashLine(stream.hashBeforeLast) + "\n"), "\(shorter.output)")
        #expect(stream.hashBeforeLast != stream.hash)

        // The accounts' own limits change outcomes: without them, another state.
        let withoutLimits = try Self.run(["replay", journal.directory, inputs.config],
                                         environment: ["RTES_API_KEYS_FILE": inputs.keysWithoutLimits])
        #expect(withoutLimits.status == 0, "\(withoutLimits.errors)")
        #expect(!withoutLimits.output.contains(Self.hashLine(stream.hash)), "\(withoutLimits.output)")

        // JSON: the records, each symbol's levels as the engine's depth, the hash.
        let json = try Self.run(["replay", journal.directory, inputs.config, "--json", "--orders"], environment: environment)
        #expect(json.status == 0, "\(json.errors)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(object["records"] as? Int == 6_000)
        #expect(object["state_hash"] as? String == String(Self.hashLine(stream.hash).dropFirst("state hash ".count)))
        let books = try #require(object["books"] as? [[String: Any]])
        #expect(books.map { $0["symbol"] as? String } == ["AAPL", "MSFT", "QUIET"])
        for book in books {
            let expected = try #require(stream.depth[book["symbol"] as! String])
            for (name, levels) in [("bids", expected.bids), ("asks", expected.asks)] {
                let printed = try #require(book[name] as? [[String: Any]])
                #expect(printed.map { $0["price"] as? String } == levels.map { PriceText.format($0.price) })
                #expect(printed.map { $0["shares"] as? Int } == levels.map { Int($0.shares) })
                #expect(printed.map { $0["orders"] as? Int } == levels.map { $0.orders })
                // --orders: each level lists its resting orders, and they add up to it.
                for level in printed {
                    let resting = try #require(level["resting"] as? [[String: Any]])
                    #expect(resting.count == level["orders"] as? Int)
                    #expect(resting.reduce(0) { $0 + ($1["shares"] as? Int ?? 0) } == level["shares"] as? Int)
                }
            }
        }
    }

    @Test(.enabled(if: JournalToolTests.built, "rtes-journal is not built: run `swift build --build-tests`"))
    func aTornTailIsReplayedUpToTheLastWholeRecordAndExitsOne() throws {
        let inputs = try Inputs()
        defer { inputs.files.remove() }
        let journal = try JournalFixture()
        defer { journal.remove() }
        let configuration = try ConfigurationLoader.load(
            json: Self.configurationJSON, source: "config.json", environment: [:], host: .current()).configuration
        let keys = try APIKeys.load(path: inputs.keys, allowPlainPasswords: true).keys
        let stream = Self.stream(configuration, keys: keys, seed: 5, count: 1_500)
        let segments = try Self.writeJournal(stream.commands, perSegment: 1_000, into: journal)
        // Cut the last record short: its bytes past the header become zeros.
        let last = try #require(segments.last)
        var bytes = try journal.read(last.name)
        for i in (last.offsets.last! + 20)..<bytes.count { bytes[i] = 0 }
        try journal.write(last.name, bytes)

        let torn = try Self.run(["replay", journal.directory, inputs.config], environment: ["RTES_API_KEYS_FILE": inputs.keys])
        #expect(torn.status == 1, "\(torn.errors)")
        #expect(torn.output.contains("replayed 1499 records") && torn.output.contains(Self.hashLine(stream.hashBeforeLast)), "\(torn.output)")
        #expect(torn.errors.contains("torn tail") && torn.errors.contains("rtes-journal repair"), "\(torn.errors)")
    }

    @Test(.enabled(if: JournalToolTests.built, "rtes-journal is not built: run `swift build --build-tests`"))
    func badInputsGiveClearErrorsAndTheirExitCodes() throws {
        let inputs = try Inputs()
        defer { inputs.files.remove() }
        let journal = try JournalFixture()
        defer { journal.remove() }
        let keys = ["RTES_API_KEYS_FILE": inputs.keys]

        // A journal directory without segments: unreadable, exit 2.
        let empty = try Self.run(["replay", journal.directory, inputs.config], environment: keys)
        #expect(empty.status == 2 && empty.errors.contains("no journal segments") && empty.errors.contains(journal.directory), "\(empty.errors)")

        let segments = try Self.writeJournal((1...10).map { JournalFixture.command(UInt64($0)) }, perSegment: 5, into: journal)

        // A configuration that cannot be read or used: a usage error, exit 64, naming it.
        let missingConfig = try Self.run(["replay", journal.directory, inputs.files.path("absent.json")], environment: keys)
        #expect(missingConfig.status == 64 && missingConfig.errors.contains("absent.json"), "\(missingConfig.errors)")
        try inputs.files.write("broken.json", Array("{ \"symbols\": [".utf8))
        let brokenConfig = try Self.run(["replay", journal.directory, inputs.files.path("broken.json")], environment: keys)
        #expect(brokenConfig.status == 64 && brokenConfig.errors.contains("cannot be used"), "\(brokenConfig.errors)")

        // No API keys file, or one that is not there: exit 64, saying which.
        let noKeys = try Self.run(["replay", journal.directory, inputs.config], environment: [:])
        #expect(noKeys.status == 64 && noKeys.errors.contains("RTES_API_KEYS_FILE is not set"), "\(noKeys.errors)")
        let absentKeys = try Self.run(["replay", journal.directory, inputs.config],
                                      environment: ["RTES_API_KEYS_FILE": inputs.files.path("no-keys.json")])
        #expect(absentKeys.status == 64 && absentKeys.errors.contains("API keys file") && absentKeys.errors.contains("no-keys.json"),
                "\(absentKeys.errors)")

        // --to 0 and a missing argument: usage errors.
        #expect(try Self.run(["replay", journal.directory, inputs.config, "--to", "0"], environment: keys).status == 64)
        #expect(try Self.run(["replay", journal.directory], environment: keys).status == 64)

        // A journal that does not start at sequence 1 cannot be replayed from an empty engine.
        let later = try JournalFixture()
        defer { later.remove() }
        try later.writeJournal(count: 5, perSegment: 5, first: 100)
        let retired = try Self.run(["replay", later.directory, inputs.config], environment: keys)
        #expect(retired.status == 2 && retired.errors.contains("starts at sequence 100, not 1"), "\(retired.errors)")

        // The fixture's journal (every kind of record) replays, exit 0.
        let whole = try Self.run(["replay", journal.directory, inputs.config], environment: keys)
        #expect(whole.status == 0 && whole.output.contains("replayed 10 records"), "\(whole.output) \(whole.errors)")

        // Corruption in an earlier segment (opening reads only the last one's records): the
        // records before it are replayed, the error says how far, nothing is printed, exit 2.
        var bytes = try journal.read(segments[0].name)
        bytes[segments[0].offsets[2] + 33] ^= 1
        try journal.write(segments[0].name, bytes)
        let corrupt = try Self.run(["replay", journal.directory, inputs.config], environment: keys)
        #expect(corrupt.status == 2 && corrupt.output.isEmpty, "\(corrupt.output)")
        #expect(corrupt.errors.contains("offset \(segments[0].offsets[2])") && corrupt.errors.contains("replayed up to sequence 2, stopped"),
                "\(corrupt.errors)")
    }
}
