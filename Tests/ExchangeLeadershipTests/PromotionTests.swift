import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeJournal
import ExchangeLeadership
import ExchangeOps
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Logging
import Testing

extension EtcdSuites {
    /// The appliance in the election (docs/FAILOVER.md): a primary campaigns before it opens,
    /// journals its fencing token first and stops acknowledging when its lease is not confirmed;
    /// a standby promotes itself when the leader key goes, and a client resumes its session there.
    /// Each test starts its own etcd (skipped, saying why, when it is not installed) and in-process
    /// appliances on loopback; every wait is bounded and decides nothing by itself.
    @Suite(.serialized, .enabled(if: EtcdServer.binary != nil, "\(EtcdServer.missing)"))
    struct PromotionTests {
        final class Place {
            let root = NSTemporaryDirectory() + "rtes-promotion-\(getpid())-\(UUID().uuidString)"
            let keyPrefix = "/rtes-promotion-\(UInt32.random(in: 0...UInt32.max))"
            init() throws { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }
            deinit { try? FileManager.default.removeItem(atPath: root) }
        }

        static let logger = Logger(label: "promotion-test", factory: { _ in SwiftLogNoOpLogHandler() })

        /// An appliance drained when the test lets go of it, whatever happened.
        final class Running {
            var appliance: Appliance
            let configuration: ExchangeConfiguration
            let options: Appliance.Options
            private var drained = false

            init(_ configuration: ExchangeConfiguration, countersPath: String) throws {
                self.configuration = configuration
                options = Appliance.Options(countersPath: countersPath, apiKeys: devKeys)
                appliance = try Appliance.start(configuration, options: options, logger: EtcdSuites.PromotionTests.logger)
            }

            /// A standby that leads becomes the primary (`Appliance.promote`).
            func promote() throws {
                appliance = try appliance.promote(configuration, options: options)
            }

            @discardableResult
            func drain() -> CountersSnapshot? {
                guard !drained else { return nil }
                drained = true
                let final = appliance.drain()
                unlink(options.countersPath)
                unlink(InstanceLock.path(forCounters: options.countersPath))
                return final
            }

            deinit { drain() }

            func counter(_ block: String, _ name: String) -> UInt64 { appliance.counters.snapshot().block(block)?[name] ?? 0 }
        }

        static func configuration(_ place: Place, _ etcd: EtcdServer, name: String, journal: String, replication: ReplicationMode,
                                  role: ReplicationRole, primaryPort: Int = 0) throws -> ExchangeConfiguration {
            var knobs = ExchangeKnobs()
            knobs.durability = #"{ "mode": "async", "directory": "\#(place.root + "/" + journal)", "segment_bytes": 1048576, "group_commit_max_bytes": 65536 }"#
            var configuration = try ConfigurationLoader.load(json: knobs.json, source: "promotion-test.json", environment: [:],
                                                             host: .current()).configuration
            configuration.exchange.tcpPort = 0
            configuration.exchange.metricsPort = 0
            configuration.marketData.retransmitPort = 0
            configuration.marketData.snapshotPort = 0
            configuration.auth.backoffMilliseconds = 0
            configuration.auth.maxBackoffMilliseconds = 0
            configuration.durability.replication = replication
            configuration.replication.role = role
            configuration.replication.listenPort = 0
            configuration.replication.primary = .init(address: IPv4Address("127.0.0.1")!, port: UInt16(primaryPort))
            configuration.leadership.configured = true
            configuration.leadership.endpoints = [etcd.endpoint]
            configuration.leadership.keyPrefix = place.keyPrefix
            configuration.leadership.candidateName = name
            configuration.leadership.leaseTTLSeconds = 2
            return configuration
        }

        /// The old primary ("primary-a", its journal "a") restarted as a standby of the port.
        static func rejoin(_ place: Place, _ etcd: EtcdServer, port: Int, counters: String) throws -> Running {
            try Running(configuration(place, etcd, name: "primary-a", journal: "a", replication: .async, role: .standby, primaryPort: port),
                        countersPath: place.root + "/" + counters)
        }

        /// "following" once the standby is connected, "refused" once the primary refused a
        /// connection; nil when neither happens within 30 s.
        static func firstOutcome(of standby: Running, primary: Running, refusedBefore: UInt64) -> String? {
            var outcome: String?
            _ = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(10)) {
                if standby.counter("replication", "connected") == 1 { outcome = "following" }
                if primary.counter("replication", "refused") > refusedBefore { outcome = "refused" }
                return outcome != nil
            }
            return outcome
        }

        static func records(_ directory: String) throws -> [SequencedCommand] {
            let days = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.contains(".") }
            let reader = try JournalReader.open(directory: directory + "/" + (try #require(days.first)))
            var cursor = reader.records(from: 0)
            var all: [SequencedCommand] = []
            while let record = try cursor.next() { all.append(record) }
            return all
        }

        static func terms(_ records: [SequencedCommand]) -> [LeadershipTerm] {
            records.compactMap { if case .leadership(let term) = $0.command { term } else { nil } }
        }

        /// Every message of `account`'s session from sequence 1, as a client logging in from 1
        /// receives it: the Login Accepted's next sequence says how many there are.
        static func sessionMessages(port: Int, username: String, password: String) throws -> (messages: [SequencedMessage], next: UInt64) {
            let probe = try OrderEntryClient.connect(port: port, username: username, password: password)
            let next = probe.nextSequence
            probe.close()
            // The account's session is free again once the gateway has seen the close.
            var opened: OrderEntryClient?
            var lastError: (any Error)?
            _ = waitUntil(timeout: .seconds(20), pollInterval: .milliseconds(10)) {
                do {
                    opened = try OrderEntryClient.connect(port: port, username: username, password: password, sequence: 1)
                    return true
                } catch {
                    lastError = error
                    return false
                }
            }
            guard let reader = opened else { throw lastError ?? ClientError.invalidArgument("no login") }
            defer { reader.close() }
            let messages = next > 1 ? try reader.nextMessages(Int(next - 1), timeout: .seconds(30)) : []
            return (messages, next)
        }

        @Test func aPrimaryWinsJournalsItsFencingTokenFirstAndResignsWhenItStops() async throws {
            try await EtcdServer.with { etcd in
                let place = try Place()
                let configuration = try Self.configuration(place, etcd, name: "primary-a", journal: "a", replication: .none, role: .primary)
                let primary = try Running(configuration, countersPath: place.root + "/a.counters")
                let token = primary.appliance.fencingToken
                #expect(token > 0)
                #expect(primary.appliance.leadership?.state.role == .leader)
                #expect(primary.appliance.leadership?.state.fencingToken == token)

                let client = try OrderEntryClient.connect(port: primary.appliance.gatewayPort, username: "DEMO1", password: "demo1pass")
                try client.enter(token: OrderToken("LEAD1")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 2_300_000)
                let answers = try client.nextMessages(1, timeout: .seconds(30))
                #expect(answers.count == 1, "the leader answers")
                client.close()

                primary.drain()
                // Resigned: the key is gone at once.
                let (record, _) = try await etcd.client.get(key: configuration.leadership.leaderKey, timeout: .seconds(5))
                #expect(record == nil, "the leader key is still held: \(String(describing: record))")

                let records = try Self.records(place.root + "/a")
                let first = try #require(records.first)
                guard case .leadership(let term) = first.command else {
                    Issue.record("the first record is \(first), not the leadership record")
                    return
                }
                #expect(term.token == token)
                #expect(term.name == "primary-a")
                #expect(JournalRecord.text(first).contains("leadership"), "\(JournalRecord.text(first))")
                #expect(JournalRecord.text(first).contains("\(token)"), "\(JournalRecord.text(first))")
                if records.count > 1, case .startOfDay = records[1].command {} else { Issue.record("the start of day does not follow the leadership record: \(records.prefix(3))") }
            }
        }

        @Test func aPrimaryThatCannotReachEtcdStopsAcknowledgingWithinItsLease() async throws {
            try await EtcdServer.with { etcd in
                let place = try Place()
                let configuration = try Self.configuration(place, etcd, name: "primary-a", journal: "a", replication: .none, role: .primary)
                let primary = try Running(configuration, countersPath: place.root + "/a.counters")
                defer { etcd.resume() }
                let client = try OrderEntryClient.connect(port: primary.appliance.gatewayPort, username: "DEMO1", password: "demo1pass")
                defer { client.close() }
                try client.enter(token: OrderToken("BEFORE")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 2_300_000)
                #expect(try client.nextMessages(1, timeout: .seconds(30)).count == 1)

                etcd.pause()
                // The gate closes at the lease's local deadline (at most one TTL after the stop).
                let closed = waitUntil(timeout: .seconds(20), pollInterval: .milliseconds(10)) { !(primary.appliance.leadership?.isLeading ?? true) }
                #expect(closed, "the primary still acknowledges with etcd stopped: \(String(describing: primary.appliance.leadership?.state))")

                // Its sessions are closed with the reason (their clients go to the standby), with
                // nothing more acknowledged; a new login is refused.
                let reason = "RTES: disconnected: this exchange is no longer the primary (its leadership lapsed); log in at the standby"
                #expect(throws: ClientError.closedByPeer(debug: reason), "the session was not closed after the lease lapsed") {
                    _ = try client.nextMessages(1, timeout: .seconds(30))
                }
                #expect(throws: ClientError.self, "a login was accepted after the lease lapsed") {
                    try OrderEntryClient.connect(port: primary.appliance.gatewayPort, username: "DEMO2", password: "demo2pass")
                }
                #expect(primary.counter("gateway_disconnects", "leadership_lost") >= 1)
                etcd.resume()
                // It does not reopen by itself: it never journaled a new term.
                #expect(primary.appliance.leadership?.isLeading == false)
                primary.drain()
                let records = try Self.records(place.root + "/a")
                #expect(Self.terms(records).count == 1)
            }
        }

        @Test func aStandbyPromotesItselfWhenThePrimaryGoesAndClientsResumeTheirSessionsAndTheFeed() async throws {
            try await EtcdServer.with { etcd in
                let place = try Place()
                let primary = try Running(Self.configuration(place, etcd, name: "primary-a", journal: "a", replication: .async, role: .primary),
                                          countersPath: place.root + "/a.counters")
                let standby = try Running(Self.configuration(place, etcd, name: "standby-b", journal: "b", replication: .async, role: .standby,
                                                             primaryPort: primary.appliance.replicationPort),
                                          countersPath: place.root + "/b.counters")
                let tokenA = primary.appliance.fencingToken
                #expect(waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(10)) {
                    standby.appliance.leadership?.state.role == .follower && standby.appliance.leadership?.state.leaderName == "primary-a"
                }, "the standby does not follow primary-a: \(String(describing: standby.appliance.leadership?.state))")
                #expect(!standby.appliance.promotionDue)

                // Trading on the primary; every order answered.
                let buyer = try OrderEntryClient.connect(port: primary.appliance.gatewayPort, username: "DEMO1", password: "demo1pass")
                let seller = try OrderEntryClient.connect(port: primary.appliance.gatewayPort, username: "DEMO2", password: "demo2pass")
                for i in 0..<5 {
                    try seller.enter(token: OrderToken("S\(i)")!, side: .sell, shares: 100, symbol: Symbol("AAPL")!, price: 2_300_000)
                    try buyer.enter(token: OrderToken("B\(i)")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 2_300_000)
                }
                _ = try seller.nextMessages(5, timeout: .seconds(30))
                _ = try buyer.nextMessages(5, timeout: .seconds(30))
                buyer.close()
                seller.close()
                let acknowledged = try Self.sessionMessages(port: primary.appliance.gatewayPort, username: "DEMO1", password: "demo1pass")
                #expect(acknowledged.messages.count >= 10, "accepted and executed: \(acknowledged.messages.count)")
                let target = primary.counter("journal", "durable_sequence")
                let feedNext = primary.counter("market_data", "next_sequence")
                #expect(waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(10)) {
                    standby.counter("replication", "applied_sequence") >= target && standby.counter("replication", "acknowledged_durable") >= target
                }, "the standby did not catch up with \(target)")
                let sessionName = primary.appliance.sessionName
                let feedSession = primary.appliance.feedSessionName

                // The primary goes (its seat resigns: the key goes at once).
                primary.drain()
                #expect(waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(10)) { standby.appliance.promotionDue },
                        "the standby did not win: \(String(describing: standby.appliance.leadership?.state))")
                try standby.promote()
                let promoted = standby.appliance
                #expect(promoted.fencingToken > tokenA)
                #expect(promoted.sessionName == sessionName)
                #expect(promoted.feedSessionName == feedSession)
                #expect(promoted.gatewayPort > 0)

                // The session continues: every acknowledged message again from 1, the same.
                let resumed = try Self.sessionMessages(port: promoted.gatewayPort, username: "DEMO1", password: "demo1pass")
                #expect(resumed.next > acknowledged.next - 1)
                #expect(Array(resumed.messages.prefix(acknowledged.messages.count)) == acknowledged.messages)
                // A client that names its next sequence resumes there, and is answered.
                let client = try OrderEntryClient.connect(port: promoted.gatewayPort, username: "DEMO1", password: "demo1pass",
                                                          session: sessionName, sequence: resumed.next)
                defer { client.close() }
                #expect(client.nextSequence == resumed.next)
                try client.enter(token: OrderToken("AFTERPROMO")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 2_290_000)
                let answer = try client.nextMessages(1, timeout: .seconds(30))
                #expect(answer.first?.sequence == resumed.next)
                // The feed continues its sequence.
                #expect(standby.counter("market_data", "next_sequence") >= feedNext)

                // The standby's journal: primary-a's term, then its own with the higher token.
                // The old primary comes back as the new one's standby, with its own journal: it follows
                // when it holds nothing beyond where the new term began; otherwise (it journaled records
                // the new primary never received: the time passing, its drain) it is refused as
                // diverged, and follows from nothing once its journal is moved aside.
                let first = try Self.rejoin(place, etcd, port: promoted.replicationPort, counters: "a2.counters")
                let refusedBefore = standby.counter("replication", "refused")
                let outcome = Self.firstOutcome(of: first, primary: standby, refusedBefore: refusedBefore)
                #expect(outcome != nil, "the old primary neither follows nor is refused")
                print("PromotionTests: the old primary restarted as standby with its journal: \(outcome ?? "no outcome")")
                let rejoined: Running
                if outcome == "refused" {
                    first.drain()
                    try FileManager.default.moveItem(atPath: place.root + "/a", toPath: place.root + "/a.diverged")
                    rejoined = try Self.rejoin(place, etcd, port: promoted.replicationPort, counters: "a3.counters")
                } else {
                    rejoined = first
                }
                let newDurable = standby.counter("journal", "durable_sequence")
                #expect(waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(10)) {
                    rejoined.counter("replication", "applied_sequence") >= newDurable
                }, "the old primary (\(outcome ?? "no outcome")) did not catch up with the new one's \(newDurable)")
                #expect(waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(10)) {
                    rejoined.appliance.leadership?.state.role == .follower && rejoined.appliance.leadership?.state.leaderName == "standby-b"
                }, "\(String(describing: rejoined.appliance.leadership?.state))")
                #expect(!rejoined.appliance.promotionDue)
                rejoined.drain()

                let tokenB = promoted.fencingToken
                standby.drain()
                let terms = Self.terms(try Self.records(place.root + "/b"))
                #expect(terms.map(\.token) == [tokenA, tokenB])
                #expect(terms.map(\.name) == ["primary-a", "standby-b"])
            }
        }

        // MARK: Child processes: the primary killed with SIGKILL

        static var executable: URL {
            var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("trading_exchange").path) && directory.path != "/" {
                directory.deleteLastPathComponent()
            }
            return directory.appendingPathComponent("trading_exchange")
        }

        /// A `trading_exchange` child: its configuration file, its counters, its stderr in a file;
        /// killed (SIGKILL) at the end whatever happened.
        final class Child {
            let process = Process()
            let counters: String
            let log: String

            init(_ place: Place, name: String, json: String, arguments: [String] = []) throws {
                let config = place.root + "/\(name).json"
                try json.write(toFile: config, atomically: true, encoding: .utf8)
                counters = place.root + "/\(name).counters"
                log = place.root + "/\(name).log"
                FileManager.default.createFile(atPath: log, contents: nil)
                process.executableURL = EtcdSuites.PromotionTests.executable
                process.arguments = [config, "--counters", counters] + arguments
                var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RTES_") }
                environment["RTES_API_KEYS_FILE"] = devKeysPath
                process.environment = environment
                let handle = try #require(FileHandle(forWritingAtPath: log))
                process.standardOutput = handle
                process.standardError = handle
                try process.run()
            }

            func counter(_ block: String, _ name: String) -> UInt64 {
                ((try? CountersRegion.open(path: counters))?.snapshot().block(block)?[name]) ?? 0
            }

            var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

            func kill(_ signal: Int32 = SIGKILL) {
                if process.isRunning { Glibc.kill(process.processIdentifier, signal) }
            }

            deinit {
                kill()
                process.waitUntilExit()
            }
        }

        static func childJSON(_ place: Place, _ etcd: EtcdServer, name: String, ports: (tcp: Int, metrics: Int, replication: Int),
                              role: ReplicationRole, primaryReplicationPort: Int) -> String {
            var knobs = ExchangeKnobs()
            knobs.udpPort = freePort()
            knobs.durability = #"{ "mode": "async", "replication": "async", "directory": "\#(place.root + "/" + name)", "segment_bytes": 1048576, "group_commit_max_bytes": 65536 }"#
            var json = knobs.json
            json = json.replacingOccurrences(of: #""metrics_port": 65001, "tcp_port": 65002"#,
                                             with: #""metrics_port": \#(ports.metrics), "tcp_port": \#(ports.tcp)"#)
            json = json.replacingOccurrences(of: #""market_data": { "#,
                                             with: #""market_data": { "retransmit_port": \#(freePort()), "snapshot_port": \#(freePort()), "#)
            let sections = """
                  "replication": { "role": "\(role)", "listen_port": \(ports.replication), "primary": "127.0.0.1:\(primaryReplicationPort)" },
                  "leadership": { "endpoints": "\(etcd.endpoint)", "key_prefix": "\(place.keyPrefix)", "candidate_name": "\(name)",
                                  "lease_ttl_seconds": 2 },
                  "auth": { "backoff_ms": 0, "max_backoff_ms": 0 },
                """
            json = json.replacingOccurrences(of: #""gateway": {"#, with: sections + #""gateway": {"#)
            return json
        }

        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: EtcdSuites.PromotionTests.executable.path),
                       "trading_exchange is not built: run `swift build --build-tests`"))
        func aKilledPrimaryIsSucceededByItsStandbyWhichClientsResumeOn() async throws {
            try await EtcdServer.with { etcd in
                let place = try Place()
                let a = (tcp: freePort(), metrics: freePort(), replication: freePort())
                let b = (tcp: freePort(), metrics: freePort(), replication: freePort())
                let primary = try Child(place, name: "primary-a", json: Self.childJSON(place, etcd, name: "primary-a", ports: a, role: .primary,
                                                                                      primaryReplicationPort: a.replication))
                var login: OrderEntryClient?
                _ = waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(20)) {
                    login = try? OrderEntryClient.connect(port: a.tcp, username: "DEMO1", password: "demo1pass")
                    return login != nil || !primary.process.isRunning
                }
                let buyer = try #require(login, "the primary does not serve: \(primary.output.suffix(3_000))")
                let standby = try Child(place, name: "standby-b", json: Self.childJSON(place, etcd, name: "standby-b", ports: b, role: .standby,
                                                                                      primaryReplicationPort: a.replication))
                let seller = try OrderEntryClient.connect(port: a.tcp, username: "DEMO2", password: "demo2pass")
                for i in 0..<5 {
                    try seller.enter(token: OrderToken("KS\(i)")!, side: .sell, shares: 100, symbol: Symbol("AAPL")!, price: 2_300_000)
                    try buyer.enter(token: OrderToken("KB\(i)")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 2_300_000)
                }
                _ = try seller.nextMessages(5, timeout: .seconds(30))
                _ = try buyer.nextMessages(5, timeout: .seconds(30))
                buyer.close()
                seller.close()
                let acknowledged = try Self.sessionMessages(port: a.tcp, username: "DEMO1", password: "demo1pass")
                #expect(acknowledged.messages.count >= 10)
                let target = primary.counter("journal", "durable_sequence")
                let feedNext = primary.counter("market_data", "next_sequence")
                #expect(waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(10)) {
                    standby.counter("replication", "acknowledged_durable") >= target
                }, "the standby did not catch up with \(target): \(standby.output.suffix(3_000))")

                // kill -9: no resignation; the standby wins once the lease expires in etcd.
                let killed = ContinuousClock.now
                primary.kill()
                primary.process.waitUntilExit()
                var resumedClient: OrderEntryClient?
                _ = waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(20)) {
                    resumedClient = try? OrderEntryClient.connect(port: b.tcp, username: "DEMO1", password: "demo1pass", sequence: 1)
                    return resumedClient != nil || !standby.process.isRunning
                }
                let resumed = try #require(resumedClient, "the standby did not open for business: \(standby.output.suffix(3_000))")
                // Reported, not asserted (timing is the benchmark's): kill -9 → a login accepted by the new primary.
                print("PromotionTests: kill -9 of the primary → login accepted by the promoted standby: \(ContinuousClock.now - killed) (TTL 2 s)")
                let replayed = try resumed.nextMessages(acknowledged.messages.count, timeout: .seconds(30))
                #expect(replayed == acknowledged.messages, "the session on the promoted standby differs")
                try resumed.enter(token: OrderToken("AFTERKILL")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: 2_290_000)
                let answered = waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(1)) {
                    ((try? resumed.nextMessages(1, timeout: .seconds(1))) ?? []).contains {
                        if case .accepted = $0.message { true } else { false }
                    }
                }
                #expect(answered, "no Accepted from the promoted standby")
                resumed.close()
                #expect(standby.counter("market_data", "next_sequence") >= feedNext, "the feed did not continue its sequence")
                standby.kill(SIGTERM)
                standby.process.waitUntilExit()
                #expect(standby.process.terminationStatus == 0, "\(standby.output.suffix(3_000))")
                #expect(standby.output.contains("promoted: serving as primary"), "\(standby.output.suffix(3_000))")
                let terms = Self.terms(try Self.records(place.root + "/standby-b"))
                #expect(terms.map(\.name) == ["primary-a", "standby-b"])
                #expect(terms.count == 2 && terms[1].token > terms[0].token)
            }
        }
    }
}
