import ExchangeTestRig
import ExchangeTestSupport
import Foundation
import Testing

/// Clients that connect and never log in, by the dozen, from one address or from many:
/// each case asserts the bound (slots held, connections refused and counted) and that
/// traders still log in and the well-behaved session is served. Loopback only: clients
/// bind to distinct 127.x.y.z source addresses, so the per-address limit is tested for real.
@Suite struct HostileClients {
    /// 127.0.a.b in host byte order.
    static func loopback(_ a: UInt32, _ b: UInt32) -> UInt32 { 0x7F00_0000 | a << 8 | b }

    @Test func silentConnectionsBeyondTheWholeTableNeverLockATraderOut() throws {
        // 32 slots: 11 kept for the accounts, a pre-login share of 16, of which 4 per address.
        let knobs = ExchangeKnobs(maxConnections: 32, maxPreLoginConnections: 16, maxPreLoginPerAddress: 4)
        let rounds = 3, burst = 16
        let traders: [Credentials] = [.demo1, .demo2, .trader] + (1...7).map { Credentials.load($0) }
        var silent: [SoupTestClient] = []
        var loggedIn = 0
        let outcome = try withExchange(knobs) { exchange, bystander in
            // More silent sockets from one host than the table holds.
            for _ in 0..<48 { silent.append(try SoupTestClient(port: exchange.port, source: Self.loopback(0, 1))) }
            #expect(exchange.waitFor { $0.disconnects["address_limit"] == 44 && $0.gatewayCount("accepted_connections") == 5 })
            #expect(exchange.snapshot().gatewayCount("active_connections") == 5, "the bystander and the address's share of 4")
            for round in 0..<rounds {
                // Every trader logs in, from its own address, between bursts of silent sockets.
                for (i, credentials) in traders.enumerated() {
                    let client = try SoupTestClient(port: exchange.port, source: Self.loopback(1, UInt32(1 + i)))
                    if client.login(credentials).packet?.loginAccepted != nil { loggedIn += 1 }
                    #expect(client.logOut(), "\(credentials.username) round \(round)")
                }
                for _ in 0..<burst { silent.append(try SoupTestClient(port: exchange.port, source: Self.loopback(0, 1))) }
                bystander.roundTrip()
            }
            let refused = UInt64(44 + rounds * burst)
            #expect(exchange.waitFor { $0.disconnects["address_limit"] == refused })
            let counters = exchange.snapshot()
            #expect(counters.gatewayCount("refused_connections") == refused)
            #expect(counters.gatewayCount("active_connections") == 5, "still the bystander and 4 silent sockets")
            for client in silent { client.close() }
        }
        #expect(loggedIn == rounds * traders.count, "every login succeeded")
        #expect(outcome.disconnects == ["address_limit": UInt64(44 + rounds * burst), "peer_closed": 4,
                                        "logout": UInt64(rounds * traders.count + 1)])
    }

    @Test func silentConnectionsFromManyAddressesHoldOnlyThePreLoginShareUntilTheirLoginTimeout() throws {
        let knobs = ExchangeKnobs(maxConnections: 32, maxPreLoginConnections: 8, maxPreLoginPerAddress: 2,
                                  loginTimeoutMilliseconds: 300)
        let outcome = try withExchange(knobs) { exchange, bystander in
            // 12 hosts, 2 sockets each: the first 4 hosts fill the share of 8, the rest are refused.
            var silent: [SoupTestClient] = []
            for host in 1...12 {
                for _ in 0..<2 { silent.append(try SoupTestClient(port: exchange.port, source: Self.loopback(2, UInt32(host)))) }
            }
            #expect(exchange.waitFor { $0.disconnects["pre_login_full"] == 16 && $0.gatewayCount("accepted_connections") == 9 })
            // Logged-in sessions keep their slots and are served meanwhile.
            bystander.roundTrip()
            let refused = try SoupTestClient(port: exchange.port, source: Self.loopback(2, 99))
            #expect(refused.readUntilClosed().end != .timeout, "closed at once")
            // The login timeout closes every silent socket, each told why; then a trader logs in.
            #expect(exchange.waitFor(.seconds(5)) { $0.disconnects["login_timeout"] == 8 })
            for client in silent.prefix(8) {
                let (packets, _) = client.readUntilClosed()
                #expect(packets.contains { $0.isDebug })
            }
            let trader = try SoupTestClient(port: exchange.port, source: Self.loopback(2, 1))
            #expect(trader.login(.demo1).packet?.loginAccepted != nil)
            #expect(trader.logOut())
            bystander.roundTrip()
        }
        #expect(outcome.disconnects == ["pre_login_full": 17, "login_timeout": 8, "logout": 2])
    }
}
