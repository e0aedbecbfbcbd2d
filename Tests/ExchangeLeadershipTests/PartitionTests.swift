import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Testing

extension EtcdSuites {
    /// Partitions between hosts (docs/FAILOVER.md): etcd, the primary, the standby and the
    /// client each in a network namespace of their own, joined pairwise by veth links:
    ///
    ///     etcd 10.77.1.1 ─ 10.77.1.2 primary (a) 10.77.3.1 ─ 10.77.3.2 standby (b) 10.77.2.2 ─ 10.77.2.1 etcd
    ///     client 10.77.4.1 ─ 10.77.4.2 primary          client 10.77.5.1 ─ 10.77.5.2 standby
    ///
    /// A partition is one end of a link set down: nothing crosses, no reset is sent. Every
    /// process is killed by pid and every namespace deleted whatever the outcome; skipped, with
    /// the reason, where `ip netns add` fails or etcd or trading_exchange is missing.
    @Suite(.serialized, .enabled(if: EtcdServer.binary != nil, "\(EtcdServer.missing)"),
           .enabled(if: NetworkNamespaces.unavailable == nil, "network namespaces: \(NetworkNamespaces.unavailable ?? "")"),
           .enabled(if: FileManager.default.isExecutableFile(atPath: EtcdSuites.PromotionTests.executable.path),
                    "trading_exchange is not built: run `swift build --build-tests`"))
    struct PartitionTests {
        static let primaryAddress = ExchangeAddress(host: "10.77.4.2", port: 8888)
        static let standbyAddress = ExchangeAddress(host: "10.77.5.2", port: 8888)

        /// The four hosts, etcd, and the two exchanges (the primary in sync replication, the
        /// standby in async so that once promoted it answers without a standby of its own).
        final class Cluster {
            let hosts: NetworkNamespaces
            let place: EtcdSuites.PromotionTests.Place
            let etcdData: String
            var primary: Process?
            var standby: Process?

            init() throws {
                let hosts = try NetworkNamespaces(roles: ["e", "a", "b", "c"])
                let place = try EtcdSuites.PromotionTests.Place()
                let etcdData = "/dev/shm/\(hosts.prefix)-etcd"
                self.hosts = hosts
                self.place = place
                self.etcdData = etcdData
                try hosts.link("e", "ea", "10.77.1.1", "a", "ae", "10.77.1.2")
                try hosts.link("e", "eb", "10.77.2.1", "b", "be", "10.77.2.2")
                try hosts.link("a", "ab", "10.77.3.1", "b", "ba", "10.77.3.2")
                try hosts.link("c", "ca", "10.77.4.1", "a", "ac", "10.77.4.2")
                try hosts.link("c", "cb", "10.77.5.1", "b", "bc", "10.77.5.2")
                let peer = "http://127.0.0.1:2380"
                _ = try hosts.start(in: "e", [
                    EtcdServer.binary!, "--name", "rtes-partition", "--data-dir", etcdData,
                    "--listen-client-urls", "http://10.77.1.1:2379,http://10.77.2.1:2379", "--advertise-client-urls", "http://10.77.1.1:2379",
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "rtes-partition=\(peer)",
                    "--initial-cluster-state", "new",
                ], environment: ["PATH": "/usr/bin:/bin"], log: place.root + "/etcd.log")
            }

            deinit {
                hosts.remove()
                try? FileManager.default.removeItem(atPath: etcdData)
            }

            func log(_ name: String) -> String {
                String(((try? String(contentsOfFile: place.root + "/\(name).log", encoding: .utf8)) ?? "").suffix(3_000))
            }

            func counter(_ name: String, _ block: String, _ cell: String) -> UInt64 {
                ((try? CountersRegion.open(path: place.root + "/\(name).counters"))?.snapshot().block(block)?[cell]) ?? 0
            }

            func json(name: String, role: ReplicationRole, etcd: String) -> String {
                var knobs = ExchangeKnobs()
                let mode = role == .primary ? "sync" : "async"
                knobs.durability = #"{ "mode": "\#(mode)", "replication": "\#(mode)", "directory": "\#(place.root + "/" + name)", "segment_bytes": 1048576, "group_commit_max_bytes": 65536 }"#
                var json = knobs.json
                json = json.replacingOccurrences(of: #""bind_address": "127.0.0.1", "metrics_port": 65001, "tcp_port": 65002"#,
                                                 with: #""bind_address": "0.0.0.0", "metrics_port": 9090, "tcp_port": 8888"#)
                json = json.replacingOccurrences(of: #""market_data": { "#, with: #""market_data": { "retransmit_port": 9201, "snapshot_port": 9202, "#)
                let sections = """
                      "replication": { "role": "\(role)", "listen_address": "0.0.0.0", "listen_port": 9100, "primary": "10.77.3.1:9100" },
                      "leadership": { "endpoints": "\(etcd)", "key_prefix": "/rtes-partition", "candidate_name": "\(name)", "lease_ttl_seconds": 2 },
                      "auth": { "backoff_ms": 0, "max_backoff_ms": 0 },
                    """
                return json.replacingOccurrences(of: #""gateway": {"#, with: sections + #""gateway": {"#)
            }

            func startExchange(_ name: String, on role: String, replication: ReplicationRole, etcd: String) throws -> Process {
                let config = place.root + "/\(name).json"
                try json(name: name, role: replication, etcd: etcd).write(toFile: config, atomically: true, encoding: .utf8)
                var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RTES_") }
                environment["RTES_API_KEYS_FILE"] = devKeysPath
                return try hosts.start(in: role, [EtcdSuites.PromotionTests.executable.path, config, "--counters", place.root + "/\(name).counters"],
                                       environment: environment, log: place.root + "/\(name).log")
            }

            /// etcd answering on the primary's link, then the primary serving the client's host,
            /// then the standby connected to the primary.
            func start() throws {
                let etcdUp = hosts.onHost("a", timeout: .seconds(40)) {
                    waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(50)) {
                        (try? SoupConnection(host: "10.77.1.1", port: 2379, connectTimeout: .milliseconds(500))) != nil
                    }
                }
                try #require(etcdUp == true, "etcd does not listen on 10.77.1.1:2379: \(log("etcd"))")
                let primary = try startExchange("primary-a", on: "a", replication: .primary, etcd: "10.77.1.1:2379")
                self.primary = primary
                let serving = hosts.onHost("c", timeout: .seconds(70)) {
                    waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(50)) {
                        guard primary.isRunning else { return true }
                        return (try? OrderEntryClient.connect(host: PartitionTests.primaryAddress.host, port: 8888,
                                                              username: "LOAD8", password: "load8pass"))?.close() != nil
                    }
                }
                try #require(serving == true && primary.isRunning, "the primary does not serve 10.77.4.2:8888: \(log("primary-a"))")
                let standby = try startExchange("standby-b", on: "b", replication: .standby, etcd: "10.77.2.1:2379")
                self.standby = standby
                let connected = waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(20)) {
                    counter("standby-b", "replication", "connected") == 1 || !standby.isRunning
                }
                try #require(connected && standby.isRunning, "the standby did not connect: \(log("standby-b"))")
            }
        }

        /// Every sequenced message a client received, with the address it came from.
        final class TaggedLog: @unchecked Sendable {
            let lock = NSLock()
            var entries: [(message: SequencedMessage, from: ExchangeAddress, at: ContinuousClock.Instant)] = []
            var error: String?
            var failovers: [FailoverEvent] = []
            var count: Int { lock.withLock { entries.count } }
            func append(_ message: SequencedMessage, _ from: ExchangeAddress) { lock.withLock { entries.append((message, from, .now)) } }
        }

        static let policy = FailoverPolicy(maximumAttempts: 150, initialBackoff: .milliseconds(20), maximumBackoff: .milliseconds(100),
                                           loginTimeout: .seconds(10))

        static func enter(_ client: OrderEntryClient, _ n: Int) throws {
            try client.enter(token: OrderToken("P\(n)")!, side: .buy, shares: 100, symbol: Symbol("AAPL")!, price: Price(2_200_000 - (n % 500) * 100))
        }

        static func isAnswer(_ message: SequencedMessage) -> Bool {
            switch message.message {
            case .accepted, .rejected: true
            default: false
            }
        }

        /// The session as the exchange at `address` holds it, from sequence 1 (run on the client's host).
        static func session(at address: ExchangeAddress, count: Int) throws -> [SequencedMessage] {
            var reader: OrderEntryClient?
            _ = waitUntil(timeout: .seconds(20), pollInterval: .milliseconds(10)) {
                reader = try? OrderEntryClient.connect(host: address.host, port: address.port, username: "LOAD1", password: "load1pass", sequence: 1)
                return reader != nil
            }
            guard let reader else { throw ClientError.invalidArgument("no login at \(address)") }
            defer { reader.close() }
            return try reader.nextMessages(count, timeout: .seconds(30))
        }

        @Test func aPrimaryCutOffFromEtcdClosesItsSessionsAndTheClientResumesOnThePromotedStandby() throws {
            try Self.failOver(what: "primary cut off from etcd", policy: Self.policy,
                              reason: { if case .closedByPeer(let debug) = $0 { debug?.contains("no longer the primary") == true } else { false } }) { cluster in
                try cluster.hosts.setLink("e", "ea", up: false)
            }
        }

        /// The primary's host vanishes: every link of it down at once, so no connection of it is
        /// closed or reset — the client notices the silence (no Server Heartbeat for 2 s).
        @Test func aPrimaryHostThatVanishesIsNoticedBySilenceAndTheClientResumesOnThePromotedStandby() throws {
            var policy = Self.policy
            policy.silenceTimeout = .seconds(2)
            try Self.failOver(what: "primary host gone", policy: policy,
                              reason: { if case .connectionLost(ETIMEDOUT, _) = $0 { true } else { false } }) { cluster in
                try cluster.hosts.setLink("c", "ca", up: false)
                try cluster.hosts.setLink("e", "ea", up: false)
                try cluster.hosts.setLink("b", "ba", up: false)
            }
        }

        /// A client trading one order at a time on the primary until `partition`, then resuming on
        /// the promoted standby: nothing from the old primary after the new one's first answer, one
        /// sequence, and the new primary's session from 1 exactly the client's log.
        static func failOver(what: String, policy: FailoverPolicy, reason: (ClientError) -> Bool, partition: (Cluster) throws -> Void) throws {
            let started = ContinuousClock.now
            let cluster = try Cluster()
            try cluster.start()
            let log = TaggedLog()
            // The client: one order at a time until it has 20 answers from the standby (50 s at most).
            let client = cluster.hosts.onHostLater("c") {
                do {
                    // A connection attempt to a host that is gone times out (nothing answers): 500 ms.
                    let client = try OrderEntryClient.connect(addresses: [Self.primaryAddress, Self.standbyAddress], username: "LOAD1",
                                                              password: "load1pass", sequence: 1,
                                                              options: OrderEntryClient.Options(connectTimeout: .milliseconds(500)),
                                                              failover: policy, timeout: .seconds(10))
                    defer { client.close() }
                    client.onFailover = { event in log.lock.withLock { log.failovers.append(event) } }
                    let deadline = ContinuousClock.now + .seconds(50)
                    var n = 0
                    var fromStandby = 0
                    while fromStandby < 20 {
                        guard ContinuousClock.now < deadline else {
                            log.error = "not 20 answers from the standby within 50 s (\(fromStandby))"
                            return
                        }
                        try Self.enter(client, n)
                        n += 1
                        let failoversBefore = client.failoverCount
                        // The answer, or a failover (after which this order may never be answered).
                        while let packet = try client.poll(timeout: .seconds(30)) {
                            if case .sequenced(let message) = packet {
                                log.append(message, client.currentAddress)
                                if client.currentAddress == Self.standbyAddress { fromStandby += 1 }
                                if Self.isAnswer(message) { break }
                            }
                            if client.failoverCount != failoversBefore { break }
                        }
                    }
                    _ = try? client.logout(timeout: .seconds(2))
                } catch {
                    log.error = "\(error)"
                }
            }
            #expect(waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(5)) { log.count >= 50 || log.error != nil },
                    "the primary did not answer 50 orders: \(log.error ?? "")")

            let partitioned = ContinuousClock.now
            try partition(cluster)
            try #require(client.wait(timeout: .seconds(70)), "the client did not finish: \(cluster.log("standby-b"))")
            #expect(log.error == nil, "\(log.error ?? "")\nprimary: \(cluster.log("primary-a"))\nstandby: \(cluster.log("standby-b"))")

            let entries = log.lock.withLock { log.entries }
            let failovers = log.lock.withLock { log.failovers }
            #expect(failovers.count == 1, "\(failovers)")
            #expect(failovers.first?.to == Self.standbyAddress)
            #expect(failovers.first.map { reason($0.reason) } == true, "failed over for \(String(describing: failovers.first?.reason))")
            // Never an answer from the old primary after the new one's first.
            let firstFromStandby = entries.firstIndex { $0.from == Self.standbyAddress }
            #expect(firstFromStandby != nil, "no answer from the standby")
            if let firstFromStandby {
                let late = entries[firstFromStandby...].filter { $0.from != Self.standbyAddress }
                #expect(late.isEmpty, "answers from the old primary after the new one's first: \(late.map(\.message.sequence))")
                print("PartitionTests: \(what) → first answer from the promoted standby: \(entries[firstFromStandby].at - partitioned) (TTL 2 s)")
            }
            let messages = entries.map(\.message)
            #expect(messages.first?.sequence == 1)
            let gaps = zip(messages, messages.dropFirst()).filter { $1.sequence != $0.sequence + 1 }
            #expect(gaps.isEmpty, "sequence breaks: \(gaps.prefix(5).map { "\($0.0.sequence)→\($0.1.sequence)" })")
            #expect(cluster.counter("primary-a", "gateway_disconnects", "leadership_lost") >= 1, "the primary did not close its sessions")
            #expect(cluster.log("standby-b").contains("promoted: serving as primary"))

            // Zero acknowledged loss: the new primary holds every message the client received, the same.
            let held: [SequencedMessage]? = cluster.hosts.onHost("c", timeout: .seconds(60)) {
                try? Self.session(at: Self.standbyAddress, count: messages.count)
            } ?? nil
            let differs = held.map { firstDifference($0, messages) }
            #expect(held != nil && differs == .some(nil),
                    "the promoted standby's session differs from what the client received (\(held?.count ?? -1) messages read) at \(String(describing: differs))")
            print("PartitionTests: \(what): wall time \(ContinuousClock.now - started)")
        }

        @Test func aSyncPrimaryCutOffFromItsStandbyHoldsItsAnswersUntilTheLinkReturns() throws {
            let started = ContinuousClock.now
            let cluster = try Cluster()
            try cluster.start()
            let log = TaggedLog()
            let partitioned = DispatchSemaphore(value: 0)
            let quietDone = DispatchSemaphore(value: 0)
            let healed = DispatchSemaphore(value: 0)
            let warmedUp = DispatchSemaphore(value: 0)
            let quiet = TaggedLog()
            let client = cluster.hosts.onHostLater("c") {
                do {
                    let client = try OrderEntryClient.connect(addresses: [Self.primaryAddress, Self.standbyAddress], username: "LOAD1",
                                                              password: "load1pass", failover: Self.policy, timeout: .seconds(10))
                    defer { client.close() }
                    for n in 0..<20 { try Self.enter(client, n) }
                    for message in try client.nextMessages(20, timeout: .seconds(30)) { log.append(message, client.currentAddress) }
                    warmedUp.signal()
                    guard partitioned.wait(timeout: .now() + 30) == .success else { return }
                    // Cut off from its standby: five orders, and 3 s in which nothing is answered.
                    for n in 20..<25 { try Self.enter(client, n) }
                    for packet in try client.packets(for: .seconds(3)) {
                        if case .sequenced(let message) = packet { quiet.append(message, client.currentAddress) }
                    }
                    quietDone.signal()
                    guard healed.wait(timeout: .now() + 30) == .success else { return }
                    var answers = 0
                    let deadline = ContinuousClock.now + .seconds(30)
                    while answers < 5 && ContinuousClock.now < deadline {
                        let message = try client.nextMessage(timeout: .seconds(30))
                        log.append(message, client.currentAddress)
                        if Self.isAnswer(message) { answers += 1 }
                    }
                    if client.failoverCount != 0 { log.error = "failed over: \(String(describing: client.lastFailover))" }
                    _ = try? client.logout(timeout: .seconds(2))
                } catch {
                    log.error = "\(error)"
                }
            }
            defer { partitioned.signal(); healed.signal(); _ = client.wait(timeout: .seconds(70)) }
            try #require(warmedUp.wait(timeout: .now() + 60) == .success, "the primary did not answer 20 orders: \(log.error ?? "")")
            try cluster.hosts.setLink("a", "ab", up: false)
            partitioned.signal()
            try #require(quietDone.wait(timeout: .now() + 60) == .success, "\(log.error ?? "")")
            let heldDuring = (counter: cluster.counter("primary-a", "replication", "holding"),
                              connected: cluster.counter("primary-a", "replication", "connected"))
            try cluster.hosts.setLink("a", "ab", up: true)
            healed.signal()
            try #require(client.wait(timeout: .seconds(70)), "the client did not finish")
            #expect(log.error == nil, "\(log.error ?? "")\nprimary: \(cluster.log("primary-a"))")
            #expect(quiet.count == 0, "answers left a sync primary cut off from its standby: \(quiet.entries.map(\.message))")
            let entries = log.lock.withLock { log.entries }
            let messages = entries.map(\.message)
            #expect(entries.allSatisfy { $0.from == Self.primaryAddress })
            let gaps = zip(messages, messages.dropFirst()).filter { $1.sequence != $0.sequence + 1 }
            #expect(gaps.isEmpty, "sequence breaks: \(gaps.prefix(5).map { "\($0.0.sequence)→\($0.1.sequence)" })")
            let late = messages.filter { Self.isAnswer($0) }.suffix(5)
            let accepted = late.filter { if case .accepted = $0.message { true } else { false } }.count
            // What happens, reported: the held answers after the link returned.
            print("PartitionTests: standby partition (3 s, sync): nothing answered while cut off (holding=\(heldDuring.counter), "
                  + "connected=\(heldDuring.connected)); after the link returned: \(accepted) Accepted, \(late.count - accepted) Rejected "
                  + "(journal_stalled after the stall budget); wall time \(ContinuousClock.now - started)")
            // The standby caught up with everything the primary made durable.
            let durable = cluster.counter("primary-a", "journal", "durable_sequence")
            #expect(waitUntil(timeout: .seconds(30), pollInterval: .milliseconds(10)) {
                cluster.counter("standby-b", "replication", "acknowledged_durable") >= durable
            }, "the standby did not catch up with \(durable) after the link returned")
        }
    }
}

extension NetworkNamespaces {
    /// Runs `body` on a thread of its own inside the namespace of `role`, without waiting:
    /// `wait(timeout:)` on the result says whether it finished.
    func onHostLater(_ role: String, _ body: @escaping @Sendable () -> Void) -> HostThread {
        let done = DispatchSemaphore(value: 0)
        let path = "/run/netns/\(name(role))"
        let thread = Thread {
            defer { done.signal() }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            defer { close(fd) }
            guard Self.enter(fd) else { return }
            body()
        }
        thread.start()
        return HostThread(done: done)
    }
}

/// A thread started by `onHostLater`.
final class HostThread: @unchecked Sendable {
    let done: DispatchSemaphore
    private var finished = false

    init(done: DispatchSemaphore) { self.done = done }

    /// Whether it finished within `timeout` (or before).
    func wait(timeout: Duration) -> Bool {
        if finished { return true }
        let (seconds, attoseconds) = timeout.components
        finished = done.wait(timeout: .now() + .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))) == .success
        return finished
    }
}
