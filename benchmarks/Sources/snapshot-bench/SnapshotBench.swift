import ArgumentParser
import BenchSupport
import CExchangeShim
import ExchangeCore
import ExchangeJournal
import ExchangeRisk
import Foundation

/// What a snapshot of a full engine costs (issue 11's "snapshot time and size per million
/// resting orders"): the engine is filled with `--orders` resting orders (a tenth of them
/// timed, so the expiry queue is in it too) over `--instruments` books, then, best of
/// `--runs`: the state hash, the engine section into a sink that only counts, the whole file
/// written and published (fdatasync, rename, directory fsync) in `--directory`, the file read
/// and checked (every CRC), and the restore into a fresh engine (the hash is checked there).
@main
struct SnapshotBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot-bench", abstract: "Time and size of engine snapshots, and their restore.")

    @Option(help: "CPU to pin to (-1: do not pin).") var cpu: Int = 1
    @Option(help: "Resting orders in the engine.") var orders: Int = 1_000_000
    @Option(help: "Instruments the orders spread over.") var instruments: Int = 8
    @Option(help: "Runs of each measurement (the best is reported).") var runs: Int = 3
    @Option(help: "Directory for the snapshot file (removed after).") var directory: String = "/tmp"
    @Option(help: "Where to write the JSON results (none if empty).") var output: String = ""

    mutating func run() throws {
        var pinned: Int?
        if cpu >= 0, rtes_pin_current_thread(Int32(cpu)) == 0 { pinned = cpu }
        let clock = TSCClock()
        let host = BenchmarkHost.current(pinnedCPU: pinned, clock: clock)
        print("snapshot-bench on \(host.summary)")

        let specs = (0..<instruments).map { i in
            InstrumentSpec(symbol: Symbol("S\(i)")!, tickSize: 100, lotSize: 1, collarBasisPoints: 0, referencePrice: 5_000_000 + 10_000 * Price(i))
        }
        let configuration = EngineConfiguration(instruments: specs, orderPoolSize: orders, maxClients: 1_024, priceLevels: 65_536)
        var engine = RiskCheckedEngine(configuration: configuration, limits: .unlimited)
        let fillStart = clock.now()
        for i in 0..<orders {
            let instrument = i % instruments
            let buy = (i / instruments) % 2 == 0
            let offset = Price(1 + (i / (2 * instruments)) % 30_000) * 100
            let reference = specs[instrument].referencePrice
            let command = EngineCommand.enter(EnterOrder(
                timestamp: 34_200_000_000_000 + UInt64(i), client: ClientID(i % 1_024),
                token: OrderToken(high: UInt64(i), low: 0), side: buy ? .buy : .sell, shares: Shares(100 + i % 900),
                symbol: specs[instrument].symbol, price: buy ? reference - offset : reference + offset,
                timeInForce: i % 10 == 0 ? .seconds(3_600) : .marketHours, firm: Firm("FRMA")!,
                display: i % 20 == 0 ? .nonDisplayed : .anonymous))
            engine.run(command) { _ in }
        }
        precondition(engine.engine.restingOrderCount == orders, "the fill did not rest every order (\(engine.engine.restingOrderCount))")
        print("filled \(orders) resting orders in \(String(format: "%.2f", seconds(clock, since: fillStart))) s")

        var hashTime = Double.infinity, encodeTime = Double.infinity, fileTime = Double.infinity
        var readTime = Double.infinity, restoreTime = Double.infinity
        var sectionBytes = 0, fileBytes = 0
        let hash = engine.stateHash()
        let path = directory + "/" + SnapshotDirectory.fileName(coveredSequence: UInt64(orders))
        defer { unlink(path) }
        for _ in 0..<runs {
            var start = clock.now()
            precondition(engine.stateHash() == hash)
            hashTime = min(hashTime, seconds(clock, since: start))

            var counted = 0
            start = clock.now()
            try engine.writeEngineSnapshot { counted += $0.count }
            encodeTime = min(encodeTime, seconds(clock, since: start))
            sectionBytes = counted

            start = clock.now()
            let writer = try SnapshotFileWriter(directory: directory, coveredSequence: UInt64(orders), stateHash: hash, createdAt: 0)
            try writer.section("engine") { try engine.writeEngineSnapshot(to: $0) }
            try writer.section("risk") { try engine.writeRiskSnapshot(to: $0) }
            try writer.publish()
            fileTime = min(fileTime, seconds(clock, since: start))

            start = clock.now()
            let file = try SnapshotFile.read(path: path)
            readTime = min(readTime, seconds(clock, since: start))
            fileBytes = Int(try FileManager.default.attributesOfItem(atPath: path)[.size] as! UInt64)

            var restored = RiskCheckedEngine(configuration: configuration, limits: .unlimited)
            start = clock.now()
            try restored.restoreSnapshot(engine: file.section("engine")!, risk: file.section("risk")!)
            restoreTime = min(restoreTime, seconds(clock, since: start))
            precondition(restored.stateHash() == hash, "the restored engine's hash differs")
        }

        let perMillion = 1_000_000 / Double(orders)
        var table = TextTable("measurement", "time (ms)", "per million orders (ms)", "bytes", "bytes per order")
        func row(_ name: String, _ t: Double, _ bytes: Int?) {
            table.add(name, String(format: "%.1f", t * 1e3), String(format: "%.1f", t * 1e3 * perMillion),
                      bytes.map(String.init) ?? "", bytes.map { String(format: "%.1f", Double($0) / Double(orders)) } ?? "")
        }
        row("state hash", hashTime, nil)
        row("engine section, encode only", encodeTime, sectionBytes)
        row("file written + published", fileTime, fileBytes)
        row("file read + every CRC checked", readTime, nil)
        row("restore (engine + risk)", restoreTime, nil)
        print(table.render())
        if !output.isEmpty {
            try writeJSON(SnapshotReport(
                host: host, command: CommandLine.arguments.joined(separator: " "), restingOrders: orders, instruments: instruments,
                stateHashSeconds: hashTime, encodeSeconds: encodeTime, engineSectionBytes: sectionBytes, fileSeconds: fileTime,
                fileBytes: fileBytes, readSeconds: readTime, restoreSeconds: restoreTime), to: output)
            print("wrote \(output)")
        }
    }

    func seconds(_ clock: TSCClock, since start: UInt64) -> Double { Double(clock.nanoseconds(clock.now() - start)) / 1e9 }
}

struct SnapshotReport: Codable {
    var host: BenchmarkHost
    var command: String
    var restingOrders: Int
    var instruments: Int
    var stateHashSeconds: Double
    var encodeSeconds: Double
    var engineSectionBytes: Int
    var fileSeconds: Double
    var fileBytes: Int
    var readSeconds: Double
    var restoreSeconds: Double
}
