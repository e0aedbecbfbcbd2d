import ExchangeConfig
import ExchangeRuntime
import ExchangeTestRig
import Foundation
import Glibc
import Testing

/// Cases that need the engine to stand still, which only a test driving the agents itself
/// can arrange: the gateway and the engine agent on the test's thread (`GatewayEngineRig`),
/// the engine's turns withheld.
@Suite struct StalledEngine {
    static func configuration(_ knobs: ExchangeKnobs) throws -> ExchangeConfiguration {
        try ConfigurationLoader.load(json: knobs.json, source: "rig.json", environment: [:], host: .current()).configuration
    }

    @Test func answersEveryMessageAtOnceWhenTheCommandRingIsFull() throws {
        let knobs = ExchangeKnobs(queueCapacity: 4)
        var rig = try GatewayEngineRig(configuration: Self.configuration(knobs))
        let memory = rig.memory
        let client = try SoupTestClient(port: rig.port)
        client.send(Client.login(.demo1))
        #expect(rig.next(client).packet?.loginAccepted != nil)

        // The engine stalls; 8 orders, a cancel and a modify arrive together for a ring of 4.
        client.send((1...8).flatMap { Client.order("Q\($0)", "S", 100, "AAPL", price(240)) }
                    + Client.unsequenced(Client.cancel("Q1")) + Client.unsequenced(Client.modify("Q2", "S", 50)))
        var immediate: [OUCHReply] = []
        while case .packet(let p) = rig.next(client, engine: false, seconds: 0.2), let m = p.ouch { immediate.append(m) }
        let refused = immediate.filter { $0.type == "J" }
        // At most 4 of the orders fit (fewer if the gateway's clock command took a slot first).
        #expect(refused.count >= 4 && refused.allSatisfy { $0.byte(at: 23) == "O" }, "\(immediate)")
        #expect(immediate.filter { $0.type == "I" }.map(\.token) == ["Q1", "Q2"], "\(immediate)")
        #expect(immediate.count == refused.count + 2)

        // The engine runs again: the orders that went in are accepted, in order, and new ones fit.
        var later: [OUCHReply] = []
        while case .packet(let p) = rig.next(client, seconds: 0.2), let m = p.ouch { later.append(m) }
        #expect(later.allSatisfy { $0.type == "A" })
        #expect((later + refused).map(\.token).sorted() == (1...8).map { "Q\($0)" }.sorted())
        client.send(Client.order("Q9", "S", 100, "AAPL", price(240)))
        #expect(rig.next(client).packet?.ouch?.type == "A")
        rig.run(seconds: 0.005)
        #expect(memory.counters.snapshot().gatewayCount("backpressure_rejects") == UInt64(immediate.count))
        client.close()
        rig.shutDown()
        memory.release()
    }

    /// Every provided receive buffer in use, for sure: eleven sessions write 2,080 bytes each
    /// (22,880 in all) while the gateway stands still, for 16 buffers of 512 bytes (8,192).
    /// The multishot receives stop with ENOBUFS (counted), are re-armed, and every order is
    /// still answered, in order.
    @Test func reArmsTheReceivesAfterEveryBufferWasInUseAndAnswersEveryOrder() throws {
        let knobs = ExchangeKnobs(receiveBufferSize: 512, receiveBufferCount: 16)
        var rig = try GatewayEngineRig(configuration: Self.configuration(knobs))
        let memory = rig.memory
        let accounts = [Credentials.demo1, .demo2, .trader] + (1...8).map { Credentials.load($0) }
        var clients: [SoupTestClient] = []
        for account in accounts {
            let client = try SoupTestClient(port: rig.port)
            clients.append(client)
            client.send(Client.login(account))
            try #require(rig.next(client).packet?.loginAccepted != nil, "\(account.username) not logged in")
        }
        rig.run(seconds: 0.005)
        let before = memory.counters.snapshot().gatewayCount("receive_buffers_exhausted")

        for (i, client) in clients.enumerated() {
            client.send((0..<40).flatMap { Client.order("R\(i)-\($0)", "S", 100, "AAPL", price(300)) })
        }
        for (i, client) in clients.enumerated() {
            var tokens: [String] = []
            while tokens.count < 40 {
                let event = rig.next(client)
                // A Server Heartbeat may come between answers when the host is slow (the
                // gateway's heartbeat timer runs on wall time here); it is not an answer.
                if event.packet?.isHeartbeat == true { continue }
                let reply = try #require(event.packet?.ouch, "R\(i): \(tokens.count) answers, then \(event)")
                #expect(reply.type == "A", "R\(i): \(reply)")
                tokens.append(reply.token)
            }
            #expect(tokens == (0..<40).map { "R\(i)-\($0)" })
        }
        rig.run(seconds: 0.005)  // the counters are published once a millisecond
        let exhausted = memory.counters.snapshot().gatewayCount("receive_buffers_exhausted") - before
        #expect(exhausted > 0, "the receive buffers never ran out: the test did not test the re-arm")
        #expect(memory.counters.snapshot().gatewayCount("orders_in") == UInt64(40 * clients.count))
        for client in clients { client.close() }
        rig.shutDown()
        memory.release()
    }

    @Test func refusesOrdersAndLoginsWhileShuttingDownThenEndsTheSessionOnceTheEngineCaughtUp() throws {
        var rig = try GatewayEngineRig(configuration: Self.configuration(ExchangeKnobs()))
        let memory = rig.memory
        let trader = try SoupTestClient(port: rig.port)
        trader.send(Client.login(.demo1))
        #expect(rig.next(trader).packet?.loginAccepted != nil)
        let late = try SoupTestClient(port: rig.port)  // connected, not yet logged in
        rig.run(seconds: 0.005)

        // An order goes to the stalled engine; then the drain begins.
        trader.send(Client.order("P1", "S", 100, "AAPL", price(240)))
        rig.run(seconds: 0.005, engine: false)
        rig.gateway.beginDrain()
        trader.send(Client.order("P2", "S", 100, "AAPL", price(241)))
        trader.send(Client.unsequenced(Client.cancel("P1")))
        late.send(Client.login(.demo2))
        let refusal = [rig.next(late, engine: false), rig.next(late, engine: false), rig.next(late, engine: false)]
        #expect(refusal.map(\.description).dropFirst(2) == ["closed"], "\(refusal)")
        #expect(refusal.compactMap(\.packet).map(\.type) == [ascii("+"), ascii("J")], "\(refusal)")
        #expect(refusal.compactMap(\.packet).first?.text.contains("shutting down") == true)
        #expect(refusal.compactMap(\.packet).last?.loginRejected == "S")
        #expect(connectLoopback(Int32(rig.port)) == -ECONNREFUSED, "the listener is closed")

        // The engine catches up. Before End of Day: P1's Accepted, P2 Rejected C (closed), the
        // cancel of P1 refused; then End of Session and the close.
        var events: [SoupTestClient.Event] = []
        while true {
            let event = rig.next(trader)
            events.append(event)
            if event.packet == nil { break }
        }
        let answers = events.dropLast(3).map(\.description)
        #expect(answers.sorted() == ["S[A P1 S 100@2400000 ref 1 L]", "S[I P1]", "S[J P2 C]"], "\(events)")
        #expect(events.suffix(3).map(\.description) == ["S[S E]", "Z", "closed"], "\(events)")
        rig.run(seconds: 0.005)
        let counters = memory.counters.snapshot()
        #expect(counters.gatewayCount("shutdown_rejects") == 2)
        #expect(counters.gatewayCount("logins_rejected_session") == 1)
        #expect(counters.disconnects == ["login_rejected": 1, "shutdown": 1])
        late.close()
        trader.close()
        rig.shutDown()
        memory.release()
    }
}
