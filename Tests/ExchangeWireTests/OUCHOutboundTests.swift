import ExchangeCore
import ExchangeWire
import Testing

/// Engine events used by the outbound tests and the tshark session.
enum Events {
    static let accepted = OrderAccepted(
        timestamp: Fixture.timestamp, client: 7, token: Fixture.token, reference: 1_000_001, instrument: 0, side: .buy,
        orderType: .limit, shares: 300, price: 1_502_500, timeInForce: .marketHours, firm: Fixture.firm,
        display: .anonymous, capacity: .agency, intermarketSweep: .notEligible, minimumQuantity: 100, crossType: .continuous,
        state: .live)

    static let acceptedMarket = OrderAccepted(
        timestamp: Fixture.timestamp, client: 7, token: Fixture.token2, reference: 1_000_002, instrument: 0,
        side: .sellShort, orderType: .market, shares: 50, price: 0, timeInForce: .immediateOrCancel, firm: Fixture.firm,
        display: .nonDisplayed, capacity: .principal, intermarketSweep: .eligible, minimumQuantity: 0, crossType: .continuous,
        state: .dead)

    static let replaced = OrderReplaced(
        timestamp: Fixture.timestamp, client: 7, token: Fixture.token2, previousToken: Fixture.token,
        reference: 1_000_003, previousReference: 1_000_001, instrument: 0, side: .buy, shares: 200, price: 1_503_000,
        timeInForce: .systemHours, firm: Fixture.firm, display: .attributable, capacity: .agency, intermarketSweep: .notEligible,
        minimumQuantity: 0, crossType: .continuous, state: .live)

    static let canceled = OrderCanceled(
        timestamp: Fixture.timestamp, client: 7, token: Fixture.token, reference: 1_000_001, instrument: 0,
        decrement: 260, remaining: 40, reason: .userRequested)

    static func executed(makerDisplay: Display) -> OrderExecuted {
        OrderExecuted(
            timestamp: Fixture.timestamp, instrument: 0, shares: 100, price: 1_502_400, matchNumber: 77_001,
            takerClient: 7, takerToken: Fixture.token, takerReference: 1_000_001, takerSide: .buy, makerClient: 8,
            makerToken: Fixture.makerToken, makerReference: 999, makerSide: .sell, makerDisplay: makerDisplay)
    }

    static let rejected = OrderRejected(timestamp: Fixture.timestamp, client: 7, token: Fixture.token,
                                        reason: .maxNotionalExceeded)
    static let modified = OrderModified(timestamp: Fixture.timestamp, client: 7, token: Fixture.token,
                                        side: .sellShortExempt, shares: 100)
    static let cancelRejected = CancelRejected(timestamp: Fixture.timestamp, client: 7, token: Fixture.token,
                                               reason: .unknownOrder)
}

/// Hand-built outbound messages, field by field from the OUCH 4.2 specification.
enum OutboundGolden {
    static func accepted(token: String, side: Character, shares: UInt32, price: UInt32, tif: UInt32, display: Character,
                         reference: UInt64, capacity: Character, iso: Character, minimumQuantity: UInt32,
                         state: Character) -> [UInt8] {
        ByteBuilder.build {
            $0.char("A")
            $0.u64(Fixture.timestamp)
            $0.alpha(token, width: 14)
            $0.char(side)
            $0.u32(shares)
            $0.alpha("AAPL", width: 8)
            $0.u32(price)
            $0.u32(tif)
            $0.alpha("RTES", width: 4)
            $0.char(display)
            $0.u64(reference)
            $0.char(capacity)
            $0.char(iso)
            $0.u32(minimumQuantity)
            $0.char("N")     // cross type
            $0.char(state)
            $0.char(" ")     // BBO weight indicator
        }
    }

    static func executed(token: String, liquidity: Character) -> [UInt8] {
        ByteBuilder.build {
            $0.char("E")
            $0.u64(Fixture.timestamp)
            $0.alpha(token, width: 14)
            $0.u32(100)
            $0.u32(1_502_400)
            $0.char(liquidity)
            $0.u64(77_001)
        }
    }
}

@Suite struct OUCHOutboundGoldenBytes {
    @Test func writesAcceptedForALimitOrder() {
        let bytes = written { OUCHOutbound.accepted(Events.accepted, symbol: Fixture.symbol, to: $0) }
        let expected = OutboundGolden.accepted(
            token: "ORD00000000001", side: "B", shares: 300, price: 1_502_500, tif: 99_998, display: "Y",
            reference: 1_000_001, capacity: "A", iso: "N", minimumQuantity: 100, state: "L")
        #expect(bytes.count == 66)
        #expect(bytes == expected, "\(hex(bytes))")
    }

    @Test func writesAcceptedForAMarketOrderWithTheMarketPriceAndDeadState() {
        let bytes = written { OUCHOutbound.accepted(Events.acceptedMarket, symbol: Fixture.symbol, to: $0) }
        let expected = OutboundGolden.accepted(
            token: "ORD00000000002", side: "T", shares: 50, price: 0x7FFF_FFFF, tif: 0, display: "N",
            reference: 1_000_002, capacity: "P", iso: "Y", minimumQuantity: 0, state: "D")
        #expect(bytes == expected, "\(hex(bytes))")
    }

    @Test func writesReplacedWithThePreviousToken() {
        let bytes = written { OUCHOutbound.replaced(Events.replaced, symbol: Fixture.symbol, to: $0) }
        let expected = ByteBuilder.build {
            $0.char("U")
            $0.u64(Fixture.timestamp)
            $0.alpha("ORD00000000002", width: 14)
            $0.char("B")
            $0.u32(200)
            $0.alpha("AAPL", width: 8)
            $0.u32(1_503_000)
            $0.u32(99_999)
            $0.alpha("RTES", width: 4)
            $0.char("A")
            $0.u64(1_000_003)
            $0.char("A")
            $0.char("N")
            $0.u32(0)
            $0.char("N")
            $0.char("L")
            $0.alpha("ORD00000000001", width: 14)
            $0.char(" ")
        }
        #expect(bytes.count == 80)
        #expect(bytes == expected, "\(hex(bytes))")
    }

    @Test func writesCanceledWithTheDecrementAndReason() {
        let bytes = written { OUCHOutbound.canceled(Events.canceled, to: $0) }
        let expected = ByteBuilder.build {
            $0.char("C")
            $0.u64(Fixture.timestamp)
            $0.alpha("ORD00000000001", width: 14)
            $0.u32(260)
            $0.char("U")
        }
        #expect(bytes == expected, "\(hex(bytes))")
    }

    @Test func writesExecutedForTheTakerAsRemovingLiquidity() {
        let bytes = written { OUCHOutbound.executed(Events.executed(makerDisplay: .anonymous), as: .taker, to: $0) }
        #expect(bytes == OutboundGolden.executed(token: "ORD00000000001", liquidity: "R"), "\(hex(bytes))")
    }

    @Test func writesExecutedForADisplayedMakerAsAddingLiquidity() {
        let bytes = written { OUCHOutbound.executed(Events.executed(makerDisplay: .anonymous), as: .maker, to: $0) }
        #expect(bytes == OutboundGolden.executed(token: "MAKER0000000A7", liquidity: "A"), "\(hex(bytes))")
        let postOnly = written { OUCHOutbound.executed(Events.executed(makerDisplay: .postOnly), as: .maker, to: $0) }
        #expect(postOnly == OutboundGolden.executed(token: "MAKER0000000A7", liquidity: "A"))
    }

    @Test func writesExecutedForEachSideOfACrossWithTheCrossLiquidityFlag() {
        for (cross, flag) in [(CrossKind.opening, Character("O")), (.closing, "C"), (.halt, "H")] {
            let fill = CrossFill(
                timestamp: Fixture.timestamp, instrument: 0, shares: 100, price: 1_502_400, matchNumber: 77_001, cross: cross,
                buy: CrossParty(client: 7, token: Fixture.token, reference: 1_000_001, side: .buy, display: .anonymous, onBook: true),
                sell: CrossParty(client: 8, token: Fixture.makerToken, reference: 999, side: .sell, display: .nonDisplayed, onBook: false))
            let buy = written { OUCHOutbound.crossExecuted(fill, buySide: true, to: $0) }
            #expect(buy == OutboundGolden.executed(token: "ORD00000000001", liquidity: flag), "\(hex(buy))")
            let sell = written { OUCHOutbound.crossExecuted(fill, buySide: false, to: $0) }
            #expect(sell == OutboundGolden.executed(token: "MAKER0000000A7", liquidity: flag), "\(hex(sell))")
        }
    }

    @Test func writesExecutedForANonDisplayedMakerAsAddingHiddenLiquidity() {
        let bytes = written { OUCHOutbound.executed(Events.executed(makerDisplay: .nonDisplayed), as: .maker, to: $0) }
        #expect(bytes == OutboundGolden.executed(token: "MAKER0000000A7", liquidity: "J"), "\(hex(bytes))")
    }

    @Test func writesRejectedWithTheOUCHReasonCode() {
        let bytes = written { OUCHOutbound.rejected(Events.rejected, to: $0) }
        let expected = ByteBuilder.build {
            $0.char("J")
            $0.u64(Fixture.timestamp)
            $0.alpha("ORD00000000001", width: 14)
            $0.char("n")
        }
        #expect(bytes == expected, "\(hex(bytes))")
        for reason in RejectReason.allCases {
            let event = OrderRejected(timestamp: 0, client: 0, token: Fixture.token, reason: reason)
            #expect(written { OUCHOutbound.rejected(event, to: $0) }[23] == reason.ouchCode)
        }
    }

    @Test func writesOrderModified() {
        let bytes = written { OUCHOutbound.modified(Events.modified, to: $0) }
        let expected = ByteBuilder.build {
            $0.char("M")
            $0.u64(Fixture.timestamp)
            $0.alpha("ORD00000000001", width: 14)
            $0.char("E")
            $0.u32(100)
        }
        #expect(bytes.count == 28)
        #expect(bytes == expected, "\(hex(bytes))")
    }

    @Test func writesTheTokenOnlyMessages() {
        func tokenOnly(_ type: Character) -> [UInt8] {
            ByteBuilder.build {
                $0.char(type)
                $0.u64(Fixture.timestamp)
                $0.alpha("ORD00000000001", width: 14)
            }
        }
        #expect(written { OUCHOutbound.cancelRejected(Events.cancelRejected, to: $0) } == tokenOnly("I"))
        #expect(written { OUCHOutbound.cancelPending(timestamp: Fixture.timestamp, token: Fixture.token, to: $0) }
            == tokenOnly("P"))
    }

    @Test func writesSystemEventAndBrokenTrade() {
        #expect(written { OUCHOutbound.systemEvent(timestamp: 5, eventCode: OUCH.SystemEventCode.startOfDay, to: $0) }
            == ByteBuilder.build { $0.char("S"); $0.u64(5); $0.char("S") })
        let broken = written {
            OUCHOutbound.brokenTrade(timestamp: Fixture.timestamp, token: Fixture.token, matchNumber: 77_001,
                                     reason: 0x45, to: $0)
        }
        #expect(broken == ByteBuilder.build {
            $0.char("B")
            $0.u64(Fixture.timestamp)
            $0.alpha("ORD00000000001", width: 14)
            $0.u64(77_001)
            $0.char("E")
        })
    }

    @Test func writesTheLengthEachLayoutDeclares() {
        #expect(written { OUCHOutbound.accepted(Events.accepted, symbol: Fixture.symbol, to: $0) }.count == OUCHLayout.Accepted.length)
        #expect(written { OUCHOutbound.replaced(Events.replaced, symbol: Fixture.symbol, to: $0) }.count == OUCHLayout.Replaced.length)
        #expect(OUCHLayout.Replaced.length == OUCH.maximumOutboundLength)
        #expect(OUCHLayout.EnterOrder.length == OUCH.maximumInboundLength)
    }
}

@Suite struct OUCHMessageDecoding {
    /// Every outbound message type, from engine events where there is one.
    static func allMessages() -> [[UInt8]] {
        [
            written { OUCHOutbound.systemEvent(timestamp: 1, eventCode: OUCH.SystemEventCode.startOfDay, to: $0) },
            written { OUCHOutbound.accepted(Events.accepted, symbol: Fixture.symbol, to: $0) },
            written { OUCHOutbound.accepted(Events.acceptedMarket, symbol: Fixture.symbol, to: $0) },
            written { OUCHOutbound.replaced(Events.replaced, symbol: Fixture.symbol, to: $0) },
            written { OUCHOutbound.canceled(Events.canceled, to: $0) },
            written { OUCHOutbound.executed(Events.executed(makerDisplay: .nonDisplayed), as: .taker, to: $0) },
            written { OUCHOutbound.executed(Events.executed(makerDisplay: .nonDisplayed), as: .maker, to: $0) },
            written { OUCHOutbound.brokenTrade(timestamp: 2, token: Fixture.token, matchNumber: 3, reason: 0x53, to: $0) },
            written { OUCHOutbound.rejected(Events.rejected, to: $0) },
            written { OUCHOutbound.cancelPending(timestamp: 4, token: Fixture.token, to: $0) },
            written { OUCHOutbound.cancelRejected(Events.cancelRejected, to: $0) },
            written { OUCHOutbound.modified(Events.modified, to: $0) },
            written { OUCHOutbound.systemEvent(timestamp: 9, eventCode: OUCH.SystemEventCode.endOfDay, to: $0) },
        ]
    }

    @Test func decodesEveryMessageIntoValuesAndWritesItBackUnchanged() throws {
        for bytes in Self.allMessages() {
            let message = try #require(withPayload(bytes) { OUCHMessage.decode($0) }, "\(hex(bytes))")
            #expect(written { message.encode(to: $0) } == bytes)
        }
    }

    @Test func decodesAcceptedFieldsAsSwiftValues() throws {
        let bytes = written { OUCHOutbound.accepted(Events.acceptedMarket, symbol: Fixture.symbol, to: $0) }
        let message = try #require(withPayload(bytes) { OUCHMessage.decode($0) })
        let m = try #require(message.accepted, "not accepted")
        #expect(m.token == Fixture.token2)
        #expect(m.symbol == Fixture.symbol)
        #expect(m.side == .sellShort)
        #expect(m.isMarketOrder)
        #expect(m.state == .dead)
        #expect(m.reference == 1_000_002)
        #expect(m.bboWeight == 0x20)
        #expect(m.timestamp == Fixture.timestamp)
    }

    @Test func decodesExecutedAndReplacedFields() throws {
        let executed = written { OUCHOutbound.executed(Events.executed(makerDisplay: .nonDisplayed), as: .maker, to: $0) }
        #expect(withPayload(executed) { OUCHMessage.decode($0) } == .executed(
            timestamp: Fixture.timestamp, token: Fixture.makerToken, shares: 100, price: 1_502_400, liquidity: 0x4A,
            matchNumber: 77_001))
        let replaced = written { OUCHOutbound.replaced(Events.replaced, symbol: Fixture.symbol, to: $0) }
        let m = try #require({ if case .replaced(let m) = withPayload(replaced, { OUCHMessage.decode($0) }) { m } else { nil } }())
        #expect(m.token == Fixture.token2)
        #expect(m.previousToken == Fixture.token)
        #expect(m.display == .attributable)
    }

    @Test func refusesWrongLengthsUnknownTypesAndBadCodes() {
        for bytes in Self.allMessages() {
            #expect(withPayload(Array(bytes.dropLast())) { OUCHMessage.decode($0) } == nil)
            #expect(withPayload(bytes + [0x20]) { OUCHMessage.decode($0) } == nil)
        }
        #expect(withPayload([]) { OUCHMessage.decode($0) } == nil)
        #expect(withPayload([0x5A] + [UInt8](repeating: 0, count: 27)) { OUCHMessage.decode($0) } == nil)
        var badSide = written { OUCHOutbound.accepted(Events.accepted, symbol: Fixture.symbol, to: $0) }
        badSide[23] = 0x58
        #expect(withPayload(badSide) { OUCHMessage.decode($0) } == nil)
        var badState = written { OUCHOutbound.accepted(Events.accepted, symbol: Fixture.symbol, to: $0) }
        badState[64] = 0x58
        #expect(withPayload(badState) { OUCHMessage.decode($0) } == nil)
    }
}
