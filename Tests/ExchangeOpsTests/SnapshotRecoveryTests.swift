import ExchangeClient
import ExchangeCore
import ExchangeJournal
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Testing

/// Day snapshots in the running exchange and recovery from them: a `trading_exchange` in
/// `sync` takes two snapshots on SIGUSR1 between bursts of orders and is killed with SIGKILL
/// under load. Its journal is then copied three times and the exchange started on each copy:
/// with the snapshots (recovery from the newest + the journal after it), without them (the
/// whole day replayed from sequence 1), and with the newest snapshot corrupted (recovery
/// falls back to the older one, saying why). All three must recover the same state: the
/// state hash the recovery logs, every session's next sequence number (Login Accepted) and
/// the feed's next MoldUDP64 sequence and resting orders (counters).
extension ExchangeProcess {
    struct Recovered: Equatable {
        var stateHash: String
        var sessions: [UInt64]
        var feedNextSequence: UInt64
        var restingOrders: UInt64
    }

    @Test(.enabled(if: built, "trading_exchange is not built: run `swift build --build-tests` (make test does)"))
    func recoveryFromASnapshotAndTheJournalTailEqualsAFullReplay() throws {
        let seed: UInt64 = 5
        let directory = try InstanceHygiene.Directory()
        let metrics = freePort()
        let tcp = freePort()
        func writeConfig(_ journal: String) throws -> String {
            var json = testConfiguration(metricsPort: metrics, name: "SNAP-\(getpid())", tcpPort: tcp)
            json = withDurability(json, #""mode": "sync", "directory": "\#(journal)""#)
            let config = directory.path + "/config-\((journal as NSString).lastPathComponent).json"
            try json.write(toFile: config, atomically: true, encoding: .utf8)
            return config
        }
        let counters = directory.path + "/counters"
        func startExchange(_ config: String) throws -> (Process, Pipe, Pipe) {
            let started = try Self.start([config, "--counters", counters])
            let ready = waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(20)) {
                httpGet("http://127.0.0.1:\(metrics)/ready", timeout: 1)?.status == 200 || !started.0.isRunning
            }
            if !ready || !started.0.isRunning {
                kill(started.0.processIdentifier, SIGKILL)
                let run = Self.finish(started.0, started.1, started.2)
                Issue.record("the exchange did not become ready (status \(run.status)): \(run.errors.suffix(3_000))")
                throw CancellationError()
            }
            return started
        }
        func counter(_ block: String, _ name: String) -> UInt64? {
            (try? CountersRegion.open(path: counters))?.snapshot().values(block)[name]
        }
        /// Runs `traders` to their limit and waits until their answers stop coming.
        func burst(_ traders: [Trader], limit: Int) {
            for trader in traders { DispatchQueue.global().async { trader.run(port: tcp, seed: seed, limit: limit) } }
            _ = waitUntil(timeout: .seconds(60)) { traders.allSatisfy { $0.sent >= limit } }
            var last = -1
            _ = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(300)) {
                let now = traders.reduce(0) { $0 + $1.count }
                defer { last = now }
                return now == last
            }
        }
        func snapshot(_ process: Process, number: UInt64) -> Bool {
            kill(process.processIdentifier, SIGUSR1)
            return waitUntil(timeout: .seconds(60)) { (counter("snapshots", "written") ?? 0) >= number }
        }

        // 1. The day: a burst, a snapshot, a burst, a snapshot, then load and SIGKILL.
        let original = directory.path + "/journal"
        let (first, firstOut, firstErr) = try startExchange(try writeConfig(original))
        let traders = (1...4).map { Trader(username: "LOAD\($0)", index: $0) }
        burst([traders[0], traders[1]], limit: 300)
        #expect(snapshot(first, number: 1), "no first snapshot after SIGUSR1")
        burst([traders[2]], limit: 300)
        #expect(snapshot(first, number: 2), "no second snapshot after SIGUSR1")
        DispatchQueue.global().async { traders[3].run(port: tcp, seed: seed, limit: 2_000) }
        #expect(waitUntil(timeout: .seconds(60)) { traders[3].count >= 200 })
        kill(first.processIdentifier, SIGKILL)
        let killed = Self.finish(first, firstOut, firstErr)
        #expect(killed.status == SIGKILL)
        #expect(killed.errors.contains("snapshots: asked for: wrote "), "no snapshot log line: \(killed.errors.suffix(3_000))")
        #expect(waitUntil(timeout: .seconds(60)) { traders.allSatisfy { $0.ended != nil } })

        let days = try FileManager.default.contentsOfDirectory(atPath: original)
        try #require(days.count == 1)
        let day = days[0]
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: original + "/" + day)
            .filter { $0.hasPrefix("snapshot-") && $0.hasSuffix(".rtsnap") }.sorted()
        try #require(snapshots.count == 2, "snapshots in the journal directory: \(snapshots)")

        // 2. Three copies of the journal.
        func copy(_ name: String) throws -> String {
            let path = directory.path + "/" + name
            try FileManager.default.copyItem(atPath: original, toPath: path)
            return path
        }
        let withSnapshots = try copy("with")
        let fullReplay = try copy("full")
        for name in snapshots { try FileManager.default.removeItem(atPath: fullReplay + "/" + day + "/" + name) }
        let corrupted = try copy("corrupt")
        let newest = corrupted + "/" + day + "/" + snapshots[1]
        let handle = try #require(FileHandle(forUpdatingAtPath: newest))
        try handle.seek(toOffset: 200)
        let byte = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: 200)
        try handle.write(contentsOf: Data([byte ^ 0xFF]))
        try handle.close()

        // 3. Each started and looked at before anything else happens, then killed.
        func recover(_ journal: String) throws -> (Recovered, String) {
            let (process, out, err) = try startExchange(try writeConfig(journal))
            // The market-data agent stores its gauges in its duty cycle: wait for the first store.
            _ = waitUntil(timeout: .seconds(10)) { (counter("market_data", "next_sequence") ?? 0) > 0 }
            let feed = counter("market_data", "next_sequence") ?? 0
            let resting = counter("market_data", "resting_orders") ?? 0
            var sessions: [UInt64] = []
            for trader in traders {
                let client = try OrderEntryClient.connect(port: tcp, username: trader.username, password: trader.password, sequence: 0)
                sessions.append(client.nextSequence)
                client.close()
            }
            kill(process.processIdentifier, SIGKILL)
            let run = Self.finish(process, out, err)
            let line = run.errors.split(separator: "\n").first { $0.contains("journaled commands replayed") }.map(String.init) ?? ""
            let hash = line.range(of: #"state hash 0x[0-9a-f]{16}"#, options: .regularExpression).map { String(line[$0].suffix(18)) } ?? "none"
            return (Recovered(stateHash: hash, sessions: sessions, feedNextSequence: feed, restingOrders: resting), run.errors)
        }
        let (fromSnapshot, snapshotLog) = try recover(withSnapshots)
        let (replayed, replayLog) = try recover(fullReplay)
        let (fallback, fallbackLog) = try recover(corrupted)

        #expect(replayed.stateHash != "none", "no recovery line: \(replayLog.suffix(3_000))")
        #expect(!replayLog.contains("from the snapshot"))
        #expect(snapshotLog.contains("from the snapshot \(withSnapshots)/\(day)/\(snapshots[1])"), "\(snapshotLog.suffix(3_000))")
        #expect(fallbackLog.contains("snapshot \(newest) passed over"), "\(fallbackLog.suffix(3_000))")
        #expect(fallbackLog.contains("from the snapshot \(corrupted)/\(day)/\(snapshots[0])"), "\(fallbackLog.suffix(3_000))")
        #expect(fromSnapshot == replayed, "with the snapshot \(fromSnapshot), full replay \(replayed)")
        #expect(fallback == replayed, "falling back \(fallback), full replay \(replayed)")
        #expect(replayed.sessions.allSatisfy { $0 > 1 } && replayed.feedNextSequence > 1)
    }
}
