import ExchangeCore
import ExchangeWire
import Testing

/// Hand-built inbound messages, field by field from the OUCH 4.2 specification.
enum InboundGolden {
    static func enter(token: String = "ORD00000000001", side: Character = "B", shares: UInt32 = 300,
                      stock: String = "AAPL", price: UInt32 = 1_502_500, timeInForce: UInt32 = 99_998,
                      firm: String = "RTES", display: Character = "Y", capacity: Character = "A",
                      iso: Character = "N", minimumQuantity: UInt32 = 100, crossType: Character = "N",
                      customerType: Character = " ") -> [UInt8] {
        ByteBuilder.build {
            $0.char("O")
            $0.alpha(token, width: 14)
            $0.char(side)
            $0.u32(shares)
            $0.alpha(stock, width: 8)
            $0.u32(price)
            $0.u32(timeInForce)
            $0.alpha(firm, width: 4)
            $0.char(display)
            $0.char(capacity)
            $0.char(iso)
            $0.u32(minimumQuantity)
            $0.char(crossType)
            $0.char(customerType)
        }
    }

    static func replace(existing: String = "ORD00000000001", replacement: String = "ORD00000000002", shares: UInt32 = 200,
                        price: UInt32 = 1_503_000, timeInForce: UInt32 = 99_999, display: Character = "N",
                        iso: Character = "N", minimumQuantity: UInt32 = 0) -> [UInt8] {
        ByteBuilder.build {
            $0.char("U")
            $0.alpha(existing, width: 14)
            $0.alpha(replacement, width: 14)
            $0.u32(shares)
            $0.u32(price)
            $0.u32(timeInForce)
            $0.char(display)
            $0.char(iso)
            $0.u32(minimumQuantity)
        }
    }

    static func cancel(token: String = "ORD00000000001", shares: UInt32 = 0) -> [UInt8] {
        ByteBuilder.build {
            $0.char("X")
            $0.alpha(token, width: 14)
            $0.u32(shares)
        }
    }

    static func modify(token: String = "ORD00000000001", side: Character = "T", shares: UInt32 = 100) -> [UInt8] {
        ByteBuilder.build {
            $0.char("M")
            $0.alpha(token, width: 14)
            $0.char(side)
            $0.u32(shares)
        }
    }
}

func decodeInbound(_ bytes: [UInt8], client: ClientID = 7) -> OUCHDecodeResult {
    withPayload(bytes) { OUCHInbound.decode($0, client: client, defaultFirm: Fixture.defaultFirm, timestamp: Fixture.timestamp) }
}

@Suite struct OUCHInboundDecoding {
    @Test func decodesEnterOrder() {
        let bytes = InboundGolden.enter()
        #expect(bytes.count == 49)
        let expected = EnterOrder(
            timestamp: Fixture.timestamp, client: 7, token: Fixture.token, side: .buy, orderType: .limit, shares: 300,
            symbol: Fixture.symbol, price: 1_502_500, timeInForce: .marketHours, firm: Fixture.firm, display: .anonymous,
            capacity: .agency, intermarketSweep: .notEligible, minimumQuantity: 100, crossType: .continuous, customerType: .unspecified)
        #expect(decodeInbound(bytes) == .command(.enter(expected)))
    }

    @Test func makesTheMarketPriceAMarketOrder() throws {
        let order = try #require(
            { if case .command(.enter(let o)) = decodeInbound(InboundGolden.enter(price: 0x7FFF_FFFF)) { o } else { nil } }(), "not an enter")
        #expect(order.orderType == .market)
        #expect(order.price == 0)
        let limit = try #require({ if case .command(.enter(let o)) = decodeInbound(InboundGolden.enter(price: 0x7FFF_FFFE)) { o } else { nil } }())
        #expect(limit.orderType == .limit)
        #expect(limit.price == 0x7FFF_FFFE)
    }

    @Test func givesABlankFirmTheAccountsDefault() throws {
        let blank = try #require({ if case .command(.enter(let o)) = decodeInbound(InboundGolden.enter(firm: "")) { o } else { nil } }())
        #expect(blank.firm == Fixture.defaultFirm)
        let own = try #require({ if case .command(.enter(let o)) = decodeInbound(InboundGolden.enter(firm: "ABCD")) { o } else { nil } }())
        #expect(own.firm == Firm("ABCD"))
    }

    @Test(arguments: ["B", "S", "T", "E"] as [Character])
    func acceptsEverySide(side: Character) throws {
        let order = try #require(
            { if case .command(.enter(let o)) = decodeInbound(InboundGolden.enter(side: side)) { o } else { nil } }(), "side \(side) refused")
        #expect(order.side.ouchCode == side.asciiValue)
    }

    @Test(arguments: ["b", "X", " ", "\u{0}"] as [Character])
    func refusesAnUnknownSideWithTheOrdersToken(side: Character) {
        #expect(decodeInbound(InboundGolden.enter(side: side)) == .rejectable(token: Fixture.token, reason: .invalidSide))
        #expect(decodeInbound(InboundGolden.modify(side: side)) == .rejectable(token: Fixture.token, reason: .invalidSide))
        #expect(RejectReason.invalidSide.ouchCode == 0x4F)
    }

    @Test func passesEchoedAndEngineValidatedFieldsThrough() throws {
        let bytes = InboundGolden.enter(timeInForce: 123_456, display: "L", capacity: "P", iso: "Y", crossType: "C",
                                        customerType: "R")
        let order = try #require({ if case .command(.enter(let o)) = decodeInbound(bytes) { o } else { nil } }())
        #expect(order.timeInForce.rawValue == 123_456)
        #expect(order.display == .postOnlyAttributable)
        #expect(order.capacity == .principal)
        #expect(order.intermarketSweep == .eligible)
        #expect(order.crossType == .closing)
        #expect(order.customerType == .retail)
    }

    /// Every OUCH 4.2 letter of each enumerated Enter Order field is accepted; every other
    /// byte is refused with the field's own reason and the order's token.
    @Test(arguments: [
        (OUCHLayout.EnterOrder.display, "YANPL", RejectReason.invalidDisplay),
        (OUCHLayout.EnterOrder.capacity, "APRO", .invalidCapacity),
        (OUCHLayout.EnterOrder.intermarketSweep, "YN", .invalidIntermarketSweep),
        (OUCHLayout.EnterOrder.crossType, "NOCHSR", .invalidCrossType),
        (OUCHLayout.EnterOrder.customerType, " RN", .invalidCustomerType),
    ] as [(Int, String, RejectReason)])
    func validatesEveryEnumeratedEnterOrderField(offset: Int, allowed: String, reason: RejectReason) throws {
        let letters = Set(allowed.utf8)
        for value in UInt8.min...UInt8.max {
            var bytes = InboundGolden.enter()
            bytes[offset] = value
            let result = decodeInbound(bytes)
            if letters.contains(value) {
                let order = try #require({ if case .command(.enter(let o)) = result { o } else { nil } }(),
                                         "offset \(offset) value \(value) refused: \(result)")
                #expect(written { OUCHInboundEncoder.enter(order, to: $0) } == bytes, "offset \(offset) value \(value) does not re-encode")
            } else {
                #expect(result == .rejectable(token: Fixture.token, reason: reason), "offset \(offset) value \(value)")
            }
        }
    }

    @Test(arguments: [
        (OUCHLayout.ReplaceOrder.display, "YANPL", RejectReason.invalidDisplay),
        (OUCHLayout.ReplaceOrder.intermarketSweep, "YN", .invalidIntermarketSweep),
    ] as [(Int, String, RejectReason)])
    func validatesDisplayAndIntermarketSweepOnReplace(offset: Int, allowed: String, reason: RejectReason) throws {
        let letters = Set(allowed.utf8)
        for value in UInt8.min...UInt8.max {
            var bytes = InboundGolden.replace()
            bytes[offset] = value
            let result = decodeInbound(bytes)
            if letters.contains(value) {
                let replace = try #require({ if case .command(.replace(let r)) = result { r } else { nil } }(),
                                           "offset \(offset) value \(value) refused: \(result)")
                #expect(written { OUCHInboundEncoder.replace(replace, to: $0) } == bytes, "offset \(offset) value \(value) does not re-encode")
            } else {
                #expect(result == .rejectable(token: Fixture.token2, reason: reason), "offset \(offset) value \(value)")
            }
        }
    }

    @Test func givesEachFieldRejectItsOUCHCode() {
        #expect(RejectReason.invalidDisplay.ouchCode == 0x44)  // D
        #expect(RejectReason.firmNotAuthorized.ouchCode == 0x4C)  // L
        for reason in [RejectReason.invalidCapacity, .invalidIntermarketSweep, .invalidCrossType, .invalidCustomerType] {
            #expect(reason.ouchCode == 0x4F, "\(reason)")  // O
        }
    }

    @Test func decodesReplaceOrder() {
        let expected = ReplaceOrder(
            timestamp: Fixture.timestamp, client: 7, existingToken: Fixture.token, replacementToken: Fixture.token2,
            shares: 200, price: 1_503_000, timeInForce: .systemHours, display: .nonDisplayed, intermarketSweep: .notEligible,
            minimumQuantity: 0)
        let bytes = InboundGolden.replace()
        #expect(bytes.count == 47)
        #expect(decodeInbound(bytes) == .command(.replace(expected)))
    }

    @Test func refusesAMarketPriceOnReplaceWithTheReplacementToken() {
        #expect(decodeInbound(InboundGolden.replace(price: 0x7FFF_FFFF))
            == .rejectable(token: Fixture.token2, reason: .marketPriceOnReplace))
        #expect(RejectReason.marketPriceOnReplace.ouchCode == 0x58)
    }

    @Test func decodesCancelOrder() {
        #expect(decodeInbound(InboundGolden.cancel(shares: 40))
            == .command(.cancel(CancelOrder(timestamp: Fixture.timestamp, client: 7, token: Fixture.token, shares: 40))))
    }

    @Test func decodesModifyOrder() {
        #expect(decodeInbound(InboundGolden.modify())
            == .command(.modify(ModifyOrder(timestamp: Fixture.timestamp, client: 7, token: Fixture.token,
                                            side: .sellShort, shares: 100))))
    }

    @Test func keepsEveryByteOfAToken() throws {
        let token = "A!~ 0z\u{7F}xx   yy"
        let cancel = try #require({ if case .command(.cancel(let c)) = decodeInbound(InboundGolden.cancel(token: token)) { c } else { nil } }())
        let back = written { OUCHInboundEncoder.cancel(token: cancel.token, to: $0) }
        #expect(Array(back[1..<15]) == Array(token.utf8))
    }

    @Test func refusesAnEmptyPayload() {
        #expect(decodeInbound([]) == .malformed(.empty))
    }

    @Test(arguments: [0x41, 0x61, 0x00, 0xFF, 0x53, 0x45] as [UInt8])
    func refusesAnUnknownType(type: UInt8) {
        #expect(decodeInbound([type] + [UInt8](repeating: 0x20, count: 48)) == .malformed(.unknownType(type)))
    }

    @Test(arguments: [(UInt8(0x4F), 49), (0x55, 47), (0x58, 19), (0x4D, 20)])
    func refusesAKnownTypeOfTheWrongLength(type: UInt8, length: Int) {
        for got in [1, length - 1, length + 1, 200] {
            let bytes = [type] + [UInt8](repeating: 0x42, count: got - 1)
            #expect(decodeInbound(bytes) == .malformed(.wrongLength(type: type, expected: length, got: got)))
        }
    }
}

@Suite struct OUCHInboundEncoding {
    @Test func writesEnterOrderByteForByte() {
        let bytes = written {
            OUCHInboundEncoder.enter(token: Fixture.token, side: .buy, shares: 300, symbol: Fixture.symbol,
                                     price: 1_502_500, timeInForce: .marketHours, firm: Fixture.firm, display: .anonymous,
                                     minimumQuantity: 100, to: $0)
        }
        #expect(bytes == InboundGolden.enter(), "\(hex(bytes))")
    }

    @Test func writesAMarketOrderWithTheMarketPrice() {
        let bytes = written {
            OUCHInboundEncoder.enter(token: Fixture.token, side: .buy, shares: 300, symbol: Fixture.symbol, price: 123,
                                     orderType: .market, firm: Fixture.firm, minimumQuantity: 100, to: $0)
        }
        #expect(bytes == InboundGolden.enter(price: 0x7FFF_FFFF))
    }

    @Test func writesReplaceCancelAndModifyByteForByte() {
        #expect(written {
            OUCHInboundEncoder.replace(existingToken: Fixture.token, replacementToken: Fixture.token2, shares: 200,
                                       price: 1_503_000, timeInForce: .systemHours, display: .nonDisplayed, to: $0)
        } == InboundGolden.replace())
        #expect(written { OUCHInboundEncoder.cancel(token: Fixture.token, shares: 40, to: $0) } == InboundGolden.cancel(shares: 40))
        #expect(written { OUCHInboundEncoder.modify(token: Fixture.token, side: .sellShort, shares: 100, to: $0) }
            == InboundGolden.modify())
    }

    @Test func decodesEveryCommandItEncodes() {
        let commands: [EngineCommand] = [
            .enter(EnterOrder(timestamp: Fixture.timestamp, client: 3, token: Fixture.token, side: .sellShortExempt,
                              orderType: .market, shares: 7, symbol: Symbol("ZVZZT")!, price: 0,
                              timeInForce: .immediateOrCancel, firm: Fixture.firm, display: .postOnlyAttributable,
                              capacity: .riskless, intermarketSweep: .eligible, minimumQuantity: 7, crossType: .opening,
                              customerType: .notRetail)),
            .enter(EnterOrder(timestamp: Fixture.timestamp, client: 3, token: Fixture.token2, side: .sell, shares: 1,
                              symbol: Fixture.symbol, price: 1, firm: Fixture.defaultFirm)),
            .replace(ReplaceOrder(timestamp: Fixture.timestamp, client: 3, existingToken: Fixture.token,
                                  replacementToken: Fixture.token2, shares: 9, price: 99, timeInForce: .seconds(30),
                                  display: .attributable, intermarketSweep: .eligible, minimumQuantity: 3)),
            .cancel(CancelOrder(timestamp: Fixture.timestamp, client: 3, token: Fixture.token, shares: 5)),
            .modify(ModifyOrder(timestamp: Fixture.timestamp, client: 3, token: Fixture.token, side: .sell, shares: 1)),
        ]
        for command in commands {
            var length: Int?
            let bytes = written { out in
                length = OUCHInboundEncoder.encode(command, to: out)
                return length ?? 0
            }
            #expect(length != nil)
            #expect(decodeInbound(bytes, client: 3) == .command(command))
        }
        #expect(written { OUCHInboundEncoder.encode(.advanceTime(1), to: $0) ?? 0 }.isEmpty)
    }
}
