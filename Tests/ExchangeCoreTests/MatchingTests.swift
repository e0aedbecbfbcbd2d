import ExchangeCore
import ExchangeTestSupport
import Testing

@Suite struct Matching {
    @Test func restsAnOrderThatDoesNotCrossAndPublishesItToTheBook() {
        var x = CheckedEngine()
        let events = x.send(enter(.buy, 100, at: cents(14_990), token: "B1"))
        #expect(events.kinds == ["accepted", "bookAdd"])
        let accepted = events[0].accepted!
        #expect(accepted.reference == 1 && accepted.state == .live && accepted.price == cents(14_990))
        #expect(events[1].bookAdd == BookAdd(timestamp: 1, instrument: 0, reference: 1, side: .bid, shares: 100,
                                             price: cents(14_990), attribution: nil))
        #expect(x.bids().map(\.shares) == [100])
        #expect(x.core.bestPrices(instrument: 0).bid == cents(14_990))
    }

    @Test func fillsAtTheMakersPriceInPriceThenTimePriority() {
        var x = CheckedEngine()
        x.send([
            enter(.sell, 100, at: cents(15_002), token: "S1"),
            enter(.sell, 100, at: cents(15_001), token: "S2"),
            enter(.sell, 100, at: cents(15_001), token: "S3"),
        ])
        let events = x.send(enter(.buy, 250, at: cents(15_005), token: "B1", client: 2, firm: Fixtures.firmB))
        #expect(events.kinds == ["accepted", "executed", "executed", "executed"])
        let fills = events.compactMap(\.executed)
        #expect(fills.map(\.makerToken) == [token("S2"), token("S3"), token("S1")])
        #expect(fills.map(\.price) == [cents(15_001), cents(15_001), cents(15_002)])
        #expect(fills.map(\.shares) == [100, 100, 50])
        #expect(fills.map(\.matchNumber) == [1, 2, 3])
        #expect(fills.allSatisfy { $0.takerToken == token("B1") && $0.takerClient == 2 && $0.makerLiquidity == .added })
        #expect(x.asks().map(\.shares) == [50])
        #expect(x.core.lastTradePrice(of: 0) == cents(15_002))
    }

    @Test func restsTheRemainderOfAPartiallyFilledOrderAtItsLimit() {
        var x = CheckedEngine()
        x.send(enter(.sell, 40, at: cents(15_000), token: "S1"))
        let events = x.send(enter(.buy, 100, at: cents(15_000), token: "B1", client: 2, firm: Fixtures.firmB))
        #expect(events.kinds == ["accepted", "executed", "bookAdd"])
        #expect(events[2].bookAdd?.shares == 60)
        #expect(x.bids().map(\.shares) == [60])
        #expect(x.asks().isEmpty)
    }

    @Test func cancelsTheRemainderOfAnImmediateOrCancelOrder() {
        var x = CheckedEngine()
        x.send(enter(.sell, 40, at: cents(15_000), token: "S1"))
        let events = x.send(enter(.buy, 100, at: cents(15_000), token: "B1", client: 2, firm: Fixtures.firmB, tif: .immediateOrCancel))
        #expect(events.kinds == ["accepted", "executed", "canceled(immediate_or_cancel)"])
        #expect(events[0].accepted?.state == .dead)
        #expect(events[2].canceled?.decrement == 60 && events[2].canceled?.remaining == 0)
        #expect(x.bids().isEmpty)
    }

    @Test func stopsAMarketOrderAtTheCollarAndCancelsTheRest() {
        var x = CheckedEngine()
        x.send([
            enter(.sell, 100, at: cents(16_400), token: "S1"),
            enter(.sell, 100, at: cents(16_600), token: "S2"),  // beyond $150 + 10 % = $165
        ])
        let events = x.send(marketOrder(.buy, 300, token: "M1", client: 2, firm: Fixtures.firmB))
        #expect(events.kinds == ["accepted", "executed", "canceled(immediate_or_cancel)"])
        #expect(events[0].accepted?.price == 0 && events[0].accepted?.orderType == .market)
        #expect(events[2].canceled?.decrement == 200)
        #expect(x.asks().map(\.price) == [cents(16_600)])
    }

    @Test func walksTheWholeBookWithAMarketOrderWhenMarketOrdersAreNotCollared() {
        var x = CheckedEngine(configuration: Fixtures.configuration(collarMarketOrders: false))
        x.send([enter(.sell, 100, at: cents(16_400), token: "S1"), enter(.sell, 100, at: cents(16_600), token: "S2")])
        let events = x.send(marketOrder(.buy, 200, token: "M1", client: 2, firm: Fixtures.firmB))
        #expect(events.kinds == ["accepted", "executed", "executed"])
    }

    @Test func killsAFillOrKillOrderWhenTheBookCannotFillItWhole() {
        var x = CheckedEngine()
        x.send([enter(.sell, 50, at: cents(15_000), token: "S1"), enter(.sell, 40, at: cents(15_001), token: "S2")])
        let events = x.send(enter(.buy, 100, at: cents(15_001), token: "F1", client: 2, firm: Fixtures.firmB,
                                  tif: .immediateOrCancel, minimum: 100))
        #expect(events.kinds == ["accepted", "canceled(immediate_or_cancel)"])
        #expect(events[1].canceled?.decrement == 100)
        #expect(x.asks().map(\.shares) == [50, 40])
    }

    @Test func fillsAFillOrKillOrderWhenTheBookHasEnough() {
        var x = CheckedEngine()
        x.send([enter(.sell, 50, at: cents(15_000), token: "S1"), enter(.sell, 60, at: cents(15_001), token: "S2")])
        let events = x.send(enter(.buy, 100, at: cents(15_001), token: "F1", client: 2, firm: Fixtures.firmB,
                                  tif: .immediateOrCancel, minimum: 100))
        #expect(events.kinds == ["accepted", "executed", "executed"])
    }

    @Test func ignoresTheMinimumQuantityOfAnOrderThatDoesNotCross() {
        var x = CheckedEngine()
        let events = x.send(enter(.buy, 100, at: cents(14_000), token: "B1", minimum: 100))
        #expect(events.kinds == ["accepted", "bookAdd"])
    }

    @Test func countsOnlyOtherFirmsTowardMinimumQuantityWhenSelfTradesWouldCancel() {
        var x = CheckedEngine()
        x.send([
            enter(.sell, 50, at: cents(15_000), token: "S1", client: 1, firm: Fixtures.firmA),
            enter(.sell, 80, at: cents(15_000), token: "S2", client: 2, firm: Fixtures.firmB),
        ])
        // Client 3 of firm A: with cancel-newest, the walk stops at its own firm's S1.
        let events = x.send(enter(.buy, 60, at: cents(15_000), token: "B1", client: 3, firm: Fixtures.firmA, minimum: 10))
        #expect(events.kinds == ["accepted", "canceled(immediate_or_cancel)"])
    }

    @Test func repricesAPostOnlyBuyOneTickBelowTheAskInsteadOfTaking() {
        var x = CheckedEngine()
        x.send(enter(.sell, 100, at: cents(15_000), token: "S1"))
        let events = x.send(enter(.buy, 100, at: cents(15_010), token: "P1", client: 2, firm: Fixtures.firmB, display: .postOnly))
        #expect(events.kinds == ["accepted", "bookAdd"])
        #expect(events[0].accepted?.price == cents(14_999))
        #expect(x.bids().map(\.price) == [cents(14_999)])
    }

    @Test func repricesAPostOnlySellOneTickAboveTheBid() {
        var x = CheckedEngine()
        x.send(enter(.buy, 100, at: cents(15_000), token: "B1"))
        let events = x.send(enter(.sell, 100, at: cents(14_900), token: "P1", client: 2, firm: Fixtures.firmB, display: .postOnlyAttributable))
        #expect(events[0].accepted?.price == cents(15_001))
        #expect(events[1].bookAdd?.attribution == Fixtures.firmB)
    }

    @Test func rejectsAPostOnlyOrderThatCannotBeRepricedInsideTheLadder() {
        // The ladder's lowest level holds an ask; a post-only buy cannot go below it.
        var x = CheckedEngine(configuration: Fixtures.configuration(priceLevels: 64))
        let lowest = cents(15_000 - 32)
        x.send(enter(.sell, 10, at: lowest, token: "S1", client: 2, firm: Fixtures.firmB))
        let events = x.send(enter(.buy, 10, at: lowest, token: "P1", display: .postOnly))
        #expect(events.kinds == ["rejected(post_only_cannot_post)"])
    }

    @Test func tradesNonDisplayedOrdersWithoutPublishingThemToTheBook() {
        var x = CheckedEngine()
        let rest = x.send(enter(.sell, 100, at: cents(15_000), token: "H1", display: .nonDisplayed))
        #expect(rest.kinds == ["accepted"])
        let events = x.send(enter(.buy, 100, at: cents(15_000), token: "B1", client: 2, firm: Fixtures.firmB))
        #expect(events.kinds == ["accepted", "executed"])
        #expect(events[1].executed?.makerDisplay == .nonDisplayed && events[1].executed?.makerLiquidity == .addedNonDisplayed)
    }

    @Test func attributesTheFirmOfAnAttributableOrder() {
        var x = CheckedEngine()
        let events = x.send(enter(.buy, 100, at: cents(14_000), token: "B1", display: .attributable))
        #expect(events[1].bookAdd?.attribution == Fixtures.firmA)
    }

    @Test func numbersOrderReferencesAndMatchesSequentiallyFromOne() {
        var x = CheckedEngine()
        let events = x.send([
            enter(.sell, 10, at: cents(15_000), token: "S1"),
            enter(.sell, 10, at: cents(15_000), token: "S2"),
            enter(.buy, 20, at: cents(15_000), token: "B1", client: 2, firm: Fixtures.firmB),
            replace("B1", with: "B2", 5, at: cents(14_000), client: 2),
        ])
        #expect(events.compactMap(\.accepted).map(\.reference) == [1, 2, 3])
        #expect(events.compactMap(\.executed).map(\.matchNumber) == [1, 2])
        // B1 filled completely, so the replace finds no live order.
        #expect(events.last?.kind == "rejected(unknown_order)")
    }
}

@Suite struct SelfTradePreventionModes {
    func exchange(_ mode: SelfTradePrevention) -> CheckedEngine {
        var x = CheckedEngine(configuration: Fixtures.configuration(selfTradePrevention: mode))
        x.send([
            enter(.sell, 50, at: cents(15_000), token: "OWN", client: 1, firm: Fixtures.firmA),
            enter(.sell, 50, at: cents(15_001), token: "OTHER", client: 2, firm: Fixtures.firmB),
        ])
        return x
    }

    func incoming() -> EngineCommand { enter(.buy, 80, at: cents(15_001), token: "IN", client: 3, firm: Fixtures.firmA) }

    @Test func cancelNewestCancelsTheIncomingOrderAndLeavesTheRestingOne() {
        var x = exchange(.cancelNewest)
        let events = x.send(incoming())
        #expect(events.kinds == ["accepted", "canceled(self_match_prevention)"])
        #expect(events[1].canceled?.token == token("IN") && events[1].canceled?.decrement == 80)
        #expect(x.asks().map(\.token) == [token("OWN"), token("OTHER")])
    }

    @Test func cancelOldestCancelsTheRestingOrderAndKeepsMatching() {
        var x = exchange(.cancelOldest)
        let events = x.send(incoming())
        #expect(events.kinds == ["accepted", "canceled(self_match_prevention)", "bookDelete", "executed", "bookAdd"])
        #expect(events[1].canceled?.token == token("OWN"))
        #expect(events[3].executed?.makerToken == token("OTHER"))
        #expect(x.bids().map(\.shares) == [30])
    }

    @Test func cancelBothCancelsBothOrders() {
        var x = exchange(.cancelBoth)
        let events = x.send(incoming())
        #expect(events.kinds == ["accepted", "canceled(self_match_prevention)", "bookDelete", "canceled(self_match_prevention)"])
        #expect(events[1].canceled?.token == token("OWN") && events[3].canceled?.token == token("IN"))
        #expect(x.asks().map(\.token) == [token("OTHER")] && x.bids().isEmpty)
    }

    @Test func decrementReducesBothBySmallerSizeWithoutATrade() {
        var x = exchange(.decrement)
        let events = x.send(incoming())
        #expect(events.kinds == ["accepted", "canceled(self_match_prevention)", "bookDelete",
                                 "canceled(self_match_prevention)", "executed"])
        #expect(events[1].canceled?.decrement == 50 && events[3].canceled?.decrement == 50 && events[3].canceled?.remaining == 30)
        #expect(events[4].executed?.shares == 30)
        #expect(x.asks().map(\.shares) == [20])
    }
}
