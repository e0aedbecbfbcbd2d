import ExchangeClient
import ExchangeCore
import ExchangeJournal
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import OrderFlow
import Testing

/// A `trading_exchange` process journaling in `sync` mode, killed with SIGKILL at a seeded
/// moment while four connections pipeline orders into it, then started again on the same
/// journal. Nothing it acknowledged may be lost: each session, asked again from sequence 1,
/// must replay exactly what its client received before the kill (same sequence numbers, same
/// messages, field for field), then what was journaled but not yet seen, with no gap and no
/// repeat; the tokens of the day stay used; and the session carries on from there.
extension ExchangeProcess {
    static let crashSeeds: [UInt64] = [11, 23, 47]

    /// What one client saw before the kill: every sequenced message, in order.
    final class Trader: @unchecked Sendable {
        let username: String
        let password: String
        let index: Int
        private let lock = NSLock()
        private var _received: [SequencedMessage] = []
        private(set) var sent = 0
        private(set) var ended: String?

        init(username: String, index: Int) {
            self.username = username
            password = username.lowercased() + "pass"
            self.index = index
        }

        var received: [SequencedMessage] { lock.withLock { _received } }
        var count: Int { lock.withLock { _received.count } }

        func record(_ message: SequencedMessage) { lock.withLock { _received.append(message) } }

        func token(_ n: Int, seed: UInt64) -> OrderToken { OrderToken("K\(seed)-\(index)-\(n)")! }

        /// Sends bursts of orders that cross each other (buys and sells around 230.00, some
        /// cancels) and records every answer, until the connection breaks or `limit` orders.
        func run(port: Int, seed: UInt64, limit: Int) {
            var random = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37)
            do {
                let client = try OrderEntryClient.connect(port: port, username: username, password: password, sequence: 1)
                defer { client.close() }
                let symbol = Symbol("AAPL")!
                while sent < limit {
                    for _ in 0..<16 where sent < limit {
                        if sent > 4 && random.below(6) == 0 {
                            try client.cancel(token: token(sent - 1 - random.below(4), seed: seed))
                        } else {
                            let buy = random.below(2) == 0
                            let price = Price(2_300_000 + (buy ? 1 : -1) * Int(random.below(5)) * 100)
                            try client.enter(token: token(sent, seed: seed), side: buy ? .buy : .sell,
                                             shares: Shares(100 * (1 + random.below(5))), symbol: symbol, price: price)
                        }
                        sent += 1
                    }
                    while let packet = try client.poll(timeout: .milliseconds(1)) {
                        if case .sequenced(let message) = packet { record(message) }
                    }
                }
                // All sent: take the answers still coming until the connection breaks (the kill).
                while true {
                    if case .sequenced(let message) = try client.receive(timeout: .seconds(30)) { record(message) }
                }
            } catch {
                ended = "\(error)"
            }
        }
    }

    @Test(.enabled(if: built, "trading_exchange is not built: run `swift build --build-tests` (make test does)"),
          arguments: crashSeeds)
    func nothingAcknowledgedIsLostWhenTheProcessIsKilled(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let directory = try InstanceHygiene.Directory()
        let journal = directory.path + "/journal"
        let metrics = freePort()
        let tcp = freePort()
        var json = testConfiguration(metricsPort: metrics, name: "CRASH-\(getpid())-\(seed)", tcpPort: tcp)
        json = withDurability(json, #""mode": "sync", "directory": "\#(journal)""#)
        // The whole day stays in each session's in-memory history (serving older messages from
        // the journal is not built yet: docs/DURABILITY.md, "Status").
        json = json.replacingOccurrences(of: #""session_history_messages": 1024"#, with: #""session_history_messages": 65536"#)
        let config = directory.path + "/config.json"
        try json.write(toFile: config, atomically: true, encoding: .utf8)
        let counters = directory.path + "/counters"

        func startExchange() throws -> (Process, Pipe, Pipe) {
            let started = try Self.start([config, "--counters", counters])
            let ready = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(20)) {
                httpGet("http://127.0.0.1:\(metrics)/ready", timeout: 1)?.status == 200 || !started.0.isRunning
            }
            if !ready || !started.0.isRunning {
                kill(started.0.processIdentifier, SIGKILL)
                let run = Self.finish(started.0, started.1, started.2)
                Issue.record("the exchange did not become ready (status \(run.status)): \(run.errors.suffix(2_000))")
                throw CancellationError()
            }
            return started
        }

        // 1. Under load, killed at a seeded moment.
        let (first, firstOut, firstErr) = try startExchange()
        let traders = (1...4).map { Trader(username: "LOAD\($0)", index: $0) }
        let group = DispatchGroup()
        for trader in traders {
            DispatchQueue.global().async(group: group) { trader.run(port: tcp, seed: seed, limit: 3_000) }
        }
        let killAfter = 200 + random.below(2_500)
        let loaded = waitUntil(timeout: .seconds(60)) {
            traders.allSatisfy { $0.count > 1 } && traders.reduce(0) { $0 + $1.count } >= killAfter
        }
        kill(first.processIdentifier, SIGKILL)
        let killed = Self.finish(first, firstOut, firstErr)
        #expect(group.wait(timeout: .now() + 60) == .success, "a client thread did not end after the kill")
        #expect(loaded, "the clients received fewer than \(killAfter) messages before the kill")
        #expect(killed.status == SIGKILL)
        let before = traders.map(\.received)
        #expect(before.allSatisfy { !$0.isEmpty })

        // 2. Started again on the same journal: every session replays what its client saw.
        let (second, secondOut, secondErr) = try startExchange()
        var secondRun: Run?
        defer {
            if secondRun == nil {
                kill(second.processIdentifier, SIGKILL)
                _ = Self.finish(second, secondOut, secondErr)
            }
        }
        for (trader, seen) in zip(traders, before) {
            let client = try OrderEntryClient.connect(port: tcp, username: trader.username, password: trader.password, sequence: 1)
            defer { client.close() }
            // A marker order: everything before its answer is the day so far.
            let marker = OrderToken("MARK\(seed)-\(trader.index)")!
            try client.enter(token: marker, side: .buy, shares: 100, symbol: Symbol("MSFT")!, price: 4_000_000)
            // A token used before the kill is still used today.
            let reused = trader.token(0, seed: seed)
            try client.enter(token: reused, side: .buy, shares: 100, symbol: Symbol("MSFT")!, price: 4_000_000)
            var replayed: [SequencedMessage] = []
            var markerAccepted = false
            var reuseRejected = false
            while !(markerAccepted && reuseRejected) {
                let message = try client.nextMessage(timeout: .seconds(30))
                switch message.message {
                case .accepted(let a) where a.token == marker: markerAccepted = true
                // (Refused by risk — the account's open notional — is an answer as good.)
                case .rejected(_, let token, _) where token == marker: markerAccepted = true
                case .accepted(let a) where a.token == reused && markerAccepted:
                    Issue.record("\(trader.username): a token used before the kill was accepted again after the restart")
                    reuseRejected = true
                case .rejected(_, let token, let reason) where token == reused && markerAccepted:
                    #expect(reason == RejectReason.duplicateToken.ouchCode, "\(trader.username): token reused after restart: \(message)")
                    reuseRejected = true
                default: if !markerAccepted { replayed.append(message) }
                }
            }
            // Contiguous from 1, no repeat.
            #expect(replayed.enumerated().allSatisfy { $0.element.sequence == UInt64($0.offset + 1) },
                    "\(trader.username): the replayed sequence numbers are not 1, 2, 3 …")
            // What the client saw is a prefix of what the day holds, message for message.
            #expect(seen.count <= replayed.count, "\(trader.username): saw \(seen.count) messages, the restarted session holds \(replayed.count)")
            let prefix = Array(replayed.prefix(seen.count))
            if prefix != seen {
                let first = (0..<min(prefix.count, seen.count)).first { prefix[$0] != seen[$0] } ?? min(prefix.count, seen.count)
                Issue.record("\(trader.username): message \(first + 1) differs after the restart: before \(seen[safe: first].map(String.init(describing:)) ?? "-"), after \(prefix[safe: first].map(String.init(describing:)) ?? "-")")
            }
        }

        // 3. A clean stop still works on the recovered day, and the engine it stops with is the
        // one `rtes-journal replay` rebuilds from the journal alone (same state hash).
        second.terminate()
        secondRun = Self.finish(second, secondOut, secondErr)
        #expect(secondRun?.status == 0, "stderr: \(secondRun?.errors.suffix(2_000) ?? "")")
        let live = secondRun?.errors.range(of: #"engine state hash 0x[0-9a-f]{16}"#, options: .regularExpression)
            .map { String(secondRun!.errors[$0].suffix(18)) }
        let days = try FileManager.default.contentsOfDirectory(atPath: journal)
        let replay = Process()
        replay.executableURL = Self.executable.deletingLastPathComponent().appendingPathComponent("rtes-journal")
        replay.arguments = ["replay", journal + "/" + (days.first ?? ""), config]
        replay.environment = ["RTES_API_KEYS_FILE": devKeysPath]
        let out = Pipe()
        let err = Pipe()
        replay.standardOutput = out
        replay.standardError = err
        try replay.run()
        let replayed = Self.finish(replay, out, err)
        #expect(replayed.status == 0, "rtes-journal replay: \(replayed.errors)")
        let offline = replayed.output.range(of: #"state hash 0x[0-9a-f]{16}"#, options: .regularExpression)
            .map { String(replayed.output[$0].suffix(18)) }
        #expect(live != nil && live == offline, "live \(live ?? "none"), rtes-journal replay \(offline ?? "none")")
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

/// A torn tail is cut at start-up and the day goes on; a journal that cannot be recovered stops
/// start-up, saying what was found and how to start a new day; `--new-day` keeps it aside and
/// starts one.
extension ExchangeProcess {
    @Test(.enabled(if: built, "trading_exchange is not built: run `swift build --build-tests` (make test does)"))
    func aTornTailIsCutButADamagedJournalStopsStartUpAndNewDayKeepsItAside() throws {
        let directory = try InstanceHygiene.Directory()
        let journal = directory.path + "/journal"
        let metrics = freePort()
        var json = testConfiguration(metricsPort: metrics, name: "DAMAGED-\(getpid())")
        json = withDurability(json, #""mode": "sync", "directory": "\#(journal)""#)
        let config = directory.path + "/config.json"
        try json.write(toFile: config, atomically: true, encoding: .utf8)
        let counters = directory.path + "/counters"

        // A first run journals the start of the day, then stops cleanly.
        let (first, firstOut, firstErr) = try Self.start([config, "--counters", counters])
        let ready = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(20)) {
            httpGet("http://127.0.0.1:\(metrics)/ready", timeout: 1)?.status == 200
        }
        first.terminate()
        let firstRun = Self.finish(first, firstOut, firstErr)
        try #require(ready && firstRun.status == 0, "stderr: \(firstRun.errors.suffix(2_000))")
        let days = try FileManager.default.contentsOfDirectory(atPath: journal)
        try #require(days.count == 1, "\(days)")
        let day = journal + "/" + days[0]
        let segments = try FileManager.default.contentsOfDirectory(atPath: day).filter { $0.hasSuffix(".rtj") }.sorted()
        try #require(!segments.isEmpty)

        // A torn tail — the start of a record cut short after the last whole one, zeros after
        // it, as a crash mid-write leaves it — is cut at start-up, reported, and the day goes on.
        let before = try JournalReader.open(directory: day)
        let last = before.segments[before.segments.count - 1].path
        let torn = try #require(FileHandle(forUpdatingAtPath: last))
        try torn.seek(toOffset: UInt64(before.lastSegmentEnd))
        try torn.write(contentsOf: Data([0x12, 0x34, 0x56, 0x78, 88, 0, 0, 0, 0x2A, 0, 0, 0]))
        try torn.close()
        #expect(try JournalReader.open(directory: day).tornTail != nil)
        let (cut, cutOut, cutErr) = try Self.start([config, "--counters", counters])
        let cutServes = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(20)) {
            httpGet("http://127.0.0.1:\(metrics)/ready", timeout: 1)?.status == 200 || !cut.isRunning
        }
        cut.terminate()
        let cutRun = Self.finish(cut, cutOut, cutErr)
        #expect(cutServes && cutRun.status == 0, "stderr: \(cutRun.errors.suffix(2_000))")
        #expect(cutRun.errors.contains("torn tail cut") && cutRun.errors.contains("journaled commands replayed"),
                "\(cutRun.errors.suffix(2_000))")
        #expect(try JournalReader.open(directory: day).tornTail == nil)

        // Damage the first record's header (not a torn tail: a record follows it).
        let segment = day + "/" + segments[0]
        let handle = try #require(FileHandle(forUpdatingAtPath: segment))
        try handle.seek(toOffset: 4_096 + 8)
        try handle.write(contentsOf: Data([0xFF, 0xFF, 0xFF, 0xFF]))
        try handle.close()

        let (second, secondOut, secondErr) = try Self.start([config, "--counters", counters])
        let refused = Self.finish(second, secondOut, secondErr)
        #expect(refused.status == 1)
        #expect(refused.errors.contains("cannot be recovered") && refused.errors.contains("--new-day"), "\(refused.errors.suffix(2_000))")
        #expect(refused.errors.contains(segments[0]), "the damaged file is not named: \(refused.errors.suffix(2_000))")

        // --new-day: the damaged journal is kept aside, a new day starts and serves.
        let (third, thirdOut, thirdErr) = try Self.start([config, "--counters", counters, "--new-day"])
        let serving = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(20)) {
            httpGet("http://127.0.0.1:\(metrics)/ready", timeout: 1)?.status == 200 || !third.isRunning
        }
        third.terminate()
        let thirdRun = Self.finish(third, thirdOut, thirdErr)
        #expect(serving && thirdRun.status == 0, "stderr: \(thirdRun.errors.suffix(2_000))")
        // The new day on the same date has sessions of its own (a client and a feed handler
        // see a new day), and a restart within it keeps them.
        let newDaySession = try #require(TradingDay(name: days[0])?.orderEntrySession(ordinal: 1)).description
        #expect(thirdRun.errors.contains("session \(newDaySession)"), "\(thirdRun.errors.suffix(2_000))")
        let (fourth, fourthOut, fourthErr) = try Self.start([config, "--counters", counters])
        let again = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(20)) {
            httpGet("http://127.0.0.1:\(metrics)/ready", timeout: 1)?.status == 200 || !fourth.isRunning
        }
        fourth.terminate()
        let fourthRun = Self.finish(fourth, fourthOut, fourthErr)
        #expect(again && fourthRun.status == 0 && fourthRun.errors.contains("session \(newDaySession)"),
                "stderr: \(fourthRun.errors.suffix(2_000))")
        let after = try FileManager.default.contentsOfDirectory(atPath: journal).sorted()
        #expect(after.count == 2 && after.contains(days[0]) && after.contains { $0.hasPrefix(days[0] + ".set-aside-") }, "\(after)")
    }
}

/// In `sync`, a full disk stops acknowledgements — nothing is answered that is not on disk —
/// `/health` says why, and when space comes back every answer follows, none lost.
extension ExchangeProcess {
    static var mayMount: Bool { getuid() == 0 }

    @Test(.enabled(if: built, "trading_exchange is not built"),
          .enabled(if: mayMount, "mounting a small tmpfs for the journal needs root"))
    func aFullDiskStopsAnswersInSyncAndTheyAllFollowWhenSpaceReturns() throws {
        let directory = try InstanceHygiene.Directory()
        let mountPoint = directory.path + "/small-disk"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        func run(_ tool: String, _ arguments: [String]) -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return -1 }
            process.waitUntilExit()
            return process.terminationStatus
        }
        try #require(run("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint]) == 0, "mount tmpfs failed")
        defer { _ = run("/bin/umount", ["-l", mountPoint]) }
        let metrics = freePort()
        let tcp = freePort()
        var json = testConfiguration(metricsPort: metrics, name: "DISKFULL-\(getpid())", tcpPort: tcp)
        json = withDurability(json, #""mode": "sync", "directory": "\#(mountPoint)", "segment_bytes": 1048576, "group_commit_max_bytes": 65536"#)
        let config = directory.path + "/config.json"
        try json.write(toFile: config, atomically: true, encoding: .utf8)
        let (exchange, out, err) = try Self.start([config, "--counters", directory.path + "/counters"])
        var finished: Run?
        defer {
            if finished == nil {
                kill(exchange.processIdentifier, SIGKILL)
                _ = Self.finish(exchange, out, err)
            }
        }
        let ready = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(20)) {
            httpGet("http://127.0.0.1:\(metrics)/ready", timeout: 1)?.status == 200 || !exchange.isRunning
        }
        try #require(ready && exchange.isRunning)

        // Fill the disk beside the journal's preallocated segment.
        let filler = mountPoint + "/filler"
        _ = run("/bin/dd", ["if=/dev/zero", "of=" + filler, "bs=64k", "count=1000"])
        let client = try OrderEntryClient.connect(port: tcp, username: "LOAD1", password: "load1pass", sequence: 0)
        defer { client.close() }
        // Cancels of unknown orders, in bursts the client waits out (a client that outruns the
        // exchange's rings has its receives paused, and its sends would block this test): more
        // than the segment holds (56 bytes a record), so
        // the journal must roll, cannot create its next segment, and stalls; answers stop.
        let count = 30_000
        var answers = 0
        var sent = 0
        func take(_ wait: Duration) {
            while let packet = try? client.poll(timeout: wait) { if case .sequenced = packet { answers += 1 } }
        }
        var journalStalled = false
        while sent < count && !journalStalled {
            for _ in 0..<200 {
                try client.cancel(token: OrderToken(number: UInt64(sent)))
                sent += 1
            }
            // Until this burst is answered, or the exchange says its journal stalled.
            _ = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(5)) {
                take(.zero)
                if answers >= sent { return true }
                journalStalled = httpGet("http://127.0.0.1:\(metrics)/health", timeout: 1)?.body.contains("stalled") == true
                return journalStalled
            }
        }
        #expect(journalStalled && sent < count, "all \(sent) cancels were answered: the journal never stalled")
        var health: (status: Int, body: String)?
        let stalled = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(20)) {
            take(.zero)
            health = httpGet("http://127.0.0.1:\(metrics)/health", timeout: 1)
            return health?.body.contains("stalled") == true
        }
        #expect(stalled, "the journal never reported a stall: \(health?.body ?? "no answer")")
        #expect(health?.body.contains("errors_no_space") == true, "\(health?.body ?? "")")
        let whileStalled = answers
        #expect(whileStalled < sent, "every answer came although the journal could not make them durable")

        // Space again: the journal resumes and every answer follows, none lost, none twice.
        unlink(filler)
        let all = waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(1)) {
            take(.milliseconds(1))
            return answers >= sent
        }
        take(.milliseconds(100))
        #expect(all && answers == sent, "\(answers) answers of \(sent) after the disk recovered (\(whileStalled) while stalled)")
        let recovered = waitUntil(timeout: .seconds(10), pollInterval: .milliseconds(20)) {
            httpGet("http://127.0.0.1:\(metrics)/health", timeout: 1)?.body.contains("recovered from errors_no_space") == true
        }
        #expect(recovered)
        exchange.terminate()
        finished = Self.finish(exchange, out, err)
        #expect(finished?.status == 0, "stderr: \(finished?.errors.suffix(2_000) ?? "")")
    }
}
