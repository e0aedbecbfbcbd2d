import ExchangeConfig
import ExchangeJournal
import ExchangeOps
import ExchangeWire
import ExchangeRuntime
import ExchangeTestSupport
import Foundation
import Glibc
import Testing

/// `rtes-dropcopy` as a process against a real PostgreSQL server of the test's own: what it
/// stores matches what the engine did (counts, sums, every fill once on each side, per
/// account), a second run over a stored journal writes nothing, kill -9 mid-run and a restart
/// lose and repeat nothing, and PostgreSQL stopped mid-run and started again is retried until
/// the run completes. A live journal's durable sequence is played by the test through a
/// counters file of its own (as the journal agent publishes it), so what the store may read
/// at each step is the test's choice, not the timing's.
///
/// Every wait polls a condition with a deadline and fails naming what it waited for; the
/// store runs in its own process and the test's own work is synchronous (no Swift concurrency).
@Suite(.serialized) struct DropCopyTests {
    static func executable(_ name: String) -> String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent(name).path
    }

    static var built: Bool { FileManager.default.isExecutableFile(atPath: executable("rtes-dropcopy")) }
    static var ready: Bool { built && LocalPostgres.available }

    /// A temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/rtes-dropcopy-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw LocalPostgres.Failure("mkdtemp: \(String(cString: strerror(errno)))")
        }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// One `rtes-dropcopy` process; its standard error goes to a file (read for the log lines).
    final class Store {
        let child: SpawnedProcess

        init(_ day: DropCopyDay, postgres: LocalPostgres, arguments: [String], log: String) throws {
            child = try SpawnedProcess(
                DropCopyTests.executable("rtes-dropcopy"),
                [day.journal, "--config", day.configPath, "--port", "\(postgres.port)", "--user", LocalPostgres.user,
                 "--database", LocalPostgres.database, "--retry-max-ms", "500", "--timeout-seconds", "20"] + arguments,
                environment: SpawnedProcess.environment(["RTES_API_KEYS_FILE": day.keysPath,
                                                         "RTES_DROPCOPY_PASSWORD": LocalPostgres.password]),
                output: log)
        }

        var text: String { child.output }
        var isRunning: Bool { child.isRunning }
        func kill(_ signal: Int32) { child.signal(signal) }
        func exitStatus(within seconds: Int) -> Int32? { child.exitStatus(within: seconds) }
    }

    /// A counters file with the journal agent's block, whose durable sequence the test publishes.
    final class DurableSequence {
        let path: String
        var region: CountersRegion
        let block: CounterBlock

        init(path: String) throws {
            self.path = path
            region = try CountersRegion.create(path: path, name: "DROPCOPY-TEST", ticksPerSecond: 1_000_000_000)
            block = try region.register(JournalCounters.block)
            try region.publish()
        }

        func publish(_ sequence: UInt64) { block.store(JournalCounters.durableSequence, sequence) }
    }

    /// The stored progress of the test's journal (0 before the first batch; -1 when the
    /// server does not answer).
    static func progress(_ postgres: LocalPostgres) -> Int {
        guard let text = try? postgres.query("SELECT coalesce(max(sequence), 0) FROM rtes.progress") else { return -1 }
        return Int(text) ?? -1
    }

    /// What the tables hold, in the terms of `DropCopyDay.Expected`.
    static func stored(_ postgres: LocalPostgres) throws -> DropCopyDay.Expected {
        var e = DropCopyDay.Expected()
        let counts = try postgres.query("""
            SELECT (SELECT count(*) FROM rtes.orders), (SELECT count(*) FROM rtes.executions), (SELECT count(*) FROM rtes.trades),
                   (SELECT coalesce(sum(shares), 0) FROM rtes.trades), (SELECT coalesce(sum(price * shares * 10000), 0)::bigint FROM rtes.trades),
                   (SELECT max(sequence) FROM rtes.progress)
            """).split(separator: "|").map { Int($0) ?? -1 }
        try #require(counts.count == 6, "psql answered \(counts)")
        (e.orders, e.executions, e.trades) = (counts[0], counts[1], counts[2])
        (e.tradedShares, e.tradedNotional, e.records) = (counts[3], counts[4], counts[5])
        for line in try postgres.query("SELECT account, sum(shares) FROM rtes.executions WHERE kind = 'executed' GROUP BY account")
            .split(separator: "\n") {
            let fields = line.split(separator: "|")
            if fields.count == 2, let shares = Int(fields[1]) { e.filledByAccount[String(fields[0])] = shares }
        }
        return e
    }

    /// Every fill is stored once on each side, and each trade's two sides name it.
    static func checkEachFillOnce(_ postgres: LocalPostgres) throws {
        let answer = try postgres.query("""
            SELECT (SELECT count(*) FROM rtes.executions WHERE kind = 'executed'),
                   (SELECT count(DISTINCT (match_number, liquidity = 'removed')) FROM rtes.executions WHERE kind = 'executed'),
                   (SELECT count(*) FROM rtes.trades t WHERE (SELECT count(*) FROM rtes.executions x
                        WHERE x.kind = 'executed' AND x.match_number = t.match_number AND x.shares = t.shares) = 2),
                   (SELECT count(*) FROM rtes.trades)
            """).split(separator: "|").map { Int($0) ?? -1 }
        try #require(answer.count == 4, "psql answered \(answer)")
        #expect(answer[0] == 2 * answer[3], "executed rows \(answer[0]) for \(answer[3]) trades")
        #expect(answer[1] == answer[0], "an execution is stored twice: \(answer[0]) rows, \(answer[1]) distinct")
        #expect(answer[2] == answer[3], "\(answer[3] - answer[2]) trades lack their two executions")
    }

    /// A temporary directory with a generated day in it and a PostgreSQL server of the test's
    /// own, both removed when `body` returns or throws.
    static func withDay(count: Int, seed: UInt64, perSegment: Int,
                        _ body: (String, LocalPostgres, DropCopyDay) throws -> Void) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let postgres = try LocalPostgres()
        defer { postgres.remove() }
        try body(directory, postgres, try DropCopyDay(in: directory, count: count, seed: seed, perSegment: perSegment))
    }

    /// Stops a live store with SIGTERM (it must exit 0) and checks the tables hold exactly the day.
    static func stopAndCheck(_ store: Store, _ postgres: LocalPostgres, _ day: DropCopyDay, context: @autoclosure () -> String) throws {
        store.kill(SIGTERM)
        #expect(store.exitStatus(within: 60) == 0, "rtes-dropcopy did not stop on SIGTERM with status 0: \(store.text)")
        #expect(try stored(postgres) == day.expected, "\(context())")
        try checkEachFillOnce(postgres)
    }

    @Test(.enabled(if: ready, "needs rtes-dropcopy built (swift build --build-tests) and \(LocalPostgres.unavailableReason)"))
    func aFinishedJournalIsStoredOnceAndMatchesTheEngine() throws {
        try Self.withDay(count: 12_000, seed: 7, perSegment: 2_500) { directory, postgres, day in
            #expect(day.expected.trades > 100, "the generated day should trade")

            let first = try Store(day, postgres: postgres, arguments: ["--finished", "--batch-records", "3000"], log: directory + "/first.log")
            let status = first.exitStatus(within: 180)
            #expect(status == 0, "rtes-dropcopy --finished did not exit 0 within 180 s: \(first.text)")
            var expected = day.expected
            #expect(try Self.stored(postgres) == expected, "\(first.text)")
            try Self.checkEachFillOnce(postgres)
            #expect(first.text.contains("stored through its last record, sequence \(expected.records)"), "\(first.text)")
            #expect(!first.text.contains(LocalPostgres.password), "the log shows the password")

            // Run again over the stored journal: it replays, writes nothing, and exits 0.
            let second = try Store(day, postgres: postgres, arguments: ["--finished"], log: directory + "/second.log")
            #expect(second.exitStatus(within: 180) == 0, "the second run did not exit 0 within 180 s: \(second.text)")
            expected.records = day.expected.records
            #expect(try Self.stored(postgres) == expected, "\(second.text)")
            #expect(second.text.contains("0 orders, 0 executions, 0 trades written"), "\(second.text)")
        }
    }

    @Test(.enabled(if: ready, "needs rtes-dropcopy built (swift build --build-tests) and \(LocalPostgres.unavailableReason)"))
    func killedMidRunItResumesWithNothingTwiceAndNothingMissing() throws {
        try Self.withDay(count: 12_000, seed: 11, perSegment: 2_500) { directory, postgres, day in
            let durable = try DurableSequence(path: directory + "/counters")
            let live = ["--counters", durable.path, "--batch-records", "200"]
            let half = UInt64(day.expected.records / 2)

            durable.publish(half)
            let first = try Store(day, postgres: postgres, arguments: live, log: directory + "/first.log")
            #expect(waitUntil(timeout: .seconds(120), pollInterval: .milliseconds(100)) { Self.progress(postgres) == Int(half) },
                    "progress never reached the durable sequence \(half): \(first.text)")
            #expect(Self.progress(postgres) == Int(half), "it stored beyond the durable sequence")

            // Everything durable; killed as soon as the next batch is in, with more to write.
            durable.publish(UInt64(day.expected.records))
            #expect(waitUntil(timeout: .seconds(120), pollInterval: .milliseconds(5)) { Self.progress(postgres) > Int(half) },
                    "no batch after \(half) was stored: \(first.text)")
            first.kill(SIGKILL)
            #expect(first.exitStatus(within: 60) != nil, "rtes-dropcopy did not die of SIGKILL")
            let atKill = Self.progress(postgres)
            let partial = try Self.stored(postgres)
            #expect(partial.records == atKill)

            let second = try Store(day, postgres: postgres, arguments: live, log: directory + "/second.log")
            #expect(waitUntil(timeout: .seconds(180), pollInterval: .milliseconds(100)) { Self.progress(postgres) == day.expected.records },
                    "after the restart progress never reached \(day.expected.records) (at the kill: \(atKill)): \(second.text)")
            try Self.stopAndCheck(second, postgres, day, context: "first run:\n\(first.text)\nsecond run:\n\(second.text)")
            #expect(second.text.contains("rows are stored through sequence \(atKill); replaying"), "\(second.text)")
        }
    }

    @Test(.enabled(if: ready, "needs rtes-dropcopy built (swift build --build-tests) and \(LocalPostgres.unavailableReason)"))
    func postgreSQLGoingAwayIsRetriedAndTheRunCompletes() throws {
        try Self.withDay(count: 8_000, seed: 23, perSegment: 2_000) { directory, postgres, day in
            let durable = try DurableSequence(path: directory + "/counters")
            let third = UInt64(day.expected.records / 3)

            durable.publish(third)
            let store = try Store(day, postgres: postgres, arguments: ["--counters", durable.path, "--batch-records", "500"],
                                  log: directory + "/store.log")
            #expect(waitUntil(timeout: .seconds(120), pollInterval: .milliseconds(100)) { Self.progress(postgres) == Int(third) },
                    "progress never reached \(third): \(store.text)")

            // PostgreSQL goes away; more becomes durable; the store keeps its batch and retries.
            try postgres.stop()
            durable.publish(UInt64(day.expected.records))
            #expect(waitUntil(timeout: .seconds(120), pollInterval: .milliseconds(100)) { store.text.contains("(attempt 2)") },
                    "the store did not retry while PostgreSQL was stopped: \(store.text)")
            #expect(store.isRunning, "the store exited while PostgreSQL was stopped: \(store.text)")

            try postgres.start()
            #expect(waitUntil(timeout: .seconds(180), pollInterval: .milliseconds(100)) { Self.progress(postgres) == day.expected.records },
                    "after PostgreSQL came back progress never reached \(day.expected.records): \(store.text)")
            try Self.stopAndCheck(store, postgres, day, context: "\(store.text)")
            #expect(store.text.contains("again after"), "no line says the connection came back: \(store.text)")
            #expect(!store.text.contains(LocalPostgres.password), "the log shows the password")
        }
    }

    @Test(.enabled(if: ready, "needs rtes-dropcopy built (swift build --build-tests) and \(LocalPostgres.unavailableReason)"))
    func committedRowsThatPostgreSQLLostAreWrittenAgain() throws {
        try Self.withDay(count: 6_000, seed: 31, perSegment: 2_000) { directory, postgres, day in
            let durable = try DurableSequence(path: directory + "/counters")
            let half = day.expected.records / 2

            durable.publish(UInt64(half))
            let store = try Store(day, postgres: postgres, arguments: ["--counters", durable.path, "--batch-records", "500"],
                                  log: directory + "/store.log")
            #expect(waitUntil(timeout: .seconds(120), pollInterval: .milliseconds(100)) { Self.progress(postgres) == half },
                    "progress never reached \(half): \(store.text)")

            // What a server that lost its last commits looks like (synchronous_commit off, a
            // restore): the rows after a quarter and the progress row with them are gone.
            let quarter = half / 2
            _ = try postgres.query("""
                BEGIN; DELETE FROM rtes.orders WHERE sequence > \(quarter); DELETE FROM rtes.executions WHERE sequence > \(quarter);
                DELETE FROM rtes.trades WHERE sequence > \(quarter); UPDATE rtes.progress SET sequence = \(quarter); COMMIT;
                """)
            durable.publish(UInt64(day.expected.records))
            #expect(waitUntil(timeout: .seconds(180), pollInterval: .milliseconds(100)) { Self.progress(postgres) == day.expected.records },
                    "progress never reached \(day.expected.records): \(store.text)")
            try Self.stopAndCheck(store, postgres, day, context: "\(store.text)")
            #expect(store.text.contains("went back from \(half) to \(quarter)"), "\(store.text)")
        }
    }

    /// Writes the day snapshot of `day`'s journal after record `sequence` into its directory,
    /// as the exchange's snapshot agent does (its own replica of the day).
    static func writeSnapshot(_ day: DropCopyDay, through sequence: UInt64) throws {
        let configuration = try ConfigurationLoader.load(json: DropCopyDay.configurationJSON, source: "config.json", environment: [:],
                                                         host: HostFacts(cpuCount: 2)).configuration
        let keys = try APIKeys.parse(json: DropCopyDay.keysJSON, source: "keys.json")
        var replica = DayReplica(configuration: configuration, keys: keys, feedSession: SoupSessionName("MA")!)
        var cursor = try JournalReader.open(directory: day.journal).records(from: 1)
        while replica.sequence < sequence, let record = try cursor.next() { replica.apply(record) }
        try #require(replica.sequence == sequence, "the journal ends at \(replica.sequence)")
        _ = try DaySnapshot.write(replica, day: DropCopyDay.day, directory: day.journal)
    }

    @Test(.enabled(if: ready, "needs rtes-dropcopy built (swift build --build-tests) and \(LocalPostgres.unavailableReason)"))
    func aRestartStartsFromTheNewestDaySnapshotItsRowsCover() throws {
        try Self.withDay(count: 6_000, seed: 41, perSegment: 2_000) { directory, postgres, day in
            let durable = try DurableSequence(path: directory + "/counters")
            let live = ["--counters", durable.path, "--batch-records", "500"]
            durable.publish(3_000)
            let first = try Store(day, postgres: postgres, arguments: live, log: directory + "/first.log")
            #expect(waitUntil(timeout: .seconds(120), pollInterval: .milliseconds(100)) { Self.progress(postgres) == 3_000 },
                    "progress never reached 3000: \(first.text)")
            first.kill(SIGTERM)
            #expect(first.exitStatus(within: 60) == 0, "rtes-dropcopy did not stop on SIGTERM with status 0: \(first.text)")

            // The exchange's snapshots meanwhile: one behind the stored rows, two ahead of them.
            try Self.writeSnapshot(day, through: 2_500)
            try Self.writeSnapshot(day, through: 3_500)
            try Self.writeSnapshot(day, through: 4_200)
            // A record of the first segment (sequences 1…2000) damaged: a replay from sequence 1
            // would stop there, so the run below proves the records before the snapshot unread.
            let segment = day.journal + "/" + JournalSegmentHeader.fileName(firstSequence: 1)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: segment))
            bytes[bytes.count / 2] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: segment))

            durable.publish(4_500)
            let second = try Store(day, postgres: postgres, arguments: live, log: directory + "/second.log")
            #expect(waitUntil(timeout: .seconds(180), pollInterval: .milliseconds(100)) { Self.progress(postgres) == 4_500 },
                    "after the restart progress never reached 4500: \(second.text)")
            second.kill(SIGTERM)
            #expect(second.exitStatus(within: 60) == 0, "rtes-dropcopy did not stop on SIGTERM with status 0: \(second.text)")
            #expect(second.text.contains("starting from day snapshot"), "\(second.text)")
            #expect(second.text.contains("replaying 2501…3000 without writing"), "\(second.text)")
            #expect(second.text.contains("covers sequence 3500, outside 1…3000"), "\(second.text)")

            // The snapshot agent's way: the segments the snapshot at 4200 covers wholly (1…4000)
            // retired. The journal's name (its first segment's) is the progress row's.
            for first: UInt64 in [1, 2_001] { unlink(day.journal + "/" + JournalSegmentHeader.fileName(firstSequence: first)) }
            durable.publish(UInt64(day.expected.records))
            let third = try Store(day, postgres: postgres, arguments: live, log: directory + "/third.log")
            #expect(waitUntil(timeout: .seconds(180), pollInterval: .milliseconds(100)) { Self.progress(postgres) == day.expected.records },
                    "after the retirement progress never reached \(day.expected.records): \(third.text)")
            try Self.stopAndCheck(third, postgres, day,
                                  context: "first run:\n\(first.text)\nsecond run:\n\(second.text)\nthird run:\n\(third.text)")
            #expect(third.text.contains("starts at sequence 4001 (first segments retired): it is journal 2026-12-07/"), "\(third.text)")
            #expect(third.text.contains("replaying 4201…4500 without writing"), "\(third.text)")
            let journals = try postgres.query("SELECT count(*) FROM rtes.progress")
            #expect(journals == "1", "the retired journal got a progress row of its own: \(journals)")
            // Fills after the snapshot name orders entered before it: their firm came from the snapshot's books.
            let firms = try postgres.query("""
                SELECT count(*) FROM rtes.trades t JOIN rtes.orders b ON b.reference = t.buy_reference
                JOIN rtes.orders s ON s.reference = t.sell_reference WHERE b.firm <> t.buy_firm OR s.firm <> t.sell_firm
                """)
            #expect(firms == "0", "\(firms) trades name a firm other than their order's")
        }
    }
}
