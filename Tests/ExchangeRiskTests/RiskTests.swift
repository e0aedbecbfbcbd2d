import ExchangeCore
import ExchangeRisk
import ExchangeTestSupport
import Testing

let second: Timestamp = 1_000_000_000

func limits(size: Shares = .max, notional: Notional = .max, rate: UInt32 = .max, collars: Bool = false) -> RiskLimits {
    RiskLimits(maxOrderShares: size, maxOpenNotional: notional, maxOrdersPerSecond: rate, priceCollarsEnabled: collars)
}

@Suite struct OrderSize {
    @Test func rejectsAnOrderAboveTheMaximumSize() {
        var x = CheckedEngine(limits: limits(size: 1_000))
        #expect(x.send(enter(.buy, 1_001, at: cents(14_990), token: "A")).kinds == ["rejected(max_order_size)"])
        #expect(x.send(enter(.buy, 1_000, at: cents(14_990), token: "B")).kinds == ["accepted", "bookAdd"])
    }

    @Test func rejectsAReplaceAboveTheMaximumSizeAndKeepsTheOrder() {
        var x = CheckedEngine(limits: limits(size: 1_000))
        x.send(enter(.buy, 1_000, at: cents(14_990), token: "A"))
        #expect(x.send(replace("A", with: "A2", 1_001, at: cents(14_990))).kinds == ["rejected(max_order_size)"])
        #expect(x.bids().map(\.token) == [token("A")])
    }

    @Test func checksStructureBeforeSize() {
        var x = CheckedEngine(limits: limits(size: 10))
        #expect(x.send(enter(.buy, 100, Symbol("NOPE")!, at: cents(14_990), token: "A")).kinds == ["rejected(unknown_symbol)"])
    }
}

@Suite struct PriceCollar {
    @Test func rejectsBuysAboveAndSellsBelowTheCollar() {
        var x = CheckedEngine(limits: limits(collars: true))  // AAPL: $150 ± 10 %
        #expect(x.send(enter(.buy, 10, at: cents(16_501), token: "A")).kinds == ["rejected(price_collar)"])
        #expect(x.send(enter(.buy, 10, at: cents(16_500), token: "B")).kinds == ["accepted", "bookAdd"])
        #expect(x.send(enter(.sell, 10, at: cents(13_499), token: "C")).kinds == ["rejected(price_collar)"])
        #expect(x.send(enter(.sell, 10, at: cents(16_501), token: "D")).kinds == ["accepted", "bookAdd"])
    }

    @Test func allowsPassiveOrdersFarFromTheMarket() {
        var x = CheckedEngine(limits: limits(collars: true))
        #expect(x.send(enter(.buy, 10, at: cents(13_000), token: "A")).kinds == ["accepted", "bookAdd"])
    }

    @Test func movesTheCollarWithTheLastTrade() {
        var x = CheckedEngine(limits: limits(collars: true))
        x.send([enter(.sell, 10, at: cents(16_000), token: "S"),
                enter(.buy, 10, at: cents(16_000), token: "B", client: 2, firm: Fixtures.firmB)])
        #expect(x.core.referencePrice(of: 0) == cents(16_000))
        // $160 + 10 % = $176, but the ladder ends at $170.47.
        #expect(x.send(enter(.buy, 10, at: cents(17_000), token: "C")).kinds == ["accepted", "bookAdd"])
        #expect(x.send(enter(.sell, 10, at: cents(14_399), token: "D")).kinds == ["rejected(price_collar)"])
    }

    @Test func appliesTheCollarToTheReplacementPriceOnTheExistingSide() {
        var x = CheckedEngine(limits: limits(collars: true))
        x.send(enter(.buy, 10, at: cents(14_990), token: "A"))
        #expect(x.send(replace("A", with: "A2", 10, at: cents(16_600))).kinds == ["rejected(price_collar)"])
    }

    @Test func letsAnythingThroughWhenCollarsAreOff() {
        var x = CheckedEngine(limits: limits(collars: false))
        #expect(x.send(enter(.buy, 10, at: cents(17_000), token: "A")).kinds == ["accepted", "bookAdd"])
    }
}

@Suite struct OpenNotionalLimit {

    @Test func rejectsAnOrderThatWouldTakeOpenNotionalOverTheLimit() {
        var x = CheckedEngine(limits: limits(notional: 30_001 * 10_000))  // $30,001
        #expect(x.send(enter(.buy, 100, at: cents(15_000), token: "A")).kinds == ["accepted", "bookAdd"])  // $15,000
        #expect(x.send(enter(.sell, 100, at: cents(15_001), token: "B")).kinds == ["accepted", "bookAdd"])  // $15,001
        #expect(x.send(enter(.buy, 1, at: cents(14_000), token: "C")).kinds == ["rejected(max_notional)"])
        #expect(x.core.openNotional(client: 1) == 100 * UInt64(cents(15_000)) + 100 * UInt64(cents(15_001)))
    }

    @Test func releasesNotionalWhenOrdersFillOrCancel() {
        var x = CheckedEngine(limits: limits(notional: 15_000 * 10_000))
        x.send(enter(.buy, 100, at: cents(15_000), token: "A"))
        #expect(x.send(enter(.buy, 1, at: cents(14_000), token: "B")).kinds == ["rejected(max_notional)"])
        x.send(enter(.sell, 40, at: cents(15_000), token: "S", client: 2, firm: Fixtures.firmB))
        #expect(x.core.openNotional(client: 1) == 60 * UInt64(cents(15_000)))
        x.send(cancel("A"))
        #expect(x.core.openNotional(client: 1) == 0)
        #expect(x.send(enter(.buy, 100, at: cents(15_000), token: "C")).kinds == ["accepted", "bookAdd"])
    }

    @Test func countsAReplaceByTheDifferenceItMakes() {
        var x = CheckedEngine(limits: limits(notional: 15_000 * 10_000))
        x.send(enter(.buy, 100, at: cents(15_000), token: "A"))
        #expect(x.send(replace("A", with: "A2", 100, at: cents(14_000))).kinds == ["replaced", "bookReplace"])
        #expect(x.send(replace("A2", with: "A3", 101, at: cents(15_000))).kinds == ["rejected(max_notional)"])
    }

    @Test func countsAMarketOrderAtTheCollarsUpperBound() {
        // $165 × 100 = $16,500 > $16,000 although the book would fill at $150.
        var x = CheckedEngine(limits: limits(notional: 16_000 * 10_000, collars: true))
        x.send(enter(.sell, 100, at: cents(15_000), token: "S", client: 2, firm: Fixtures.firmB))
        #expect(x.send(marketOrder(.buy, 100, token: "M")).kinds == ["rejected(max_notional)"])
        #expect(x.send(marketOrder(.buy, 90, token: "M2")).kinds == ["accepted", "executed"])
    }
}

@Suite struct RateLimit {
    @Test func admitsABurstUpToTheLimitThenRejects() {
        var x = CheckedEngine(limits: limits(rate: 5))
        let results = (0..<7).map { i in x.send(enter(.buy, 1, at: cents(14_000), token: "T\(i)", time: second)).first!.kind }
        #expect(results == Array(repeating: "accepted", count: 5) + ["rejected(rate_limited)", "rejected(rate_limited)"])
    }

    @Test func refillsInProportionToTheTimeThatPassed() {
        var x = CheckedEngine(limits: limits(rate: 10))
        for i in 0..<10 { x.send(enter(.buy, 1, at: cents(14_000), token: "T\(i)", time: second)) }
        // 0.25 s refills 2.5 orders: two more pass, the third does not.
        let later = second + second / 4
        let results = (10..<13).map { i in x.send(enter(.buy, 1, at: cents(14_000), token: "T\(i)", time: later)).first!.kind }
        #expect(results == ["accepted", "accepted", "rejected(rate_limited)"])
    }

    @Test func limitsEachClientSeparately() {
        var x = CheckedEngine(limits: limits(rate: 1))
        #expect(x.send(enter(.buy, 1, at: cents(14_000), token: "A", client: 1)).first?.kind == "accepted")
        #expect(x.send(enter(.buy, 1, at: cents(14_000), token: "B", client: 1)).first?.kind == "rejected(rate_limited)")
        #expect(x.send(enter(.buy, 1, at: cents(14_000), token: "C", client: 2)).first?.kind == "accepted")
    }

    @Test func neverThrottlesCancels() {
        var x = CheckedEngine(limits: limits(rate: 1))
        x.send(enter(.buy, 10, at: cents(14_000), token: "A"))
        #expect(x.send(cancel("A", to: 5)).first?.kind == "canceled(user_requested)")
        #expect(x.send(cancel("A")).first?.kind == "canceled(user_requested)")
    }

    @Test func chargesReplacesLikeNewOrders() {
        var x = CheckedEngine(limits: limits(rate: 1))
        x.send(enter(.buy, 10, at: cents(14_000), token: "A"))
        #expect(x.send(replace("A", with: "A2", 10, at: cents(14_001))).kinds == ["rejected(rate_limited)"])
    }
}

@Suite struct KillSwitches {
    @Test func cancelsAKilledClientsOrdersAndRejectsItsNewOnes() {
        var x = CheckedEngine()
        x.send([enter(.buy, 10, at: cents(14_000), token: "A"), enter(.sell, 10, at: cents(16_000), token: "B"),
                enter(.buy, 10, at: cents(14_000), token: "OTHER", client: 2)])
        let events = x.send(.killClient(ClientAction(timestamp: 2, client: 1)))
        #expect(events.kinds == ["canceled(supervisory)", "bookDelete", "canceled(supervisory)", "bookDelete"])
        #expect(x.send(enter(.buy, 10, at: cents(14_000), token: "C")).kinds == ["rejected(client_killed)"])
        #expect(x.send(enter(.buy, 10, at: cents(14_000), token: "D", client: 2)).kinds == ["accepted", "bookAdd"])
        x.send(.reinstateClient(ClientAction(timestamp: 3, client: 1)))
        #expect(x.send(enter(.buy, 10, at: cents(14_000), token: "C")).kinds == ["accepted", "bookAdd"])
    }

    @Test func answersAKilledClientsCancelOnItsMeritsNotWithTheKillSwitch() {
        var x = CheckedEngine()
        x.send(.killClient(ClientAction(timestamp: 2, client: 2)))
        x.send(enter(.buy, 10, at: cents(14_000), token: "B", client: 2))  // rejected: killed
        #expect(x.send(cancel("B", client: 2)).kinds == ["cancelRejected(unknown_order)"])
    }

    @Test func haltsTheWholeExchangeAndCancelsEveryOrder() {
        var x = CheckedEngine()
        x.send([enter(.buy, 10, at: cents(14_000), token: "A", client: 3), enter(.buy, 10, at: cents(14_000), token: "B", client: 1)])
        let events = x.send(.killExchange(2))
        #expect(events.compactMap(\.canceled).map(\.client) == [1, 3])
        #expect(x.send(enter(.buy, 10, at: cents(14_000), token: "C")).kinds == ["rejected(exchange_killed)"])
        x.send(.reinstateExchange(3))
        #expect(x.send(enter(.buy, 10, at: cents(14_000), token: "C")).kinds == ["accepted", "bookAdd"])
    }

    @Test func rejectsAnUnknownClientBeforeAnythingElse() {
        var x = CheckedEngine()
        x.send(.killExchange(2))
        #expect(x.send(enter(.buy, 10, at: cents(14_000), token: "A", client: 999)).kinds == ["rejected(unknown_client)"])
    }
}

@Suite struct HeldBackCommands {
    /// A command that expiry held back (the event buffer filled before it could start) gets
    /// its risk checks when it runs, after `resume` drained the expiry.
    @Test func checksACommandThatExpiryHeldBackWhenItRuns() {
        var engine = RiskCheckedEngine(configuration: Fixtures.configuration(eventBufferCapacity: 64), limits: limits())
        _ = engine.runCollecting(.killClient(ClientAction(timestamp: 1, client: 1)))
        for i in 0..<100 { _ = engine.runCollecting(enter(.buy, 100, at: cents(14_900), token: "E\(i)", client: 2, tif: .seconds(1))) }
        var status = engine.process(enter(.buy, 100, at: cents(14_900), token: "LATE", time: 3 * second))
        #expect(status == .suspended)
        var events: [EngineEvent] = []
        while true {
            events += engine.events
            engine.clearEvents()
            if status == .completed { break }
            status = engine.resume()
        }
        let idleAfter = engine.engine.isIdle
        #expect(idleAfter)
        #expect(events.count == 201)  // 100 × (canceled, bookReduce), then the reject
        #expect(events.last?.kind == "rejected(client_killed)")
    }
}

@Suite struct RejectReasonCodes {
    @Test func givesEveryReasonItsOwnMetricName() {
        #expect(Set(RejectReason.allCases.map(\.description)).count == RejectReason.allCases.count)
    }
}
