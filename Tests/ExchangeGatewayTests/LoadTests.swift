import ExchangeConfig
import ExchangeCore
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Testing

/// Clients that take more than their share: one that never reads, one that sends too fast,
/// a thousand at once, one too many for the table.
@Suite struct Load {
    @Test func disconnectsAClientThatNeverReadsOnceItFallsTheSendQueueBehind() throws {
        let knobs = ExchangeKnobs(sessionHistoryMessages: 65_536, sendQueueBytes: 4_096, tokenHistory: 1_048_576)
        let outcome = try withExchange(knobs) { exchange, _ in
            // A tiny receive window: the kernel buffers hold little, so the gateway's send
            // queue fills soon. Each IOC order that cannot trade is answered with Accepted and
            // Canceled (100 bytes) for the 52 bytes it took to send.
            let client = try SoupTestClient(port: exchange.port, receiveBuffer: 2_048)
            #expect(client.login(.demo1).packet?.loginAccepted != nil)
            let batch = 256
            var orders = 0
            var sendFailed = false
            let deadline = Deadline(after: .seconds(10))
            var message = [UInt8]()
            while exchange.snapshot().disconnects["slow_consumer"] == nil && !deadline.hasPassed && !sendFailed {
                message.removeAll(keepingCapacity: true)
                for _ in 0..<batch {
                    orders += 1
                    message += Client.order("SC\(orders)", "B", 100, "AAPL", price(200), timeInForce: 0)
                }
                // The gateway keeps reading while it sends nothing: these writes do not block
                // for long. A failed write means the connection is already gone.
                sendFailed = message.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let n = client.sendNonBlocking(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                        if n == -Int(EAGAIN) { client.waitWritable(milliseconds: 10); continue }
                        if n < 0 { return true }
                        offset += n
                    }
                    return false
                }
            }
            #expect(exchange.waitFor { $0.disconnects["slow_consumer"] == 1 }, "after \(orders) orders")
            let peak = exchange.snapshot().gatewayCount("send_queue_peak_bytes")
            #expect(peak > 4_096, "peak \(peak)")
            print("slow consumer: disconnected after \(orders) orders (\(orders * 52) bytes), send queue peak \(peak) bytes")
            // What the client can still read ends in a close, with no Debug (it would not be read).
            let (packets, end) = client.readUntilClosed(timeout: 5)
            #expect(end == .closed || end == .reset(ECONNRESET))
            #expect(!packets.contains { $0.isDebug })
            #expect(packets.allSatisfy { $0.isSequenced || $0.isHeartbeat })

            // Nothing is lost: logging in again from the next sequence number brings the rest,
            // and every order that reached the engine has its Accepted and Canceled, once.
            let received = client.sequenced
            let next = (received.last?.sequence ?? 1) + 1
            let again = try SoupTestClient(port: exchange.port)
            #expect(again.login(.demo1, sequence: next).packet?.loginAccepted?.sequence == next)
            var rest: [OUCHReply] = []
            while case .packet(let p) = again.next(timeout: 0.5), p.isSequenced || p.isHeartbeat {
                if let m = p.ouch { rest.append(m) }
            }
            let all = received.compactMap(\.packet.ouch) + rest
            let reachedEngine = exchange.snapshot().gatewayCount("orders_in") - 1  // less the well-behaved session's
            #expect(UInt64(all.count) == 2 * reachedEngine, "\(all.count) messages for \(reachedEngine) orders")
            let tokens = (1...Int(reachedEngine)).map { "SC\($0)" }
            #expect(all.filter { $0.type == "A" }.map(\.token) == tokens)
            #expect(all.filter { $0.type == "C" }.map(\.token) == tokens)
            #expect(again.logOut())
        }
        #expect(outcome.disconnects == ["slow_consumer": 1, "logout": 2])
    }

    @Test func refusesAConnectionBeyondTheTableAtOnce() throws {
        let knobs = ExchangeKnobs(maxConnections: 4)
        let outcome = try withExchange(knobs) { exchange, _ in
            let others = try (0..<3).map { _ in try SoupTestClient(port: exchange.port) }
            #expect(exchange.waitFor { $0.gatewayCount("accepted_connections") == 4 })
            let refused = try SoupTestClient(port: exchange.port)
            let (packets, end) = refused.readUntilClosed()
            #expect(packets.isEmpty)
            #expect(end == .closed || end == .reset(ECONNRESET))
            for client in others { client.send(Client.logout) }
            for client in others { #expect(client.readUntilClosed() == ([], .closed)) }
        }
        #expect(outcome.disconnects == ["table_full": 1, "logout": 4])
        #expect(outcome.final.gatewayCount("refused_connections") == 1)
    }

    @Test func refusesConnectionsBeyondThePreLoginShareWhileLoggedInSessionsKeepTheirSlots() throws {
        // 16 slots: the keys file's 11 accounts keep theirs beside a pre-login share of 2.
        let knobs = ExchangeKnobs(maxConnections: 16, maxPreLoginConnections: 2)
        let outcome = try withExchange(knobs) { exchange, bystander in
            // The bystander is logged in; two sockets that never log in take the whole share.
            let idle = try (0..<2).map { _ in try SoupTestClient(port: exchange.port) }
            #expect(exchange.waitFor { $0.gatewayCount("accepted_connections") == 3 })
            let refused = try SoupTestClient(port: exchange.port)
            let (packets, end) = refused.readUntilClosed()
            #expect(packets.isEmpty)
            #expect(end == .closed || end == .reset(ECONNRESET))
            #expect(exchange.waitFor { $0.gatewayCount("refused_connections") == 1 })
            // The logged-in session is served meanwhile; once a pre-login slot frees, a trader gets in.
            bystander.roundTrip()
            idle[0].close()
            #expect(exchange.waitFor { $0.gatewayCount("active_connections") == 2 })
            let trader = try SoupTestClient.loggedIn(port: exchange.port, .demo1)
            trader.send(Client.order("PRE1", "S", 100, "AAPL", price(231)))
            #expect(trader.replies(1)?.first?.token == "PRE1")
            #expect(trader.logOut())
            idle[1].send(Client.logout)
            #expect(idle[1].readUntilClosed() == ([], .closed))
        }
        #expect(outcome.disconnects == ["pre_login_full": 1, "peer_closed": 1, "logout": 3])
        #expect(outcome.final.gatewayCount("refused_connections") == 1)
    }

    @Test func keepsServingEveryConnectionWhenAllReceiveBuffersAreInUse() throws {
        // 16 receive buffers of 512 bytes; 64 sessions each send 40 orders (2,080 bytes) at once.
        let count = 64
        var accounts = devKeys.accounts
        for i in 0..<count {
            accounts.append(APIKeys.Account(username: "B\(i)", credential: .plain(Secret("pw\(i)")), firm: Firm("BUF\(i % 10)")!))
        }
        let knobs = ExchangeKnobs(maxConnections: 128, receiveBufferSize: 512, receiveBufferCount: 16, maxClients: 128)
        let outcome = try withExchange(knobs, keys: APIKeys(accounts: accounts)) { exchange, _ in
            let clients = try (0..<count).map { i in
                try SoupTestClient.loggedIn(port: exchange.port, Credentials(username: "B\(i)", password: "pw\(i)"))
            }
            let batches = clients.indices.map { i in (0..<40).flatMap { Client.order("B\(i)-\($0)", "S", 100, "AAPL", price(300)) } }
            for (client, batch) in zip(clients, batches) { client.send(batch) }
            for (i, client) in clients.enumerated() {
                let replies = client.replies(40, timeout: 5)
                #expect(replies?.map(\.token) == (0..<40).map { "B\(i)-\($0)" }, "B\(i): \(client.unexpected)")
            }
            for client in clients { client.send(Client.logout) }
            for client in clients { #expect(client.readUntilClosed().end == .closed) }
            print("receive buffers exhausted \(exchange.snapshot().gatewayCount("receive_buffers_exhausted")) times")
        }
        #expect(outcome.disconnects == ["logout": UInt64(count + 1)])
        #expect(outcome.otherOrdersIn == UInt64(40 * count))
    }

    /// 1,000 accounts on 1,000 connections at once, besides the development accounts: every
    /// one logs in, enters an order that trades with another's, and gets its Accepted and
    /// Executed.
    @Test func servesAThousandSimultaneousConnectionsEachLoggedInAndTrading() throws {
        let count = 1_000
        try #require(ensureOpenFiles(2 * count + 256), "RLIMIT_NOFILE too low for \(count) connections on both ends")
        var accounts = devKeys.accounts
        for i in 0..<count {
            accounts.append(APIKeys.Account(username: String(format: "K%04d", i), credential: .plain(Secret(String(format: "pw%04d", i))),
                                            firm: Firm("F\(i % 10)")!))
        }
        let knobs = ExchangeKnobs(
            maxConnections: count + 16,
            sessionHistoryMessages: 64,
            receiveBufferCount: 256,
            maxClients: count + 64)
        let outcome = try withExchange(knobs, keys: APIKeys(accounts: accounts)) { exchange, _ in
            let started = ContinuousClock.now  // for the printed figure only
            let clients = try (0..<count).map { _ in try SoupTestClient(port: exchange.port) }
            #expect(exchange.waitFor(.seconds(5)) { $0.gatewayCount("active_connections") == UInt64(count + 1) })
            for (i, client) in clients.enumerated() {
                client.send(Client.login(Credentials(username: String(format: "K%04d", i), password: String(format: "pw%04d", i))))
            }
            for client in clients { #expect(client.next(timeout: 5).packet?.loginAccepted?.sequence == 2) }
            // The counters are published once a millisecond: the last logins may not be in yet.
            #expect(exchange.waitFor(.seconds(5)) { $0.gatewayCount("active_sessions") == UInt64(count + 1) },
                    "\(exchange.snapshot().gatewayCount("active_sessions")) sessions")
            // Even accounts buy, odd ones sell, at one price: every order trades in full.
            for (i, client) in clients.enumerated() {
                client.send(Client.order("K\(i)", i % 2 == 0 ? "B" : "S", 100, "AAPL", price(230)))
            }
            var executed = 0
            for (i, client) in clients.enumerated() {
                let replies = client.replies(2, timeout: 5)
                #expect(replies?.map(\.type) == ["A", "E"], "K\(i): \(String(describing: replies)) \(client.unexpected)")
                if replies?.last?.u32(at: 23) == 100 { executed += 1 }
            }
            #expect(executed == count)
            for client in clients { client.send(Client.logout) }
            for client in clients { #expect(client.readUntilClosed(timeout: 5).end == .closed) }
            print("1,000 connections: connected, logged in, traded and logged out in \(ContinuousClock.now - started)")
        }
        #expect(outcome.disconnects == ["logout": UInt64(count + 1)])
        #expect(outcome.final.engine["trades"] == UInt64(count / 2))
        #expect(outcome.final.gatewayCount("refused_connections") == 0)
    }
}
