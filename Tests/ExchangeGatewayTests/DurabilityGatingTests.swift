import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeRuntime
import ExchangeTestRig
import Testing

/// `durability.mode` at the gateway: in sync no OUCH reply caused by a command leaves before
/// the journal's durable position has reached that command's sequence, and it leaves on the
/// next turn after; in async and none the position is never read. The test plays the journal
/// agent: it takes the engine's records off the journal ring and publishes the position.
@Suite struct DurabilityGating {
    static func sequence(ofEnter token: String, in records: [SequencedCommand]) -> UInt64? {
        records.last { record in
            if case .enter(let order) = record.command { return order.token == OrderToken(token) }
            return false
        }?.sequence
    }

    @Test func sendsNoReplyBeforeItsCommandIsDurableAndSendsItRightAfter() throws {
        let clock = ManualClock()
        var rig = try GatewayEngineRig(configuration: StalledEngine.configuration(ExchangeKnobs()), clock: clock, durability: .sync)
        let memory = rig.memory
        let durable = try #require(rig.durable)
        let client = try SoupTestClient(port: rig.port)
        client.send(Client.login(.demo1))
        #expect(rig.next(client).packet?.loginAccepted != nil)
        while rig.next(client, seconds: 0.1).packet != nil {}  // what the session already holds
        _ = rig.takeJournal()
        let before = rig.journalledSoFar
        durable.publish(before)

        client.send(Client.order("G1", "S", 100, "AAPL", price(240)))
        // The engine takes it and journals it; its Accepted waits for the journal.
        var records: [SequencedCommand] = []
        for _ in 0..<200 where Self.sequence(ofEnter: "G1", in: records) == nil {
            rig.turn()
            records += rig.takeJournal()
        }
        let entered = try #require(Self.sequence(ofEnter: "G1", in: records))
        #expect(entered > before)
        #expect(rig.next(client, seconds: 0.2) == .timeout)
        durable.publish(entered - 1)
        #expect(rig.next(client, seconds: 0.2) == .timeout)

        durable.publish(entered)
        let accepted = rig.next(client).packet?.ouch
        #expect(accepted?.type == "A")
        #expect(accepted?.token == "G1")

        client.close()
        rig.shutDown()
        memory.release()
    }

    @Test func asyncJournalsEveryCommandAndReleasesRepliesWithoutWaiting() throws {
        let clock = ManualClock()
        var rig = try GatewayEngineRig(configuration: StalledEngine.configuration(ExchangeKnobs()), clock: clock, durability: .async)
        let memory = rig.memory
        let durable = try #require(rig.durable)  // stays at 0: async never reads it
        let client = try SoupTestClient(port: rig.port)
        client.send(Client.login(.demo1))
        #expect(rig.next(client).packet?.loginAccepted != nil)
        client.send(Client.order("G2", "B", 100, "AAPL", price(230)))
        var reply: OUCHReply?
        while case .packet(let p) = rig.next(client, seconds: 1), reply == nil { if p.ouch?.type == "A" { reply = p.ouch } }
        #expect(reply?.token == "G2")
        #expect(durable.load() == 0)
        #expect(Self.sequence(ofEnter: "G2", in: rig.takeJournal()) != nil)
        client.close()
        rig.shutDown()
        memory.release()
    }
}

extension GatewayEngineRig {
    /// The sequence of the last command the engine processed.
    var journalledSoFar: UInt64 { engine.nextSequence - 1 }
}
