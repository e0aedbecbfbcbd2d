import ExchangeCore
import ExchangeTestSupport
import Testing

@Suite struct StructuralRejects {
    func rejection(_ command: EngineCommand, configuration: EngineConfiguration = Fixtures.configuration()) -> RejectReason? {
        var x = CheckedEngine(configuration: configuration)
        return x.send(command).first?.rejected?.reason
    }

    @Test func rejectsAnUnknownSymbol() {
        #expect(rejection(enter(.buy, 10, Symbol("NOPE")!, at: cents(100), token: "A")) == .unknownSymbol)
    }

    @Test func rejectsZeroShares() {
        #expect(rejection(enter(.buy, 0, at: cents(14_990), token: "A")) == .invalidShares)
    }

    @Test func rejectsATimeInForceOutsideTheOuchValues() {
        #expect(rejection(enter(.buy, 10, at: cents(14_990), token: "A", tif: TimeInForce(rawValue: 86_401))) == .invalidTimeInForce)
        #expect(rejection(enter(.buy, 10, at: cents(14_990), token: "A", tif: TimeInForce(rawValue: 99_997))) == .invalidTimeInForce)
    }

    // An unknown display letter cannot reach the core (Display is a closed enum; the OUCH
    // decoder refuses the letter, OUCHInboundTests); a post-only market order can.
    @Test func rejectsAPostOnlyMarketOrder() {
        #expect(rejection(enter(.buy, 10, at: 0, token: "A", tif: .immediateOrCancel, display: .postOnly, type: .market)) == .invalidDisplay)
        #expect(rejection(enter(.buy, 10, at: 0, token: "A", tif: .immediateOrCancel, display: .postOnlyAttributable, type: .market)) == .invalidDisplay)
    }

    @Test func rejectsAMinimumQuantityAboveTheShares() {
        #expect(rejection(enter(.buy, 10, at: cents(14_990), token: "A", minimum: 11)) == .invalidMinimumQuantity)
    }

    @Test func rejectsSharesThatAreNotAMultipleOfTheLot() {
        #expect(rejection(enter(.buy, 150, Fixtures.msft, at: cents(39_990), token: "A")) == .oddLot)
    }

    @Test func rejectsAPriceOffTheTickOrZero() {
        #expect(rejection(enter(.buy, 10, at: cents(14_990) + 1, token: "A")) == .invalidPriceIncrement)
        #expect(rejection(enter(.buy, 10, at: 0, token: "A")) == .invalidPriceIncrement)
    }

    @Test func rejectsAPriceOutsideTheLadder() {
        // 4,096 one-cent levels around $150: $129.52 to $170.47.
        #expect(rejection(enter(.buy, 10, at: cents(12_951), token: "A")) == .priceOutOfRange)
        #expect(rejection(enter(.sell, 10, at: cents(17_048), token: "A")) == .priceOutOfRange)
        #expect(rejection(enter(.sell, 10, at: cents(17_047), token: "A")) == nil)
    }

    @Test func rejectsATokenThatALiveOrderOfTheSameClientHolds() {
        var x = CheckedEngine()
        x.send(enter(.buy, 10, at: cents(14_990), token: "A"))
        #expect(x.send(enter(.buy, 10, at: cents(14_990), token: "A")).kinds == ["rejected(duplicate_token)"])
        // The same token from another client is fine.
        #expect(x.send(enter(.buy, 10, at: cents(14_990), token: "A", client: 2)).kinds == ["accepted", "bookAdd"])
    }

    /// Day-uniqueness of OUCH tokens is the session layer's rule; the engine frees a token
    /// when its order dies.
    @Test func freesATokenWhenItsOrderDies() {
        var x = CheckedEngine()
        x.send([enter(.buy, 10, at: cents(14_990), token: "A"), cancel("A")])
        #expect(x.send(enter(.buy, 10, at: cents(14_990), token: "A")).kinds == ["accepted", "bookAdd"])
    }

    @Test func allowsATokenOfARejectedOrderToBeUsedAgain() {
        var x = CheckedEngine()
        x.send(enter(.buy, 0, at: cents(14_990), token: "A"))
        #expect(x.send(enter(.buy, 10, at: cents(14_990), token: "A")).kinds == ["accepted", "bookAdd"])
    }

    @Test func rejectsNewOrdersOncePoolSizeOrdersRest() {
        var x = CheckedEngine(configuration: Fixtures.configuration(poolSize: 3))
        for i in 0..<3 { x.send(enter(.buy, 10, at: cents(14_990), token: "A\(i)")) }
        #expect(x.send(enter(.buy, 10, at: cents(14_990), token: "X")).kinds == ["rejected(order_pool_exhausted)"])
        // A replace reuses its order's record, and an order that only trades needs none afterwards.
        #expect(x.send(replace("A0", with: "A0b", 10, at: cents(14_980))).kinds == ["replaced", "bookReplace"])
        x.send(cancel("A1"))
        #expect(x.send(enter(.sell, 10, at: cents(14_990), token: "S", client: 2, firm: Fixtures.firmB)).kinds == ["accepted", "executed"])
        #expect(x.core.restingOrderCount == 1)
    }

    @Test func rejectsAClientOutsideTheClientTable() {
        #expect(rejection(enter(.buy, 10, at: cents(14_990), token: "A", client: 16)) == .unknownClient)
    }

    @Test func countsEveryRejectUnderItsOwnReason() {
        var x = CheckedEngine()
        x.send([enter(.buy, 0, at: cents(14_990), token: "A"), enter(.buy, 0, at: cents(14_990), token: "B"),
                enter(.buy, 10, Symbol("NOPE")!, at: cents(14_990), token: "C")])
        #expect(x.core.rejectCount(.invalidShares) == 2)
        #expect(x.core.rejectCount(.unknownSymbol) == 1)
        #expect(x.core.counters.rejects == 3)
    }
}

@Suite struct EngineConfigurationProblems {
    @Test func reportsEveryProblemOfABadConfiguration() {
        let bad = EngineConfiguration(
            instruments: [InstrumentSpec(symbol: Fixtures.aapl, tickSize: 0, lotSize: 0, collarBasisPoints: 10_000, referencePrice: 0)],
            orderPoolSize: 0, maxClients: 0, priceLevels: 100, eventBufferCapacity: 8)
        let problems = bad.problems()
        #expect(problems.count == 8)
        #expect(problems.contains { $0.contains("price levels must be a power of two") })
    }

    @Test func acceptsTheTestConfiguration() {
        #expect(Fixtures.configuration().problems().isEmpty)
    }
}
