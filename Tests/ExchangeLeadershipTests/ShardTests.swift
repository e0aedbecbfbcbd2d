import ExchangeClient
import ExchangeConfig
import ExchangeCore
import ExchangeTestRig
import ExchangeTestSupport
import ExchangeWire
import Foundation
import Testing

extension EtcdSuites {
    /// Two shards (docs/SHARDS.md): two primaries, each owning its symbols with its own standby,
    /// leader key, journal and ITCH group, from one shard map. A client routes by symbol with
    /// `ShardedClient`; one shard's primary is killed with SIGKILL: that shard fails over, the
    /// other keeps accepting orders throughout. Four `trading_exchange` processes and an etcd
    /// started by the test, all killed whatever the outcome; every wait bounded.
    @Suite(.serialized, .enabled(if: EtcdServer.binary != nil, "\(EtcdServer.missing)"))
    struct ShardTests {
        typealias Child = EtcdSuites.PromotionTests.Child
        typealias Place = EtcdSuites.PromotionTests.Place
        typealias Ports = (tcp: Int, metrics: Int, replication: Int)

        /// One shard of the test: its name, symbols, feed port and its two hosts' ports.
        struct TestShard {
            let name: String
            let symbols: [String]
            let udpPort = freePort()
            let primary: Ports = (freePort(), freePort(), freePort())
            let standby: Ports = (freePort(), freePort(), freePort())

            var mapEntry: String {
                """
                { "name": "\(name)", "symbols": [\(symbols.map { "\"\($0)\"" }.joined(separator: ", "))],
                  "order_entry": ["127.0.0.1:\(primary.tcp)", "127.0.0.1:\(standby.tcp)"], "itch": "239.0.0.1:\(udpPort)" }
                """
            }
        }

        /// A process of `shard`: the primary in sync replication, the standby in async (so that
        /// once promoted it answers without a standby of its own), as in `FailoverClientTests`.
        static func json(_ place: Place, _ etcd: EtcdServer, _ shard: TestShard, host: String, role: ReplicationRole, map: String) -> String {
            let ports = role == .primary ? shard.primary : shard.standby
            var json = FailoverClientTests.json(place, etcd, name: host, ports: ports, role: role, primaryReplicationPort: shard.primary.replication)
            let udp = json.range(of: #""udp_port": [0-9]+"#, options: .regularExpression)!
            json.replaceSubrange(udp, with: #""udp_port": \#(shard.udpPort)"#)
            json = json.replacingOccurrences(of: #""exchange": { "name": "TEST-EXCHANGE","#,
                                             with: #""exchange": { "shard": "\#(shard.name)", "shard_map": "\#(map)", "name": "TEST-EXCHANGE","#)
            return json
        }

        /// What the trading thread received, per shard, and when the feed-probe's orders were accepted.
        final class Log: @unchecked Sendable {
            let lock = NSLock()
            var messages: [[SequencedMessage]] = [[], []]
            var failovers: [(shard: Int, event: FailoverEvent, at: ContinuousClock.Instant)] = []
            var sent = 0
            var error: String?
            let finished = DispatchSemaphore(value: 0)
            /// The other shard's probe: each Accepted's arrival time.
            var probeAccepted: [ContinuousClock.Instant] = []
            var probeError: String?
            var stopProbe = false
            let probeFinished = DispatchSemaphore(value: 0)

            var count: Int { lock.withLock { messages[0].count + messages[1].count } }
        }

        /// Sends `orders` resting buys across every symbol of the map (at most `window`
        /// unanswered per shard), routed by `ShardedClient`, and logs every sequenced message
        /// by shard, on a thread of its own.
        static func trade(_ log: Log, map: ShardMap, symbols: [Symbol], orders: Int, window: Int) {
            defer { log.finished.signal() }
            do {
                let policy = FailoverPolicy(maximumAttempts: 300, initialBackoff: .milliseconds(20), maximumBackoff: .milliseconds(100),
                                            loginTimeout: .seconds(10))
                let client = try ShardedClient.connect(map: map, username: "LOAD1", password: "load1pass", sequence: 1, failover: policy,
                                                       timeout: .seconds(10))
                defer { client.close() }
                for (index, session) in client.sessions.enumerated() {
                    session.onFailover = { event in log.lock.withLock { log.failovers.append((index, event, .now)) } }
                }
                var sent = 0
                var outstanding = [0, 0]
                var failoversSeen = [0, 0]
                while true {
                    while sent < orders {
                        let symbol = symbols[sent % symbols.count]
                        let shard = try client.shardIndex(of: symbol)
                        guard outstanding[shard] < window else { break }
                        let base: Int64 = symbol.description == "AAPL" ? 2_200_000 : symbol.description == "MSFT" ? 4_000_000 : 480_000
                        try client.enter(token: OrderToken("S\(sent)")!, side: .buy, shares: 100, symbol: symbol,
                                         price: Price(base - Int64(sent % 100) * 100))
                        sent += 1
                        outstanding[shard] += 1
                        log.lock.withLock { log.sent = sent }
                    }
                    if sent == orders && outstanding == [0, 0] { break }
                    guard let (shard, packet) = try client.poll(timeout: .seconds(30)) else {
                        log.lock.withLock { log.error = "no answer for 30 s with \(outstanding) outstanding of \(sent) sent" }
                        return
                    }
                    for index in 0..<2 where client.sessions[index].failoverCount != failoversSeen[index] {
                        failoversSeen[index] = client.sessions[index].failoverCount
                        outstanding[index] = 0
                    }
                    guard case .sequenced(let message) = packet else { continue }
                    log.lock.withLock { log.messages[shard].append(message) }
                    switch message.message {
                    case .accepted, .rejected: outstanding[shard] = max(0, outstanding[shard] - 1)
                    default: break
                    }
                }
                client.logout()
            } catch {
                log.lock.withLock { log.error = "\(error)" }
            }
        }

        /// One order at a time on `addresses` (the surviving shard), recording when each was
        /// accepted, until told to stop: proof that the shard keeps trading during the other's failover.
        static func probe(_ log: Log, addresses: [ExchangeAddress], symbol: Symbol) {
            defer { log.probeFinished.signal() }
            do {
                let client = try OrderEntryClient.connect(addresses: addresses, username: "LOAD2", password: "load2pass", timeout: .seconds(10))
                defer { client.close() }
                var sent = 0
                while !log.lock.withLock({ log.stopProbe }) {
                    try client.enter(token: OrderToken("P\(sent)")!, side: .buy, shares: 100, symbol: symbol,
                                     price: Price(470_000 - Int64(sent % 100) * 100))
                    sent += 1
                    let answer = try client.nextMessage(timeout: .seconds(10))
                    guard case .accepted = answer.message else {
                        log.lock.withLock { log.probeError = "order P\(sent - 1) not accepted: \(answer)" }
                        return
                    }
                    log.lock.withLock { log.probeAccepted.append(.now) }
                    Thread.sleep(forTimeInterval: 0.005)
                }
                _ = try? client.logout(timeout: .seconds(2))
            } catch {
                log.lock.withLock { log.probeError = "\(error)" }
            }
        }

        static func waitServing(_ child: Child) -> Bool {
            waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(20)) {
                child.counter("gateway", "listening") == 1 || !child.process.isRunning
            } && child.counter("gateway", "listening") == 1
        }

        static func waitFollowing(_ standby: Child, _ primary: Child) -> Bool {
            waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(20)) {
                standby.counter("replication", "connected") == 1 || !primary.process.isRunning || !standby.process.isRunning
            } && standby.counter("replication", "connected") == 1
        }

        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: EtcdSuites.PromotionTests.executable.path),
                       "trading_exchange is not built: run `swift build --build-tests`"))
        func killingOneShardsPrimaryFailsOverThatShardWhileTheOtherKeepsTrading() async throws {
            let started = ContinuousClock.now
            try await EtcdServer.with { etcd in
                let place = try Place()
                let alpha = TestShard(name: "alpha", symbols: ["AAPL"])
                let beta = TestShard(name: "beta", symbols: ["MSFT", "QUIET"])
                let mapPath = place.root + "/shards.json"
                try #"{ "shards": [\#n\#(alpha.mapEntry),\#n\#(beta.mapEntry)\#n] }"#.write(toFile: mapPath, atomically: true, encoding: .utf8)
                let map = try ShardMap.load(path: mapPath)

                let primaryAlpha = try Child(place, name: "primary-alpha", json: Self.json(place, etcd, alpha, host: "primary-alpha", role: .primary, map: mapPath))
                let primaryBeta = try Child(place, name: "primary-beta", json: Self.json(place, etcd, beta, host: "primary-beta", role: .primary, map: mapPath))
                // Each shard campaigns for its own key: both primaries lead at once.
                try #require(Self.waitServing(primaryAlpha), "alpha's primary does not serve: \(primaryAlpha.output.suffix(3_000))")
                try #require(Self.waitServing(primaryBeta), "beta's primary does not serve: \(primaryBeta.output.suffix(3_000))")
                let standbyAlpha = try Child(place, name: "standby-alpha", json: Self.json(place, etcd, alpha, host: "standby-alpha", role: .standby, map: mapPath))
                let standbyBeta = try Child(place, name: "standby-beta", json: Self.json(place, etcd, beta, host: "standby-beta", role: .standby, map: mapPath))
                try #require(Self.waitFollowing(standbyAlpha, primaryAlpha), "alpha's standby did not connect: \(standbyAlpha.output.suffix(2_000))")
                try #require(Self.waitFollowing(standbyBeta, primaryBeta), "beta's standby did not connect: \(standbyBeta.output.suffix(2_000))")

                // Each exchange holds only its shard's symbols: another shard's symbol is an unknown one (OUCH reject S).
                let direct = try OrderEntryClient.connect(port: alpha.primary.tcp, username: "DEMO1", password: "demo1pass")
                try direct.enter(token: OrderToken("WRONG1")!, side: .buy, shares: 100, symbol: Symbol("MSFT")!, price: 4_000_000)
                let refused = try direct.nextMessage(timeout: .seconds(10))
                #expect(refused.message == .rejected(timestamp: refusedTimestamp(refused), token: OrderToken("WRONG1")!,
                                                     reason: RejectReason.unknownSymbol.ouchCode),
                        "alpha took an order for beta's MSFT: \(refused)")
                direct.close()

                let log = Log()
                let orders = 2_400
                let symbols = ["AAPL", "MSFT", "QUIET"].map { Symbol($0)! }
                let trader = Thread { Self.trade(log, map: map, symbols: symbols, orders: orders, window: 8) }
                trader.start()
                let prober = Thread { Self.probe(log, addresses: ShardedClient.addresses(of: map.shards[1]), symbol: Symbol("QUIET")!) }
                prober.start()
                #expect(waitUntil(timeout: .seconds(60), pollInterval: .milliseconds(2)) { log.count >= orders / 3 || log.error != nil },
                        "the shards did not answer \(orders / 3) orders: \(log.error ?? "")")
                let feedAlphaBefore = primaryAlpha.counter("market_data", "next_sequence")
                let feedBetaAtKill = primaryBeta.counter("market_data", "next_sequence")
                let killed = ContinuousClock.now
                primaryAlpha.kill()
                primaryAlpha.process.waitUntilExit()
                let feedAlphaAtKill = max(feedAlphaBefore, primaryAlpha.counter("market_data", "next_sequence"))
                let finished = log.finished.wait(timeout: .now() + 90) == .success
                try #require(finished, "the client did not finish within 90 s: \(log.count) messages, \(standbyAlpha.output.suffix(3_000))")
                log.lock.withLock { log.stopProbe = true }
                #expect(log.probeFinished.wait(timeout: .now() + 30) == .success, "the probe did not stop")
                #expect(log.error == nil, "\(log.error ?? "")\n\(standbyAlpha.output.suffix(3_000))")
                #expect(log.probeError == nil, "\(log.probeError ?? "")")

                let (messages, failovers, probeAccepted) = log.lock.withLock { (log.messages, log.failovers, log.probeAccepted) }
                // Only alpha failed over, once, from its primary to its standby.
                #expect(failovers.count == 1 && failovers.first?.shard == 0, "\(failovers.map { "\($0.shard): \($0.event)" })")
                let resumed = failovers.first?.at ?? .now
                if let first = failovers.first {
                    #expect(first.event.to == ExchangeAddress(port: alpha.standby.tcp), "\(first.event)")
                    print("ShardTests: kill -9 of alpha's primary → alpha's session resumed on its standby: \(first.at - killed), "
                          + "\(first.event.attempts) attempts")
                }
                // Beta kept trading while alpha failed over: its orders were accepted between the kill and alpha's resumption.
                let during = probeAccepted.filter { $0 > killed && $0 < resumed }.count
                print("ShardTests: beta accepted \(during) of the probe's orders during alpha's failover (\(resumed - killed))")
                #expect(during > 0, "beta accepted nothing between the kill of alpha's primary and alpha's resumption")
                // Reported, not asserted (a loaded host pauses anything): beta's longest wait between two accepted orders.
                let gapsInBeta = zip(probeAccepted, probeAccepted.dropFirst()).map { $1 - $0 }.max() ?? .zero
                print("ShardTests: beta's longest gap between two accepted probe orders: \(gapsInBeta)")

                // Per shard: one continuous sequence from 1, each token answered once, nothing but the in-flight window lost.
                var answeredTotal = 0
                for (index, shardMessages) in messages.enumerated() {
                    let gaps = zip(shardMessages, shardMessages.dropFirst()).filter { $1.sequence != $0.sequence + 1 }
                    #expect(shardMessages.first?.sequence == 1, "shard \(index)")
                    #expect(gaps.isEmpty, "shard \(index) sequence breaks: \(gaps.prefix(5).map { "\($0.0.sequence)→\($0.1.sequence)" })")
                    var answered: [OrderToken: Int] = [:]
                    for message in shardMessages {
                        switch message.message {
                        case .accepted(let accepted): answered[accepted.token, default: 0] += 1
                        case .rejected(_, let token, _): answered[token, default: 0] += 1
                        default: break
                        }
                    }
                    #expect(answered.values.allSatisfy { $0 == 1 }, "shard \(index): tokens answered twice")
                    let wrongShard = answered.keys.filter { token in
                        guard let n = Int(token.description.dropFirst()) else { return true }
                        return map.shardIndex(of: symbols[n % symbols.count]) != index
                    }
                    #expect(wrongShard.isEmpty, "shard \(index) answered orders of another shard's symbols: \(wrongShard.prefix(5))")
                    answeredTotal += answered.count
                }
                #expect(answeredTotal >= orders - 8 * 2, "answered \(answeredTotal) of \(orders)")

                // Zero acknowledged loss, from the client's own log: alpha's promoted standby and beta's
                // primary each hold, from sequence 1, exactly what the client received from them.
                let alphaSession = try EtcdSuites.PromotionTests.sessionMessages(port: alpha.standby.tcp, username: "LOAD1", password: "load1pass")
                #expect(firstDifference(alphaSession.messages, messages[0]) == nil, "alpha's promoted standby's session differs from the client's log")
                let betaSession = try EtcdSuites.PromotionTests.sessionMessages(port: beta.primary.tcp, username: "LOAD1", password: "load1pass")
                #expect(firstDifference(betaSession.messages, messages[1]) == nil, "beta's session differs from the client's log")

                // Both feeds continuous: alpha's continues its sequence on the promoted standby; beta's kept publishing.
                #expect(standbyAlpha.counter("market_data", "next_sequence") >= feedAlphaAtKill,
                        "alpha's feed went back: \(standbyAlpha.counter("market_data", "next_sequence")) < \(feedAlphaAtKill)")
                #expect(primaryBeta.counter("market_data", "next_sequence") > feedBetaAtKill, "beta's feed stopped")

                standbyAlpha.kill(SIGTERM)
                standbyAlpha.process.waitUntilExit()
                #expect(standbyAlpha.output.contains("promoted: serving as primary"), "\(standbyAlpha.output.suffix(3_000))")
                #expect(!standbyBeta.output.contains("promoted: serving as primary"), "beta's standby was promoted: \(standbyBeta.output.suffix(2_000))")
                // Each shard's journal is its own (<directory>/<shard>) and holds its own terms.
                let alphaRecords = try EtcdSuites.PromotionTests.records(place.root + "/standby-alpha/alpha")
                #expect(EtcdSuites.PromotionTests.terms(alphaRecords).map(\.name) == ["primary-alpha", "standby-alpha"])
                var journaled: [OrderToken: Int] = [:]
                for record in alphaRecords {
                    if case .enter(let order) = record.command { journaled[order.token, default: 0] += 1 }
                }
                let acceptedAlpha = messages[0].compactMap { if case .accepted(let a) = $0.message { a.token } else { nil } }
                let missing = acceptedAlpha.filter { journaled[$0] != 1 }
                #expect(!acceptedAlpha.isEmpty && missing.isEmpty, "accepted but not entered once in alpha's new primary's journal: \(missing.prefix(5))")
                primaryBeta.kill(SIGTERM)
                primaryBeta.process.waitUntilExit()
                let betaRecords = try EtcdSuites.PromotionTests.records(place.root + "/primary-beta/beta")
                #expect(EtcdSuites.PromotionTests.terms(betaRecords).map(\.name) == ["primary-beta"])
            }
            print("ShardTests: wall time \(ContinuousClock.now - started)")
        }
    }
}

/// The timestamp of a Rejected (so that a test can compare the rest of it).
private func refusedTimestamp(_ message: SequencedMessage) -> Timestamp {
    if case .rejected(let timestamp, _, _) = message.message { return timestamp }
    return Timestamp(0)
}
