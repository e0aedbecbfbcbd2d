import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import ExchangeOps
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Testing

extension EtcdSuites {
    /// The old primary rejoins as the new primary's standby (docs/FAILOVER.md, "An old primary
    /// rejoins"). Two `trading_exchange` processes and an etcd started by the test, all killed
    /// whatever the outcome; every wait bounded, none deciding an outcome.
    @Suite(.serialized, .enabled(if: EtcdServer.binary != nil, "\(EtcdServer.missing)"))
    struct RejoinTests {
        typealias Child = EtcdSuites.PromotionTests.Child
        typealias Trade = EtcdSuites.FailoverClientTests

        /// Under load in sync replication, the standby dies (SIGKILL): the primary goes on
        /// journaling what clients send but, with no standby to acknowledge it, answers nothing
        /// more. The primary is then killed (SIGKILL); the standby restarts, wins once the lease
        /// expires and is promoted from its own journal, which lacks the primary's last records;
        /// the client fails over to it. The old primary restarted as the new one's standby is
        /// refused as diverged: with `--on-divergence refuse` it stops (exit 1) naming it, its
        /// journal untouched; with `move_aside` its day moves to `<day>.diverged-<time>` and it
        /// follows the new primary from sequence 1 to the same journal and state hash. From the
        /// client's own log: everything it was answered is in the new primary's session, and no
        /// order of the diverged tail was ever answered (nothing acknowledged was lost).
        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: EtcdSuites.PromotionTests.executable.path),
                       "trading_exchange is not built: run `swift build --build-tests`"))
        func aKilledOldPrimaryRejoinsAsTheNewStandbyOnlyAfterMovingItsDivergedJournalAside() async throws {
            let started = ContinuousClock.now
            try await EtcdServer.with { etcd in
                let place = try EtcdSuites.PromotionTests.Place()
                let a = (tcp: freePort(), metrics: freePort(), replication: freePort())
                let b = (tcp: freePort(), metrics: freePort(), replication: freePort())
                let primaryJSON = Trade.json(place, etcd, name: "primary-a", ports: a, role: .primary, primaryReplicationPort: a.replication)
                let standbyJSON = Trade.json(place, etcd, name: "standby-b", ports: b, role: .standby, primaryReplicationPort: a.replication)
                let primary = try Child(place, name: "primary-a", json: primaryJSON)
                #expect(waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(20)) {
                    primary.counter("gateway", "listening") == 1 || !primary.process.isRunning
                })
                try #require(primary.counter("gateway", "listening") == 1, "the primary does not serve: \(primary.output.suffix(3_000))")
                var standby = try Child(place, name: "standby-b", json: standbyJSON)
                #expect(waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(20)) {
                    standby.counter("replication", "connected") == 1 || !standby.process.isRunning
                })
                try #require(standby.counter("replication", "connected") == 1, "the standby did not connect: \(standby.output.suffix(2_000))")

                let log = Trade.AnswerLog()
                let orders = 1_500
                let addresses = [ExchangeAddress(port: a.tcp), ExchangeAddress(port: b.tcp)]
                let thread = Thread { Trade.trade(log, addresses: addresses, orders: orders, window: 8) }
                thread.start()
                #expect(waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(2)) { log.count >= orders / 3 || log.error != nil },
                        "the primary did not answer \(orders / 3) orders: \(log.error ?? "") \(primary.output.suffix(2_000))")
                // A second session, logged in while the standby still acknowledges, sends its
                // orders only after the standby died: they are surely in the old primary's journal
                // and in no other (the first client's window may all have reached the standby
                // before it died, which left the diverged tail without an order).
                let late = try OrderEntryClient.connect(addresses: [ExchangeAddress(port: a.tcp)], username: "LOAD2", password: "load2pass",
                                                        sequence: 1, timeout: .seconds(10))
                defer { late.close() }
                // The standby dies under load: the primary holds its output from here.
                standby.kill()
                standby.process.waitUntilExit()
                let lateTokens = (0..<4).map { OrderToken("LATE\($0)")! }
                for (i, token) in lateTokens.enumerated() {
                    try late.enter(token: token, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: Price(2_000_000 - i * 100))
                }
                // Until the old primary's journal holds them (read as it grows; a record being
                // written makes a read fail, and the next poll reads again).
                #expect(waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(5)) {
                    guard let records = try? EtcdSuites.PromotionTests.records(place.root + "/primary-a") else { return false }
                    let journaled = Set(records.compactMap { if case .enter(let order) = $0.command { order.token } else { nil } })
                    return Set(lateTokens).isSubset(of: journaled)
                }, "the primary did not journal the late session's orders: \(primary.output.suffix(2_000))")
                // The client's window fills with orders the primary journals but no standby
                // acknowledged (they are never answered); then the primary dies.
                #expect(waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(5)) {
                    primary.counter("replication", "lag_records") >= 8
                }, "the primary did not journal the client's window: \(primary.output.suffix(2_000))")
                primary.kill()
                primary.process.waitUntilExit()

                // The standby restarts from its own journal, wins once the lease expires and is promoted.
                standby = try Child(place, name: "standby-b", json: standbyJSON)
                let finished = log.finished.wait(timeout: .now() + 90) == .success
                try #require(finished, "the client did not finish within 90 s: \(log.count) messages, \(standby.output.suffix(3_000))")
                #expect(log.error == nil, "\(log.error ?? "")\n\(standby.output.suffix(3_000))")
                #expect(standby.output.contains("promoted: serving as primary"), "\(standby.output.suffix(3_000))")
                let messages = log.lock.withLock { log.messages }
                let gaps = zip(messages, messages.dropFirst()).filter { $1.sequence != $0.sequence + 1 }
                #expect(messages.first?.sequence == 1 && gaps.isEmpty, "sequence breaks: \(gaps.prefix(5).map { "\($0.0.sequence)→\($0.1.sequence)" })")
                // Zero acknowledged loss: every order the client saw accepted is entered in the new
                // primary's journal, once. (Checked against the journal: replaying this session from
                // sequence 1 on a standby restarted after SIGKILL and then promoted was refused by
                // the journal archive here — a separate finding, see the report.)
                let journaled = try EtcdSuites.PromotionTests.records(place.root + "/standby-b")
                var entered: [OrderToken: Int] = [:]
                for record in journaled { if case .enter(let order) = record.command { entered[order.token, default: 0] += 1 } }
                let acceptedTokens = messages.compactMap { if case .accepted(let a) = $0.message { a.token } else { nil } }
                let missing = acceptedTokens.filter { entered[$0] != 1 }
                #expect(!acceptedTokens.isEmpty && missing.isEmpty, "accepted but not entered once in the new primary's journal: \(missing.prefix(5))")
                let aDirectory = place.root + "/primary-a"
                let oldRecords = try EtcdSuites.PromotionTests.records(aDirectory)

                // refuse (the default, said explicitly): the old primary stops, naming the divergence; nothing moves.
                let oldStandbyJSON = Trade.json(place, etcd, name: "primary-a", ports: a, role: .standby, primaryReplicationPort: b.replication)
                let refusing = try Child(place, name: "primary-a", json: oldStandbyJSON, arguments: ["--on-divergence", "refuse"])
                #expect(waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(20)) { !refusing.process.isRunning },
                        "the diverged standby did not stop: \(refusing.output.suffix(3_000))")
                refusing.kill()
                refusing.process.waitUntilExit()
                #expect(refusing.process.terminationStatus == 1, "\(refusing.output.suffix(3_000))")
                #expect(refusing.output.contains("refused this standby as diverged: diverged:")
                        && refusing.output.contains("replication.on_divergence is refuse"), "\(refusing.output.suffix(3_000))")
                #expect(try EtcdSuites.PromotionTests.records(aDirectory).count == oldRecords.count, "refuse changed the journal")
                #expect(try FileManager.default.contentsOfDirectory(atPath: aDirectory).allSatisfy { !$0.contains(".diverged-") })

                // move_aside: the day moves aside (kept) and the old primary follows the new one from 1.
                let rejoined = try Child(place, name: "primary-a", json: oldStandbyJSON, arguments: ["--on-divergence", "move_aside"])
                let target = standby.counter("journal", "durable_sequence")
                #expect(waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(20)) {
                    rejoined.counter("replication", "state_hash_sequence") >= target || !rejoined.process.isRunning
                }, "the rejoined standby did not catch up with \(target): \(rejoined.output.suffix(3_000))")
                #expect(rejoined.output.contains("replication.on_divergence move_aside"), "\(rejoined.output.suffix(3_000))")
                let asides = try FileManager.default.contentsOfDirectory(atPath: aDirectory).filter { $0.contains(".diverged-") }
                let listing = (try? FileManager.default.contentsOfDirectory(atPath: aDirectory)) ?? []
                try #require(asides.count == 1, "\(listing)")
                let aside = aDirectory + "/" + asides[0]
                // A stable pair: the same non-zero sequence before and after reading the hash.
                var hash: UInt64 = 0
                var hashed: UInt64 = 0
                #expect(waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(5)) {
                    let first = rejoined.counter("replication", "state_hash_sequence")
                    hash = rejoined.counter("replication", "state_hash")
                    hashed = rejoined.counter("replication", "state_hash_sequence")
                    return first != 0 && first == hashed
                })
                // The follower's journal first: the new primary journals on (its clock advances).
                let followed = try EtcdSuites.PromotionTests.records(aDirectory)
                let newRecords = try EtcdSuites.PromotionTests.records(place.root + "/standby-b")
                #expect(followed.count >= Int(hashed) && newRecords.count >= followed.count)
                #expect(zip(followed, newRecords).allSatisfy { $0.0 == $0.1 }, "the rejoined standby's journal is not the new primary's")
                let configuration = try ConfigurationLoader.load(json: standbyJSON, source: "rejoin.json", environment: [:], host: .current())
                    .configuration
                var replica = DayReplica(configuration: configuration, keys: devKeys, feedSession: SoupSessionName("TESTSESS01")!)
                for record in newRecords.prefix(Int(hashed)) { replica.apply(record) }
                #expect(hash == replica.engine.stateHash(), "the rejoined standby's state hash differs from the new primary's journal's")

                // What was moved aside is the old journal, whole; its tail after the new term began was never acknowledged.
                let reader = try JournalReader.open(directory: aside)
                var cursor = reader.records(from: 0)
                var asideRecords: [SequencedCommand] = []
                while let record = try cursor.next() { asideRecords.append(record) }
                #expect(asideRecords == oldRecords)
                let termStart = try #require(newRecords.first { if case .leadership(let term) = $0.command { term.name == "standby-b" } else { false } })
                    .sequence
                #expect(zip(asideRecords, newRecords).prefix(Int(termStart) - 1).allSatisfy { $0.0 == $0.1 }, "no common prefix")
                let tail = asideRecords.filter { $0.sequence >= termStart }
                let tailTokens = Set(tail.compactMap { if case .enter(let order) = $0.command { order.token } else { nil } })
                #expect(Set(lateTokens).isSubset(of: tailTokens), "the late session's orders are not in the diverged tail: \(tailTokens.prefix(5))")
                // What the late session was sent before its primary died: none of its orders answered.
                var lateMessages: [SequencedMessage] = []
                while let packet = try? late.poll(timeout: .seconds(2)) {
                    if case .sequenced(let message) = packet { lateMessages.append(message) }
                }
                let answered = Set((messages + lateMessages).compactMap { message -> OrderToken? in
                    switch message.message {
                    case .accepted(let accepted): accepted.token
                    case .rejected(_, let token, _): token
                    default: nil
                    }
                })
                #expect(answered.isDisjoint(with: tailTokens), "acknowledged orders in the diverged tail: \(answered.intersection(tailTokens).prefix(5))")
                print("RejoinTests: the old primary's journal held \(asideRecords.count) records, \(tail.count) after the new term began at "
                      + "\(termStart) (\(tailTokens.count) orders, none answered); rejoined and matched the new primary's hash at \(hashed)")
                rejoined.kill(SIGTERM)
                standby.kill(SIGTERM)
                rejoined.process.waitUntilExit()
                standby.process.waitUntilExit()
            }
            print("RejoinTests: wall time \(ContinuousClock.now - started)")
        }
    }
}
