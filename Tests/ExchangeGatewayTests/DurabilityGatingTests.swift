import ExchangeClock
import ExchangeConfig
import ExchangeCore
import ExchangeEngine
import ExchangeRisk
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
        let position = rig.durable
        let durable = try #require(position)
        let client = try SoupTestClient(port: rig.port)
        client.send(Client.login(.demo1))
        #expect(rig.next(client).packet?.loginAccepted != nil)
        // The start of the day is the gateway's first command: its System Event waits for it
        // to be durable.
        let records = rig.takeJournal()
        #expect(records.first?.sequence == 1)
        if case .startOfDay = records.first?.command {} else { Issue.record("the first command is not the start of the day: \(records)") }
        #expect(rig.next(client, seconds: 0.2) == .timeout)
        durable.publish(1)
        let start = rig.next(client).packet?.ouch
        #expect(start?.type == "S")
        #expect(start?.byte(at: 9) == "S")
        let before = rig.journalledSoFar
        durable.publish(before)
        while rig.next(client, seconds: 0.1).packet != nil {}

        client.send(Client.order("G1", "S", 100, "AAPL", price(240)))
        // The engine takes it and journals it; its Accepted waits for the journal.
        var later: [SequencedCommand] = []
        for _ in 0..<200 where Self.sequence(ofEnter: "G1", in: later) == nil {
            rig.turn()
            later += rig.takeJournal()
        }
        let entered = try #require(Self.sequence(ofEnter: "G1", in: later))
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
        let position = rig.durable  // stays at 0: async never reads it
        let durable = try #require(position)
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

    static func sessionEvents(_ records: [SequencedCommand]) -> [SessionEventKind] {
        records.compactMap { if case .session(let e) = $0.command { e.kind } else { nil } }
    }

    @Test func journalsEachLoginLogoutAndDisconnectAsASessionEvent() throws {
        var rig = try GatewayEngineRig(configuration: StalledEngine.configuration(ExchangeKnobs()), clock: ManualClock(), durability: .async)
        let memory = rig.memory
        let first = try SoupTestClient(port: rig.port)
        first.send(Client.login(.demo1))
        #expect(rig.next(first).packet?.loginAccepted != nil)
        first.send(Client.logout)
        var end = SoupTestClient.Event.timeout
        for _ in 0..<100 where end != .closed { end = rig.next(first, seconds: 0.05) }
        #expect(end == .closed)
        let second = try SoupTestClient(port: rig.port)
        second.send(Client.login(.demo1))
        #expect(rig.next(second).packet?.loginAccepted != nil)
        second.close()
        rig.run(seconds: 0.05)
        let records = rig.takeJournal()
        #expect(Self.sessionEvents(records) == [.login, .logout, .login, .disconnect], "\(records)")
        // Contiguous from the start of the day: nothing the gateway sent is missing.
        #expect(records.map(\.sequence) == Array(1...UInt64(records.count)))
        rig.shutDown()
        memory.release()
    }

    @Test func owesTheDisconnectWhileTheRingIsFullAndSendsItBeforeTheCancelOnDisconnect() throws {
        let knobs = ExchangeKnobs(queueCapacity: 4)
        let clock = ManualClock()
        var rig = try GatewayEngineRig(configuration: StalledEngine.configuration(knobs), clock: clock, durability: .async)
        let memory = rig.memory
        let client = try SoupTestClient(port: rig.port)  // TRADER cancels on disconnect
        client.send(Client.login(.trader))
        #expect(rig.next(client).packet?.loginAccepted != nil)
        while rig.next(client, seconds: 0.1).packet != nil {}
        // The engine stalls; four orders fill the ring; the client goes.
        client.send((1...4).flatMap { Client.order("D\($0)", "S", 100, "AAPL", price(240)) })
        rig.run(seconds: 0.1, engine: false)
        client.close()
        rig.run(seconds: 0.1, engine: false)
        clock.advance(milliseconds: 1)
        for _ in 0..<4 { rig.turnGatewayOnly() }  // the owed events are retried each millisecond: still full
        #expect(memory.counters.snapshot().gatewayCount("active_sessions") == 0)
        // The engine runs again: the orders, then the disconnect, then the cancel-all.
        rig.run(seconds: 0.05)
        rig.advance(clock, milliseconds: 1)
        rig.run(seconds: 0.05)
        let records = rig.takeJournal()
        let tail = records.compactMap { record -> String? in
            switch record.command {
            case .enter: "enter"
            case .session(let e): "\(e.kind)"
            case .cancelAll: "cancelAll"
            default: nil
            }
        }
        #expect(Array(tail.suffix(6)) == ["enter", "enter", "enter", "enter", "disconnect", "cancelAll"], "\(tail)")
        #expect(records.map(\.sequence) == Array(1...UInt64(records.count)))
        rig.shutDown()
        memory.release()
    }

    @Test func noneSendsNoSessionEvents() throws {
        var rig = try GatewayEngineRig(configuration: StalledEngine.configuration(ExchangeKnobs()), clock: ManualClock())
        let memory = rig.memory
        let client = try SoupTestClient(port: rig.port)
        client.send(Client.login(.demo1))
        #expect(rig.next(client).packet?.loginAccepted != nil)
        client.close()
        rig.run(seconds: 0.05)
        #expect(rig.durable == nil)
        #expect(memory.counters.snapshot().engine["commands"] == 1, "the start of the day only")
        rig.shutDown()
        memory.release()
    }

    @Test func holdsAConnectionsInputWhileTheCommandRingIsFullAndAnswersItInOrder() throws {
        let knobs = ExchangeKnobs(queueCapacity: 4)
        let clock = ManualClock()
        var rig = try GatewayEngineRig(configuration: StalledEngine.configuration(knobs), clock: clock, durability: .async)
        let memory = rig.memory
        let client = try SoupTestClient(port: rig.port)
        client.send(Client.login(.demo1))
        #expect(rig.next(client).packet?.loginAccepted != nil)
        while rig.next(client, seconds: 0.1).packet != nil {}  // the start of the day

        // The engine stalls; 8 orders arrive together for a ring of 4: none is answered at
        // once (that answer would be in no journal record); the rest wait, in order.
        client.send((1...8).flatMap { Client.order("H\($0)", "S", 100, "AAPL", price(240)) })
        var immediate: [OUCHReply] = []
        while case .packet(let p) = rig.next(client, engine: false, seconds: 0.2), let m = p.ouch { immediate.append(m) }
        #expect(immediate.isEmpty, "\(immediate)")
        #expect(memory.counters.snapshot().gatewayCount("backpressure_rejects") == 0)

        // The engine runs again: every order is accepted, in the order sent.
        var later: [OUCHReply] = []
        while later.count < 8, case .packet(let p) = rig.next(client, seconds: 1), let m = p.ouch { later.append(m) }
        #expect(later.map(\.type) == Array(repeating: "A", count: 8))
        #expect(later.map(\.token) == (1...8).map { "H\($0)" })
        rig.advance(clock, milliseconds: 1)  // the counters
        let snapshot = memory.counters.snapshot()
        #expect(snapshot.gatewayCount("input_holds") >= 1)
        #expect(snapshot.gatewayCount("backpressure_rejects") == 0)
        let entered = rig.takeJournal().compactMap { if case .enter(let o) = $0.command { o.token } else { nil } }
        #expect(entered == (1...8).map { OrderToken("H\($0)")! })
        client.close()
        rig.shutDown()
        memory.release()
    }

    @Test func aGatewayFedByReplayHasTheLiveSessionLogsAndTokens() throws {
        let configuration = try StalledEngine.configuration(ExchangeKnobs())
        var live = try GatewayEngineRig(configuration: configuration, clock: ManualClock(), durability: .async)
        let liveMemory = live.memory
        let buyer = try SoupTestClient(port: live.port)
        buyer.send(Client.login(.demo1))
        #expect(live.next(buyer).packet?.loginAccepted != nil)
        let seller = try SoupTestClient(port: live.port)
        seller.send(Client.login(.demo2))
        #expect(live.next(seller).packet?.loginAccepted != nil)
        seller.send(Client.order("S1", "S", 300, "AAPL", price(240)) + Client.order("S2", "S", 100, "AAPL", price(241))
                    + Client.order("S1", "S", 100, "AAPL", price(241)))  // a duplicate token: refused
        buyer.send(Client.order("B1", "B", 200, "AAPL", price(240)) + Client.order("B2", "B", 100, "AAPL", price(230))
                   + Client.unsequenced(Client.cancel("B2")))
        live.run(seconds: 0.2)
        let records = live.takeJournal()

        // Recovery: a gateway not yet started, the day continuing, fed the journal and what
        // an engine replaying it says.
        var restarted = try GatewayEngineRig(configuration: configuration, clock: ManualClock(), durability: .async,
                                             startsDay: false, startGateway: false)
        let restartedMemory = restarted.memory
        var engine = RiskCheckedEngine(configuration: configuration.engineConfiguration(), limits: configuration.riskLimits)
        for record in records {
            restarted.gateway.replayCommand(record.command)
            for event in engine.runCollecting(record.command) { restarted.gateway.replayOrderEvent(event) }
        }
        var tokens: [(OrderToken, Int)] = []
        for record in records { if case .enter(let o) = record.command { tokens.append((o.token, Int(o.client))) } }
        #expect(tokens.count == 4)
        for account in 0..<devKeys.accounts.count {
            #expect(restarted.gateway.nextSequence(account: account) == live.gateway.nextSequence(account: account))
            #expect(restarted.gateway.sessionLogBytes(account: account) == live.gateway.sessionLogBytes(account: account))
        }
        #expect(live.gateway.nextSequence(account: Int(tokens[0].1)) > 3)
        for (token, account) in tokens {
            let used = restarted.gateway.hasUsed(token, account: account)
            #expect(used, "\(token)")
        }
        try restarted.gateway.onStart()
        buyer.close()
        seller.close()
        live.shutDown()
        liveMemory.release()
        restarted.shutDown()
        restartedMemory.release()
    }
}

extension GatewayEngineRig {
    /// The sequence of the last command the engine processed.
    var journalledSoFar: UInt64 { engine.nextSequence - 1 }
}
