import ExchangeCore
import ExchangeTestSupport
import Testing

@Suite struct Replace {
    func book() -> CheckedEngine {
        var x = CheckedEngine()
        x.send([enter(.buy, 100, at: cents(14_990), token: "A"), enter(.buy, 100, at: cents(14_990), token: "B", client: 2)])
        return x
    }

    @Test func keepsTimePriorityWhenThePriceIsUnchangedAndSharesDoNotIncrease() {
        var x = book()
        let events = x.send(replace("A", with: "A2", 60, at: cents(14_990)))
        #expect(events.kinds == ["replaced", "bookReplace"])
        let r = events[0].replaced!
        #expect(r.previousToken == token("A") && r.token == token("A2") && r.reference == 3 && r.previousReference == 1)
        #expect(events[1].bookReplace == BookReplace(timestamp: 1, instrument: 0, previousReference: 1, reference: 3,
                                                     shares: 60, price: cents(14_990)))
        #expect(x.bids().map(\.token) == [token("A2"), token("B")])
        #expect(x.core.openNotional(client: 1) == 60 * UInt64(cents(14_990)))
    }

    @Test func goesToTheBackOfTheLevelWhenSharesIncrease() {
        var x = book()
        let events = x.send(replace("A", with: "A2", 150, at: cents(14_990)))
        #expect(events.kinds == ["replaced", "bookReplace"])
        #expect(x.bids().map(\.token) == [token("B"), token("A2")])
    }

    @Test func goesToTheBackOfItsNewLevelWhenThePriceChanges() {
        var x = book()
        x.send(enter(.buy, 100, at: cents(14_980), token: "C", client: 3))
        x.send(replace("A", with: "A2", 100, at: cents(14_980)))
        #expect(x.bids().map(\.token) == [token("B"), token("C"), token("A2")])
    }

    @Test func deletesFromTheBookThenTradesWhenTheReplacementCrosses() {
        var x = book()
        x.send(enter(.sell, 30, at: cents(15_000), token: "S", client: 4, firm: Fixtures.firmB))
        let events = x.send(replace("A", with: "A2", 100, at: cents(15_000)))
        #expect(events.kinds == ["replaced", "bookDelete", "executed", "bookAdd"])
        #expect(events[1].bookReduce?.reference == 1)
        #expect(events[2].executed?.takerToken == token("A2") && events[2].executed?.shares == 30)
        #expect(events[3].bookAdd?.shares == 70 && events[3].bookAdd?.reference == 4)
    }

    @Test func publishesADeleteWhenADisplayedOrderBecomesNonDisplayed() {
        var x = book()
        let events = x.send(replace("A", with: "A2", 100, at: cents(14_991), display: .nonDisplayed))
        #expect(events.kinds == ["replaced", "bookDelete"])
    }

    @Test func publishesAnAddWhenANonDisplayedOrderBecomesDisplayed() {
        var x = CheckedEngine()
        x.send(enter(.buy, 100, at: cents(14_990), token: "H", display: .nonDisplayed))
        let events = x.send(replace("H", with: "H2", 100, at: cents(14_990)))
        #expect(events.kinds == ["replaced", "bookAdd"])
        #expect(events[1].bookAdd?.reference == 2)
    }

    @Test func cancelsAnImmediateOrCancelReplacementThatDoesNotCross() {
        var x = book()
        let events = x.send(replace("A", with: "A2", 100, at: cents(14_990), tif: .immediateOrCancel))
        #expect(events.kinds == ["replaced", "bookDelete", "canceled(immediate_or_cancel)"])
        #expect(events[0].replaced?.state == .dead)
        #expect(x.bids().map(\.token) == [token("B")])
    }

    @Test func rejectsAReplaceOfAnUnknownTokenAndChangesNothing() {
        var x = book()
        let events = x.send(replace("NOPE", with: "A2", 100, at: cents(14_990)))
        #expect(events.kinds == ["rejected(unknown_order)"])
        #expect(events[0].rejected?.token == token("A2"))
        #expect(x.bids().count == 2)
    }

    @Test func rejectsAReplacementTokenThatIsAlreadyInUse() {
        var x = book()
        #expect(x.send(replace("A", with: "A", 100, at: cents(14_990))).kinds == ["rejected(duplicate_token)"])
    }
}

@Suite struct CancelAndModify {
    @Test func reducesToTheNewOpenSizeAndKeepsPriority() {
        var x = CheckedEngine()
        x.send([enter(.buy, 100, at: cents(14_990), token: "A"), enter(.buy, 100, at: cents(14_990), token: "B", client: 2)])
        let events = x.send(cancel("A", to: 30))
        #expect(events.kinds == ["canceled(user_requested)", "bookCancel"])
        #expect(events[0].canceled?.decrement == 70 && events[0].canceled?.remaining == 30)
        #expect(x.bids().map(\.shares) == [30, 100])
    }

    @Test func removesTheOrderWhenCancelledToZero() {
        var x = CheckedEngine()
        x.send(enter(.buy, 100, at: cents(14_990), token: "A"))
        #expect(x.send(cancel("A")).kinds == ["canceled(user_requested)", "bookDelete"])
        #expect(x.bids().isEmpty && x.core.openNotional(client: 1) == 0)
    }

    @Test func rejectsACancelThatWouldNotReduceTheOrder() {
        var x = CheckedEngine()
        x.send(enter(.buy, 100, at: cents(14_990), token: "A"))
        #expect(x.send(cancel("A", to: 100)).kinds == ["cancelRejected(cancel_size_not_smaller)"])
    }

    @Test func rejectsACancelOfAnUnknownOrAnotherClientsToken() {
        var x = CheckedEngine()
        x.send(enter(.buy, 100, at: cents(14_990), token: "A"))
        #expect(x.send(cancel("Z")).kinds == ["cancelRejected(unknown_order)"])
        #expect(x.send(cancel("A", client: 2)).kinds == ["cancelRejected(unknown_order)"])
    }

    @Test func modifiesASellIntoAShortSaleAndReducesItInPlace() {
        var x = CheckedEngine()
        x.send([enter(.sell, 100, at: cents(15_010), token: "A"), enter(.sell, 100, at: cents(15_010), token: "B", client: 2)])
        let events = x.send(modify("A", .sellShort, 40))
        #expect(events.kinds == ["modified", "bookCancel"])
        #expect(x.asks().map(\.side) == [.sellShort, .sell])
        #expect(x.asks().map(\.shares) == [40, 100])
    }

    @Test func rejectsAModifyThatFlipsTheBookSideOrAddsShares() {
        var x = CheckedEngine()
        x.send(enter(.sell, 100, at: cents(15_010), token: "A"))
        #expect(x.send(modify("A", .buy, 100)).kinds == ["cancelRejected(invalid_modify)"])
        #expect(x.send(modify("A", .sell, 101)).kinds == ["cancelRejected(invalid_modify)"])
        #expect(x.send(modify("A", .sell, 0)).kinds == ["cancelRejected(invalid_modify)"])
    }
}

@Suite struct TimeAndMassActions {
    let second: Timestamp = 1_000_000_000

    @Test func expiresATimedOrderOnceCommandTimePassesItsDeadline() {
        var x = CheckedEngine()
        x.send(enter(.buy, 100, at: cents(14_990), token: "T", tif: .seconds(5), time: 10 * second))
        #expect(x.send(.advanceTime(15 * second - 1)).isEmpty)
        let events = x.send(.advanceTime(15 * second))
        #expect(events.kinds == ["canceled(timeout)", "bookDelete"])
        #expect(events[0].timestamp == 15 * second)
    }

    @Test func expiresInDeadlineOrderThenAcceptanceOrderBeforeTheCommandRuns() {
        var x = CheckedEngine()
        x.send([
            enter(.buy, 10, at: cents(14_990), token: "LATE", tif: .seconds(9), time: second),
            enter(.buy, 10, at: cents(14_990), token: "E1", tif: .seconds(5), time: 2 * second),
            enter(.buy, 10, at: cents(14_990), token: "E2", tif: .seconds(5), time: 2 * second),
        ])
        let events = x.send(enter(.sell, 10, at: cents(14_990), token: "S", client: 2, firm: Fixtures.firmB, time: 20 * second))
        #expect(events.compactMap(\.canceled).map(\.token) == [token("E1"), token("E2"), token("LATE")])
        #expect(events.suffix(2).kinds == ["accepted", "bookAdd"])
    }

    @Test func doesNotMoveTimeBackwardsForALateTimestamp() {
        var x = CheckedEngine()
        x.send(enter(.buy, 10, at: cents(14_990), token: "T", tif: .seconds(1), time: 5 * second))
        x.send(.advanceTime(7 * second))
        #expect(x.core.now == 7 * second)
        x.send(.advanceTime(6 * second))
        #expect(x.core.now == 7 * second)
    }

    @Test func cancelsEveryOrderOfAClientInTheOrderTheyCameToRest() {
        var x = CheckedEngine()
        x.send([
            enter(.buy, 10, at: cents(14_990), token: "A"),
            enter(.sell, 10, at: cents(15_010), token: "B"),
            enter(.buy, 10, at: cents(14_980), token: "C"),
            enter(.buy, 10, at: cents(14_980), token: "OTHER", client: 2),
            replace("A", with: "A2", 10, at: cents(14_985)),  // not in place: moves to the end
        ])
        let events = x.send(.cancelAll(ClientAction(timestamp: 2, client: 1)))
        #expect(events.compactMap(\.canceled).map(\.token) == [token("B"), token("C"), token("A2")])
        #expect(events.compactMap(\.canceled).allSatisfy { $0.reason == .userRequested })
        #expect(x.bids().map(\.token) == [token("OTHER")])
    }

    @Test func haltsAnInstrumentRejectingNewOrdersWhileCancelsStillWork() {
        var x = CheckedEngine()
        x.send(enter(.buy, 10, at: cents(14_990), token: "A"))
        let halt = x.send(.haltInstrument(InstrumentAction(timestamp: 2, symbol: Fixtures.aapl)))
        #expect(halt == [.tradingState(TradingStateChanged(timestamp: 2, instrument: 0, halted: true))])
        #expect(x.send(.haltInstrument(InstrumentAction(timestamp: 3, symbol: Fixtures.aapl))).isEmpty)
        #expect(x.send(enter(.buy, 10, at: cents(14_990), token: "B")).kinds == ["rejected(instrument_halted)"])
        #expect(x.send(replace("A", with: "A2", 5, at: cents(14_990))).kinds == ["rejected(instrument_halted)"])
        #expect(x.send(cancel("A")).kinds == ["canceled(user_requested)", "bookDelete"])
        #expect(x.send(.resumeInstrument(InstrumentAction(timestamp: 4, symbol: Fixtures.aapl))).kinds == ["tradingState"])
        #expect(x.send(enter(.buy, 10, at: cents(14_990), token: "C")).kinds == ["accepted", "bookAdd"])
    }
}
