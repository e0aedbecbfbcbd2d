import ExchangeCore
@testable import ExchangeFIX
import Foundation
import Testing

/// The drop copy's mapping (FIXDropCopy.swift): its book of live orders against a dictionary,
/// and the ExecutionReports it writes for an OUCH order's life, checked field by field and by
/// QuickFIX's FIX 4.4 data dictionary.
@Suite struct FIXDropCopyMappingTests {
    @Test func theBookFindsWhatItHoldsAcrossRandomInsertsAndRemovals() {
        var book = FIXDropCopyBook(capacity: 48)
        var model: [OrderToken: Shares] = [:]
        var rng = UInt64(0x5EED)
        func next() -> UInt64 {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return rng >> 33
        }
        for step in 0..<20_000 {
            let token = OrderToken(high: next() % 64, low: 0)
            if let i = book.find(1, token) {
                #expect(model[token] == book.order(i).orderQty, "step \(step)")
                book.remove(i)
                model[token] = nil
            } else {
                #expect(model[token] == nil, "step \(step): \(token) lost")
                var o = FIXDropCopyOrder()
                o.client = 1
                o.token = token
                o.orderQty = Shares(step)
                if book.insert(o) != nil { model[token] = o.orderQty } else { #expect(model.count == 48) }
            }
            #expect(book.count == model.count)
        }
        for (token, qty) in model { #expect(book.find(1, token).map { book.order($0).orderQty } == qty) }
    }

    /// An OUCH order accepted, partly filled, restated, filled; another rejected; as text.
    func oneDay() -> [String] {
        var dropCopy = FIXDropCopy(capacity: 16, midnight: 1_765_065_600_000_000_000)
        let h = Harness()
        _ = h.logon()
        let token = OrderToken(high: 0x4F31_2020_2020_2020, low: 0x2020_2020_2020_0000)  // "O1"
        let reference: OrderReference = 41
        let body = UnsafeMutableRawBufferPointer.allocate(byteCount: 1_024, alignment: 8)
        defer { body.deallocate() }
        var reports: [String] = []
        func report(_ event: EngineEvent, maker: Bool = false, clOrdID: String = "O1") {
            let n = Array("LOAD1".utf8).withUnsafeBytes { account in
                Array(clOrdID.utf8).withUnsafeBytes { id in
                    dropCopy.report(event, maker: maker, party: FIXDropCopyParty(
                        account: account, clOrdID: id, origClOrdID: UnsafeRawBufferPointer(start: nil, count: 0),
                        symbol: Symbol("AAPL")!), body: body)
                }
            }
            if n > 0 { reports.append(h.sendApp(.executionReport, String(decoding: UnsafeRawBufferPointer(rebasing: body[0..<n]), as: UTF8.self).replacingOccurrences(of: "\u{01}", with: "|"))) }
        }
        report(.accepted(OrderAccepted(
            timestamp: ts, client: 3, token: token, reference: reference, instrument: 0, side: .sell, orderType: .limit, shares: 300,
            price: 2_290_000, timeInForce: .marketHours, firm: Firm("DEM1")!, display: .anonymous, capacity: .agency,
            intermarketSweep: .notEligible, minimumQuantity: 0, crossType: .continuous, state: .live)))
        report(.executed(OrderExecuted(
            timestamp: ts, instrument: 0, shares: 100, price: 2_290_000, matchNumber: 1, takerClient: 9, takerToken: OrderToken(high: 1, low: 0),
            takerReference: 50, takerSide: .buy, makerClient: 3, makerToken: token, makerReference: reference, makerSide: .sell,
            makerDisplay: .anonymous)), maker: true)
        report(.canceled(OrderCanceled(timestamp: ts, client: 3, token: token, reference: reference, instrument: 0, decrement: 100,
                                       remaining: 100, reason: .selfMatchPrevention)))
        report(.executed(OrderExecuted(
            timestamp: ts, instrument: 0, shares: 100, price: 2_300_000, matchNumber: 2, takerClient: 9, takerToken: OrderToken(high: 2, low: 0),
            takerReference: 51, takerSide: .buy, makerClient: 3, makerToken: token, makerReference: reference, makerSide: .sell,
            makerDisplay: .anonymous)), maker: true)
        report(.rejected(OrderRejected(timestamp: ts, client: 3, token: OrderToken(high: 3, low: 0), reason: .unknownSymbol)), clOrdID: "O2")
        #expect(dropCopy.book.count == 0, "a filled order stays in the book")
        #expect(dropCopy.untracked == 0)
        return reports
    }

    @Test func anOUCHOrdersLifeBecomesExecutionReportsAsFIX44DefinesThem() throws {
        let reports = oneDay()
        #expect(reports.map { "\(field($0, 150) ?? "?")/\(field($0, 39) ?? "?")" } == ["0/0", "F/1", "D/1", "F/2", "8/8"])
        #expect(reports.allSatisfy { field($0, 1) == "LOAD1" })
        #expect(reports.map { field($0, 17) ?? "?" } == ["DC1", "DC2", "DC3", "DC4", "DC5"])
        let restated = reports[2]
        #expect(field(restated, 38) == "200" && field(restated, 151) == "100" && field(restated, 14) == "100", "\(restated)")
        let filled = reports[3]
        #expect(field(filled, 32) == "100" && field(filled, 31) == "230" && field(filled, 14) == "200" && field(filled, 151) == "0"
                && field(filled, 6) == "229.5" && field(filled, 37) == "41", "\(filled)")
        let rejected = reports[4]
        #expect(field(rejected, 55) == "[N/A]" && field(rejected, 54) == "7" && field(rejected, 37) == "NONE" && field(rejected, 103) == "1",
                "\(rejected)")
        guard let verdicts = QuickFIX.validate(reports) else { return }
        #expect(verdicts.allSatisfy { $0 == "OK" }, "\(zip(reports, verdicts).filter { $0.1 != "OK" })")
    }
}
