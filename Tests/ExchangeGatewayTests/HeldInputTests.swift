import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeRuntime
import ExchangeTestRig
import ExchangeTestSupport
import Testing

/// Back-pressure in the journaling modes: a client that pipelines far more than the ring to
/// the engine and its held-input buffer take, while the engine stalls, has its receives
/// paused (TCP back-pressure) — never disconnected, nothing lost, every answer in order —
/// and other clients go on.
@Suite struct HeldInput {
    @Test func pausesAPipeliningClientInsteadOfClosingItAndAnswersEveryOrderInOrder() throws {
        let knobs = ExchangeKnobs(receiveBufferSize: 512, queueCapacity: 4)
        let clock = ManualClock()
        var rig = try GatewayEngineRig(configuration: StalledEngine.configuration(knobs), clock: clock, durability: .async,
                                       journalCapacity: 16_384)
        let memory = rig.memory
        let client = try SoupTestClient(port: rig.port)
        client.send(Client.login(.demo1))
        #expect(rig.next(client).packet?.loginAccepted != nil)
        let other = try SoupTestClient(port: rig.port)
        other.send(Client.login(.demo2))
        #expect(rig.next(other).packet?.loginAccepted != nil)
        while rig.next(client, seconds: 0.1).packet != nil {}
        var journal = rig.takeJournal()

        // 3,000 orders (153 KB) for a ring of 4 and 512-byte receive buffers, the engine
        // stalled: the gateway takes what it can hold and stops reading.
        let orders = 3_000
        let bytes = (1...orders).flatMap { Client.order("P\($0)", "S", 100, "AAPL", price(1)) }
        var sent = 0
        var quiet = 0
        while sent < bytes.count && quiet < 400 {
            let n = bytes.withUnsafeBytes { client.sendNonBlocking(UnsafeRawBufferPointer(rebasing: $0[sent...])) }
            if n > 0 { sent += n; quiet = 0 } else { quiet += 1 }
            rig.turnGatewayOnly()
        }
        for _ in 0..<50 { rig.turnGatewayOnly() }
        #expect(client.next(timeout: 0) == .timeout, "nothing is answered (nor closed) while the engine stalls")
        rig.advance(clock, milliseconds: 1)  // the counters (the engine takes 4 commands)
        var snapshot = memory.counters.snapshot()
        #expect(snapshot.gatewayCount("input_holds") >= 1)
        #expect(snapshot.disconnects["input_backlog"] ?? 0 == 0)

        // Another client's order waits its turn too, and is answered once the engine runs.
        other.send(Client.order("OK1", "B", 100, "AAPL", price(0.5)))

        // The engine runs again: the rest goes as the gateway takes it; every order is
        // accepted, in the order sent, and the other client is answered meanwhile.
        var answers: [OUCHReply] = []
        var otherAnswer: OUCHReply?
        var end = SoupTestClient.Event.timeout
        let deadline = Deadline(seconds: 60)
        while answers.count < orders && !deadline.hasPassed {
            if sent < bytes.count {
                let n = bytes.withUnsafeBytes { client.sendNonBlocking(UnsafeRawBufferPointer(rebasing: $0[sent...])) }
                if n > 0 { sent += n }
            }
            rig.turn()
            journal += rig.takeJournal()
            while case .packet(let p) = client.next(timeout: 0) { if let m = p.ouch { answers.append(m) } }
            if case .packet(let p) = other.next(timeout: 0), let m = p.ouch { otherAnswer = m }
            let e = client.next(timeout: 0)
            if e == .closed || e.isReset { end = e; break }
        }
        #expect(end == .timeout, "the pipelining client stays connected")
        #expect(sent == bytes.count)
        #expect(answers.count == orders)
        #expect(answers.allSatisfy { $0.type == "A" })
        #expect(answers.map(\.token) == (1...orders).map { "P\($0)" })
        while otherAnswer == nil, case .packet(let p) = rig.next(other, seconds: 1) { otherAnswer = p.ouch }
        #expect(otherAnswer?.type == "A")
        #expect(otherAnswer?.token == "OK1")
        journal += rig.takeJournal()
        let entered = journal.compactMap { record -> OrderToken? in
            if case .enter(let o) = record.command { return o.token }
            return nil
        }.filter { $0 != OrderToken("OK1")! }
        #expect(entered == (1...orders).map { OrderToken("P\($0)")! })
        rig.advance(clock, milliseconds: 1)
        snapshot = memory.counters.snapshot()
        #expect(snapshot.disconnects["input_backlog"] ?? 0 == 0)
        #expect(snapshot.gatewayCount("backpressure_rejects") == 0)
        client.close()
        other.close()
        rig.shutDown()
        memory.release()
    }
}

extension SoupTestClient.Event {
    var isReset: Bool { if case .reset = self { true } else { false } }
}
