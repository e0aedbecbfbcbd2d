import ExchangeCore
import ExchangeTestSupport
import OrderFlow
import Testing

/// docs/MATCHING.md §The trading day: phases, orders while nothing matches, crosses.
@Suite struct TradingPhase_ {
    let otherFirm = Fixtures.firmB

    @Test func everyInstrumentStartsInContinuousTrading() {
        let x = CheckedEngine()
        #expect(x.core.phase(of: 0) == .continuous && x.core.phase(of: 1) == .continuous)
    }

    @Test func preOpenAcceptsOrdersAndExecutesNothing() {
        var x = CheckedEngine()
        #expect(x.send(phase(.preOpen)).kinds == ["phase(pre_open)"])
        #expect(x.send(enter(.buy, 100, at: cents(15_010), token: "B1")).kinds == ["accepted", "bookAdd"])
        // Would cross the bid: waits off the book, unpublished.
        let sell = x.send(enter(.sell, 100, at: cents(15_000), token: "S1", client: 2, firm: otherFirm))
        #expect(sell.kinds == ["accepted"])
        #expect(sell[0].accepted?.state == .live)
        #expect(x.asks().isEmpty)
        #expect(x.core.crossListOrders(instrument: 0).map(\.token) == [token("S1")])
        #expect(x.core.restingOrderCount == 2)
        // A continuous IOC or market order cannot execute now: cancelled at once.
        #expect(x.send(enter(.buy, 10, at: cents(15_050), token: "B2", tif: .immediateOrCancel)).kinds
            == ["accepted", "canceled(immediate_or_cancel)"])
        #expect(x.send(marketOrder(.buy, 10, token: "B3")).kinds == ["accepted", "canceled(immediate_or_cancel)"])
        // Cancels still work; a waiting order's cancel has no book event.
        #expect(x.send(cancel("S1", client: 2)).kinds == ["canceled(user_requested)"])
    }

    @Test func theOpeningCrossExecutesEverythingCrossableAtOnePriceThenTradingIsContinuous() {
        var x = CheckedEngine()
        x.send(phase(.preOpen))
        x.send([
            enter(.buy, 100, at: cents(15_010), token: "B1"),
            enter(.buy, 200, at: cents(15_005), token: "B2"),
            enter(.sell, 150, at: cents(15_000), token: "S1", client: 2, firm: otherFirm),
            enter(.sell, 100, at: cents(15_008), token: "S2", client: 2, firm: otherFirm),
        ])
        let events = x.send(phase(.openingCross))
        #expect(events.kinds == ["imbalance", "crossFill", "crossFill", "bookAdd", "crossCompleted", "phase(continuous)"])
        // 150 shares pair anywhere in $150.00…$150.05 with 150 left over; $150.00 is the reference.
        #expect(events[0].imbalance == ImbalanceIndication(
            timestamp: 1, instrument: 0, pairedShares: 150, imbalanceShares: 150, direction: .buy,
            price: cents(15_000), referencePrice: cents(15_000), cross: .opening))
        let fills = events.compactMap(\.crossFill)
        #expect(fills.map(\.buy.token) == [token("B1"), token("B2")])
        #expect(fills.map(\.sell.token) == [token("S1"), token("S1")])
        #expect(fills.map(\.shares) == [100, 50] && fills.allSatisfy { $0.price == cents(15_000) && $0.cross == .opening })
        #expect(fills.map(\.matchNumber) == [1, 2])
        #expect(fills.allSatisfy { $0.buy.onBook && !$0.sell.onBook })
        // S2 waited off the book; it joins it now.
        #expect(events[3].bookAdd?.reference == 4 && events[3].bookAdd?.price == cents(15_008))
        #expect(events[4].crossCompleted == CrossCompleted(timestamp: 1, instrument: 0, shares: 150, price: cents(15_000),
                                                          matchNumber: 3, cross: .opening))
        #expect(x.core.phase(of: 0) == .continuous)
        #expect(x.core.lastTradePrice(of: 0) == cents(15_000))
        #expect(x.bids().map(\.shares) == [150] && x.asks().map(\.token) == [token("S2")])
        #expect(x.core.crossListOrders(instrument: 0).isEmpty)
        // And now orders match on arrival.
        #expect(x.send(enter(.sell, 50, at: cents(15_005), token: "S3", client: 2, firm: otherFirm)).kinds == ["accepted", "executed"])
    }

    @Test func theCrossPriceLeavesTheLeastImbalanceThenIsClosestToTheReference() {
        var x = CheckedEngine()
        x.send(phase(.preOpen))
        x.send([
            enter(.sell, 200, at: cents(15_000), token: "S1", client: 2, firm: otherFirm),
            enter(.buy, 200, at: cents(15_005), token: "B1"),
            enter(.buy, 100, at: cents(15_002), token: "B2"),
        ])
        // 200 pair from $150.00 to $150.05; above $150.02 nothing is left over; $150.03 is the
        // closest of those to the $150.00 reference.
        let events = x.send(phase(.openingCross))
        #expect(events[0].imbalance?.pairedShares == 200 && events[0].imbalance?.imbalanceShares == 0)
        #expect(events[0].imbalance?.price == cents(15_003))
        #expect(events.compactMap(\.crossFill).map(\.price) == [cents(15_003)])
        #expect(x.bids().map(\.token) == [token("B2")])
    }

    @Test func marketOnOpenOrdersCrossAtTheCrossPriceAndWhatIsLeftIsCancelled() {
        var x = CheckedEngine()
        x.send(phase(.preOpen))
        let moo = x.send(enter(.buy, 300, at: 0, token: "MOO", type: .market, cross: .opening))
        #expect(moo.kinds == ["accepted"] && moo[0].accepted?.state == .live)
        x.send(enter(.sell, 100, at: cents(14_950), token: "S1", client: 2, firm: otherFirm))
        let events = x.send(phase(.openingCross))
        #expect(events.kinds == ["imbalance", "crossFill", "canceled(system)", "crossCompleted", "phase(continuous)"])
        // Every price from $149.50 up pairs 100; the reference decides.
        #expect(events[1].crossFill?.price == cents(15_000) && events[1].crossFill?.shares == 100)
        #expect(events[2].canceled?.token == token("MOO") && events[2].canceled?.decrement == 200)
        #expect(x.core.restingOrderCount == 0)
    }

    @Test func aCrossWithNothingCrossableExecutesNothingAndStillOpens() {
        var x = CheckedEngine()
        x.send(phase(.preOpen))
        x.send(enter(.buy, 100, at: cents(14_990), token: "B1"))
        let events = x.send(phase(.openingCross))
        #expect(events.kinds == ["imbalance", "crossCompleted", "phase(continuous)"])
        #expect(events[0].imbalance?.pairedShares == 0 && events[0].imbalance?.imbalanceShares == 100
            && events[0].imbalance?.direction == .buy && events[0].imbalance?.price == 0)
        #expect(events[1].crossCompleted == CrossCompleted(timestamp: 1, instrument: 0, shares: 0, price: 0, matchNumber: 0, cross: .opening))
    }

    @Test func closingOrdersWaitThroughContinuousTradingForTheClosingCross() {
        var x = CheckedEngine()
        x.send(enter(.buy, 100, at: cents(15_000), token: "B1"))
        // A limit-on-close sell through the bid does not trade now.
        #expect(x.send(enter(.sell, 100, at: cents(14_990), token: "LOC", client: 2, firm: otherFirm, cross: .closing)).kinds
            == ["accepted"])
        #expect(x.send(enter(.sell, 10, at: cents(15_100), token: "S1", client: 2, firm: otherFirm)).kinds == ["accepted", "bookAdd"])
        let events = x.send(phase(.closingCross))
        #expect(events.kinds == ["imbalance", "crossFill", "crossCompleted", "phase(post_close)"])
        #expect(events[1].crossFill?.price == cents(15_000) && events[1].crossFill?.cross == .closing)
        #expect(x.core.phase(of: 0) == .postClose)
        // After the close: new orders are refused, the rest of the book can still be cancelled.
        #expect(x.send(enter(.buy, 100, at: cents(15_000), token: "B2")).kinds == ["rejected(exchange_closing)"])
        #expect(x.send(cancel("S1", client: 2)).kinds == ["canceled(user_requested)", "bookDelete"])
        // The next day starts with pre-open.
        #expect(x.send(phase(.preOpen)).kinds == ["phase(pre_open)"])
    }

    @Test func haltedOrdersWaitAndTheHaltCrossReopens() {
        var x = CheckedEngine()
        x.send([
            enter(.buy, 100, at: cents(15_000), token: "B1"),
            enter(.sell, 100, at: cents(15_010), token: "S1", client: 2, firm: otherFirm),
        ])
        #expect(x.send(phase(.halt)).kinds == ["phase(halted)"])
        #expect(x.send(enter(.buy, 100, at: cents(15_020), token: "B2")).kinds == ["accepted"])
        #expect(x.send(enter(.buy, 50, at: cents(15_020), token: "H1", cross: .haltOrIPO)).kinds == ["accepted"])
        let events = x.send(phase(.resume))
        #expect(events.kinds == ["imbalance", "crossFill", "canceled(system)", "crossCompleted", "phase(continuous)"])
        #expect(events[1].crossFill?.price == cents(15_010) && events[1].crossFill?.buy.token == token("B2"))
        #expect(events[1].crossFill?.cross == .halt)
        #expect(events[2].canceled?.token == token("H1"))
    }

    @Test func crossOnlyOrdersAreRefusedWhenTheirCrossIsNotAhead() {
        var x = CheckedEngine()
        #expect(x.send(enter(.buy, 100, at: cents(15_000), token: "O1", cross: .opening)).kinds == ["rejected(invalid_cross_type)"])
        #expect(x.send(enter(.buy, 100, at: cents(15_000), token: "H1", cross: .haltOrIPO)).kinds == ["rejected(invalid_cross_type)"])
        #expect(x.send(enter(.buy, 100, at: cents(15_000), token: "C1", tif: .immediateOrCancel, cross: .closing)).kinds
            == ["rejected(invalid_time_in_force)"])
        x.send(phase(.preOpen))
        #expect(x.send(enter(.buy, 100, at: cents(15_000), token: "O2", cross: .opening)).kinds == ["accepted"])
    }

    @Test func marketWidePhaseCommandsAnnounceTheMarketAndMoveEveryInstrument() {
        var x = CheckedEngine()
        #expect(x.send(phase(.preOpen, nil)).kinds
            == ["marketEvent(startOfSystemHours)", "phase(pre_open)", "phase(pre_open)"])
        #expect(x.send(phase(.halt, nil)).kinds == ["phase(halted)", "phase(halted)"])
        #expect(x.send(phase(.resume, nil)).kinds == [
            "imbalance", "crossCompleted", "phase(continuous)", "imbalance", "crossCompleted", "phase(continuous)"])
        // Nothing to do for an unknown symbol, or for an action that does not apply.
        #expect(x.send(phase(.resume, Symbol("ZZZZ")!)).isEmpty)
        #expect(x.send(phase(.openingCross)).isEmpty)
    }

    @Test func anImbalanceIndicationChangesNothing() {
        var x = CheckedEngine()
        x.send(phase(.preOpen))
        x.send([
            enter(.buy, 100, at: cents(15_010), token: "B1"),
            enter(.sell, 60, at: cents(15_000), token: "S1", client: 2, firm: otherFirm),
        ])
        let events = x.send(phase(.indicateImbalance))
        #expect(events.kinds == ["imbalance"])
        #expect(events[0].imbalance?.pairedShares == 60 && events[0].imbalance?.imbalanceShares == 40)
        #expect(x.core.phase(of: 0) == .preOpen && x.core.restingOrderCount == 2)
    }

    @Test func timedOrdersExpireWhileTheyWaitForACross() {
        var x = CheckedEngine()
        x.send(phase(.preOpen))
        x.send(enter(.buy, 100, at: cents(15_010), token: "B1"))
        x.send(enter(.sell, 100, at: cents(15_000), token: "S1", client: 2, firm: otherFirm, tif: .seconds(1)))
        let events = x.send(.advanceTime(2_000_000_001))
        #expect(events.kinds == ["canceled(timeout)"])
        #expect(x.core.crossListOrders(instrument: 0).isEmpty)
    }

    @Test func aReplaceWhileNothingMatchesPlacesTheReplacement() {
        var x = CheckedEngine()
        x.send(phase(.preOpen))
        x.send(enter(.buy, 100, at: cents(15_010), token: "B1"))
        x.send(enter(.sell, 100, at: cents(15_020), token: "S1", client: 2, firm: otherFirm))
        // Through the bid: the displayed order leaves the feed and waits.
        let events = x.send(replace("S1", with: "S2", 100, at: cents(15_000), client: 2))
        #expect(events.kinds == ["replaced", "bookDelete"])
        #expect(x.asks().isEmpty && x.core.crossListOrders(instrument: 0).map(\.token) == [token("S2")])
    }

    @Test func aCrossLargerThanTheEventBufferSuspendsAndResumes() {
        var x = CheckedEngine(configuration: Fixtures.configuration(eventBufferCapacity: 64))
        x.send(phase(.preOpen))
        x.send(enter(.buy, 150, at: cents(15_100), token: "B0"))
        for n in 1...150 {
            x.send(enter(.sell, 1, at: cents(15_000), token: "S\(n)", client: 2, firm: otherFirm))
        }
        let events = x.send(phase(.openingCross))
        #expect(events.compactMap(\.crossFill).count == 150)
        #expect(events.compactMap(\.crossFill).map(\.matchNumber) == Array(1...150))
        #expect(events.last?.phaseChanged?.phase == .continuous)
        #expect(events.compactMap(\.crossCompleted).first?.shares == 150)
        #expect(x.core.counters.suspensions > 0)
    }

    @Test func theEndOfSystemHoursCancelsEveryOrderOfAClosedOrHaltedInstrument() {
        var x = CheckedEngine()
        x.send([
            enter(.buy, 100, at: cents(14_990), token: "B1"),
            enter(.buy, 100, at: cents(14_995), token: "B2", client: 2, firm: otherFirm),
            enter(.sell, 100, at: cents(15_010), token: "S1", client: 2, firm: otherFirm),
            enter(.buy, 100, Fixtures.msft, at: cents(39_990), token: "M1"),
        ])
        x.send(phase(.closingCross))
        #expect(x.core.phase(of: 0) == .postClose && x.core.phase(of: 1) == .continuous)
        // For one symbol it does nothing.
        #expect(x.send(phase(.endOfSystemHours)).isEmpty)
        let end = x.send(phase(.endOfSystemHours, nil, time: 2))
        #expect(end.kinds == ["marketEvent(endOfSystemHours)", "canceled(timeout)", "bookDelete", "canceled(timeout)",
                              "bookDelete", "canceled(timeout)", "bookDelete"])
        // Bids best first, then asks; MSFT, still continuous, keeps its order.
        #expect(end.compactMap(\.canceled).map(\.token) == [token("B2"), token("B1"), token("S1")])
        #expect(end.compactMap(\.canceled).allSatisfy { $0.remaining == 0 && $0.decrement == 100 && $0.timestamp == 2 })
        #expect(x.bids().isEmpty && x.asks().isEmpty)
        #expect(x.core.restingOrderCount == 1)
        // The token is free again; the next day starts with an empty book.
        x.send(phase(.preOpen))
        #expect(x.send(enter(.buy, 100, at: cents(14_990), token: "B1", time: 3)).kinds == ["accepted", "bookAdd"])

        // A halted instrument: its waiting order first, then its book.
        x.send(phase(.halt, Fixtures.msft))
        #expect(x.send(enter(.sell, 100, Fixtures.msft, at: cents(39_980), token: "M2", client: 2, firm: otherFirm)).kinds
            == ["accepted"])
        let halted = x.send(phase(.endOfSystemHours, nil, time: 4))
        #expect(halted.kinds == ["marketEvent(endOfSystemHours)", "canceled(timeout)", "canceled(timeout)", "bookDelete"])
        #expect(halted.compactMap(\.canceled).map(\.token) == [token("M2"), token("M1")])
        // AAPL is in pre-open: its order stays.
        #expect(x.core.restingOrderCount == 1 && x.bids().count == 1)
        #expect(x.core.invariantViolations().isEmpty)
    }

    @Test func aSnapshotHoldsPhasesAndOrdersWaitingForACross() throws {
        var x = CheckedEngine()
        x.send(phase(.preOpen))
        x.send(phase(.halt, Fixtures.msft))
        x.send([
            enter(.buy, 100, at: cents(15_010), token: "B1"),
            // These cross B1: they wait off the book, in arrival order.
            enter(.sell, 60, at: cents(15_000), token: "S1", client: 2, firm: otherFirm),
            enter(.sell, 30, at: 0, token: "S2", client: 3, type: .market, cross: .opening),
            enter(.sell, 20, at: cents(15_005), token: "S3", client: 2, firm: otherFirm, tif: .seconds(30)),
        ])
        #expect(x.core.crossListOrders(instrument: 0).map(\.token) == [token("S1"), token("S2"), token("S3")])
        var bytes: [UInt8] = []
        try x.core.writeSnapshot { bytes += $0 }
        var restored = MatchingEngine(configuration: Fixtures.configuration())
        try bytes.withUnsafeBytes { try restored.restoreSnapshot(from: $0) }
        #expect(restored.phase(of: 0) == .preOpen && restored.phase(of: 1) == .halted)
        #expect(restored.crossListOrders(instrument: 0).map(\.token) == [token("S1"), token("S2"), token("S3")])
        #expect(restored.invariantViolations().isEmpty, "\(restored.invariantViolations())")
        #expect(restored.stateHash() == x.core.stateHash())
        // The restored engine opens exactly as the original does, and expires alike after.
        let original = x.send(phase(.openingCross, time: 2))
        #expect(original.contains { $0.crossFill != nil })
        #expect(restored.runCollecting(phase(.openingCross, time: 2)) == original)
        #expect(restored.stateHash() == x.core.stateHash())
    }

    /// Random trading days give the same events whatever the event buffer's size: crosses
    /// and market-wide phase commands suspend and resume without changing a thing.
    /// Random trading days snapshotted every 250 commands, in whatever phase with whatever
    /// waiting: each restored engine hashes as the original and gives the same events for the
    /// rest of the day.
    @Test(arguments: [3, 11])
    func aSnapshotAnywhereInATradingDayRestoresAnEngineThatContinuesTheSame(seed: UInt64) throws {
        var profile = OrderFlowProfile.randomized(instruments: Fixtures.instruments, clients: 8)
        profile.tradingPhasePerMille = 10
        profile.crossOrderPerMille = 150
        var recorder = MatchingEngine(configuration: Fixtures.configuration())
        let commands = OrderFlowGenerator.record(profile: profile, seed: seed, count: 3_000) { recorder.runCollecting($0) }
        var original = MatchingEngine(configuration: Fixtures.configuration())
        var snapshots: [(at: Int, bytes: [UInt8])] = []
        var eventsAfter: [[EngineEvent]] = []
        var waitingSeen = 0
        for (i, c) in commands.enumerated() {
            if i % 250 == 0 {
                var bytes: [UInt8] = []
                try original.writeSnapshot { bytes += $0 }
                snapshots.append((i, bytes))
                if (0..<Fixtures.instruments.count).contains(where: { !original.crossListOrders(instrument: InstrumentIndex($0)).isEmpty }) { waitingSeen += 1 }
            }
            eventsAfter.append(original.runCollecting(c))
        }
        #expect(waitingSeen > 0, "no snapshot was taken with orders waiting for a cross")
        for (at, bytes) in snapshots {
            var restored = MatchingEngine(configuration: Fixtures.configuration())
            try bytes.withUnsafeBytes { try restored.restoreSnapshot(from: $0) }
            #expect(restored.invariantViolations().isEmpty)
            var same = true
            for i in at..<commands.count where same {
                same = restored.runCollecting(commands[i]) == eventsAfter[i]
                if !same { Issue.record("seed \(seed): the engine restored at \(at) differs at command \(i): \(commands[i])") }
            }
            #expect(restored.stateHash() == original.stateHash())
        }
    }

    @Test func aTradingDayGivesTheSameEventsWhateverTheEventBufferSize() {
        var profile = OrderFlowProfile.randomized(instruments: Fixtures.instruments, clients: 8)
        profile.tradingPhasePerMille = 10
        profile.crossOrderPerMille = 150
        var recorder = MatchingEngine(configuration: Fixtures.configuration())
        let commands = OrderFlowGenerator.record(profile: profile, seed: 7, count: 5_000) { recorder.runCollecting($0) }
        func run(_ capacity: Int) -> [EngineEvent] {
            var engine = MatchingEngine(configuration: Fixtures.configuration(eventBufferCapacity: capacity))
            var all: [EngineEvent] = []
            for c in commands { engine.run(c) { all.append(contentsOf: $0) } }
            #expect(engine.invariantViolations().isEmpty)
            return all
        }
        let small = run(64)
        let large = run(100_000)
        #expect(small == large)
        #expect(small.contains { $0.crossFill != nil } && small.contains { $0.phaseChanged != nil })
    }
}
