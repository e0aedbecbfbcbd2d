import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import ExchangeTestSupport
import Foundation
import OrderFlow

/// A generated trading day for the trade store's tests: the configuration and API keys files
/// (as `rtes-dropcopy` reads them), the day's journal written as segments, and what the engine
/// made of it, counted here straight from the engine's events (not through the store's own
/// recorder), so that the rows in PostgreSQL are checked against an independent tally.
struct DropCopyDay {
    static let day = "2026-12-07"

    static let configurationJSON = ThreeSymbolDay.configurationJSON(name: "DROPCOPY-TEST")

    static let keysJSON = ThreeSymbolDay.keysJSON()

    /// What the engine did, tallied from its events.
    struct Expected: Equatable {
        var orders = 0
        var executions = 0
        var trades = 0
        var tradedShares = 0
        /// Σ price × shares, the price in its 4 implied decimals.
        var tradedNotional = 0
        /// Filled shares per account (both sides).
        var filledByAccount: [String: Int] = [:]
        var records = 0
    }

    let directory: String
    let journal: String
    let configPath: String
    let keysPath: String
    let expected: Expected

    /// Writes the files into `directory` (which exists): a start of day then `count` commands
    /// of the realistic profile, in segments of `perSegment` records.
    init(in directory: String, count: Int, seed: UInt64, perSegment: Int) throws {
        self.directory = directory
        journal = directory + "/journal"
        configPath = directory + "/config.json"
        keysPath = directory + "/keys.json"
        try Data(Self.configurationJSON.utf8).write(to: URL(fileURLWithPath: configPath))
        try Data(Self.keysJSON.utf8).write(to: URL(fileURLWithPath: keysPath))
        try FileManager.default.createDirectory(atPath: journal, withIntermediateDirectories: false)

        let configuration = try ConfigurationLoader.load(json: Self.configurationJSON, source: "config.json", environment: [:],
                                                         host: HostFacts(cpuCount: 2)).configuration
        let keys = try APIKeys.parse(json: Self.keysJSON, source: "keys.json")
        let names = keys.accounts.map(\.username)
        var engine = configuration.makeRiskCheckedEngine(keys: keys)
        var generator = OrderFlowGenerator(profile: .realistic(
            instruments: configuration.symbols, clients: keys.accounts.count,
            limits: RiskLimitsHint(maxOrderShares: 5_000, maxOpenNotional: 40_000_000 * 10_000)), seed: seed)
        var expected = Expected()
        var commands: [SequencedCommand] = []
        for i in 0...count {
            let command = i == 0 ? EngineCommand.startOfDay(34_200_000_000_000) : generator.next()
            commands.append(SequencedCommand(sequence: UInt64(i + 1), command: command))
            var status = engine.process(command)
            while true {
                for event in engine.events {
                    generator.observe(event)
                    Self.tally(event, into: &expected, names: names)
                }
                engine.clearEvents()
                guard status == .suspended else { break }
                status = engine.resume()
            }
        }
        expected.records = commands.count
        self.expected = expected
        try Self.writeSegments(commands, perSegment: perSegment, into: journal)
    }

    static func tally(_ event: EngineEvent, into e: inout Expected, names: [String]) {
        switch event {
        case .accepted, .replaced:
            e.orders += 1
            e.executions += 1
        case .rejected, .canceled, .modified, .cancelRejected:
            e.executions += 1
        case .executed(let x):
            e.executions += 2
            e.trades += 1
            e.tradedShares += Int(x.shares)
            e.tradedNotional += Int(x.shares) * Int(x.price)
            e.filledByAccount[names[Int(x.takerClient)], default: 0] += Int(x.shares)
            e.filledByAccount[names[Int(x.makerClient)], default: 0] += Int(x.shares)
        case .crossFill(let x):
            e.executions += 2
            e.trades += 1
            e.tradedShares += Int(x.shares)
            e.tradedNotional += Int(x.shares) * Int(x.price)
            e.filledByAccount[names[Int(x.buy.client)], default: 0] += Int(x.shares)
            e.filledByAccount[names[Int(x.sell.client)], default: 0] += Int(x.shares)
        case .bookAdd, .bookReduce, .bookReplace, .tradingState, .systemEvent, .phaseChanged, .marketEvent, .imbalance, .crossCompleted, .limitState, .auctionCollar:
            break
        }
    }

    /// The journal as the journal agent leaves it: segments named by their first sequence,
    /// each a header then records back to back (the file ends after its last record).
    static func writeSegments(_ commands: [SequencedCommand], perSegment: Int, into directory: String) throws {
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(JournalSegmentHeader.bytes, JournalRecord.maximumBytes), alignment: 8)
        defer { scratch.deallocate() }
        for (index, start) in stride(from: 0, to: commands.count, by: perSegment).enumerated() {
            let records = commands[start..<min(commands.count, start + perSegment)]
            JournalSegmentHeader(firstSequence: records.first!.sequence, segmentIndex: UInt64(index), createdAt: 1_765_065_600_000_000_000,
                                 capacity: 0, day: day).encode(to: scratch)
            var bytes = Data(bytes: scratch, count: JournalSegmentHeader.bytes)
            for record in records { bytes.append(Data(bytes: scratch, count: JournalRecord.encode(record, to: scratch))) }
            try bytes.write(to: URL(fileURLWithPath: directory + "/" + JournalSegmentHeader.fileName(firstSequence: records.first!.sequence)))
        }
    }
}
