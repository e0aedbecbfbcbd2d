import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeRuntime
import ExchangeTestRig
import Testing

/// `durability.stall_budget_ms` at the gateway, with the journal's durable position played by
/// the test and time on a manual clock: once answers have waited on a position that does not
/// move for longer than the budget, Enter Orders and Replaces are refused (journaled, reason
/// journal_stalled, OUCH 'O', answered once durable, token not used up), cancels are taken,
/// and it all ends when the position moves.
@Suite struct StallBudget {
    @Test func refusesNewOrdersOncePastTheBudgetTakesCancelsAndResumesWhenTheJournalDoes() throws {
        let clock = ManualClock()
        var rig = try GatewayEngineRig(configuration: StalledEngine.configuration(ExchangeKnobs()), clock: clock, durability: .sync,
                                       stallBudgetMilliseconds: 250)
        let memory = rig.memory
        let position = rig.durable
        let durable = try #require(position)
        let client = try SoupTestClient(port: rig.port)
        client.send(Client.login(.demo1))
        #expect(rig.next(client).packet?.loginAccepted != nil)
        durable.publish(rig.journalledSoFar)
        while rig.next(client, seconds: 0.1).packet != nil {}
        _ = rig.takeJournal()

        // The disk stops: G1 is taken and its answer waits; 200 ms later G2 is still taken.
        client.send(Client.order("G1", "S", 100, "AAPL", price(240)))
        rig.run(seconds: 0.02)
        rig.advance(clock, milliseconds: 200)
        client.send(Client.order("G2", "S", 100, "AAPL", price(241)))
        rig.run(seconds: 0.02)
        #expect(client.next(timeout: 0) == .timeout, "nothing is answered before it is durable")
        #expect(memory.counters.snapshot().gatewayCount("refusing_new_orders") == 0)

        // Past the budget: new orders are refused; the cancel is taken.
        rig.advance(clock, milliseconds: 100)
        #expect(memory.counters.snapshot().gatewayCount("refusing_new_orders") == 1)
        client.send(Client.order("G3", "S", 100, "AAPL", price(242)))
        client.send(Client.unsequenced(Client.cancel("G1")))
        let notice = rig.next(client, seconds: 1).packet
        #expect(notice?.isDebug == true && notice?.text.contains("journal") == true, "\(String(describing: notice))")
        rig.run(seconds: 0.02)
        #expect(client.next(timeout: 0) == .timeout, "the refusal is an answer like any other: it waits for the journal")
        let records = rig.takeJournal()
        // (The time the gateway hands the engine as the clock moves, advance_time, left out.)
        let kinds = records.compactMap { record -> String? in
            switch record.command {
            case .enter(let o): "enter \(o.token)"
            case .refuse(let r): "refuse \(r.token) \(r.reason)"
            case .cancel(let c): "cancel \(c.token)"
            default: nil
            }
        }
        #expect(kinds == ["enter G1", "enter G2", "refuse G3 journal_stalled", "cancel G1"], "\(kinds)")

        // The disk is back: every answer, in order; the refusal ends.
        durable.publish(rig.journalledSoFar)
        var answers: [OUCHReply] = []
        while answers.count < 4, case .packet(let p) = rig.next(client, seconds: 1) { if let m = p.ouch { answers.append(m) } }
        #expect(answers.map(\.type) == ["A", "A", "J", "C"])
        #expect(answers.map(\.token) == ["G1", "G2", "G3", "G1"])
        #expect(answers.count == 4 && answers[2].byte(at: 23) == "O")
        rig.advance(clock, milliseconds: 1)
        let snapshot = memory.counters.snapshot()
        #expect(snapshot.gatewayCount("refusing_new_orders") == 0)
        #expect(snapshot.gatewayCount("stall_refusals") == 1)

        // The refused token was not used up: sent again, it is accepted.
        durable.publish(.max)
        client.send(Client.order("G3", "S", 100, "AAPL", price(242)))
        var again: OUCHReply?
        while again == nil, case .packet(let p) = rig.next(client, seconds: 1) { again = p.ouch }
        #expect(again?.type == "A")
        #expect(again?.token == "G3")
        client.close()
        rig.shutDown()
        memory.release()
    }

    /// A disk that is merely slow — the position moves within the budget each time — never
    /// refuses anything; nor does a budget in async.
    @Test func aJournalThatKeepsMovingWithinTheBudgetRefusesNothing() throws {
        let clock = ManualClock()
        var rig = try GatewayEngineRig(configuration: StalledEngine.configuration(ExchangeKnobs()), clock: clock, durability: .sync,
                                       stallBudgetMilliseconds: 250)
        let memory = rig.memory
        let position = rig.durable
        let durable = try #require(position)
        let client = try SoupTestClient(port: rig.port)
        client.send(Client.login(.demo1))
        #expect(rig.next(client).packet?.loginAccepted != nil)
        durable.publish(rig.journalledSoFar)
        while rig.next(client, seconds: 0.1).packet != nil {}
        var answers: [OUCHReply] = []
        for i in 1...6 {
            client.send(Client.order("M\(i)", "S", 100, "AAPL", price(240)))
            rig.run(seconds: 0.02)
            rig.advance(clock, milliseconds: 200)
            durable.publish(rig.journalledSoFar)  // each 200 ms the disk catches up
            while case .packet(let p) = rig.next(client, seconds: 0.2), let m = p.ouch { answers.append(m) }
        }
        #expect(answers.map(\.type) == Array(repeating: "A", count: 6))
        rig.advance(clock, milliseconds: 1)
        #expect(memory.counters.snapshot().gatewayCount("stall_refusals") == 0)
        client.close()
        rig.shutDown()
        memory.release()
    }
}
